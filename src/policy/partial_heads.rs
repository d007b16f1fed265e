//! Partial set and object rules whose head key or value can be undefined, evaluated in the
//! body instead, where an undefined value drops that element as OPA drops it.
//!
//! `ids contains u.id if some u in input.users`, with a user that has no `id`, is the set of
//! the other ids in OPA. regorus' interpreter takes the undefined head value for the whole
//! rule's and fails the next element with `not an object`; its RVM does the same for partial
//! objects (`p[u.k] := u.v`). The same rule written with the head computed in the body works on
//! both (docs/upstream/undefined-partial-rule-head.md). Owns: finding such heads and
//! rewriting them, on their own lines, to
//! `ids contains __authzd_value if { some u in input.users; __authzd_value := u.id }`.
//! A head that is a variable or a scalar literal cannot be undefined and is left alone. A head
//! written over several lines moves as one line (its comments dropped), and its line breaks
//! stay in the head, so every line after it keeps its number.

use regorus::unstable::{Expr, Module, Rule, RuleBody, RuleHead};

use super::rego_ast::expr_start;

use super::splice::Edit;

/// The variables the rewrite introduces; no OPA policy name starts with `__authzd_`.
const KEY: &str = "__authzd_key";
const VALUE: &str = "__authzd_value";

/// A cheap look at the text before parsing it: false when no line can hold a partial-rule
/// head that [`edits`] would move (`x contains <not a name or a literal>`, `p[...] :=`).
pub fn may_apply(text: &str) -> bool {
    text.lines().any(|line| {
        if is_bracket_head(line) {
            return true;
        }
        if let Some((_, after)) = line.split_once("contains ") {
            let head = after.split(" if").next().unwrap_or(after);
            if head.contains(['.', '(', '[', '{']) {
                return true;
            }
        }
        let before = line
            .split_once(":=")
            .or_else(|| line.split_once(" = "))
            .map(|(before, _)| before);
        before.is_some_and(|before| before.contains('['))
    })
}

/// A line that starts like v0's partial rule `ids[u.id] {` (a name, then `[`).
fn is_bracket_head(line: &str) -> bool {
    line.split_once('[').is_some_and(|(name, _)| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

/// The edits that compute every undefinable partial-rule head of `module` (`source` parsed)
/// in its body; empty when there is none.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        let Rule::Spec { head, bodies, .. } = &**rule else {
            continue;
        };
        // (the expression, the variable that takes its place)
        let moved: Vec<(&Expr, &str)> = match head {
            RuleHead::Set {
                key: Some(value), ..
            } => vec![(value, VALUE)],
            RuleHead::Compr {
                refr,
                assign: Some(assign),
                ..
            } => match &**refr {
                Expr::RefBrack { index, .. } => vec![(index, KEY), (&assign.value, VALUE)],
                _ => continue,
            },
            _ => continue,
        };
        let moved: Vec<(&Expr, &str)> = moved
            .into_iter()
            .filter(|(expr, _)| can_be_undefined(expr))
            .collect();
        // A head written over several lines must fit on one: a raw string broken over lines
        // cannot.
        let fits = moved
            .iter()
            .all(|(expr, _)| one_line(expr_text(expr, source)).is_some());
        if moved.is_empty() || !fits || source.contains(VALUE) || source.contains(KEY) {
            continue;
        }
        let [body] = bodies.as_slice() else {
            // A rule without a body has none to extend; several bodies are v0's, left alone.
            continue;
        };
        edits.extend(rewrite(body, &moved, source));
    }
    edits
}

/// Anything but a variable or a scalar literal may be undefined (a reference, a call,
/// arithmetic on them, a collection holding one).
fn can_be_undefined(expr: &Expr) -> bool {
    !matches!(expr, Expr::Var { .. }) && !super::rego_ast::is_scalar_literal(expr)
}

