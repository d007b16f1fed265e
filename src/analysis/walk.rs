//! Walking regorus's syntax tree: every expression of a rule, a query or an expression, and
//! the static prefix of a reference.
//!
//! Owns: the traversal, written once, so the lints and the rule graph agree on what a rule
//! contains (heads, bodies, `else` bodies, comprehensions, `some`, `every`, `with` modifiers).
//! What to do with each expression is the caller's.

use regorus::unstable::{Expr, Literal, LiteralStmt, Query, Rule, RuleHead};

/// What a visitor sees besides expressions.
pub trait Visitor {
    /// Every expression, parents before children.
    fn expr(&mut self, expr: &Expr);
    /// A `with` modifier on a statement.
    fn with_modifier(&mut self) {}
    /// Variables a statement declares without an expression (`some x`, `every k, v in`).
    fn declared(&mut self, _name: &str, _span: &regorus::unstable::Span) {}
}

/// Visits the head and every body of `rule`.
pub fn rule(rule: &Rule, v: &mut dyn Visitor) {
    match rule {
        Rule::Default {
            refr, args, value, ..
        } => {
            expr(refr, v);
            for arg in args {
                expr(arg, v);
            }
            expr(value, v);
        }
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    expr(refr, v);
                    if let Some(assign) = assign {
                        expr(&assign.value, v);
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    expr(refr, v);
                    if let Some(key) = key {
                        expr(key, v);
                    }
                }
                RuleHead::Func {
                    refr, args, assign, ..
                } => {
                    expr(refr, v);
                    for arg in args {
                        expr(arg, v);
                    }
                    if let Some(assign) = assign {
                        expr(&assign.value, v);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    expr(&assign.value, v);
                }
                query(&body.query, v);
            }
        }
    }
}

/// Visits every statement of `q`.
pub fn query(q: &Query, v: &mut dyn Visitor) {
    for stmt in &q.stmts {
        statement(stmt, v);
    }
}

fn statement(stmt: &LiteralStmt, v: &mut dyn Visitor) {
    match &stmt.literal {
        Literal::SomeVars { vars, .. } => {
            for var in vars {
                v.declared(var.text(), var);
            }
        }
        Literal::SomeIn {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                expr(key, v);
            }
            expr(value, v);
            expr(collection, v);
        }
        Literal::Expr { expr: e, .. } | Literal::NotExpr { expr: e, .. } => expr(e, v),
        Literal::Every {
            key,
            value,
            domain,
            query: body,
            ..
        } => {
            if let Some(key) = key {
                v.declared(key.text(), key);
            }
            v.declared(value.text(), value);
            expr(domain, v);
            query(body, v);
        }
    }
    for modifier in &stmt.with_mods {
        v.with_modifier();
        expr(&modifier.refr, v);
        expr(&modifier.r#as, v);
    }
}

/// Visits `e` and everything inside it.
pub fn expr(e: &Expr, v: &mut dyn Visitor) {
    v.expr(e);
    match e {
        Expr::String { .. }
        | Expr::RawString { .. }
        | Expr::Number { .. }
        | Expr::Bool { .. }
        | Expr::Null { .. }
        | Expr::Var { .. } => {}
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                expr(item, v);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                expr(key, v);
                expr(value, v);
            }
        }
        Expr::ArrayCompr { term, query: q, .. } | Expr::SetCompr { term, query: q, .. } => {
            expr(term, v);
            query(q, v);
        }
        Expr::ObjectCompr {
            key,
            value,
            query: q,
            ..
        } => {
            expr(key, v);
            expr(value, v);
            query(q, v);
        }
        Expr::Call { fcn, params, .. } => {
            expr(fcn, v);
            for param in params {
                expr(param, v);
            }
        }
        Expr::UnaryExpr { expr: inner, .. } => expr(inner, v),
        Expr::RefDot { refr, .. } => expr(refr, v),
        Expr::RefBrack { refr, index, .. } => {
            expr(refr, v);
            expr(index, v);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            expr(lhs, v);
            expr(rhs, v);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                expr(key, v);
            }
            expr(value, v);
            expr(collection, v);
        }
    }
}

/// A reference's root variable and the fields that follow it up to the first one that is not
/// a literal (`data.orders[x].allow` is `data`, `["orders"]`).
pub fn static_ref(e: &Expr) -> Option<(String, Vec<String>)> {
    let mut fields = Vec::new();
    let mut current = e;
    loop {
        match current {
            Expr::Var { span, .. } => {
                fields.reverse();
                return Some((span.text().to_string(), fields));
            }
            Expr::RefDot { refr, field, .. } => {
                fields.push(field.0.text().to_string());
                current = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                match index.as_ref() {
                    Expr::String { value, .. } | Expr::RawString { value, .. } => {
                        match value.as_string() {
                            Ok(s) => fields.push(s.to_string()),
                            // Not a literal: what follows is dynamic.
                            Err(_) => fields.clear(),
                        }
                    }
                    _ => fields.clear(),
                }
                current = refr;
            }
            _ => return None,
        }
    }
}

/// True for the expressions that make up a reference chain.
pub fn is_ref(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
    )
}
