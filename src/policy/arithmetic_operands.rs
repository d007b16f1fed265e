//! Arithmetic on what is not a number, as OPA answers it: undefined, not a failed decision.
//!
//! In OPA, `+`, `-`, `*`, `/` and `%` are builtins (`plus`, `minus`, ...), so an operand that
//! is not a number (`input.amount` sent as `"100"`), or a fraction under `%`, is a builtin
//! error: the expression is undefined, and only `strict-builtin-errors` fails the decision.
//! regorus checks these operands outside its builtins and fails the whole decision on both
//! evaluators (`eval_internal_error: \`add\` expects numeric argument`, `modulo on
//! floating-point number`), even where the answer did not depend on that expression.
//!
//! Owns: wrapping, at load and on the same line, each operand that is not known to be a number
//! in a builtin that answers it unchanged when it is one, and is a builtin error otherwise:
//! `sum([x])` for `+`, `-`, `*` and `/`, `bits.and(x, -1)` (an integer, unchanged) for `%`.
//! Both evaluators treat a builtin error as OPA does. `a - b` is also a set difference, so it
//! is wrapped only when one side must be a number (a number, a count, an arithmetic result) or
//! comes from the input (JSON has no sets). Number literals and builtins that answer numbers
//! are left alone, so a policy that computes with them is unchanged.

use std::collections::BTreeSet;

use regorus::unstable::{ArithOp, AssignOp, Expr, Literal, Module, Query, Rule};

use super::comprehension_scopes::is_ident;
use super::rego_ast::{Descend, Site, expr_start, walk_expr, walk_query, walk_rule};
use super::splice::{Edit, statement_range};
use super::unchecked_values;

/// Builtins whose value, when they have one, is an integer.
const INTEGER: &[&str] = &[
    "count",
    "ceil",
    "floor",
    "round",
    "time.now_ns",
    "time.parse_ns",
    "time.parse_rfc3339_ns",
    "time.parse_duration_ns",
    "strings.count",
    "indexof",
    "bits.and",
    "bits.or",
    "bits.xor",
    "bits.negate",
    "bits.lsh",
    "bits.rsh",
];

/// Builtins whose value, when they have one, is a number that may be a fraction.
const FRACTIONAL: &[&str] = &[
    "sum",
    "product",
    "abs",
    "to_number",
    "units.parse",
    "units.parse_bytes",
];

/// A cheap look at the text before parsing it.
pub fn may_apply(text: &str) -> bool {
    text.contains(['+', '-', '*', '/', '%'])
}

/// One insertion and where it sorts among those at the same place: closings before openings,
/// the inner wrap's closing first, the outer wrap's opening first.
struct Insertion {
    at: usize,
    closing: bool,
    /// The other end of the wrapped range: its start for a closing, its end for an opening.
    other: usize,
    text: String,
}

/// Why each rule of a module's text cannot run on the RVM, if it cannot (the routing's
/// `unchecked_values` reasons, in rule order); `None` when the text does not parse. Asked of
/// the rewritten text only: the module as given is read directly.
pub type RvmHazards<'h> = &'h dyn Fn(&str) -> Option<Vec<Option<&'static str>>>;

/// The edits that wrap each arithmetic operand of `module` (`source` parsed) that may not be a
/// number (or, under `%`, an integer), in the rules where that keeps the routing: the RVM takes
/// an assignment of an undefined value as true and collects an undefined comprehension
/// element, so where a wrapped operand would make such a value undefined, the rule would move
/// to the interpreter (`hazards` tells), and its arithmetic is left as regorus reads it. A
/// module where `sum` or `bits` names a rule or a variable is left alone.
pub fn edits(
    module: &Module,
    source: &str,
    package_rules: &BTreeSet<String>,
    hazards: RvmHazards<'_>,
) -> Vec<Edit> {
    let shadowed = |name: &str| package_rules.contains(name) || named_otherwise(source, name);
    if shadowed("sum") || shadowed("bits") {
        return Vec::new();
    }
    let by_rule: Vec<Vec<Edit>> = module
        .policy
        .iter()
        .map(|r| rule_edits(r, source))
        .collect();
    let before: Vec<_> = module
        .policy
        .iter()
        .map(|r| unchecked_values::find(r))
        .collect();
    let all = |keep: &dyn Fn(usize) -> bool| -> Vec<Edit> {
        by_rule
            .iter()
            .enumerate()
            .filter(|(i, _)| keep(*i))
            .flat_map(|(_, edits)| edits.iter().map(|e| Edit::insert(e.start, e.text.clone())))
            .collect()
    };
    let Some(after) = super::splice::apply(source, all(&|_| true)).and_then(|t| hazards(&t)) else {
        return Vec::new();
    };
    if after.len() != before.len() {
        return Vec::new();
    }
    all(&|i| before[i].is_some() || after[i].is_none())
}

