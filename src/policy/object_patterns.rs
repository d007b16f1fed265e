//! Object patterns that match only objects with the same keys, as in OPA.
//!
//! In OPA, `{"k": v} := input.o` unifies two objects, which requires the same keys: with
//! `input.o = {"k": 1, "j": 2}` the statement fails. regorus (both evaluators) matches the keys
//! the pattern names and ignores the others, so the statement binds `v` to 1. Owns: finding
//! each such statement (`:=`, or `=` with a reference on the other side, also nested:
//! `[{"k": v}] := input.l`) and requiring the key count of every object in the pattern right
//! after it, on the same line: `{"k": v} := input.o; count(input.o) == 1`. A statement with
//! `with` modifiers is left alone (the guard would read its value without them), and so are
//! object patterns after `some ... in` and in function arguments (README, known differences).

use regorus::Value;
use regorus::unstable::{AssignOp, Expr, Literal, Module};

use super::rego_ast::{expr_start, for_each_statement, is_ref};
use super::splice::{Edit, after_if_keyword, statement_range};

/// A cheap look at the text before parsing it: false when no line can hold an object pattern
/// (a `}` or `]` right before `:=` or `=`, or a `{` or `[` right after `=`).
pub fn may_apply(text: &str) -> bool {
    let closes = |before: &str| before.trim_end().ends_with(['}', ']']);
    let opens = |after: &str| after.trim_start().starts_with(['{', '[']);
    text.lines().filter(|line| line.contains('{')).any(|line| {
        line.match_indices(":=").any(|(at, _)| closes(&line[..at]))
            || line.match_indices('=').any(|(at, _)| {
                let unification = !line[..at].ends_with([':', '=', '!', '<', '>'])
                    && !line[at + 1..].starts_with('=');
                unification && (closes(&line[..at]) || opens(&line[at + 1..]))
            })
    })
}

/// The edits that require the key count of every object pattern of `module` (`source`
/// parsed).
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        for_each_statement(rule, &mut |stmt| {
            let Literal::Expr { expr, .. } = &stmt.literal else {
                return;
            };
            if !stmt.with_mods.is_empty() {
                return;
            }
            let Expr::AssignExpr { op, lhs, rhs, .. } = &**expr else {
                return;
            };
            let (pattern, value) = match op {
                AssignOp::ColEq => (&**lhs, &**rhs),
                AssignOp::Eq if is_ref(rhs) => (&**lhs, &**rhs),
                AssignOp::Eq => (&**rhs, &**lhs),
            };
            if !is_ref(value) {
                return;
            }
            let Some(value_text) = source.get(expr_start(value, source)..value.span().end as usize)
            else {
                return;
            };
            let mut guards = Vec::new();
            object_counts(pattern, value_text.to_string(), &mut guards);
            if guards.is_empty() {
                return;
            }
            let (start, end) = statement_range(source, &stmt.span);
            let text: String = guards
                .iter()
                .map(|(path, n)| format!("; count({path}) == {n}"))
                .collect();
            if after_if_keyword(source, start) {
                edits.push(Edit::insert(start, "{ ".into()));
                edits.push(Edit::insert(end, format!("{text} }}")));
            } else {
                edits.push(Edit::insert(end, text));
            }
        });
    }
    edits
}

/// For each object inside `pattern` (matched against the value written `path`), the path to
/// its value and its number of keys. An object with a key that is not a string or a number
/// literal is not followed.
fn object_counts(pattern: &Expr, path: String, guards: &mut Vec<(String, usize)>) {
    match pattern {
        Expr::Object { fields, .. } => {
            let mut keys = Vec::with_capacity(fields.len());
            for (_, key, _) in fields {
                match &**key {
                    Expr::String {
                        value: Value::String(k),
                        ..
                    }
                    | Expr::RawString {
                        value: Value::String(k),
                        ..
                    } => match serde_json::to_string(&**k) {
                        Ok(quoted) => keys.push(quoted),
                        Err(_) => return,
                    },
                    Expr::Number { span, .. } => keys.push(span.text().to_string()),
                    _ => return,
                }
            }
            guards.push((path.clone(), fields.len()));
            for ((_, _, value), key) in fields.iter().zip(keys) {
                object_counts(value, format!("{path}[{key}]"), guards);
            }
        }
        Expr::Array { items, .. } => {
            for (i, item) in items.iter().enumerate() {
                object_counts(item, format!("{path}[{i}]"), guards);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn an_object_pattern_requires_its_key_count() {
        assert_eq!(
            rewritten("package t\na if { {\"k\": v} := input.o; v == 1 }\n").unwrap(),
            "package t\na if { {\"k\": v} := input.o; count(input.o) == 1; v == 1 }\n"
        );
        assert_eq!(
            rewritten("package t\nb if {\"k\": v, \"j\": 2} = input.o\n").unwrap(),
            "package t\nb if { {\"k\": v, \"j\": 2} = input.o; count(input.o) == 2 }\n"
        );
        assert_eq!(
            rewritten("package t\nc := v if { [{\"k\": {\"n\": v}}] := input.l }\n").unwrap(),
            "package t\nc := v if { [{\"k\": {\"n\": v}}] := input.l; count(input.l[0]) == 1; count(input.l[0][\"k\"]) == 1 }\n"
        );
        assert_eq!(
            rewritten("package t\ne := [v | input.o = {\"k\": v}]\n").unwrap(),
            "package t\ne := [v | input.o = {\"k\": v}; count(input.o) == 1]\n"
        );
    }

    #[test]
    fn the_cheap_look_finds_patterns_and_skips_values() {
        assert!(may_apply("a if { {\"k\": v} := input.o }"));
        assert!(may_apply("c if { [{\"k\": v}] := input.l }"));
        assert!(may_apply("e := [v | input.o = {\"k\": v}]"));
        assert!(!may_apply("x := {\"a\": 1}"));
        assert!(!may_apply("x if { input.o == {\"k\": 1}; y := [1] }"));
        assert!(!may_apply("d := {\"allow\": allow, \"reasons\": reasons}"));
    }

    #[test]
    fn values_and_other_statements_are_left_alone() {
        for source in [
            "package t\nx := {\"a\": 1}\n",
            "package t\nx if { o := {\"a\": input.a}; o.a }\n",
            "package t\nx if { {\"k\": v} := {\"k\": 1}; v }\n",
            "package t\nx if { {\"k\": v} := input.o with input as {} }\n",
            "package t\nx if { input.o == {\"k\": 1} }\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
