//! `not` over an undefined argument, as OPA evaluates it.
//!
//! OPA's compiler moves the arguments of a call out of a negated expression before evaluating
//! it, so in `not input.caller.service in allowed` an undefined `input.caller.service` makes
//! the body undefined, where regorus (both evaluators) takes the `not` as true. The same holds
//! for every call (`not startswith(input.x, "a")`, `not input.n > 1`, `not f(input.x)`), for
//! refs inside composite operands (`not [input.x] == [1]`), for nested calls
//! (`not upper(input.x) == "A"`) and for dynamic keys (`not s[input.x]`); the direct operands
//! of `==` and `=` are not moved (`not input.x == 1` is true when `input.x` is undefined).
//!
//! Owns: finding those arguments in a module and rewriting its text so that each is required
//! first: `_ = input.caller.service; not input.caller.service in allowed` (a braceless body,
//! `deny if not ...`, gets braces). The rewrite stays on the same line, so line numbers keep;
//! only columns after it on that line move. A literal with `with` modifiers is left alone: its
//! arguments would be read without the modifiers.

use regorus::unstable::{AssignOp, BoolOp, Expr, Literal, LiteralStmt, Module, Rule};

use super::rego_ast::{Descend, Site, for_each_statement, walk_expr};
use super::splice::{self, Edit, after_if_keyword};

/// `source` with every negated call's arguments required first, or `None` when nothing
/// changes. `module` is `source` parsed.
pub fn guard_negations(module: &Module, source: &str) -> Option<String> {
    splice::apply(source, edits(module, source))
}

/// The edits [`guard_negations`] applies.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        for_each_negation(rule, &mut |stmt, expr| {
            if !stmt.with_mods.is_empty() {
                return;
            }
            let mut guards = Vec::new();
            negated(expr, &mut guards);
            if !guards.is_empty() {
                push_guards(stmt, &guards, source, &mut edits);
            }
        });
    }
    edits
}

/// Calls `f` with every `not` statement of `rule` and its negated expression, in every body
/// and in the queries nested in them (comprehensions, `every`).
pub fn for_each_negation(rule: &Rule, f: &mut dyn FnMut(&LiteralStmt, &Expr)) {
    for_each_statement(rule, &mut |stmt| {
        if let Literal::NotExpr { expr, .. } = &stmt.literal {
            f(stmt, expr);
        }
    });
}

/// `_ = ARG; ` before the statement for each guard; braces around a braceless body.
fn push_guards(stmt: &LiteralStmt, guards: &[&Expr], source: &str, edits: &mut Vec<Edit>) {
    let (start, end) = super::splice::statement_range(source, &stmt.span);
    let mut text: String = guards
        .iter()
        .map(|g| format!("_ = {}; ", g.span().text()))
        .collect();
    let braceless = after_if_keyword(source, start);
    if braceless {
        text.insert_str(0, "{ ");
    }
    edits.push(Edit::insert(start, text));
    if braceless {
        edits.push(Edit::insert(end, " }".into()));
    }
}

/// The arguments OPA evaluates before the negation of `expr`.
fn negated<'a>(expr: &'a Expr, guards: &mut Vec<&'a Expr>) {
    match expr {
        Expr::BoolExpr {
            op: BoolOp::Eq,
            lhs,
            rhs,
            ..
        }
        | Expr::AssignExpr {
            op: AssignOp::Eq,
            lhs,
            rhs,
            ..
        } => {
            equality_operand(lhs, guards);
            equality_operand(rhs, guards);
        }
        Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::BinExpr { lhs, rhs, .. } => {
            argument(lhs, guards);
            argument(rhs, guards);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                argument(key, guards);
            }
            argument(value, guards);
            argument(collection, guards);
        }
        Expr::Call { params, .. } => {
            for p in params {
                argument(p, guards);
            }
        }
        Expr::UnaryExpr { expr, .. } => argument(expr, guards),
        Expr::RefBrack { .. } | Expr::RefDot { .. } => dynamic_keys(expr, guards),
        _ => {}
    }
}

/// An operand of `==`: a ref stays (unification), a call or a ref inside a composite moves.
fn equality_operand<'a>(expr: &'a Expr, guards: &mut Vec<&'a Expr>) {
    match expr {
        Expr::Var { .. } => {}
        Expr::RefDot { .. } | Expr::RefBrack { .. } => dynamic_keys(expr, guards),
        _ => argument(expr, guards),
    }
}

