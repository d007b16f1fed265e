//! Object patterns that match only objects with the same keys, as in OPA.
//!
//! In OPA, `{"k": v} := input.o` unifies two objects, which requires the same keys: with
//! `input.o = {"k": 1, "j": 2}` the statement fails. regorus (both evaluators) matches the keys
//! the pattern names and ignores the others, so the statement binds `v` to 1. Owns: finding
//! each such statement (`:=`, or `=` with a reference on the other side, also nested:
//! `[{"k": v}] := input.l`) and requiring the key count of every object in the pattern right
//! after it, on the same line: `{"k": v} := input.o; count(input.o) == 1`. A pattern after
//! `some ... in` is matched the same way: `some {"k": v} in input.l` becomes `some
//! __authzd_o_N in input.l; {"k": v} = __authzd_o_N; count(__authzd_o_N) == 1`. A statement
//! with `with` modifiers has them on each guard too (`count(input.o) == 1 with input as x`). A
//! function's argument is matched the same way: `f({"k": v}) := v` becomes `f(__authzd_o_N) := v if { {"k": v} =
//! __authzd_o_N; count(__authzd_o_N) == 1 }`, the guards first in each of its bodies, `else`
//! ones included. A template string as an argument is matched the same way, by its value:
//! `f($"{x}") := 1 if x := 2` answers `f("2")`.

use regorus::Value;
use regorus::unstable::{AssignOp, Expr, Literal, Module, Rule, RuleBody, RuleHead, Span};

use super::rego_ast::{expr_start, for_each_statement, is_ref};
use super::splice::{Edit, after_if_keyword, statement_range};

/// A cheap look at the text before parsing it: false when no line can hold an object pattern
/// (a `}` or `]` right before `:=` or `=`, or a `{` or `[` right after `=`).
pub fn may_apply(text: &str) -> bool {
    may_apply_to_some(text) || may_apply_to_arguments(text) || may_apply_to_statements(text)
}

/// A line that starts a function (`f(`) with a `{` or `[` among its first argument's or
/// another's first characters.
fn may_apply_to_arguments(text: &str) -> bool {
    text.lines().any(|line| {
        let name = line.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'));
        name.is_some_and(|at| at > 0 && line[at..].starts_with('('))
            && ["({", "([", ", {", ", ["].iter().any(|p| line.contains(p))
    })
}

/// A `{` or `[` in what a `some ... in` declares.
fn may_apply_to_some(text: &str) -> bool {
    text.match_indices("some ").any(|(at, _)| {
        let declared = text[at + 5..].split(['\n', ';']).next().unwrap_or_default();
        declared
            .split(" in ")
            .next()
            .is_some_and(|d| d.contains(['{', '[']))
    })
}

fn may_apply_to_statements(text: &str) -> bool {
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
        if let Rule::Spec {
            head: RuleHead::Func { args, .. },
            bodies,
            span,
        } = &**rule
        {
            argument_edits(args, bodies, span, source, &mut edits);
        }
        for_each_statement(rule, &mut |stmt| {
            if let Literal::SomeIn { value, .. } = &stmt.literal {
                // The guards read the variable the statement binds, not what `with` replaces.
                some_in_edits(value, &stmt.span, source, &mut edits);
                return;
            }
            let Literal::Expr { expr, .. } = &stmt.literal else {
                return;
            };
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
            // Each guard reads the value under the statement's own `with` modifiers.
            let modifiers = match stmt.with_mods.first() {
                Some(first) => {
                    let (_, end) = statement_range(source, &stmt.span);
                    match source.get(first.span.start as usize..end) {
                        Some(text) => format!(" {text}"),
                        None => return,
                    }
                }
                None => String::new(),
            };
            guard_statement(
                source,
                &stmt.span,
                guards_text(&guards, &modifiers),
                &mut edits,
            );
        });
    }
    edits
}

/// `some k, {"k": v} in xs` as `some k, __authzd_o_N in xs; {"k": v} = __authzd_o_N;
/// count(__authzd_o_N) == 1`: the pattern is matched against each element as a statement
/// matches it.
fn some_in_edits(value: &Expr, statement: &Span, source: &str, edits: &mut Vec<Edit>) {
    let Some((rename, matched)) = as_variable(value, source) else {
        return;
    };
    edits.push(rename);
    guard_statement(source, statement, format!("; {matched}"), edits);
}