fn rewrite(body: &RuleBody, moved: &[(&Expr, &str)], source: &str) -> Vec<Edit> {
    if body.assign.is_some() || body.is_else {
        return Vec::new();
    }
    let (Some(first), Some(last)) = (body.query.stmts.first(), body.query.stmts.last()) else {
        return Vec::new();
    };
    let (start, _) = super::splice::statement_range(source, &first.span);
    let (_, end) = super::splice::statement_range(source, &last.span);
    let braceless = !source.get(..start).unwrap_or("").trim_end().ends_with('{');
    let mut edits: Vec<Edit> = moved
        .iter()
        .map(|(expr, var)| {
            // The head's line breaks stay where they were, so the lines after it keep theirs.
            let breaks = expr_text(expr, source).matches('\n').count();
            Edit {
                start: expr_start(expr, source),
                end: expr.span().end as usize,
                text: format!("{var}{}", "\n".repeat(breaks)),
            }
        })
        .collect();
    let assignments: String = moved
        .iter()
        .filter_map(|(expr, var)| {
            Some(format!("; {var} := {}", one_line(expr_text(expr, source))?))
        })
        .collect();
    if braceless {
        edits.push(Edit::insert(start, "{ ".into()));
        edits.push(Edit::insert(end, format!("{assignments} }}")));
    } else {
        edits.push(Edit::insert(end, assignments));
    }
    edits
}

/// The text of `expr` in `source`, from where it really starts ([`expr_start`]).
fn expr_text<'a>(expr: &Expr, source: &'a str) -> &'a str {
    source
        .get(expr_start(expr, source)..expr.span().end as usize)
        .unwrap_or_default()
}

