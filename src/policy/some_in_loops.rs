//! `some x in v` over a value that is not a collection, on the interpreter, as OPA reads it.
//!
//! OPA (and regorus' RVM) iterate nothing when `v` is not an array, set or object (a string in
//! the input where a list was expected); regorus' interpreter fails the whole decision
//! (docs/upstream/interpreter-some-in-non-collection.md). `x := v[_]` iterates the same
//! values on both evaluators and nothing over a string. Owns: writing, at load and on the same
//! line, `some x in v` as `x := v[_]` and `some k, x in v` as `x = v[k]` (`_ = v[k]` for
//! `some k, _ in v`), in every rule: the interpreter runs more than the rules the routing
//! keeps there (a whole package's document, `--no-rvm`, a demoted rule), and the RVM answers
//! both forms alike. A pattern (`some [a, _] in v`, `some k, {"a": a} in v`) is written as a
//! unification with each value, `[a, _] = v[_]`. Only the plain forms are written: a variable,
//! or an array or object pattern of variables and scalars, a reference, a variable or a call
//! as the collection (`f(x)[_]` is a reference too), no `with` modifiers, and variables that name nothing already in scope (one
//! bound before the loop, or a rule of the package, would turn the index or the unification
//! into a filter).

use std::collections::BTreeSet;

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};

use super::comprehension_scopes::is_ident;
use super::rego_ast::{
    Descend, Site, expr_start, for_each_statement, is_ref, is_scalar_literal, walk_rule,
};
use super::splice::{Edit, statement_range};

/// A cheap look at the text before parsing it.
pub fn may_apply(text: &str) -> bool {
    text.contains("some ") && text.contains(" in ")
}

/// The edits that write each plain `some .. in v` of `module` (`source` parsed) as an index
/// into `v`. `package_rules` are the names the package's rules have, in every module.
pub fn edits(module: &Module, source: &str, package_rules: &BTreeSet<String>) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        let bound = bound_before(rule, source);
        for_each_statement(rule, &mut |stmt| {
            let Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } = &stmt.literal
            else {
                return;
            };
            let call = matches!(&**collection, Expr::Call { .. });
            if !stmt.with_mods.is_empty() || !(is_ref(collection) || call) {
                return;
            }
            let Some(vars) = loop_vars(value) else {
                return;
            };
            let (start, end) = statement_range(source, &stmt.span);
            let from = expr_start(collection, source);
            let Some(collection) = source.get(from..end) else {
                return;
            };
            // The text between `some` and `in`: the value's (after the key's, when there is
            // one). regorus' span of an object pattern does not start at its brace.
            let Some(name) = source
                .get(start..from)
                .and_then(|s| s.strip_prefix("some "))
                .and_then(|s| s.trim_end().strip_suffix("in"))
                .map(|s| match key {
                    Some(_) => s.split_once(',').map_or(s, |(_, value)| value),
                    None => s,
                })
                .map(str::trim)
            else {
                return;
            };
            // `some` declares its variables afresh; `=` would compare one bound before (or
            // a rule of the package) instead.
            let bound = bound(start);
            let named = |v: &str| v != "_" && (package_rules.contains(v) || mentions(&bound, v));
            let pattern = vars.is_some();
            if vars.is_some_and(|vars| vars.iter().any(|v| named(v))) {
                return;
            }
            let text = match key {
                None if name == "_" => return,
                // A pattern unifies with each value; a variable is assigned it.
                None if pattern => format!("{name} = {collection}[_]"),
                None => format!("{name} := {collection}[_]"),
                Some(key) => {
                    let Expr::Var { span: key, .. } = &**key else {
                        return;
                    };
                    let key = key.text();
                    // An index by a fresh key is a loop; `=` keeps the RVM's routing (its
                    // unread-assignment check is about `:=` of a lookup).
                    if named(key) || (!pattern && named(name)) {
                        return;
                    }
                    format!("{name} = {collection}[{key}]")
                }
            };
            edits.push(Edit { start, end, text });
        });
    }
    edits
}