/// The edit that writes the object pattern `pattern` as a new variable, and the statements
/// that match the variable's value against it (`{"k": v} = __authzd_o_N; count(__authzd_o_N)
/// == 1`); `None` when `pattern` holds no object with literal keys.
fn as_variable(pattern: &Expr, source: &str) -> Option<(Edit, String)> {
    let (rename, text) = renamed(pattern, source)?;
    let mut guards = Vec::new();
    object_counts(pattern, rename.text.clone(), &mut guards);
    if guards.is_empty() {
        return None;
    }
    let matched = format!("{text} = {}{}", rename.text, guards_text(&guards, ""));
    Some((rename, matched))
}

/// The edit that writes `expr` as the variable `__authzd_o_N` (N its offset), and its text.
fn renamed<'s>(expr: &Expr, source: &'s str) -> Option<(Edit, &'s str)> {
    let start = expr_start(expr, source);
    let end = expr.span().end as usize;
    let text = source.get(start..end)?;
    let var = format!("__authzd_o_{start}");
    Some((
        Edit {
            start,
            end,
            text: var,
        },
        text,
    ))
}

/// A template string as a function's argument (`f($"{x} {input.y}")`, which the bundle's load
/// wrote as an `internal.template_string` call) as a new variable, compared with the string in
/// each body, where the body binds the template's variables. OPA refuses any other call there
/// (`rule arguments cannot contain calls`); regorus schedules none.
fn template_argument(arg: &Expr, source: &str) -> Option<(Edit, String)> {
    let Expr::Call { fcn, .. } = arg else {
        return None;
    };
    if regorus::utils::get_path_string(fcn, None).ok()? != crate::builtins::TEMPLATE_STRING {
        return None;
    }
    let (rename, text) = renamed(arg, source)?;
    let compared = format!("{} == {text}", rename.text);
    Some((rename, compared))
}

/// Each object pattern or template string among a function's `args` as a variable, matched in
/// each of its bodies (`else` ones too; a body is added where there is none).
fn argument_edits(
    args: &[regorus::unstable::Ref<Expr>],
    bodies: &[RuleBody],
    rule: &Span,
    source: &str,
    edits: &mut Vec<Edit>,
) {
    // A pattern binds variables the body may read, so it is matched first; a template string
    // reads variables the body binds, so it is compared last.
    let mut renames = Vec::new();
    let (mut first, mut last) = (Vec::new(), Vec::new());
    for arg in args {
        if let Some((rename, matched)) = as_variable(arg, source) {
            renames.push(rename);
            first.push(matched);
        } else if let Some((rename, compared)) = template_argument(arg, source) {
            renames.push(rename);
            last.push(compared);
        }
    }
    if renames.is_empty() {
        return;
    }
    let all = [first.as_slice(), last.as_slice()].concat().join("; ");
    let (first, last) = (first.join("; "), last.join("; "));
    let mut guards = Vec::new();
    for body in bodies {
        match (body.query.stmts.first(), body.query.stmts.last()) {
            (Some(first_stmt), Some(last_stmt)) => {
                let (start, _) = statement_range(source, &first_stmt.span);
                let (_, end) = statement_range(source, &last_stmt.span);
                let braceless = after_if_keyword(source, start);
                let mut before = if braceless { "{ " } else { "" }.to_string();
                if !first.is_empty() {
                    before.push_str(&format!("{first}; "));
                }
                let mut after = if last.is_empty() {
                    String::new()
                } else {
                    format!("; {last}")
                };
                if braceless {
                    after.push_str(" }");
                }
                guards.push(Edit::insert(start, before));
                guards.push(Edit::insert(end, after));
            }
            // `else := 2`, which holds for every argument that matches.
            _ if body.is_else => {
                let end = body.span.end as usize;
                guards.push(Edit::insert(end, format!(" if {{ {all} }}")));
            }
            _ => return,
        }
    }
    if bodies.is_empty() {
        let end = statement_range(source, rule).1;
        guards.push(Edit::insert(end, format!(" if {{ {all} }}")));
    }
    guards.retain(|edit| !edit.text.is_empty());
    edits.extend(guards);
    edits.extend(renames);
}

fn guards_text(guards: &[(String, usize)], modifiers: &str) -> String {
    guards
        .iter()
        .map(|(path, n)| format!("; count({path}) == {n}{modifiers}"))
        .collect()
}