/// The insertions that wrap the arithmetic operands of one rule, in the order they apply.
fn rule_edits(rule: &Rule, source: &str) -> Vec<Edit> {
    let mut insertions = Vec::new();
    walk_rule(rule, &mut |site| visit(site, source, &mut insertions));
    insertions.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then(b.closing.cmp(&a.closing))
            .then(b.other.cmp(&a.other))
    });
    insertions
        .into_iter()
        .map(|i| Edit::insert(i.at, i.text))
        .collect()
}

/// True when `name` stands in `source`, outside comments and strings, as an identifier that is
/// not a call or a package path (`sum :=`, `f(sum)`): then `sum([x])` might not be the builtin.
fn named_otherwise(source: &str, name: &str) -> bool {
    source.lines().any(|line| {
        let code = code_of(line);
        code.match_indices(name).any(|(at, _)| {
            let after = &code[at + name.len()..];
            !code[..at].chars().next_back().is_some_and(is_ident)
                && !after.chars().next().is_some_and(is_ident)
                && !after.starts_with(['(', '.'])
        })
    })
}

/// A line with its string literals blanked and its comment cut (a `#` inside a string stays).
fn code_of(line: &str) -> String {
    let mut code = String::with_capacity(line.len());
    let (mut quote, mut escaped) = (None, false);
    for c in line.chars() {
        match quote {
            Some(q) => {
                code.push(' ');
                if escaped {
                    escaped = false;
                } else if c == '\\' && q == '"' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '#' => break,
            None => {
                if c == '"' || c == '`' {
                    quote = Some(c);
                }
                code.push(c);
            }
        }
    }
    code
}

/// Wraps the operands of an arithmetic expression; guards those of a comprehension's element
/// and its body's assignments instead, and goes on into its body.
fn visit(site: Site<'_>, source: &str, insertions: &mut Vec<Insertion>) -> Descend {
    match site {
        Site::Expr(Expr::ArithExpr { op, lhs, rhs, .. }) => {
            wrap_operands(op, lhs, rhs, source, insertions);
            Descend::Yes
        }
        Site::Expr(Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. }) => {
            guard_element(&[term], query, source, insertions);
            Descend::No
        }
        Site::Expr(Expr::ObjectCompr {
            key, value, query, ..
        }) => {
            guard_element(&[key, value], query, source, insertions);
            Descend::No
        }
        _ => Descend::Yes,
    }
}

