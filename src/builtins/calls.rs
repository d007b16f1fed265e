//! A load-time check of every call to an extension builtin: the number of arguments.
//!
//! OPA also accepts a builtin's result as one more argument (`io.jwt.decode(t, [h, p, s])`).
//! regorus extensions cannot take that form: such a module loads and then fails every decision
//! with `var x is unsafe`. A wrong count is known at load, so it is refused at load, naming the
//! call and the form that works.
//!
//! Owns only the walk over the modules' AST; which names are extensions is [`super::all`].

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};

/// Checks every module; the error is regorus-formatted (`--> file:line:col`), like any other
/// load error.
pub fn check<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Result<(), String> {
    for module in modules {
        for rule in &module.policy {
            check_rule(rule)?;
        }
    }
    Ok(())
}

fn check_rule(rule: &Rule) -> Result<(), String> {
    match rule {
        Rule::Default { args, value, .. } => {
            args.iter().try_for_each(|a| check_expr(a))?;
            check_expr(value)
        }
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    check_expr(refr)?;
                    if let Some(assign) = assign {
                        check_expr(&assign.value)?;
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    check_expr(refr)?;
                    if let Some(key) = key {
                        check_expr(key)?;
                    }
                }
                RuleHead::Func {
                    refr, args, assign, ..
                } => {
                    check_expr(refr)?;
                    args.iter().try_for_each(|a| check_expr(a))?;
                    if let Some(assign) = assign {
                        check_expr(&assign.value)?;
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    check_expr(&assign.value)?;
                }
                check_query(&body.query)?;
            }
            Ok(())
        }
    }
}

fn check_query(query: &Query) -> Result<(), String> {
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
                    check_expr(key)?;
                }
                check_expr(value)?;
                check_expr(collection)?;
            }
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => check_expr(expr)?,
            Literal::Every { domain, query, .. } => {
                check_expr(domain)?;
                check_query(query)?;
            }
        }
        for with in &stmt.with_mods {
            check_expr(&with.r#as)?;
        }
    }
    Ok(())
}

fn check_expr(expr: &Expr) -> Result<(), String> {
    match expr {
        Expr::Call {
            span, fcn, params, ..
        } => {
            if let Ok(name) = regorus::utils::get_path_string(fcn, None)
                && let Some(builtin) = super::all().find(|b| b.name == name)
                && params.len() != usize::from(builtin.nargs)
            {
                let want = builtin.nargs;
                let message = if params.len() == usize::from(want) + 1 {
                    format!(
                        "{name} takes {want} argument(s); authzd's extension builtins do not take OPA's output argument: write `x := {name}(...)` instead of `{name}(..., x)`"
                    )
                } else {
                    format!("{name} takes {want} argument(s), not {}", params.len())
                };
                return Err(span.error(&message).to_string());
            }
            check_expr(fcn)?;
            params.iter().try_for_each(|p| check_expr(p))
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            items.iter().try_for_each(|i| check_expr(i))
        }
        Expr::Object { fields, .. } => fields.iter().try_for_each(|(_, key, value)| {
            check_expr(key)?;
            check_expr(value)
        }),
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            check_expr(term)?;
            check_query(query)
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            check_expr(key)?;
            check_expr(value)?;
            check_query(query)
        }
        Expr::UnaryExpr { expr, .. } => check_expr(expr),
        Expr::RefDot { refr, .. } => check_expr(refr),
        Expr::RefBrack { refr, index, .. } => {
            check_expr(refr)?;
            check_expr(index)
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            check_expr(lhs)?;
            check_expr(rhs)
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => {
            if let Some(key) = key {
                check_expr(key)?;
            }
            check_expr(value)?;
            check_expr(collection)
        }
        // Literals and variables hold no calls (and a regorus build with more expression kinds
        // than these holds none of ours).
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rego: &str) -> Result<(), String> {
        let mut engine = regorus::Engine::new();
        super::super::register(&mut engine).unwrap();
        engine
            .add_policy("p.rego".to_string(), rego.to_string())
            .unwrap();
        check(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    #[test]
    fn output_arguments_are_refused_with_the_form_that_works() {
        let err = load("package p\nr := x if { io.jwt.decode(input.t, x) }\n").unwrap_err();
        assert!(err.contains("p.rego:2:"), "{err}");
        assert!(err.contains("write `x := io.jwt.decode(...)`"), "{err}");
        let err = load("package p\nr := [x | crypto.sha256(\"a\", \"b\", x)]\n").unwrap_err();
        assert!(
            err.contains("crypto.sha256 takes 1 argument(s), not 3"),
            "{err}"
        );
        let err = load(
            "package p\nr if { every t in input.ts { io.jwt.verify_hs256(t, \"k\", true) } }\n",
        )
        .unwrap_err();
        assert!(err.contains("io.jwt.verify_hs256"), "{err}");
    }

    #[test]
    fn the_result_form_loads() {
        load("package p\nr := [h, p] if { [h, p, _] := io.jwt.decode(input.t) }\nf(t) := crypto.md5(t)\n")
            .unwrap();
    }
}