/// `text` (statements, each after a `;`) right after the statement at `span`, braced when the
/// statement is a body of its own after `if`.
fn guard_statement(source: &str, span: &Span, text: String, edits: &mut Vec<Edit>) {
    let (start, end) = statement_range(source, span);
    if after_if_keyword(source, start) {
        edits.push(Edit::insert(start, "{ ".into()));
        edits.push(Edit::insert(end, format!("{text} }}")));
    } else {
        edits.push(Edit::insert(end, text));
    }
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
    fn a_pattern_after_some_in_requires_its_key_count() {
        assert_eq!(
            rewritten("package t\na if { some {\"k\": v} in input.l; v == 1 }\n").unwrap(),
            "package t\na if { some __authzd_o_22 in input.l; {\"k\": v} = __authzd_o_22; count(__authzd_o_22) == 1; v == 1 }\n"
        );
        assert_eq!(
            rewritten("package t\nb contains v if some i, [{\"k\": v}] in input.l\n").unwrap(),
            "package t\nb contains v if { some i, __authzd_o_34 in input.l; [{\"k\": v}] = __authzd_o_34; count(__authzd_o_34[0]) == 1 }\n"
        );
        assert_eq!(
            rewritten("package t\nc := [v | some {\"k\": v, \"j\": 1} in input.l]\n").unwrap(),
            "package t\nc := [v | some __authzd_o_25 in input.l; {\"k\": v, \"j\": 1} = __authzd_o_25; count(__authzd_o_25) == 2]\n"
        );
        assert_eq!(rewritten("package t\nd if some [a, b] in input.l\n"), None);
        assert!(may_apply("x if some {\"k\": v} in input.l"));
        assert!(may_apply("f(x, {\"k\": v}) := v"));
        assert!(!may_apply("f(x) := v if { v := x }"));
        assert!(!may_apply("x if { some v in input.l; v == {\"k\": 1} }"));
    }

    #[test]
    fn a_function_s_object_argument_is_matched_in_its_body() {
        assert_eq!(
            rewritten("package t\nf({\"k\": v}) := v\n").unwrap(),
            "package t\nf(__authzd_o_12) := v if { {\"k\": v} = __authzd_o_12; count(__authzd_o_12) == 1 }\n"
        );
        assert_eq!(
            rewritten("package t\ng(x, [{\"k\": v}]) := v if {\n  v > x\n}\n").unwrap(),
            "package t\ng(x, __authzd_o_15) := v if {\n  [{\"k\": v}] = __authzd_o_15; count(__authzd_o_15[0]) == 1; v > x\n}\n"
        );
        assert_eq!(
            rewritten("package t\nh({\"k\": v}) if v > 1\n").unwrap(),
            "package t\nh(__authzd_o_12) if { {\"k\": v} = __authzd_o_12; count(__authzd_o_12) == 1; v > 1 }\n"
        );
        assert_eq!(
            rewritten("package t\nf({\"k\": v}) := 1 if v > 1\nelse := 2\n").unwrap(),
            "package t\nf(__authzd_o_12) := 1 if { {\"k\": v} = __authzd_o_12; count(__authzd_o_12) == 1; v > 1 }\nelse := 2 if { {\"k\": v} = __authzd_o_12; count(__authzd_o_12) == 1 }\n"
        );
    }

    #[test]
    fn a_template_argument_is_compared_after_the_body_binds_its_variables() {
        let t = "internal.template_string([\"a\", {s | s := (n)}])";
        assert_eq!(
            rewritten(&format!("package t\nf({t}) := n if n := 1\n")).unwrap(),
            format!("package t\nf(__authzd_o_12) := n if {{ n := 1; __authzd_o_12 == {t} }}\n")
        );
        assert_eq!(
            rewritten(&format!(
                "package t\ng({{\"k\": v}}, {t}) := v if {{\n  n := v\n}}\n"
            ))
            .unwrap(),
            format!(
                "package t\ng(__authzd_o_12, __authzd_o_22) := v if {{\n  {{\"k\": v}} = __authzd_o_12; \
                 count(__authzd_o_12) == 1; n := v; __authzd_o_22 == {t}\n}}\n"
            )
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
    fn a_statement_s_with_modifiers_hold_for_its_guards() {
        assert_eq!(
            rewritten(
                "package t\nx if { {\"k\": v} := input.o with input as {} with data.d as 1 }\n"
            )
            .unwrap(),
            "package t\nx if { {\"k\": v} := input.o with input as {} with data.d as 1; \
             count(input.o) == 1 with input as {} with data.d as 1 }\n"
        );
    }

    #[test]
    fn values_and_other_statements_are_left_alone() {
        for source in [
            "package t\nx := {\"a\": 1}\n",
            "package t\nx if { o := {\"a\": input.a}; o.a }\n",
            "package t\nx if { {\"k\": v} := {\"k\": 1}; v }\n",
            "package t\nx if { input.o == {\"k\": 1} }\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
