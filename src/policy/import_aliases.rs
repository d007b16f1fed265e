//! References through an import, written as the path they name.
//!
//! With `import data.lib` (or `import data.lib as L`), OPA reads `lib.identity.user` as
//! `data.lib.identity.user`. regorus' RVM reads such a reference as undefined when the path
//! below the import is defined by ref-head rules (`identity.user := ...` in `package lib`),
//! where its interpreter and OPA answer the rule's value; `data.lib.identity.user` written out
//! answers on both. Owns: rewriting, at load, each reference whose root is an import's name
//! to the imported path (`lib.identity.user` becomes `data.lib.identity.user`), on its line.
//! An import whose name the module also uses as a variable (a local, a function argument, a
//! `some`) is left as written.

use std::collections::BTreeSet;

use regorus::unstable::{Expr, Literal, Module};

use super::rego_ast::{Descend, Site, for_each_statement, walk_rule};
use super::splice::Edit;

/// A cheap look at the text before parsing it: false when it imports nothing from `data`.
pub fn may_apply(text: &str) -> bool {
    text.contains("import data.")
}

/// The edits that write every reference through an import of `module` (`source` parsed) as
/// the imported path.
pub fn edits(module: &Module, _source: &str) -> Vec<Edit> {
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
        edits.extend(roots.into_iter().map(|(start, end)| Edit {
            start,
            end,
            text: path.to_string(),
        }));
    }
    edits
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

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn references_through_an_import_name_the_path() {
        assert_eq!(
            rewritten("package t\nimport data.u.lib\nd := lib.val\ne := [lib[\"x\"].y]\n").unwrap(),
            "package t\nimport data.u.lib\nd := data.u.lib.val\ne := [data.u.lib[\"x\"].y]\n"
        );
        assert_eq!(
            rewritten("package t\nimport data.u as L\nd if L.lib.val == input.v\n").unwrap(),
            "package t\nimport data.u as L\nd if data.u.lib.val == input.v\n"
        );
    }

    #[test]
    fn a_name_also_used_as_a_variable_is_left_alone() {
        for source in [
            "package t\nimport data.u.lib\nf(lib) := lib.val\n",
            "package t\nimport data.u.lib\nd := x if { lib := input.o; x := lib.val }\n",
            "package t\nimport data.u.lib\nd := lib\n",
            "package t\nimport input.user\nd := user.id\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
