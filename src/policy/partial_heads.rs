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
//! A head that is a variable or a scalar literal cannot be undefined and is left alone, and
//! so is one written over several lines (moving it would shift the lines after it).

use regorus::unstable::{Expr, Module, Rule, RuleBody, RuleHead};

use super::splice::Edit;

/// The variables the rewrite introduces; no OPA policy name starts with `__authzd_`.
const KEY: &str = "__authzd_key";
const VALUE: &str = "__authzd_value";

/// A cheap look at the text before parsing it: false when no line can hold a partial-rule
/// head that [`edits`] would move (`x contains <not a name or a literal>`, `p[...] :=`).
pub fn may_apply(text: &str) -> bool {
    text.lines().any(|line| {
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
        // A head written over several lines would move the lines after it: left alone.
        let multiline = moved
            .iter()
            .any(|(expr, _)| expr.span().text().contains('\n'));
        if moved.is_empty() || multiline || source.contains(VALUE) || source.contains(KEY) {
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
            let span = expr.span();
            Edit {
                start: span.start as usize,
                end: span.end as usize,
                text: (*var).to_string(),
            }
        })
        .collect();
    let assignments: String = moved
        .iter()
        .map(|(expr, var)| format!("; {var} := {}", expr.span().text()))
        .collect();
    if braceless {
        edits.push(Edit::insert(start, "{ ".into()));
        edits.push(Edit::insert(end, format!("{assignments} }}")));
    } else {
        edits.push(Edit::insert(end, assignments));
    }
    edits
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
