//! Calls to functions that do not exist.
//!
//! regorus looks a function up only when a call is evaluated, so a misspelt builtin in a rule
//! that no test reaches loads fine and fails the first decision that reaches it. This finds
//! them at check time, resolving a call as regorus does: through the module's imports, then
//! the package's and the policy set's functions, then authzd's extensions, `print`, and
//! regorus's builtins. A call regorus could not resolve is reported where it is.

use std::collections::{HashMap, HashSet};

use regorus::unstable::{Expr, Module, Ref, Rule, RuleHead};

use super::reach::{RulePath, package_path, rule_name};
use super::strict::deprecated;
use super::walk::{self, Visitor, static_ref};
use super::{Diagnostic, span_position};

/// Every call in `modules` that names no function.
pub fn unknown_functions(modules: &[Ref<Module>]) -> Vec<Diagnostic> {
    let mut functions: HashSet<RulePath> = HashSet::new();
    for module in modules {
        let Some(package) = package_path(module) else {
            continue;
        };
        for rule in &module.policy {
            let is_function = match rule.as_ref() {
                Rule::Spec { head, .. } => matches!(head, RuleHead::Func { .. }),
                Rule::Default { args, .. } => !args.is_empty(),
            };
            if is_function && let Some(name) = rule_name(rule) {
                let mut path = package.clone();
                path.extend(name);
                functions.insert(path);
            }
        }
    }
    let mut found = Vec::new();
    for module in modules {
        let Some(package) = package_path(module) else {
            continue;
        };
        let mut calls = Calls {
            package,
            imports: imports(module),
            functions: &functions,
            found: Vec::new(),
        };
        for rule in &module.policy {
            walk::rule(rule, &mut calls);
        }
        found.extend(calls.found);
    }
    found
}

/// `import data.a.b [as c]` and `import input.x`: alias -> the full reference.
fn imports(module: &Module) -> HashMap<String, (String, Vec<String>)> {
    let mut out = HashMap::new();
    for import in &module.imports {
        if let Some((root, fields)) = static_ref(&import.refr) {
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => fields.last().cloned().unwrap_or_else(|| root.clone()),
            };
            out.insert(alias, (root, fields));
        }
    }
    out
}

struct Calls<'a> {
    package: RulePath,
    imports: HashMap<String, (String, Vec<String>)>,
    functions: &'a HashSet<RulePath>,
    found: Vec<Diagnostic>,
}

impl Calls<'_> {
    fn known(&self, root: &str, fields: &[String]) -> bool {
        let (root, fields): (&str, Vec<String>) = match self.imports.get(root) {
            Some((import_root, import_fields)) => (
                import_root,
                import_fields.iter().chain(fields).cloned().collect(),
            ),
            None => (root, fields.to_vec()),
        };
        if root == "data" {
            return self.functions.contains(&fields);
        }
        let mut local = self.package.clone();
        local.push(root.to_string());
        local.extend(fields.iter().cloned());
        if self.functions.contains(&local) {
            return true;
        }
        let name = std::iter::once(root.to_string())
            .chain(fields)
            .collect::<Vec<_>>()
            .join(".");
        name == "print"
            || crate::builtins::is_extension(&name)
            || regorus::unstable::BUILTINS.contains_key(name.as_str())
    }
}

impl Visitor for Calls<'_> {
    fn expr(&mut self, expr: &Expr) {
        let Expr::Call { span, fcn, .. } = expr else {
            return;
        };
        let Some((root, fields)) = static_ref(fcn) else {
            return;
        };
        if self.known(&root, &fields) {
            return;
        }
        let name = std::iter::once(root.as_str())
            .chain(fields.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".");
        let message = match deprecated(&name) {
            Some(instead) => format!(
                "unknown function {name}: a builtin OPA deprecated, which authzd does not provide ({instead})"
            ),
            None => format!("unknown function {name}"),
        };
        let (line, col) = span_position(span);
        self.found.push(Diagnostic {
            file: span.source.file().to_string(),
            line,
            col,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unknown(modules: &[(&str, &str)]) -> Vec<String> {
        let mut engine = regorus::Engine::new();
        for (name, text) in modules {
            engine
                .add_policy(name.to_string(), text.to_string())
                .unwrap();
        }
        unknown_functions(engine.get_modules())
            .into_iter()
            .map(|d| d.to_string())
            .collect()
    }

    #[test]
    fn resolves_like_regorus() {
        let found = unknown(&[
            ("lib.rego", "package lib\nf(x) := x\n"),
            (
                "p.rego",
                concat!(
                    "package p\n",
                    "import data.lib\n",
                    "g(x) := x\n",
                    "a := lib.f(1)\n",
                    "b := data.lib.f(1)\n",
                    "c := g(count([1]))\n",
                    "d := crypto.sha256(\"x\")\n",
                    "e := lib.nope(1)\n",
                    "h if {\n\tprint(1)\n\tnot_a_builtin(2)\n}\n",
                    "i := any([true])\n",
                ),
            ),
        ]);
        assert_eq!(
            found,
            vec![
                "p.rego:8:6: unknown function lib.nope",
                "p.rego:11:2: unknown function not_a_builtin",
                "p.rego:13:6: unknown function any: a builtin OPA deprecated, which authzd does not provide (use `some x in xs` or a comprehension)",
            ]
        );
    }
}
