//! Variables that `some` declares where a name of the same spelling exists around them:
//! renamed in their scope, as OPA scopes them.
//!
//! In OPA, `some u` inside a comprehension declares a `u` of the comprehension's own, whatever
//! the rule binds outside: `v := [u | some u in [3]]` after `u := 1` is `[3]`. regorus refuses
//! such a bundle (`var u used before definition below`) for `some u in`, and its interpreter
//! reads the outer `u` for `some u; xs[u]` (answering `[]` where OPA and the RVM answer `[0]`).
//! The same holds where the name is a rule of the module (`r := 5` beside
//! `a if { some r in input.roles; r == "admin" }`): OPA's `some r` is a local of its own, and
//! regorus refused the bundle, or read the rule for `some r; input.roles[r]`.
//! Owns: finding those variables and renaming every occurrence in their scope (`__authzd_u_1`):
//! inside the comprehension, or, for a rule body's own `some`, in that body and the rule's head
//! (a rule with one body), on the same lines.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::{Expr, Literal, Module, Rule, RuleHead, Span};

use super::rego_ast::{Descend, Site, for_each_statement, walk_expr, walk_rule};
use super::splice::Edit;

/// Prefix of the new names; no OPA policy names a variable so.
const PREFIX: &str = "__authzd_";

/// A cheap test: `text` may have a comprehension with a `some` of its own, or a `some` of one of
/// `rules` (the names its package's rules have, [`package_rule_names`]).
pub fn may_apply(text: &str, rules: &BTreeSet<String>) -> bool {
    if !text.contains("some ") {
        return false;
    }
    if text.contains('|') {
        return true;
    }
    text.match_indices("some ").any(|(at, _)| {
        let declared = text[at + 5..]
            .split(['\n', ';', '}'])
            .next()
            .unwrap_or_default();
        let declared = declared.split(" in ").next().unwrap_or_default();
        declared
            .split(|c: char| !is_ident(c))
            .any(|name| rules.contains(name))
    })
}

/// True for a character of a Rego identifier (also read by `some_in_loops`).
pub(super) fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// For each of `texts` (a bundle's modules), the names its package's rules have in every
/// module of that package: rules of one package in several files see each other, so a `some`
/// in one file may be named as a rule of another. Read from the text, not parsed (most
/// modules need no rewrite): the first name of each line that starts a rule at column 0.
/// It may take more (an unindented body line): renaming a local more than needed changes
/// nothing.
/// Modules of one package share one set.
pub fn package_rule_names<'t>(
    texts: impl Iterator<Item = &'t str>,
) -> Vec<std::rc::Rc<BTreeSet<String>>> {
    let mut packages: Vec<String> = Vec::new();
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for text in texts {
        let (package, lines) = super::rego_ast::head_lines(text);
        let rules = lines.into_iter().filter_map(|line| {
            let name = line.split(|c: char| !is_ident(c)).next()?;
            (!name.is_empty()).then(|| name.to_string())
        });
        names.entry(package.clone()).or_default().extend(rules);
        packages.push(package);
    }
    let shared: BTreeMap<String, std::rc::Rc<BTreeSet<String>>> = names
        .into_iter()
        .map(|(package, rules)| (package, std::rc::Rc::new(rules)))
        .collect();
    packages
        .iter()
        .map(|package| shared.get(package).cloned().unwrap_or_default())
        .collect()
}

/// `source` with those variables renamed, for the tools that compile a module on their own
/// (`authzd check`); `None` when nothing changes or it does not parse.
pub fn rewrite(source: &str, rego_v0: bool, rules: &BTreeSet<String>) -> Option<String> {
    if !may_apply(source, rules) {
        return None;
    }
    super::splice::rewrite_module(source, rego_v0, |module, _| edits(module, rules))
}

/// The edits that rename, in every comprehension of `module`, each variable its own `some`
/// declares that the rule also names outside it or that names a rule of the module, and in
/// every rule body, each variable its `some` declares that names a rule. `package_rules` are
/// the names the package's rules have in its other modules.
pub fn edits(module: &Module, package_rules: &BTreeSet<String>) -> Vec<Edit> {
    let mut edits: BTreeMap<usize, Edit> = BTreeMap::new();
    let mut renamed = 0usize;
    let mut rules = rule_names(module);
    rules.extend(package_rules.iter().cloned());
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
                let outside = names.iter().any(|(n, at, _)| *n == name && !inside(*at));
                if name == "_" || !(outside || rules.contains(&name)) {
                    continue;
                }
                rename(&name, &names, inside, &mut renamed, &mut edits);
            }
        }
        // A rule body's own `some` of a rule's name: the body and the head (which reads the
        // body's variables) mean the local.
        let Rule::Spec { head, bodies, .. } = &**rule else {
            continue;
        };
        let [body] = bodies.as_slice() else {
            continue;
        };
        let mut scope = vec![span_range(&body.query.span)];
        scope.extend(body.assign.iter().map(|a| span_range(a.value.span())));
        match head {
            RuleHead::Set { refr, key, .. } => {
                scope.extend(key.iter().map(|k| span_range(k.span())));
                scope.push(head_indices(refr));
            }
            RuleHead::Compr { refr, assign, .. } => {
                scope.extend(assign.iter().map(|a| span_range(a.value.span())));
                scope.push(head_indices(refr));
            }
            RuleHead::Func { .. } => {}
        }
        let in_scope = |at: usize| scope.iter().any(|r| r.contains(&at));
        let declared: BTreeSet<String> = body
            .query
            .stmts
            .iter()
            .flat_map(|s| declared(&s.literal))
            .filter(|name| rules.contains(name))
            .collect();
        for name in declared {
            rename(&name, &names, in_scope, &mut renamed, &mut edits);
        }
    }
    edits.into_values().collect()
}

