//! A comprehension's own `some` variables, where the rule around it has a variable of the
//! same name: renamed inside the comprehension, as OPA scopes them.
//!
//! In OPA, `some u` inside a comprehension declares a `u` of the comprehension's own, whatever
//! the rule binds outside: `v := [u | some u in [3]]` after `u := 1` is `[3]`. regorus refuses
//! such a bundle (`var u used before definition below`) for `some u in`, and its interpreter
//! reads the outer `u` for `some u; xs[u]` (answering `[]` where OPA and the RVM answer `[0]`).
//! Owns: finding those variables and renaming every occurrence inside the comprehension
//! (`__authzd_u_1`), on the same lines.

use std::collections::BTreeMap;

use regorus::unstable::{Expr, Literal, Module, Span};

use super::rego_ast::{Descend, Site, for_each_statement, walk_expr, walk_rule};
use super::splice::Edit;

/// Prefix of the new names; no OPA policy names a variable so.
const PREFIX: &str = "__authzd_";

/// A cheap test: `text` may have a comprehension with a `some` of its own.
pub fn may_apply(text: &str) -> bool {
    text.contains('|') && text.contains("some ")
}

/// `source` with those variables renamed, for the tools that compile a module on their own
/// (`authzd check`); `None` when nothing changes or it does not parse.
pub fn rewrite(source: &str, rego_v0: bool) -> Option<String> {
    if !may_apply(source) {
        return None;
    }
    super::splice::rewrite_module(source, rego_v0, |module, _| edits(module))
}

/// The edits that rename, in every comprehension of `module`, each variable its own `some`
/// declares that the rule also names outside it.
pub fn edits(module: &Module) -> Vec<Edit> {
    let mut edits: BTreeMap<usize, Edit> = BTreeMap::new();
    let mut renamed = 0usize;
    for rule in &module.policy {
        let mut names: Vec<(String, usize, usize)> = Vec::new();
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::Var { span, .. }) = site {
                names.push(occurrence(span));
            }
            Descend::Yes
        });
        for_each_statement(rule, &mut |stmt| {
            if let Literal::SomeVars { vars, .. } = &stmt.literal {
                names.extend(vars.iter().map(occurrence));
            }
        });
        let mut comprehensions: Vec<(usize, usize, Vec<String>)> = Vec::new();
        walk_rule(rule, &mut |site| {
            if let Site::Expr(
                Expr::ArrayCompr { span, query, .. }
                | Expr::SetCompr { span, query, .. }
                | Expr::ObjectCompr { span, query, .. },
            ) = site
            {
                let declared = query
                    .stmts
                    .iter()
                    .flat_map(|s| declared(&s.literal))
                    .collect();
                comprehensions.push((span.start as usize, span.end as usize, declared));
            }
            Descend::Yes
        });
        // Outermost first: an inner comprehension's occurrences are already the outer's.
        for (start, end, declared) in comprehensions {
            let inside = |at: usize| (start..end).contains(&at);
            for name in declared {
                if name == "_" || !names.iter().any(|(n, at, _)| *n == name && !inside(*at)) {
                    continue;
                }
                renamed += 1;
                let new = format!("{PREFIX}{name}_{renamed}");
                for (n, at, to) in &names {
                    if *n == name && inside(*at) && !edits.contains_key(at) {
                        edits.insert(
                            *at,
                            Edit {
                                start: *at,
                                end: *to,
                                text: new.clone(),
                            },
                        );
                    }
                }
            }
        }
    }
    edits.into_values().collect()
}

fn occurrence(span: &Span) -> (String, usize, usize) {
    (
        span.text().to_string(),
        span.start as usize,
        span.end as usize,
    )
}

/// The variables a statement of a comprehension's own body declares with `some`.
fn declared(literal: &Literal) -> Vec<String> {
    let mut names = Vec::new();
    match literal {
        Literal::SomeVars { vars, .. } => names.extend(vars.iter().map(|v| v.text().to_string())),
        Literal::SomeIn { key, value, .. } => {
            for expr in key.iter().chain(std::iter::once(value)) {
                walk_expr(expr, &mut |site| {
                    if let Site::Expr(Expr::Var { span, .. }) = site {
                        names.push(span.text().to_string());
                    }
                    Descend::Yes
                });
            }
        }
        _ => {}
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        let module = super::super::rego_ast::parsed(source);
        super::super::splice::apply(source, edits(&module)).unwrap_or_else(|| source.to_string())
    }

    #[test]
    fn a_some_variable_shadowing_the_rule_s_is_renamed_inside_the_comprehension() {
        assert_eq!(
            rewritten("package p\nx := v if { u := 1; v := [u | some u in [3]] }\n"),
            "package p\nx := v if { u := 1; v := [__authzd_u_1 | some __authzd_u_1 in [3]] }\n"
        );
        assert_eq!(
            rewritten("package p\nf(u) := [u | some u; [3][u]]\n"),
            "package p\nf(u) := [__authzd_u_1 | some __authzd_u_1; [3][__authzd_u_1]]\n"
        );
        let out = rewritten(
            "package p\nx := [v, u] if { u := 1; v := {k: u | some k, u in {\"a\": 5}} }\n",
        );
        assert!(
            out.contains("{k: __authzd_u_1 | some k, __authzd_u_1 in"),
            "{out}"
        );
    }

    #[test]
    fn comprehensions_without_a_shadowed_name_are_left_alone() {
        for source in [
            "package p\nx := [u | some u in [3]]\n",
            "package p\nx := v if { w := 1; v := [u | some u in [3]; u > w] }\n",
        ] {
            assert_eq!(rewritten(source), source);
        }
    }
}
