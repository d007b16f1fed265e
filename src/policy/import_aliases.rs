//! References through an import into ref-head rules, written as the path they name.
//!
//! With `import data.u` (or `import data.u.lib as L`), OPA reads `u.lib.val` as
//! `data.u.lib.val`. regorus' RVM reads such a reference as undefined when the path below the
//! import is defined by ref-head rules (`lib.val := ...` in `package u`), where its interpreter
//! and OPA answer the rule's value; `data.u.lib.val` written out answers on both. Owns:
//! finding, across a bundle's modules, the paths that dotted rule heads start
//! ([`ref_head_paths`]), and rewriting at load each reference through an import that reaches
//! one of them to the imported path, on its line. Other references through imports
//! (`identity.has_role(r)`, `orders.allow`) are left as written, and so is an import whose
//! name the module also uses as a variable (a local, a function argument, a `some`).

use std::collections::BTreeSet;

use regorus::unstable::{Expr, Literal, Module};

use super::rego_ast::{Descend, Site, for_each_statement, walk_rule};
use super::splice::Edit;

/// A cheap look at the text before parsing it: false when it imports nothing from `data` or
/// the bundle has no dotted rule head.
pub fn may_apply(text: &str, ref_heads: &BTreeSet<String>) -> bool {
    !ref_heads.is_empty() && text.contains("import data.")
}

/// The paths that dotted rule heads start in `texts` (a bundle's modules): `data.u.lib` for
/// `lib.val := ...` in `package u`. Read from the text, not parsed: the first name of each line
/// at column 0 followed by `.` and a name. It may take more (an unindented body line): writing
/// a reference out as its path changes nothing but the RVM's reading.
pub fn ref_head_paths<'t>(texts: impl Iterator<Item = &'t str>) -> BTreeSet<String> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut paths = BTreeSet::new();
    for text in texts {
        let (package, lines) = super::rego_ast::head_lines(text);
        for line in lines {
            let name_end = line.find(|c: char| !ident(c)).unwrap_or(line.len());
            let dotted = line[name_end..]
                .strip_prefix('.')
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_alphabetic() || c == '_'));
            if name_end > 0 && dotted {
                paths.insert(format!("data.{package}.{}", &line[..name_end]));
            }
        }
    }
    paths
}