/// Renames each occurrence of `name` in scope (`in_scope` of its position) to a new name,
/// unless an earlier, inner scope renamed it already.
fn rename(
    name: &str,
    names: &[(String, usize, usize)],
    in_scope: impl Fn(usize) -> bool,
    renamed: &mut usize,
    edits: &mut BTreeMap<usize, Edit>,
) {
    *renamed += 1;
    let new = format!("{PREFIX}{name}_{renamed}");
    for (n, at, to) in names {
        if n == name && in_scope(*at) && !edits.contains_key(at) {
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

/// The names `module`'s rules and functions define (the first name of each head).
fn rule_names(module: &Module) -> BTreeSet<String> {
    module
        .policy
        .iter()
        .filter_map(|rule| {
            regorus::utils::get_path_string(super::rule_graph::head_ref(rule), None).ok()
        })
        .filter_map(|path| path.split(['.', '[']).next().map(str::to_string))
        .collect()
}

fn span_range(span: &Span) -> std::ops::Range<usize> {
    span.start as usize..span.end as usize
}

/// The part of a ref head after its first name (`[r]` of `p[r]`), where body variables stand.
fn head_indices(refr: &Expr) -> std::ops::Range<usize> {
    let span = refr.span();
    let name = span.text().find(['.', '[']).unwrap_or(span.text().len());
    span.start as usize + name..span.end as usize
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
        let rules = names(source);
        super::super::splice::apply(source, edits(&module, &rules))
            .unwrap_or_else(|| source.to_string())
    }

    fn names(source: &str) -> BTreeSet<String> {
        package_rule_names(std::iter::once(source))
            .pop()
            .map(|rules| (*rules).clone())
            .unwrap_or_default()
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
    fn a_some_variable_named_as_a_rule_is_a_local() {
        assert_eq!(
            rewritten(
                "package p
r := 5
a if { some r in input.roles; r == \"admin\" }
"
            ),
            "package p
r := 5
a if { some __authzd_r_1 in input.roles; __authzd_r_1 == \"admin\" }
"
        );
        assert_eq!(
            rewritten(
                "package p
r := 5
q contains r if { some r; input.roles[r] }
"
            ),
            "package p
r := 5
q contains __authzd_r_1 if { some __authzd_r_1; input.roles[__authzd_r_1] }
"
        );
        assert_eq!(
            rewritten(
                "package p
r := 5
m[r] := 1 if some r in input.roles
"
            ),
            "package p
r := 5
m[__authzd_r_1] := 1 if some __authzd_r_1 in input.roles
"
        );
        assert_eq!(
            rewritten(
                "package p
r := 5
a := [r | some r in input.roles]
b := r
"
            ),
            "package p
r := 5
a := [__authzd_r_1 | some __authzd_r_1 in input.roles]
b := r
"
        );
    }

    #[test]
    fn the_cheap_look_finds_some_of_a_rule_name() {
        let looks = |source: &str| may_apply(source, &names(source));
        assert!(looks("package p\nr := 5\na if { some r in input.roles }\n"));
        assert!(looks(
            "package p\nr := 5\na if { some i, r in input.roles }\n"
        ));
        assert!(looks("package p\na := [x | some x in input.xs]\n"));
        assert!(!looks(
            "package p\nr := 5\na if { some u in input.roles[r] }\n"
        ));
    }

    #[test]
    fn rules_of_the_package_in_other_files_are_names_too() {
        let texts = [
            "package p\nr := 5\ndefault d := 1\nimport rego.v1\n",
            "package p.q # other\ns := 1\n",
            "package p\na if { some r in input.roles; r == 1 }\n",
        ];
        let names = package_rule_names(texts.into_iter());
        let of_p: BTreeSet<String> = ["a", "d", "r"].map(String::from).into();
        assert_eq!(*names[0], of_p);
        assert_eq!(*names[1], ["s"].map(String::from).into());
        assert_eq!(*names[2], of_p);
        let module = super::super::rego_ast::parsed(texts[2]);
        let out = super::super::splice::apply(texts[2], edits(&module, &names[2]));
        assert_eq!(
            out.as_deref(),
            Some("package p\na if { some __authzd_r_1 in input.roles; __authzd_r_1 == 1 }\n")
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
