//! Walking regorus's Rego AST: one traversal for every load-time analysis (recursion, calls,
//! the constructs that decide where a rule runs).
//!
//! Owns: visiting each expression of a rule, its bodies, comprehensions, `some`/`every` and
//! `with` modifiers, in source order, with the visitor deciding whether to descend (a ref chain
//! is usually handled whole, not link by link). Knows nothing of what an analysis looks for.

use regorus::unstable::{Expr, Literal, Query, Rule, RuleHead};

/// What the visitor wants after seeing an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descend {
    /// Visit its sub-expressions too.
    Yes,
    /// It was handled whole.
    No,
}

/// A place in a rule the walk reports besides expressions.
pub enum Site<'a> {
    /// An expression.
    Expr(&'a Expr),
    /// The target of a `with` modifier (`with data.x as ...`: the `data.x`), which is replaced,
    /// not read.
    WithTarget(&'a Expr),
}

/// Visits every expression of `rule` (head, bodies, `else` bodies).
pub fn walk_rule<'a>(rule: &'a Rule, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    match rule {
        Rule::Default { args, value, .. } => {
            for arg in args {
                walk_expr(arg, visit);
            }
            walk_expr(value, visit);
        }
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { assign, .. } => {
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
                RuleHead::Set { key, .. } => {
                    if let Some(key) = key {
                        walk_expr(key, visit);
                    }
                }
                RuleHead::Func { args, assign, .. } => {
                    for arg in args {
                        walk_expr(arg, visit);
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
            }
            walk_head_ref(head, visit);
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, visit);
                }
                walk_query(&body.query, visit);
            }
        }
    }
}

/// The index expressions of a ref head (`p[x]` reads `x`), not the head's own path.
fn walk_head_ref<'a>(head: &'a RuleHead, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    let (RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } | RuleHead::Func { refr, .. }) =
        head;
    let mut link = refr.as_ref();
    loop {
        match link {
            Expr::RefBrack { refr, index, .. } => {
                walk_expr(index, visit);
                link = refr;
            }
            Expr::RefDot { refr, .. } => link = refr,
            _ => return,
        }
    }
}

/// Visits every statement of `query`.
pub fn walk_query<'a>(query: &'a Query, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    walk_expr(key, visit);
                }
                walk_expr(value, visit);
                walk_expr(collection, visit);
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit),
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit);
                walk_query(query, visit);
            }
        }
        for with in &stmt.with_mods {
            visit(Site::WithTarget(&with.refr));
            walk_expr(&with.r#as, visit);
        }
    }
}

/// Visits `expr` and, unless the visitor says otherwise, everything inside it.
pub fn walk_expr<'a>(expr: &'a Expr, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    if visit(Site::Expr(expr)) == Descend::No {
        return;
    }
    match expr {
        Expr::Call { fcn, params, .. } => {
            walk_expr(fcn, visit);
            for param in params {
                walk_expr(param, visit);
            }
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                walk_expr(item, visit);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                walk_expr(key, visit);
                walk_expr(value, visit);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, visit);
            walk_query(query, visit);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, visit);
            walk_expr(value, visit);
            walk_query(query, visit);
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, visit);
            walk_expr(index, visit);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, visit);
            walk_expr(rhs, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                walk_expr(key, visit);
            }
            walk_expr(value, visit);
            walk_expr(collection, visit);
        }
        // Literals and variables have no sub-expressions.
        _ => {}
    }
}
