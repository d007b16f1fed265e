//! `with f as <builtin>`: replacing a function or a builtin by a builtin, as OPA allows.
//!
//! regorus accepts a value or a user function as a `with` replacement, but takes a builtin's
//! name there for an unsafe variable (`with count as sum` fails the whole bundle). Owns:
//! finding such replacements in a module and rewriting its text so that each names a wrapper
//! function of the same arity that calls the builtin, appended at the end of the module:
//! `with count as __authzd_builtin_sum` and `__authzd_builtin_sum(a0) := sum(a0)`. The
//! replacement stays on its line and the wrappers come after the last line, so line numbers
//! keep. A name the module defines or imports (a rule `sum`, `import data.strings`) is the
//! module's, not the builtin, and is left alone.

use std::collections::{BTreeMap, BTreeSet};

use regorus::unstable::Module;

use super::rego_ast::{Chain, Descend, Segment, Site, for_each_statement, walk_rule};
use super::splice::Edit;

/// Prefix of the generated wrappers; no OPA policy name starts with it.
pub const WRAPPER_PREFIX: &str = "__authzd_builtin_";

/// `source` with every `with ... as <builtin>` naming a wrapper, for the tools that compile a
/// module on their own (`authzd check`); `None` when nothing changes or it does not parse.
pub fn rewrite(source: &str, rego_v0: bool) -> Option<String> {
    if !source.contains("with ") {
        return None;
    }
    super::splice::rewrite_module(source, rego_v0, edits)
}

/// The edits that make every `with ... as <builtin>` of `module` (`source` parsed) name a
/// wrapper, and the wrappers; empty when there is none.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    if !source.contains(" as ") {
        return Vec::new();
    }
    let builtins = crate::builtins::capabilities::callable();
    let own = own_names(module);
    let mut wrapped: BTreeMap<String, u8> = BTreeMap::new();
    let mut edits = Vec::new();
    for rule in &module.policy {
        for_each_replacement(rule, &mut |expr| {
            let chain = Chain::of(expr);
            if chain.root.is_empty() || own.contains(&chain.root) {
                return;
            }
            let mut name = chain.root.clone();
            for segment in &chain.segments {
                let Segment::Name(part) = segment else {
                    return;
                };
                name.push('.');
                name.push_str(part);
            }
            let Some(Some(arity)) = builtins.get(&name) else {
                return;
            };
            let span = expr.span();
            edits.push(Edit {
                start: span.start as usize,
                end: span.end as usize,
                text: wrapper_name(&name),
            });
            wrapped.insert(name, *arity);
        });
    }
    if wrapped.is_empty() {
        return Vec::new();
    }
    let mut tail = String::from("\n");
    for (name, arity) in &wrapped {
        let args: Vec<String> = (0..*arity).map(|i| format!("__a{i}")).collect();
        let args = args.join(", ");
        tail.push_str(&format!(
            "{}({args}) := {name}({args})\n",
            wrapper_name(name)
        ));
    }
    edits.push(Edit::insert(source.len(), tail));
    edits
}

fn wrapper_name(builtin: &str) -> String {
    format!("{WRAPPER_PREFIX}{}", builtin.replace('.', "_"))
}

/// Calls `f` with the replacement (`as` side) of every `with` modifier in `rule`.
fn for_each_replacement<'a>(
    rule: &'a regorus::unstable::Rule,
    f: &mut dyn FnMut(&'a regorus::unstable::Expr),
) {
    for_each_statement(rule, &mut |stmt| {
        for with in &stmt.with_mods {
            f(&with.r#as);
        }
    });
}

/// The first names of the module's rules and its import aliases.
fn own_names(module: &Module) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for rule in &module.policy {
        walk_rule(rule, &mut |site| {
            if let Site::Head(head) = site {
                names.insert(Chain::of(head).root);
            }
            Descend::No
        });
    }
    for import in &module.imports {
        let name = match &import.r#as {
            Some(alias) => alias.text().to_string(),
            None => Chain::of(&import.refr)
                .ground()
                .last()
                .cloned()
                .unwrap_or_else(|| Chain::of(&import.refr).root),
        };
        names.insert(name);
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(source: &str) -> String {
        let module = crate::policy::rego_ast::parsed(source);
        super::super::splice::apply(source, edits(&module, source))
            .unwrap_or_else(|| source.to_string())
    }

    #[test]
    fn a_builtin_replacement_names_a_wrapper_appended_after_the_last_line() {
        let source =
            "package t\n\nx := y if { y := h with count as sum with upper as strings.reverse }\n";
        assert_eq!(
            rewrite(source),
            "package t\n\nx := y if { y := h with count as __authzd_builtin_sum with upper as __authzd_builtin_strings_reverse }\n\n\
             __authzd_builtin_strings_reverse(__a0) := strings.reverse(__a0)\n\
             __authzd_builtin_sum(__a0) := sum(__a0)\n"
        );
    }

    #[test]
    fn values_functions_and_the_modules_own_names_are_left_alone() {
        for source in [
            "package t\n\nf(x) := x\ng(x) := x\nx := y if { y := f(1) with f as g }\n",
            "package t\n\nx := y if { y := count([1]) with count as 7 }\n",
            "package t\n\nsum(_) := 1\nx := y if { y := count([1]) with count as sum }\n",
            "package t\n\nimport data.strings\nx := y if { y := upper(\"a\") with upper as strings.reverse }\n",
            "package t\n\nx := y if { y := input.a with input.a as data.sum }\n",
        ] {
            assert_eq!(rewrite(source), source);
        }
    }

    #[test]
    fn the_rewritten_module_evaluates_as_opa_does() {
        let mut engine = regorus::Engine::new();
        let source = "package t\n\nh := count([1, 2, 3])\nx := y if { y := h with count as sum }\n";
        engine.add_policy("t.rego".into(), rewrite(source)).unwrap();
        assert_eq!(
            engine.eval_rule("data.t.x".into()).unwrap(),
            regorus::Value::from(6u64)
        );
    }
}
