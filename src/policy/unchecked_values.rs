//! Where regorus' RVM takes an undefined value for a defined one, found in a rule's text so that
//! such a rule stays on the interpreter.
//!
//! The RVM does not end a body at an assignment of an undefined value: `allow if { u :=
//! input.user; true }` is `true` on it with no `input.user`, undefined in OPA. A body that reads
//! the variable afterwards (`u.role == "admin"`, `x := u.name` read in turn, the rule's head) ends
//! there as it should. Array and object comprehensions collect an undefined element as the
//! string `"<undefined>"` (`[u.name | some u in input.users]`), and their term does not count as
//! reading the variable it names (`docs/upstream/rvm-undefined-comprehension-element.md`).
//!
//! Owns: finding, per rule definition, an assignment `v := <value that may be undefined>` that no
//! later statement of its body (outside `not` and nested comprehensions) nor the head reads, and an
//! array or object comprehension whose element may be undefined. Conservative: a variable read
//! only inside a nested comprehension or an `every` counts as unread.

use regorus::unstable::{AssignOp, Expr, Literal, Query, Rule, RuleHead};

/// Why a rule definition cannot run on the RVM, if it cannot (a phrase after "it").
pub fn find(rule: &Rule) -> Option<&'static str> {
    let Rule::Spec { head, bodies, .. } = rule else {
        return None;
    };
    let mut readers: Vec<&Expr> = Vec::new();
    match head {
        RuleHead::Compr { refr, assign, .. } => {
            readers.push(refr);
            readers.extend(assign.iter().map(|a| &*a.value));
        }
        RuleHead::Set { refr, key, .. } => {
            readers.push(refr);
            readers.extend(key.iter().map(|k| &**k));
        }
        RuleHead::Func {
            refr, args, assign, ..
        } => {
            readers.push(refr);
            readers.extend(args.iter().map(|a| &**a));
            readers.extend(assign.iter().map(|a| &*a.value));
        }
    }
    // The head's own values hold comprehensions too (`names := [u.name | ...]`).
    for expr in readers.iter().copied() {
        if let Some(reason) = nested(expr) {
            return Some(reason);
        }
    }
    for body in bodies {
        if let Some(reason) = body.assign.as_ref().and_then(|a| nested(&a.value)) {
            return Some(reason);
        }
        let mut body_readers = readers.clone();
        body_readers.extend(body.assign.iter().map(|a| &*a.value));
        if let Some(reason) = query(&body.query, &body_readers) {
            return Some(reason);
        }
    }
    None
}

const UNREAD: &str = "assigns a value that may be undefined and never reads it (the RVM takes the assignment as true)";
const ELEMENT: &str = "has an array or object comprehension whose element may be undefined (the RVM collects it as \"<undefined>\")";

/// The first unchecked value in `q`, whose variables `readers` (the head, a set comprehension's
/// term) also read.
fn query(q: &Query, readers: &[&Expr]) -> Option<&'static str> {
    for (i, stmt) in q.stmts.iter().enumerate() {
        let exprs: Vec<&Expr> = match &stmt.literal {
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => vec![expr],
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => key
                .iter()
                .map(|k| &**k)
                .chain([&**value, &**collection])
                .collect(),
            Literal::Every {
                domain,
                query: body,
                ..
            } => {
                if let Some(reason) = query(body, &[]) {
                    return Some(reason);
                }
                vec![domain]
            }
            Literal::SomeVars { .. } => Vec::new(),
        };
        for expr in &exprs {
            if let Some(reason) = nested(expr) {
                return Some(reason);
            }
        }
        if let Literal::Expr { expr, .. } = &stmt.literal
            && let Expr::AssignExpr {
                op: AssignOp::ColEq,
                lhs,
                rhs,
                ..
            } = &**expr
            && may_be_undefined(rhs)
            && !is_loop(rhs)
        {
            let mut names = Vec::new();
            vars(lhs, &mut names);
            let later = &q.stmts[i + 1..];
            for name in names {
                let read_later = later.iter().any(|s| match &s.literal {
                    Literal::Expr { expr, .. } => mentions(expr, name),
                    Literal::SomeIn { collection, .. } => mentions(collection, name),
                    _ => false,
                });
                if !read_later && !readers.iter().any(|r| mentions(r, name)) {
                    return Some(UNREAD);
                }
            }
        }
    }
    None
}

/// The comprehensions inside `expr`, each checked as its own body.
fn nested(expr: &Expr) -> Option<&'static str> {
    let mut found = None;
    super::rego_ast::walk_expr(expr, &mut |site| {
        if found.is_some() {
            return super::rego_ast::Descend::No;
        }
        let super::rego_ast::Site::Expr(e) = site else {
            return super::rego_ast::Descend::Yes;
        };
        match e {
            Expr::ArrayCompr { term, query: q, .. } => {
                found = element(term, q).or_else(|| query(q, &[]));
                super::rego_ast::Descend::No
            }
            Expr::ObjectCompr {
                key,
                value,
                query: q,
                ..
            } => {
                found = element(key, q)
                    .or_else(|| element(value, q))
                    .or_else(|| query(q, &[]));
                super::rego_ast::Descend::No
            }
            Expr::SetCompr { term, query: q, .. } => {
                found = nested(term).or_else(|| query(q, &[term]));
                super::rego_ast::Descend::No
            }
            _ => super::rego_ast::Descend::Yes,
        }
    });
    found
}

/// A reference whose last index is `_` (`input.l[_]`): a loop, which iterates nothing over a
/// value that is undefined or not a collection, on the RVM too.
fn is_loop(expr: &Expr) -> bool {
    matches!(expr, Expr::RefBrack { index, .. }
        if matches!(&**index, Expr::Var { span, .. } if span.text() == "_"))
}