/// A comprehension's element that computes (`[x * 2 | some x in l]`): a wrapped operand would
/// make the element undefined, which the RVM collects as `"<undefined>"` (in an array or
/// object). So each operand that is a variable or a reference is checked at the end of
/// the comprehension's body instead (`; is_number(x)`), and an element that would fail is
/// left out, as OPA leaves it out. So is an assignment in its body (`y := x * 2`), which the
/// RVM would take as true when undefined: its operands are checked just before it
/// (`is_number(x); y := x * 2`). Its nested comprehensions and the rest of its body are visited
/// as the rest of the rule is.
fn guard_element(element: &[&Expr], query: &Query, source: &str, out: &mut Vec<Insertion>) {
    let mut guards: Vec<String> = Vec::new();
    for expr in element {
        collect_guards(expr, source, Some(&mut *out), &mut guards);
    }
    // Assignments whose arithmetic is checked before them, not wrapped.
    let mut checked: Vec<(u32, u32)> = Vec::new();
    for stmt in &query.stmts {
        if let Literal::Expr { expr, .. } = &stmt.literal
            && let Expr::AssignExpr {
                op: AssignOp::ColEq,
                rhs,
                ..
            } = &**expr
            && stmt.with_mods.is_empty()
        {
            let mut before = Vec::new();
            collect_guards(rhs, source, None, &mut before);
            if !before.is_empty() {
                checked.push((rhs.span().start, rhs.span().end));
                out.push(Insertion {
                    at: statement_range(source, &stmt.span).0,
                    closing: false,
                    other: usize::MAX,
                    text: format!("{}; ", before.join("; ")),
                });
            }
        }
    }
    walk_query(query, &mut |site| match site {
        Site::Expr(Expr::ArithExpr { span, .. })
            if checked
                .iter()
                .any(|(s, e)| *s <= span.start && span.end <= *e) =>
        {
            Descend::Yes
        }
        _ => visit(site, source, out),
    });
    let Some(last) = query.stmts.last() else {
        return;
    };
    if guards.is_empty() {
        return;
    }
    out.push(Insertion {
        at: statement_range(source, &last.span).1,
        closing: true,
        other: 0,
        text: format!("; {}", guards.join("; ")),
    });
}

/// Adds to `guards` the checks of the arithmetic operands in `expr` that may not be numbers:
/// `is_number(x)` for a variable or a reference (under `%`, also `floor(x) == x`), `false`
/// for a fraction written under `%`. A call is not checked (it would run twice). Nested
/// comprehensions are visited as the rest of the rule is when `out` is given, and skipped
/// otherwise (the caller's walk reaches them).
fn collect_guards(
    expr: &Expr,
    source: &str,
    mut out: Option<&mut Vec<Insertion>>,
    guards: &mut Vec<String>,
) {
    let mut add = |guard: String| {
        if !guards.contains(&guard) {
            guards.push(guard);
        }
    };
    walk_expr(expr, &mut |site| match site {
        Site::Expr(Expr::ArithExpr { op, lhs, rhs, .. }) => {
            for operand in needs_check(op, lhs, rhs) {
                // A fraction written under `%`: the expression always fails.
                if matches!(operand, Expr::Number { .. }) {
                    add("false".to_string());
                    continue;
                }
                let start = expr_start(operand, source);
                let end = operand.span().end as usize;
                let guardable = matches!(
                    operand,
                    Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
                ) && !has_wildcard(operand);
                let Some(text) = source.get(start..end).filter(|_| guardable) else {
                    continue;
                };
                add(match op {
                    ArithOp::Mod => format!("is_number({text}); floor({text}) == {text}"),
                    _ => format!("is_number({text})"),
                });
            }
            Descend::Yes
        }
        Site::Expr(
            nested @ (Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. }),
        ) => {
            if let Some(out) = out.as_deref_mut() {
                walk_expr(nested, &mut |site| visit(site, source, out));
            }
            Descend::No
        }
        _ => Descend::Yes,
    });
}

/// The operands of `lhs op rhs` that may not be a number (under `%`, an integer), to be
/// checked: none for a difference that may be of sets.
fn needs_check<'e>(op: &ArithOp, lhs: &'e Expr, rhs: &'e Expr) -> Vec<&'e Expr> {
    if matches!(op, ArithOp::Sub) && !numeric_difference(lhs, rhs) {
        return Vec::new();
    }
    let known: fn(&Expr) -> bool = match op {
        ArithOp::Mod => is_integer,
        _ => is_number,
    };
    [lhs, rhs].into_iter().filter(|o| !known(o)).collect()
}

/// True when a reference iterates (`input.l[_]`): checking it apart would be another loop.
fn has_wildcard(expr: &Expr) -> bool {
    let mut found = false;
    walk_expr(expr, &mut |site| {
        if let Site::Expr(Expr::Var { span, .. }) = site
            && span.text() == "_"
        {
            found = true;
        }
        Descend::Yes
    });
    found
}

