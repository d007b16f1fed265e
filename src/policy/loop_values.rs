//! Where regorus' RVM answers one of a complete rule's conflicting values: a value bound by a
//! loop of the rule's own body.
//!
//! `p := y if { y := input.roles[_] }` with two roles is `eval_conflict_error` in OPA and on
//! the interpreter; the RVM answers the last role, as it does for a function
//! (`f(xs) := y if { y := xs[_] }`). A complete rule fails closed in OPA where the RVM picks
//! a value, so such a rule must not run on the RVM. A value the loop cannot change is fine:
//! `allow := true if { some r in input.roles; r == "admin" }` keeps the RVM.
//!
//! Owns: finding, per rule definition, a complete rule or function whose value reads a variable
//! that a loop of its body binds, or that is bound after the first loop. Conservative: a
//! variable index counts as a loop unless the variable is a function argument or was assigned
//! by an earlier statement.

use std::collections::BTreeSet;

use regorus::unstable::{AssignOp, Expr, Literal, LiteralStmt, Rule, RuleHead};

use super::rego_ast::walk_own_exprs;

const REASON: &str = "is a complete rule whose value a loop of its body binds (OPA answers eval_conflict_error where the values differ, the RVM one of them)";

/// Why a rule definition cannot run on the RVM, if it cannot (a phrase after "it").
pub fn find(rule: &Rule) -> Option<&'static str> {
    let Rule::Spec { head, bodies, .. } = rule else {
        return None;
    };
    let (value, args) = match head {
        RuleHead::Compr {
            refr,
            assign: Some(assign),
            ..
        } if !has_variable_key(refr) => (&assign.value, Vec::new()),
        RuleHead::Func {
            args,
            assign: Some(assign),
            ..
        } => (&assign.value, args.iter().collect::<Vec<_>>()),
        _ => return None,
    };
    let mut arg_vars: BTreeSet<String> = BTreeSet::new();
    for arg in args {
        arg_vars.extend(vars_of(arg));
    }
    // Each body on its own: an `else` body's value (`else := v if { ... }`) is its own.
    bodies
        .iter()
        .any(|body| {
            let value = match &body.assign {
                Some(assign) if body.is_else => &assign.value,
                None if body.is_else => return false,
                _ => value,
            };
            loop_binds(value, &body.query.stmts, arg_vars.clone())
        })
        .then_some(REASON)
        .or_else(|| {
            // A rule without a body: `p := input.roles[_]`.
            (bodies.is_empty() && !free_indexes(value, &arg_vars).is_empty()).then_some(REASON)
        })
}

/// True when `value` reads a variable that a loop of `stmts` binds, or has a loop of its own.
fn loop_binds(value: &Expr, stmts: &[LiteralStmt], mut bound: BTreeSet<String>) -> bool {
    let mut looped: BTreeSet<String> = BTreeSet::new();
    let mut after_loop = false;
    for stmt in stmts {
        let (loop_vars, assigned) = statement_vars(stmt, &bound);
        if !loop_vars.is_empty() {
            after_loop = true;
            looped.extend(loop_vars);
        }
        if after_loop {
            looped.extend(assigned.iter().cloned());
        }
        bound.extend(assigned);
    }
    // `p := input.roles[_] if ...`: the value loops by itself.
    !free_indexes(value, &bound).is_empty() || vars_of(value).iter().any(|v| looped.contains(v))
}

/// `p[k] := v`: a partial object, whose conflicts the plan already guards.
fn has_variable_key(refr: &Expr) -> bool {
    matches!(refr, Expr::RefBrack { index, .. } if !is_literal(index))
}

fn is_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::String { .. } | Expr::RawString { .. } | Expr::Number { .. } | Expr::Bool { .. }
    )
}

/// The variables a statement loops over (given those `bound` before it) and those it assigns.
fn statement_vars(stmt: &LiteralStmt, bound: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
    let mut loops = Vec::new();
    let mut assigned = Vec::new();
    match &stmt.literal {
        Literal::SomeIn { key, value, .. } => {
            loops.extend(key.iter().flat_map(|k| vars_of(k)));
            loops.extend(vars_of(value));
        }
        Literal::SomeVars { .. } | Literal::Every { .. } | Literal::NotExpr { .. } => {}
        Literal::Expr { expr, .. } => {
            let index_vars = free_indexes(expr, bound);
            if !index_vars.is_empty() {
                // Everything this statement binds may differ per iteration.
                loops.extend(index_vars);
                loops.extend(vars_of(expr));
            } else if let Expr::AssignExpr { op, lhs, rhs, .. } = &**expr {
                assigned.extend(vars_of(lhs));
                if matches!(op, AssignOp::Eq) {
                    assigned.extend(vars_of(rhs));
                }
            }
        }
    }
    (loops, assigned)
}

/// Variables used as an index (`xs[i]`, `xs[_]`) that are not bound yet, outside nested
/// comprehensions.
fn free_indexes(expr: &Expr, bound: &BTreeSet<String>) -> Vec<String> {
    let mut found = Vec::new();
    walk_own_exprs(expr, &mut |e| {
        if let Expr::RefBrack { index, .. } = e
            && let Expr::Var { span, .. } = &**index
            && !bound.contains(span.text())
        {
            found.push(span.text().to_string());
        }
    });
    found
}

/// The variables an expression reads or binds, outside nested comprehensions (their variables
/// are their own), without `input`, `data` and `_`.
fn vars_of(expr: &Expr) -> BTreeSet<String> {
    let mut vars = BTreeSet::new();
    walk_own_exprs(expr, &mut |e| {
        if let Expr::Var { span, .. } = e
            && !matches!(span.text(), "input" | "data" | "_")
        {
            vars.insert(span.text().to_string());
        }
    });
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(rules: &str) -> Option<&'static str> {
        let source = format!("package t\n{rules}\n");
        let module = super::super::rego_ast::parsed(&source);
        module.policy.iter().find_map(|r| find(r))
    }

    #[test]
    fn a_value_bound_by_a_loop_is_found() {
        for rules in [
            "p := y if { y := input.roles[_] }",
            "p := {\"a\": [x, y]} if { xs = [1, 2]; x = xs[_]; y = xs[_] }",
            "p := r if { some r in input.roles }",
            "p := n if { some r in input.roles; n := upper(r) }",
            "f(a) := y if { y = a[_] }",
            "p := u.name if { some u in input.users; u.admin }",
            "p := input.roles[_]",
            "p := 1 if input.x else := v if { some v in input.roles }",
        ] {
            assert_eq!(reason(rules), Some(REASON), "{rules}");
        }
    }

    #[test]
    fn a_value_no_loop_changes_keeps_the_rvm() {
        for rules in [
            "allow := true if { some r in input.roles; r == \"admin\" }",
            "p := x if { x := input.a; some r in input.roles; r == x }",
            "p := data.flags[k] if k := input.k",
            "f(k) := v if { v := data.m[k] }",
            "p := [r | some r in input.roles]",
            "p[k] := v if { some k, v in input.o }",
            "q contains r if { some r in input.roles }",
            "p := count(input.roles)",
            "p := 1 if { some r in input.roles; r == 1 } else := 2",
        ] {
            assert_eq!(reason(rules), None, "{rules}");
        }
    }
}