/// An array or object comprehension's element: a variable the body reads or binds is the body's
/// to check (its assignment counts as unread there); a variable it does not is a rule or a
/// variable from outside (`[r | some i in xs]` with a rule `r` that may be undefined), collected
/// as is, like anything else that may be undefined.
fn element(expr: &Expr, body: &Query) -> Option<&'static str> {
    if let Expr::Var { span, .. } = expr {
        return if read_or_bound(body, span.text()) {
            None
        } else {
            Some(ELEMENT)
        };
    }
    if !may_be_undefined(expr) {
        return nested(expr);
    }
    Some(ELEMENT)
}

/// Whether a statement of `body` (outside `not`) reads or binds the variable `name`: then an
/// undefined value ends the body instead of reaching the element.
fn read_or_bound(body: &Query, name: &str) -> bool {
    body.stmts.iter().any(|stmt| match &stmt.literal {
        Literal::Expr { expr, .. } => mentions(expr, name),
        Literal::SomeVars { vars, .. } => vars.iter().any(|v| v.text() == name),
        Literal::SomeIn {
            key,
            value,
            collection,
            ..
        } => {
            key.as_ref().is_some_and(|k| mentions(k, name))
                || mentions(value, name)
                || mentions(collection, name)
        }
        Literal::NotExpr { .. } | Literal::Every { .. } => false,
    })
}

/// Anything but a literal, a collection of literals, a comprehension, or an operator over
/// operands that are defined may be undefined. A variable as an operand counts as defined: its
/// own binding is checked where it is made, and this read is what checks it.
fn may_be_undefined(expr: &Expr) -> bool {
    let operand = |e: &Expr| !matches!(e, Expr::Var { .. }) && may_be_undefined(e);
    if super::rego_ast::is_scalar_literal(expr) {
        return false;
    }
    match expr {
        Expr::ArithExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::BinExpr { lhs, rhs, .. } => operand(lhs) || operand(rhs),
        Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. } => false,
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().any(|i| may_be_undefined(i))
        }
        Expr::Object { fields, .. } => fields
            .iter()
            .any(|(_, k, v)| may_be_undefined(k) || may_be_undefined(v)),
        _ => true,
    }
}

/// The variables an assignment's left side binds (`x`, `[a, b]`, `{"k": v}`).
fn vars<'e>(expr: &'e Expr, out: &mut Vec<&'e str>) {
    match expr {
        Expr::Var { span, .. } => {
            let name = span.text();
            if name != "_" {
                out.push(name);
            }
        }
        Expr::Array { items, .. } => items.iter().for_each(|i| vars(i, out)),
        Expr::Object { fields, .. } => fields.iter().for_each(|(_, _, v)| vars(v, out)),
        _ => {}
    }
}

/// Whether `expr` reads the variable `name`, outside nested comprehensions.
fn mentions(expr: &Expr, name: &str) -> bool {
    let mut found = false;
    super::rego_ast::walk_expr(expr, &mut |site| {
        match site {
            super::rego_ast::Site::Expr(Expr::Var { span, .. }) if span.text() == name => {
                found = true;
            }
            super::rego_ast::Site::Expr(
                Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. },
            ) => return super::rego_ast::Descend::No,
            _ => {}
        }
        if found {
            super::rego_ast::Descend::No
        } else {
            super::rego_ast::Descend::Yes
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn reasons(source: &str) -> Vec<Option<&'static str>> {
        let module = parsed(source);
        module.policy.iter().map(|r| find(r)).collect()
    }

    #[test]
    fn an_assignment_no_one_reads_is_found() {
        let found = reasons(
            "package p\n\
             a if { u := input.user; true }\n\
             b := 1 if { u := input.user }\n\
             f(x) := 1 if { n := x.name }\n\
             c if { u := input.user; not deny[u] }\n\
             e if { u := input.users[_].name }\n\
             d if { u := input.user; count([1 | u == 1]) == 0 }\n\
             deny contains 1\n",
        );
        assert_eq!(found[..6], [Some(UNREAD); 6]);
    }

    #[test]
    fn an_assignment_read_later_or_by_the_head_is_not() {
        let found = reasons(
            "package p\n\
             a if { u := data.users[input.user]; u.role == \"admin\" }\n\
             b := u if { u := input.user }\n\
             deny contains msg if { input.x; msg := sprintf(\"%v\", [input.x]) }\n\
             c if { u := input.user; n := u.name; startswith(n, \"a\") }\n\
             d if { r := input.roles; some x in r; x == \"a\" }\n\
             e if { n := 1; true }\n\
             f if { xs := [x | some x in input.a]; count(xs) > 0 }\n\
             g if { u := input.users[_] }\n\
             h := [u | u := input.users[_]]\n",
        );
        assert_eq!(found, vec![None; 9]);
    }

    #[test]
    fn comprehension_elements_that_may_be_undefined_are_found() {
        let found = reasons(
            "package p\n\
             a := [u.name | some u in input.users]\n\
             b := [y | some u in input.users; y := u.name]\n\
             c := {k: v | some k, u in input.m; v := u.x}\n\
             d := count([1 | some u in input.users; z := u.name])\n\
             e := [x | some x in input.roles; x != \"a\"]\n\
             f := {u.name | some u in input.users}\n\
             g := {y | some u in input.users; y := u.name}\n\
             h := [1 | some u in input.users]\n",
        );
        assert_eq!(
            found,
            vec![
                Some(ELEMENT),
                Some(UNREAD),
                Some(UNREAD),
                Some(UNREAD),
                None,
                None,
                None,
                None
            ]
        );
    }
}