/// A call's argument: refs, variables and calls are required; composites are searched.
fn argument<'a>(expr: &'a Expr, guards: &mut Vec<&'a Expr>) {
    match expr {
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                argument(item, guards);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                argument(key, guards);
                argument(value, guards);
            }
        }
        Expr::Var { .. }
        | Expr::RefDot { .. }
        | Expr::RefBrack { .. }
        | Expr::Call { .. }
        | Expr::ArithExpr { .. }
        | Expr::BinExpr { .. }
        | Expr::UnaryExpr { .. }
            if requirable(expr) =>
        {
            guards.push(expr)
        }
        _ => {}
    }
}

/// The keys of a ref that are themselves refs or calls (`s[input.x]`).
fn dynamic_keys<'a>(expr: &'a Expr, guards: &mut Vec<&'a Expr>) {
    let mut link = expr;
    loop {
        match link {
            Expr::RefBrack { refr, index, .. } => {
                argument(index, guards);
                link = refr;
            }
            Expr::RefDot { refr, .. } => link = refr,
            _ => return,
        }
    }
}

/// Whether `_ = expr` may be written before the statement: no wildcard and no `some`-style
/// iteration inside (that would bind, not require), and not a bare scalar-like variable that
/// is always defined (`input` and `data` can be undefined, so they are required too).
fn requirable(expr: &Expr) -> bool {
    let mut ok = true;
    walk_expr(expr, &mut |site| {
        match site {
            Site::Expr(Expr::Var { span, .. }) if span.text() == "_" => ok = false,
            Site::Expr(
                Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. },
            ) => return Descend::No,
            _ => {}
        }
        Descend::Yes
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(source: &str) -> String {
        let module = crate::policy::rego_ast::parsed(source);
        guard_negations(&module, source).unwrap_or_else(|| source.to_string())
    }

    fn eval(source: &str, input: &str) -> regorus::Value {
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), rewrite(source)).unwrap();
        engine.set_input_json(input).unwrap();
        engine.eval_rule("data.t.d".into()).unwrap()
    }

    #[test]
    fn arguments_of_negated_calls_are_required_first() {
        assert_eq!(
            rewrite("package t\nd if {\n\tnot input.x in {1}\n}\n"),
            "package t\nd if {\n\t_ = input.x; not input.x in {1}\n}\n"
        );
        assert_eq!(
            rewrite("package t\nd if not startswith(input.x, \"a\")\n"),
            "package t\nd if { _ = input.x; not startswith(input.x, \"a\") }\n"
        );
        assert_eq!(
            rewrite("package t\nd if { not upper(input.x) == \"A\" }\n"),
            "package t\nd if { _ = upper(input.x); not upper(input.x) == \"A\" }\n"
        );
        // The closing brace goes after a string the statement ends with, not inside it.
        assert_eq!(
            rewrite("package t\nd if not upper(input.x) == \"A\"\n"),
            "package t\nd if { _ = upper(input.x); not upper(input.x) == \"A\" }\n"
        );
    }

    #[test]
    fn what_opa_does_not_move_is_left_alone() {
        for source in [
            "package t\nd if { not input.x == 1 }\n",
            "package t\nd if { not input.x }\n",
            "package t\nd if { not input.x.y == input.z }\n",
            "package t\nd if { not input.x in {1} with input as {} }\n",
            "package t\nd if { not input.s[_] > 1 }\n",
        ] {
            assert_eq!(rewrite(source), source);
        }
    }

    /// The answers OPA's engine gives (checked with opa-golib-python-bindings) for an input
    /// without `x`: undefined for every form but a direct operand of `==` and a bare ref.
    #[test]
    fn undefined_arguments_make_the_body_undefined_as_in_opa() {
        let undefined = regorus::Value::Undefined;
        for body in [
            "not input.x in {1, 2}",
            "not 1 in input.s",
            "not input.x > 1",
            "not input.x != 1",
            "not startswith(input.x, \"a\")",
            "not upper(input.x) == \"A\"",
            "not [input.x] == [1]",
            "not {1, 2}[input.x]",
            "not input.x + 1 == 2",
            "not is_string(input.x)",
            "x := [y | some y in [1]; not input.x in {1}]; count(x) == 1",
        ] {
            let source = format!("package t\nimport rego.v1\nd if {{ {body} }}\n");
            assert_eq!(eval(&source, "{}"), undefined, "{body}");
        }
        for body in [
            "not input.x == 1",
            "not input.x",
            "not input.x.y == input.z",
        ] {
            let source = format!("package t\nimport rego.v1\nd if {{ {body} }}\n");
            assert_eq!(eval(&source, "{}"), regorus::Value::from(true), "{body}");
        }
        let source = "package t\nimport rego.v1\nd if not input.x in {1, 2}\n";
        assert_eq!(eval(source, r#"{"x": 3}"#), regorus::Value::from(true));
        assert_eq!(eval(source, r#"{"x": 1}"#), undefined);
    }
}
