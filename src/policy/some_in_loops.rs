//! `some x in v` over a value that is not a collection, on the interpreter, as OPA reads it.
//!
//! OPA (and regorus' RVM) iterate nothing when `v` is not an array, set or object (a string in
//! the input where a list was expected); regorus' interpreter fails the whole decision
//! (docs/upstream/interpreter-some-in-non-collection.md). `x := v[_]` iterates the same
//! values on both evaluators and nothing over a string. Owns: writing `some x in v` as
//! `x := v[_]`, at load, on the same line, in the rules that call one of authzd's extension
//! builtins themselves: those run on the interpreter whatever the routing finds, so the
//! rewrite does not touch a fast-path rule. Only the plain form is written: one variable, a
//! reference or a variable as the collection, no `with` modifiers.

use regorus::unstable::{Expr, Literal, Module, Rule};

use super::rego_ast::{Descend, Site, expr_start, for_each_statement, is_ref, walk_rule};
use super::splice::{Edit, statement_range};

/// A cheap look at the text before parsing it: a `some` and an extension's name.
pub fn may_apply(text: &str) -> bool {
    text.contains("some ") && crate::builtins::all().any(|b| text.contains(b.name))
}

/// The edits that write each plain `some x in v` of `module` (`source` parsed), in a rule
/// that calls an extension, as `x := v[_]`.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in module.policy.iter().filter(|r| calls_an_extension(r)) {
        for_each_statement(rule, &mut |stmt| {
            let Literal::SomeIn {
                key: None,
                value,
                collection,
                ..
            } = &stmt.literal
            else {
                return;
            };
            if !stmt.with_mods.is_empty() || !is_ref(collection) {
                return;
            }
            let Expr::Var { span: var, .. } = &**value else {
                return;
            };
            let name = var.text();
            if name == "_" {
                return;
            }
            let (start, end) = statement_range(source, &stmt.span);
            let from = expr_start(collection, source);
            let Some(collection) = source.get(from..end) else {
                return;
            };
            if !source
                .get(start..end)
                .is_some_and(|s| s.starts_with("some "))
            {
                return;
            }
            edits.push(Edit {
                start,
                end,
                text: format!("{name} := {collection}[_]"),
            });
        });
    }
    edits
}

/// True when `rule` calls one of authzd's extension builtins itself.
fn calls_an_extension(rule: &Rule) -> bool {
    let mut found = false;
    walk_rule(rule, &mut |site| {
        if let Site::Expr(Expr::Call { fcn, .. }) = site
            && regorus::utils::get_path_string(fcn, None)
                .is_ok_and(|name| crate::builtins::is_extension(&name))
        {
            found = true;
        }
        if found { Descend::No } else { Descend::Yes }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn a_loop_in_a_rule_that_calls_an_extension_indexes_instead() {
        assert_eq!(
            rewritten(
                "package t\nr contains sprintf(\"%v\", [e]) if { some e in input.errors }\n\
                 s contains m if { some e in input.l; m := sprintf(\"%v\", [[x | some x in e.xs]]) }\n"
            )
            .unwrap(),
            "package t\nr contains sprintf(\"%v\", [e]) if { e := input.errors[_] }\n\
             s contains m if { e := input.l[_]; m := sprintf(\"%v\", [[x | x := e.xs[_]]]) }\n"
        );
    }

    #[test]
    fn other_loops_and_rules_are_left_alone() {
        for source in [
            "package t\nr contains e if { some e in input.errors }\n",
            "package t\nr contains sprintf(\"%v\", [k]) if { some k, _ in input.o }\n",
            "package t\nr contains sprintf(\"%v\", [e]) if { some e in [1, 2] }\n",
            "package t\nr contains sprintf(\"%v\", [e]) if { some e in input.l with input as {} }\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
        assert!(!may_apply("r contains e if { some e in input.errors }"));
        assert!(may_apply(
            "r contains sprintf(\"%v\", [e]) if { some e in input.errors }"
        ));
    }
}
