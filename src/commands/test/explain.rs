//! Why a test failed: the statement of its body that did not hold, and the values it
//! compared, where regorus can tell.
//!
//! Owns: probing a failing test on a copy of the interpreter. regorus reports only the value
//! of a rule, so the probes are rules of their own, added to the test's package with its
//! imports: one per prefix of the body finds the first statement that fails; for a
//! comparison (`a == b`, `a < b`, ...) two more evaluate its sides after the statements
//! before it (with the statement's `with` modifiers); otherwise the value of its expression.

use regorus::unstable::{Expr, Literal, LiteralStmt, Module, Ref, Rule};
use regorus::{Engine, Value};

use crate::policy::rule_graph::{package_path, rule_name};

const PROBE: &str = "__authzd_probe";

/// Lines explaining why `test` (path below `data`) failed; empty when nothing can be told.
pub fn explain(engine: &Engine, test: &[String]) -> Vec<String> {
    let mut engine = engine.clone();
    let Some((module, rule)) = find_rule(&mut engine, test) else {
        return Vec::new();
    };
    let Rule::Spec { bodies, .. } = rule.as_ref() else {
        return Vec::new();
    };
    let Some(body) = bodies.first() else {
        return Vec::new();
    };
    let stmts = &body.query.stmts;
    let Some(failing) = first_failing(&engine, &module, stmts) else {
        return Vec::new();
    };
    let Some(stmt) = stmts.get(failing) else {
        return Vec::new();
    };
    let before = stmts.get(..failing).unwrap_or_default();
    let mut lines = vec![format!(
        "{}:{}: {}",
        stmt.span.source.file(),
        stmt.span.line,
        one_line(stmt.span.text())
    )];
    let with = with_text(stmt);
    let value = |e: &Expr| {
        let text = format!("({}){with}", e.span().text());
        probe_value(&engine, &module, before, &text)
    };
    match &stmt.literal {
        Literal::Expr { expr, .. } => match expr.as_ref() {
            Expr::BoolExpr { lhs, rhs, .. } => {
                lines.push(format!("  left:  {}", value(lhs)));
                lines.push(format!("  right: {}", value(rhs)));
            }
            Expr::AssignExpr { rhs, .. } => {
                lines.push(format!("  right side: {}", value(rhs)));
            }
            other => lines.push(format!("  value: {}", value(other))),
        },
        Literal::NotExpr { expr, .. } => {
            lines.push(format!("  negated expression: {}", value(expr)));
        }
        _ => {}
    }
    lines
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn with_text(stmt: &LiteralStmt) -> String {
    stmt.with_mods
        .iter()
        .map(|m| format!(" with {} as {}", m.refr.span().text(), m.r#as.span().text()))
        .collect()
}

/// The module of `test` and its rule (the first definition with a body).
fn find_rule(engine: &mut Engine, test: &[String]) -> Option<(Ref<Module>, Ref<Rule>)> {
    for module in engine.get_modules().iter() {
        let Some(package) = package_path(module) else {
            continue;
        };
        for rule in &module.policy {
            let Some(name) = rule_name(rule) else {
                continue;
            };
            let mut path = package.clone();
            path.extend(name);
            if path == test
                && matches!(rule.as_ref(), Rule::Spec { bodies, .. } if !bodies.is_empty())
            {
                return Some((module.clone(), rule.clone()));
            }
        }
    }
    None
}

/// A module in the test's package, with its imports, holding `rules`.
fn probe_module(module: &Module, rules: &str) -> String {
    let package = package_path(module)
        .map(|p| p.join("."))
        .unwrap_or_default();
    let imports: Vec<&str> = module.imports.iter().map(|i| i.span.text()).collect();
    format!("package {package}\n{}\n{rules}", imports.join("\n"))
}

fn rule_text(module: &Module, name: &str, value: &str, body: &[String]) -> String {
    if module.rego_v1 {
        format!("{name} := {value} if {{\n{}\n}}\n", body.join("\n"))
    } else {
        format!("{name} = {value} {{\n{}\n}}\n", body.join("\n"))
    }
}

/// Evaluates the probe `rules` (each a name) added to a copy of `engine`.
fn eval_probes(
    engine: &Engine,
    module: &Module,
    rules: &str,
    names: &[String],
) -> Option<Vec<Value>> {
    let mut engine = engine.clone();
    let package = package_path(module)?;
    engine.set_rego_v0(!module.rego_v1);
    engine
        .add_policy(format!("{PROBE}.rego"), probe_module(module, rules))
        .ok()?;
    names
        .iter()
        .map(|name| {
            let mut path = package.clone();
            path.push(name.clone());
            engine.eval_rule(crate::policy::to_ref(&path)).ok()
        })
        .collect()
}

/// The index of the first statement after which the body no longer holds.
fn first_failing(engine: &Engine, module: &Module, stmts: &[LiteralStmt]) -> Option<usize> {
    let texts: Vec<String> = stmts.iter().map(|s| s.span.text().to_string()).collect();
    let mut rules = String::new();
    let mut names = Vec::new();
    for end in 1..=texts.len() {
        let name = format!("{PROBE}_{end}");
        rules.push_str(&rule_text(module, &name, "true", texts.get(..end)?));
        names.push(name);
    }
    let values = eval_probes(engine, module, &rules, &names)?;
    values.iter().position(|v| *v == Value::Undefined)
}

/// The value of `expression` after the statements `before`.
fn probe_value(
    engine: &Engine,
    module: &Module,
    before: &[LiteralStmt],
    expression: &str,
) -> String {
    let mut body: Vec<String> = before.iter().map(|s| s.span.text().to_string()).collect();
    body.push(format!("{PROBE}_v := {expression}"));
    let name = format!("{PROBE}_value");
    let rules = rule_text(module, &name, &format!("{PROBE}_v"), &body);
    match eval_probes(engine, module, &rules, std::slice::from_ref(&name)) {
        Some(values) => match values.first() {
            Some(Value::Undefined) | None => "undefined".into(),
            Some(v) => rego_text(v),
        },
        None => "(cannot be evaluated on its own)".into(),
    }
}

/// A value as Rego writes it (a set is `{"a", "b"}`, not JSON's array), so it reads like the
/// statement it is compared in.
fn rego_text(value: &Value) -> String {
    crate::builtins::rego_text(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_rego() {
        let v = Value::from_json_str(r#"{"a": [1, "x", null], "b": true}"#).unwrap();
        assert_eq!(rego_text(&v), r#"{"a": [1, "x", null], "b": true}"#);
        let set = Value::from(std::collections::BTreeSet::from([
            Value::from("a"),
            Value::from("b"),
        ]));
        assert_eq!(rego_text(&set), r#"{"a", "b"}"#);
        assert_eq!(rego_text(&Value::new_set()), "set()");
    }
}