/// What a loop's value binds: `Some(None)` for a variable (`some x in v`), the variables of an
/// array or object pattern of variables and scalars (`some [a, _] in v`), and `None` for
/// anything else (a reference or a call inside a pattern, a set), left to regorus.
fn loop_vars(value: &Expr) -> Option<Option<Vec<&str>>> {
    if let Expr::Var { .. } = value {
        return Some(None);
    }
    let mut vars = Vec::new();
    pattern_vars(value, &mut vars).then_some(Some(vars))
}

/// Collects the variables of a pattern into `vars`; false when `pattern` holds what is not a
/// variable, a scalar, or an array or object (with scalar keys) of those.
fn pattern_vars<'e>(pattern: &'e Expr, vars: &mut Vec<&'e str>) -> bool {
    match pattern {
        Expr::Var { span, .. } => {
            vars.push(span.text());
            true
        }
        _ if is_scalar_literal(pattern) => true,
        Expr::Array { items, .. } => items.iter().all(|item| pattern_vars(item, vars)),
        Expr::Object { fields, .. } => fields.iter().all(|(_, key, value)| {
            matches!(
                &**key,
                Expr::String { .. } | Expr::RawString { .. } | Expr::Number { .. }
            ) && pattern_vars(value, vars)
        }),
        _ => false,
    }
}

/// The text that may bind a variable before offset `at` of `rule`: a function's arguments,
/// and the statements before `at` in each query that holds it (a body, a comprehension's,
/// an `every`'s). An output (a rule head's, a comprehension's) binds nothing.
fn bound_before<'s>(rule: &Rule, source: &'s str) -> impl Fn(usize) -> String + 's {
    let text = |start: u32, end: u32| source.get(start as usize..end as usize).unwrap_or("");
    let mut args = String::new();
    let mut queries: Vec<&Query> = Vec::new();
    if let Rule::Spec { head, bodies, .. } = rule {
        if let RuleHead::Func { args: a, .. } = head
            && let (Some(first), Some(last)) = (a.first(), a.last())
        {
            args = text(first.span().start, last.span().end).to_string();
        }
        queries.extend(bodies.iter().map(|b| &*b.query));
    }
    let mut comprehensions: Vec<(u32, u32)> = Vec::new();
    walk_rule(rule, &mut |site| {
        if let Site::Expr(
            Expr::ArrayCompr { query, span, .. }
            | Expr::SetCompr { query, span, .. }
            | Expr::ObjectCompr { query, span, .. },
        ) = site
        {
            queries.push(query);
            comprehensions.push((span.start, span.end));
        }
        Descend::Yes
    });
    comprehensions.sort_unstable();
    let mut next = 0;
    while let Some(query) = queries.get(next) {
        let nested: Vec<&Query> = query
            .stmts
            .iter()
            .filter_map(|stmt| match &stmt.literal {
                Literal::Every { query, .. } => Some(&**query),
                _ => None,
            })
            .collect();
        queries.extend(nested);
        next += 1;
    }
    // Each query holding `at`, and its statements that end before `at`.
    type Span = (u32, u32);
    let spans: Vec<(Span, Vec<Span>)> = queries
        .iter()
        .map(|q| {
            let stmts = q.stmts.iter().map(|s| (s.span.start, s.span.end)).collect();
            ((q.span.start, q.span.end), stmts)
        })
        .collect();
    move |at| {
        let at = u32::try_from(at).unwrap_or(u32::MAX);
        let mut bound = args.clone();
        for ((start, end), stmts) in &spans {
            if *start <= at && at < *end {
                for (s, e) in stmts.iter().filter(|(_, e)| *e <= at) {
                    // A comprehension's variables are its own: `v` of `x := [v | ...]` binds
                    // nothing after it.
                    let mut from = *s;
                    for (cs, ce) in &comprehensions {
                        if *cs >= from && *ce <= *e {
                            bound.push(' ');
                            bound.push_str(text(from, *cs));
                            from = *ce;
                        }
                    }
                    bound.push(' ');
                    bound.push_str(text(from, *e));
                }
            }
        }
        bound
    }
}