fn wrap_operands(
    op: &ArithOp,
    lhs: &Expr,
    rhs: &Expr,
    source: &str,
    insertions: &mut Vec<Insertion>,
) {
    let (open, close) = match op {
        ArithOp::Mod => ("bits.and(", ", -1)"),
        _ => ("sum([", "])"),
    };
    for operand in needs_check(op, lhs, rhs) {
        // A fraction written under `%` is an error in OPA too, a builtin's.
        let fraction = matches!((op, operand), (ArithOp::Mod, Expr::Number { .. }));
        if !(wrappable(operand) || fraction) {
            continue;
        }
        let (start, end) = (expr_start(operand, source), operand.span().end as usize);
        if start >= end || source.get(start..end).is_none() {
            continue;
        }
        insertions.push(Insertion {
            at: start,
            closing: false,
            other: end,
            text: open.to_string(),
        });
        insertions.push(Insertion {
            at: end,
            closing: true,
            other: start,
            text: close.to_string(),
        });
    }
}

/// An operand whose text regorus' span covers exactly: a variable, a reference, a call, or an
/// arithmetic expression. A literal of another kind is left as regorus reads it.
fn wrappable(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Var { .. }
            | Expr::RefDot { .. }
            | Expr::RefBrack { .. }
            | Expr::Call { .. }
            | Expr::ArithExpr { .. }
    )
}

/// A number whatever the input: a number literal, a call of a builtin that answers numbers,
/// or an arithmetic result (its operands wrapped, or a difference of known numbers).
fn is_number(expr: &Expr) -> bool {
    match expr {
        Expr::Number { .. } => true,
        Expr::UnaryExpr { expr, .. } => is_number(expr),
        Expr::Call { fcn, .. } => call_name(fcn)
            .is_some_and(|n| INTEGER.contains(&n.as_str()) || FRACTIONAL.contains(&n.as_str())),
        Expr::ArithExpr {
            op: ArithOp::Sub,
            lhs,
            rhs,
            ..
        } => numeric_difference(lhs, rhs),
        Expr::ArithExpr { .. } => true,
        _ => false,
    }
}

/// `lhs - rhs` is of numbers, not a set difference: one side must be a number or comes from
/// the input.
fn numeric_difference(lhs: &Expr, rhs: &Expr) -> bool {
    is_number(lhs) || is_number(rhs) || from_input(lhs) || from_input(rhs)
}

/// An integer whatever the input: an integer literal, or a call of a builtin that answers
/// integers.
fn is_integer(expr: &Expr) -> bool {
    match expr {
        Expr::Number { value, .. } => value.as_number().is_ok_and(|n| n.is_integer()),
        Expr::UnaryExpr { expr, .. } => is_integer(expr),
        Expr::Call { fcn, .. } => call_name(fcn).is_some_and(|n| INTEGER.contains(&n.as_str())),
        _ => false,
    }
}

/// A reference into the input (`input.a`, `input.l[0]`), which JSON makes a number, a
/// string, a boolean, null, an array or an object, never a set.
fn from_input(expr: &Expr) -> bool {
    match expr {
        Expr::Var { span, .. } => span.text() == "input",
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => from_input(refr),
        _ => false,
    }
}

