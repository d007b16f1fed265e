//! Where regorus' RVM drops an iteration: a comprehension with no loop of its own, inside a
//! rule that iterates.
//!
//! `p contains y if { some y in [1, 2, 3]; count({true | y > 1}) == 0 }` is `{1}` in OPA and on
//! the interpreter, `{}` on the RVM: when the comprehension's body fails (for `y = 1`, so the
//! comprehension is empty), the RVM abandons that iteration of the enclosing loop instead of
//! finishing the comprehension. The same holds for array, set and object comprehensions, for
//! `some ... in`, `xs[_]` and `some i; xs[i]` loops, in rule bodies and inside other
//! comprehensions; a comprehension that iterates itself (`[r | some r in u.roles; ...]`) is
//! right (`docs/upstream/rvm-loopless-comprehension-in-loop.md`). Such a "nobody is an admin"
//! count decides authorization (`deny if { some u in users; count([1 | u.admin]) == 0 }`), so
//! the answer must not depend on the evaluator.
//!
//! Owns: finding, per rule definition, an iteration anywhere in it together with a
//! comprehension whose own statements hold none. Conservative: any variable index counts as
//! an iteration, whether or not the variable is bound by then.

use regorus::unstable::{Expr, Literal, LiteralStmt, Rule};

use super::rego_ast::{Descend, Site, for_each_statement, walk_own_exprs, walk_rule};

const REASON: &str = "iterates and has a comprehension with no loop of its own (the RVM drops the iteration where that comprehension's body fails)";

/// Why a rule definition cannot run on the RVM, if it cannot (a phrase after "it").
pub fn find(rule: &Rule) -> Option<&'static str> {
    let mut loopless = false;
    walk_rule(rule, &mut |site| {
        if let Site::Expr(
            Expr::ArrayCompr { query, .. }
            | Expr::SetCompr { query, .. }
            | Expr::ObjectCompr { query, .. },
        ) = site
            && !query.stmts.iter().any(iterates)
        {
            loopless = true;
        }
        Descend::Yes
    });
    if !loopless {
        return None;
    }
    let mut loops = false;
    for_each_statement(rule, &mut |stmt| loops |= iterates(stmt));
    let mut variable_index = false;
    walk_rule(rule, &mut |site| {
        if let Site::Expr(Expr::RefBrack { index, .. }) = site
            && matches!(**index, Expr::Var { .. })
        {
            variable_index = true;
        }
        Descend::Yes
    });
    (loops || variable_index).then_some(REASON)
}

/// A statement that loops by itself: `some x in xs`, `some i`, `every`, or an expression
/// indexing with a variable (`xs[_]`, `xs[i]`), outside nested comprehensions.
pub(super) fn iterates(stmt: &LiteralStmt) -> bool {
    match &stmt.literal {
        Literal::SomeIn { .. } | Literal::SomeVars { .. } | Literal::Every { .. } => true,
        Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => indexes_with_variable(expr),
    }
}

fn indexes_with_variable(expr: &Expr) -> bool {
    let mut found = false;
    walk_own_exprs(expr, &mut |e| {
        if let Expr::RefBrack { index, .. } = e {
            found |= matches!(**index, Expr::Var { .. });
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(body: &str) -> Option<&'static str> {
        let source = format!("package t\n{body}\n");
        let module = super::super::rego_ast::parsed(&source);
        module.policy.iter().find_map(|r| find(r))
    }

    #[test]
    fn a_loopless_comprehension_in_a_loop_is_found() {
        for body in [
            "p contains y if { some y in [1, 2]; count({true | y > 1}) == 0 }",
            "p contains y if { y := [1, 2][_]; count([true | y > 1]) == 0 }",
            "p := [y | some y in input.ys; s := {\"k\": 1 | y > 1}; count(s) == 0]",
            "deny if { some u in input.users; count([1 | u.admin]) == 0 }",
        ] {
            assert_eq!(reason(body), Some(REASON), "{body}");
        }
    }

    #[test]
    fn a_comprehension_that_iterates_or_a_rule_that_does_not_is_left_alone() {
        for body in [
            "p contains y if { some y in [1, 2]; count([r | some r in [y]; r > 1]) == 0 }",
            "p contains y if { some y in [1, 2]; count([r | r := input.xs[_]; r > y]) == 0 }",
            "allow if { count({true | input.a > 1}) == 0 }",
            "allow if { u := data.users[input.user]; u.role == \"admin\" }",
        ] {
            assert_eq!(reason(body), None, "{body}");
        }
    }
}