/// True when `text` holds `name` as a whole identifier.
fn mentions(text: &str, name: &str) -> bool {
    text.match_indices(name).any(|(at, _)| {
        !text[..at].chars().next_back().is_some_and(is_ident)
            && !text[at + name.len()..].chars().next().is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        let rules = BTreeSet::from(["r".to_string(), "s".to_string(), "q".to_string()]);
        super::super::splice::apply(source, edits(&parsed(source), source, &rules))
    }

    #[test]
    fn a_loop_indexes_instead() {
        assert_eq!(
            rewritten(
                "package t\nr contains e if { some e in input.errors }\n\
                 s contains m if { some e in input.l; m := [x | some x in e.xs] }\n"
            )
            .unwrap(),
            "package t\nr contains e if { e := input.errors[_] }\n\
             s contains m if { e := input.l[_]; m := [x | x := e.xs[_]] }\n"
        );
        assert_eq!(
            rewritten("package t\nr if some e in data.t.l\n").unwrap(),
            "package t\nr if e := data.t.l[_]\n"
        );
        assert_eq!(
            rewritten("package t\nr if some e in object.get(input, \"l\", [])\n").unwrap(),
            "package t\nr if e := object.get(input, \"l\", [])[_]\n"
        );
    }

    #[test]
    fn a_loop_with_a_key_indexes_by_the_key() {
        assert_eq!(
            rewritten(
                "package t\nr contains k if { some k, v in input.o; v > 1 }\n\
                 s contains k if { some k, _ in input.o }\n\
                 q contains v if { some _, v in input.o }\n\
                 x := [k | some k, _ in input.o]\n"
            )
            .unwrap(),
            "package t\nr contains k if { v = input.o[k]; v > 1 }\n\
             s contains k if { _ = input.o[k] }\n\
             q contains v if { v = input.o[_] }\n\
             x := [k | _ = input.o[k]]\n"
        );
    }

    #[test]
    fn a_name_an_earlier_comprehension_used_is_free() {
        assert_eq!(
            rewritten("package t\nx contains k if { y := [v | v := input.l[_]]; some k, v in input.o; v > y[0] }\n")
                .unwrap(),
            "package t\nx contains k if { y := [v | v := input.l[_]]; v = input.o[k]; v > y[0] }\n"
        );
    }

    #[test]
    fn a_pattern_unifies_with_each_value() {
        assert_eq!(
            rewritten(
                "package t\nx contains e if { some [e, _] in input.l }\n\
                 y := [[k, a] | some k, {\"a\": a, \"n\": [1, _]} in input.o]\n"
            )
            .unwrap(),
            "package t\nx contains e if { [e, _] = input.l[_] }\n\
             y := [[k, a] | {\"a\": a, \"n\": [1, _]} = input.o[k]]\n"
        );
    }

    #[test]
    fn other_loops_are_left_alone() {
        for source in [
            // A key bound before the loop, or named like a rule, would filter instead.
            "package t\nx contains y if { k := 1; y := [v | some k, v in input.o] }\n",
            "package t\nf(k) := [v | some k, v in input.o]\n",
            "package t\nx contains v if { some r, v in input.o }\n",
            "package t\nx := [v | k := 1; v := [w | some k, w in input.o]]\n",
            // Literals are collections; modifiers, and patterns holding more than
            // variables and scalars keep regorus' reading, and so does a pattern variable
            // bound before.
            "package t\nx contains e if { some e in [1, 2] }\n",
            "package t\nx contains e if { some [e, input.y] in input.l }\n",
            "package t\nx contains e if { some {e} in input.l }\n",
            "package t\nx contains e if { some {input.k: e} in input.l }\n",
            "package t\nx := [e | y := 1; some [e, y] in input.l]\n",
            "package t\nx contains e if { some [e, r] in input.l }\n",
            "package t\nx contains e if { some e in input.l with input as {} }\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
        assert!(!may_apply("r contains e if { e := input.errors[_] }"));
        assert!(may_apply("r contains e if { some e in input.errors }"));
    }

    #[test]
    fn mentions_finds_whole_identifiers_only() {
        assert!(mentions("f(k) := ", "k"));
        assert!(!mentions("kk := 1; ok", "k"));
    }
}