fn call_name(fcn: &Expr) -> Option<String> {
    regorus::utils::get_path_string(fcn, None).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn hazards(source: &str) -> Option<Vec<Option<&'static str>>> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("t.rego".into(), source.into()).ok()?;
        let module = engine.get_modules().first()?.clone();
        Some(
            module
                .policy
                .iter()
                .map(|r| crate::policy::unchecked_values::find(r))
                .collect(),
        )
    }

    fn rewritten(source: &str) -> Option<String> {
        let rules = BTreeSet::from(["r".to_string()]);
        super::super::splice::apply(source, edits(&parsed(source), source, &rules, &hazards))
    }

    #[test]
    fn an_operand_that_may_not_be_a_number_is_wrapped() {
        assert_eq!(
            rewritten("package t\nx := input.a + 1\ny := 2 * input.o.b[0]\nf(n) := n / 2\n")
                .unwrap(),
            "package t\nx := sum([input.a]) + 1\ny := 2 * sum([input.o.b[0]])\nf(n) := sum([n]) / 2\n"
        );
        assert_eq!(
            rewritten("package t\nx := input.a % 3\ny := 7 % 2.5\n").unwrap(),
            "package t\nx := bits.and(input.a, -1) % 3\ny := 7 % bits.and(2.5, -1)\n"
        );
    }

    #[test]
    fn nested_operands_wrap_inside_out() {
        assert_eq!(
            rewritten("package t\nx := (input.a * input.b) % 2\ny := input.a * (input.b + 1)\n")
                .unwrap(),
            "package t\nx := (bits.and(sum([input.a]) * sum([input.b]), -1)) % 2\n\
             y := sum([input.a]) * (sum([input.b]) + 1)\n"
        );
    }

    #[test]
    fn a_difference_is_wrapped_only_where_it_cannot_be_of_sets() {
        assert_eq!(
            rewritten(
                "package t\nx := input.exp - input.iat\ny := time.now_ns() - n if n := input.t\n"
            )
            .unwrap(),
            "package t\nx := sum([input.exp]) - sum([input.iat])\ny := time.now_ns() - sum([n]) if n := input.t\n"
        );
        for source in [
            "package t\np contains 1\nq contains 1\nx := p - q\n",
            "package t\nx := data.t.a - data.t.b\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }

    #[test]
    fn numbers_and_numeric_builtins_are_left_alone() {
        for source in [
            "package t\nx := (30 * 60) * 1000000000\n",
            "package t\nx := time.now_ns() - time.parse_rfc3339_ns(\"2026-01-01T00:00:00Z\")\n",
            "package t\nx := count(input.l) % 2\n",
            "package t\nx := count(input.l) + sum(input.l) * 2\n",
            "package t\nx := {1, 2} - {1}\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
        assert!(!may_apply("package t\nx := input.a"));
    }

    #[test]
    fn a_computed_comprehension_element_is_checked_in_the_body() {
        assert_eq!(
            rewritten(
                "package t\nd := [(i.price * i.qty) | some i in input.items]\n\
                 e := {k: (v % 2) | some k, v in input.o; v != \"x\"}\n\
                 f := [[(y * 2) | some y in x] | some x in input.l]\n\
                 g := {(x * 2) | some x in input.l}\n"
            )
            .unwrap(),
            "package t\nd := [(i.price * i.qty) | some i in input.items; is_number(i.price); is_number(i.qty)]\n\
             e := {k: (v % 2) | some k, v in input.o; v != \"x\"; is_number(v); floor(v) == v}\n\
             f := [[(y * 2) | some y in x; is_number(y)] | some x in input.l]\n\
             g := {(x * 2) | some x in input.l; is_number(x)}\n"
        );
        assert_eq!(
            rewritten("package t\nd := [(x % 0.5) | some x in input.l]\n").unwrap(),
            "package t\nd := [(x % 0.5) | some x in input.l; is_number(x); floor(x) == x; false]\n"
        );
    }

    #[test]
    fn an_assignment_in_a_comprehension_is_checked_before_it() {
        assert_eq!(
            rewritten("package t\nd := [y | some x in input.l; y := x * 2]\n").unwrap(),
            "package t\nd := [y | some x in input.l; is_number(x); y := x * 2]\n"
        );
    }

    #[test]
    fn a_rule_the_rvm_would_misread_or_a_shadowed_sum_is_left_alone() {
        // `y` is never read: the RVM would take its undefined value as true; the other rule
        // is wrapped.
        assert_eq!(
            rewritten("package t\nd if { some x in input.l; y := x * 2 }\ne := input.a * 2\n")
                .unwrap(),
            "package t\nd if { some x in input.l; y := x * 2 }\ne := sum([input.a]) * 2\n"
        );
        for source in [
            "package t\nsum := 1\nx := input.a + 1\n",
            "package t\nf(sum) := sum + 1\n",
            "package t\nx := input.a + 1 if { bits := 1 }\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
        // A comment or a string that says "sum" does not count.
        assert!(rewritten("package t\n# the sum of both\nx := input.a + 1\n").is_some());
        assert!(
            rewritten("package t\nm := \"the sum of #1 \\\" and bits\"\nx := input.a + 1\n")
                .is_some()
        );
    }
}