/// `expr` (an expression's text) on one line: each line break outside a string becomes a
/// space and each comment is dropped; `None` for a raw string over several lines, which
/// cannot be joined.
fn one_line(expr: &str) -> Option<String> {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    match s {
                        '\\' => out.extend(chars.next()),
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                out.push(c);
                for s in chars.by_ref() {
                    if s == '\n' {
                        return None;
                    }
                    out.push(s);
                    if s == '`' {
                        break;
                    }
                }
            }
            '#' => {
                if chars.by_ref().any(|s| s == '\n') {
                    out.push(' ');
                }
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn undefinable_heads_move_into_the_body_on_their_lines() {
        assert_eq!(
            rewritten("package t\n\nids contains u.id if some u in input.users\n").unwrap(),
            "package t\n\nids contains __authzd_value if { some u in input.users; __authzd_value := u.id }\n"
        );
        assert_eq!(
            rewritten("package t\n\np[u.k] := upper(u.v) if {\n  some u in input.all\n  u.on\n}\n")
                .unwrap(),
            "package t\n\np[__authzd_key] := __authzd_value if {\n  some u in input.all\n  u.on; __authzd_key := u.k; __authzd_value := upper(u.v)\n}\n"
        );
        // Only the part that can be undefined moves.
        assert_eq!(
            rewritten("package t\n\np[k] := u.v if some k, u in input.all\n").unwrap(),
            "package t\n\np[k] := __authzd_value if { some k, u in input.all; __authzd_value := u.v }\n"
        );
    }

    #[test]
    fn a_head_over_several_lines_moves_as_one_and_keeps_the_line_count() {
        let source = "package t\n\ndeny contains {\n\t\"msg\": \"#no\", # why\n\t\"id\": u.id,\n} if {\n\tsome u in input.users\n}\n\nq := 1\n";
        let moved = rewritten(source).unwrap();
        assert_eq!(
            moved,
            "package t\n\ndeny contains __authzd_value\n\n\n if {\n\tsome u in input.users; __authzd_value := { \t\"msg\": \"#no\",  \t\"id\": u.id, }\n}\n\nq := 1\n"
        );
        assert_eq!(moved.lines().count(), source.lines().count());
        assert_eq!(
            rewritten("package t\np[u.k] := {\n  \"v\": u.v,\n} if some u in input.all\n").unwrap(),
            "package t\np[__authzd_key] := __authzd_value\n\n if { some u in input.all; __authzd_key := u.k; __authzd_value := {   \"v\": u.v, } }\n"
        );
    }

    #[test]
    fn an_object_head_with_several_fields_moves_whole() {
        // regorus' span of this object starts at its last key.
        assert_eq!(
            rewritten("package t\ndeny contains {\"msg\": \"no\", \"id\": u.id} if some u in input.users\n")
                .unwrap(),
            "package t\ndeny contains __authzd_value if { some u in input.users; __authzd_value := {\"msg\": \"no\", \"id\": u.id} }\n"
        );
        assert_eq!(
            rewritten("package t\np[{\"a\": 1, \"b\": u.k}.b] := 1 if some u in input.all\n")
                .unwrap(),
            "package t\np[__authzd_key] := 1 if { some u in input.all; __authzd_key := {\"a\": 1, \"b\": u.k}.b }\n"
        );
    }

    #[test]
    fn a_raw_string_broken_over_lines_stays_in_the_head() {
        assert_eq!(one_line("[`a\nb`, x.y]"), None);
        assert_eq!(
            one_line("[`a#b`, \"c\\\"#\", x.y] # z").unwrap(),
            "[`a#b`, \"c\\\"#\", x.y] "
        );
        assert_eq!(
            rewritten("package t\nq contains [`a\nb`, u.id] if some u in input.users\n"),
            None
        );
    }

    #[test]
    fn v0_bracket_heads_are_found_by_the_cheap_look() {
        assert!(may_apply(
            "package t\nids[u.id] {\n  u := input.users[_]\n}\n"
        ));
        assert!(may_apply(
            "package t\nviolation[{\"msg\": m}] {\n  m := input.m\n}\n"
        ));
        assert!(!may_apply("package t\nallow {\n  input.a[0] == 1\n}\n"));
    }

    #[test]
    fn the_cheap_look_finds_every_head_the_rewrite_moves() {
        for source in [
            "package t\nids contains u.id if some u in input.users\n",
            "package t\nq contains f(x) if some x in input.all\n",
            "package t\np[u.k] := 1 if some u in input.all\n",
            "package t\np[k] = u.v if some k, u in input.all\n",
        ] {
            assert!(may_apply(source), "{source}");
            assert!(rewritten(source).is_some(), "{source}");
        }
        for source in [
            "package t\ndeny contains \"no\" if input.n > 1\n",
            "package t\nq contains x if some x in input.all\n",
            "package t\nx := input.a[0]\n",
        ] {
            assert!(!may_apply(source), "{source}");
        }
    }

    #[test]
    fn a_body_that_ends_in_a_string_gets_the_assignment_after_it() {
        assert_eq!(
            rewritten("package t\np[k] := v.x if { some k, v in input; v.y == \"bar\" }\n")
                .unwrap(),
            "package t\np[k] := __authzd_value if { some k, v in input; v.y == \"bar\"; __authzd_value := v.x }\n"
        );
        assert_eq!(
            rewritten("package t\np contains input.y.z if input.x == `a`\n").unwrap(),
            "package t\np contains __authzd_value if { input.x == `a`; __authzd_value := input.y.z }\n"
        );
        assert_eq!(
            rewritten(
                "package t\np contains [k, v] if { some k, v in input with input.foo as \"bar\" }\n"
            )
            .unwrap(),
            "package t\np contains __authzd_value if { some k, v in input with input.foo as \"bar\"; __authzd_value := [k, v] }\n"
        );
    }

    #[test]
    fn heads_that_cannot_be_undefined_and_other_rules_are_left_alone() {
        for source in [
            "package t\n\nq contains x if some x in input.all\n",
            "package t\n\nq contains \"a\" if input.on\n",
            "package t\n\np[k] := 1 if some k in input.all\n",
            "package t\n\nx := input.a if input.on\n",
            "package t\n\nf(a) := a.b if a.on\n",
            "package t\n\na.b.c := input.x if input.on\n",
            "package t\n\nq contains input.x\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