/// The edits that write each reference through an import of `module` (`source` parsed) that
/// reaches one of `ref_heads` as the imported path.
pub fn edits(module: &Module, source: &str, ref_heads: &BTreeSet<String>) -> Vec<Edit> {
    let mut edits = Vec::new();
    for import in &module.imports {
        let path = import.refr.span().text();
        if !path.starts_with("data.") {
            continue;
        }
        let name = match &import.r#as {
            Some(alias) => alias.text(),
            None => path.rsplit('.').next().unwrap_or_default(),
        };
        if name.is_empty() || name.contains(['[', ']', '"']) {
            continue;
        }
        let (roots, bare) = occurrences(module, name);
        if bare {
            continue;
        }
        let reaches = |end: usize| {
            let named = format!("{path}{}", first_segments(source.get(end..).unwrap_or("")));
            ref_heads.iter().any(|head| {
                named == *head
                    || named
                        .strip_prefix(head.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        };
        edits.extend(
            roots
                .into_iter()
                .filter(|(_, end)| reaches(*end))
                .map(|(start, end)| Edit {
                    start,
                    end,
                    text: path.to_string(),
                }),
        );
    }
    edits
}

/// The dotted names and string keys that follow a reference's root in `rest` (`.lib.val` of
/// `.lib.val == 3`, `.lib.val` of `["lib"].val`), up to the first other step.
fn first_segments(rest: &str) -> String {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::new();
    let mut rest = rest;
    loop {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(|c: char| !ident(c)).unwrap_or(after.len());
            if end == 0 {
                break;
            }
            out.push('.');
            out.push_str(&after[..end]);
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix("[\"") {
            let Some(end) = after.find('"') else { break };
            let key = &after[..end];
            if key.is_empty() || !key.chars().all(ident) || !after[end..].starts_with("\"]") {
                break;
            }
            out.push('.');
            out.push_str(key);
            rest = &after[end + 2..];
        } else {
            break;
        }
    }
    out
}

/// Where `name` is the root of a reference in `module`, and whether it also stands alone
/// (a variable of that name: then the import is not rewritten).
fn occurrences(module: &Module, name: &str) -> (BTreeSet<(usize, usize)>, bool) {
    let mut roots = BTreeSet::new();
    let mut all = BTreeSet::new();
    let mut declared = false;
    for rule in &module.policy {
        walk_rule(rule, &mut |site| {
            match site {
                Site::Expr(Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. }) => {
                    let mut root = &**refr;
                    while let Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } = root {
                        root = refr;
                    }
                    if let Expr::Var { span, .. } = root
                        && span.text() == name
                    {
                        roots.insert((span.start as usize, span.end as usize));
                    }
                }
                Site::Expr(Expr::Var { span, .. }) if span.text() == name => {
                    all.insert((span.start as usize, span.end as usize));
                }
                // A rule's own name is not a reference.
                Site::Head(_) => return Descend::No,
                _ => {}
            }
            Descend::Yes
        });
        for_each_statement(rule, &mut |stmt| {
            if let Literal::SomeVars { vars, .. } = &stmt.literal {
                declared |= vars.iter().any(|v| v.text() == name);
            }
        });
    }
    let bare = declared || all.iter().any(|at| !roots.contains(at));
    (roots, bare)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str, heads: &[&str]) -> Option<String> {
        let heads = heads.iter().map(|h| h.to_string()).collect();
        super::super::splice::apply(source, edits(&parsed(source), source, &heads))
    }

    #[test]
    fn references_into_ref_head_rules_name_the_path() {
        let heads = ["data.u.lib"];
        assert_eq!(
            rewritten(
                "package t\nimport data.u.lib\nd := lib.val\ne := [lib[\"x\"].y]\n",
                &heads
            )
            .unwrap(),
            "package t\nimport data.u.lib\nd := data.u.lib.val\ne := [data.u.lib[\"x\"].y]\n"
        );
        assert_eq!(
            rewritten(
                "package t\nimport data.u as L\nd if L.lib.val == input.v\ne := L.other\n",
                &heads
            )
            .unwrap(),
            "package t\nimport data.u as L\nd if data.u.lib.val == input.v\ne := L.other\n"
        );
        assert_eq!(
            rewritten("package t\nimport data.u\nd := u[\"lib\"].val\n", &heads).unwrap(),
            "package t\nimport data.u\nd := data.u[\"lib\"].val\n"
        );
    }

    #[test]
    fn other_references_and_names_used_as_variables_are_left_alone() {
        for source in [
            "package t\nimport data.u.lib\nf(lib) := lib.val\n",
            "package t\nimport data.u.lib\nd := x if { lib := input.o; x := lib.val }\n",
            "package t\nimport data.u.lib\nd := lib\n",
            "package t\nimport input.user\nd := user.id\n",
            "package t\nimport data.u\nd := u.library.val\n",
            "package t\nimport data.orders\nd := orders.allow\n",
        ] {
            assert_eq!(rewritten(source, &["data.u.lib"]), None, "{source}");
        }
    }

    #[test]
    fn dotted_heads_are_found_in_every_module() {
        let texts = [
            "package u\nlib.val := input.v\ndefault lib.other := 1\nplain := 1\n",
            "package a.b # c\nx.y.z contains 1 if true\np[q] := 1 if some q in input\n",
            "package t\nimport data.u\n",
        ];
        let found: Vec<String> = ref_head_paths(texts.into_iter()).into_iter().collect();
        assert_eq!(found, ["data.a.b.x", "data.u.lib"]);
    }
}
