//! Which rules a rule reaches, and whether any of them uses `with`.
//!
//! Owns: a conservative rule graph built from the syntax tree. A reference reaches every rule
//! at, above or below its static prefix (`data.orders` reaches all of `orders`; `data[x]`
//! reaches everything), through `data.` refs, imports and the package's own rule names. It
//! may over-approximate, never miss: `authzd test` uses it to keep on the interpreter any test
//! that mocks with `with`, which the RVM does not evaluate like OPA.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use regorus::unstable::{Expr, Module, Ref, Rule, RuleHead};

use super::walk::{self, Visitor, is_ref, static_ref};

/// A rule path below `data` (`["orders", "allow"]`).
pub type RulePath = Vec<String>;

#[derive(Debug, Default)]
struct Facts {
    uses_with: bool,
    /// Static prefixes of the `data` paths its definitions refer to.
    refs: BTreeSet<RulePath>,
}

/// The rules of a set of modules and what each refers to.
#[derive(Debug, Default)]
pub struct RuleGraph {
    rules: BTreeMap<RulePath, Facts>,
}

impl RuleGraph {
    /// Builds the graph of `modules` (one policy set: a snapshot's modules).
    pub fn build(modules: &[Ref<Module>]) -> Self {
        let mut graph = Self::default();
        // The names each package defines, to resolve a bare `allow` inside its package.
        let mut local_names: HashMap<RulePath, HashSet<String>> = HashMap::new();
        let mut parsed = Vec::new();
        for module in modules {
            let Some(package) = package_path(module) else {
                continue;
            };
            for rule in &module.policy {
                if let Some(name) = rule_name(rule) {
                    let Some(first) = name.first() else { continue };
                    local_names
                        .entry(package.clone())
                        .or_default()
                        .insert(first.clone());
                    let mut path = package.clone();
                    path.extend(name);
                    parsed.push((module, package.clone(), path, rule));
                }
            }
        }
        for (module, package, path, rule) in parsed {
            let imports = imports(module);
            let names = local_names.get(&package);
            let mut collector = Collector::default();
            walk::rule(rule, &mut collector);
            let facts = graph.rules.entry(path).or_default();
            facts.uses_with |= collector.uses_with;
            for (root, fields) in collector.refs {
                let resolved = if root == "data" {
                    Some(fields)
                } else if let Some(target) = imports.get(&root) {
                    Some(target.iter().cloned().chain(fields).collect())
                } else if names.is_some_and(|n| n.contains(&root)) {
                    Some(
                        package
                            .iter()
                            .cloned()
                            .chain(std::iter::once(root))
                            .chain(fields)
                            .collect(),
                    )
                } else {
                    None
                };
                if let Some(path) = resolved {
                    facts.refs.insert(path);
                }
            }
        }
        graph
    }

    /// Every rule `rule` reaches, itself included.
    pub fn reached_from(&self, rule: &[String]) -> BTreeSet<RulePath> {
        let mut seen = BTreeSet::new();
        let mut pending = vec![rule.to_vec()];
        while let Some(path) = pending.pop() {
            for (candidate, facts) in &self.rules {
                let reached = candidate.starts_with(&path) || path.starts_with(candidate);
                if reached && seen.insert(candidate.clone()) {
                    pending.extend(facts.refs.iter().cloned());
                }
            }
        }
        seen
    }

    /// True when `rule`, or anything it reaches, has a `with` modifier.
    pub fn reaches_with(&self, rule: &[String]) -> bool {
        self.reached_from(rule)
            .iter()
            .any(|path| self.rules.get(path).is_some_and(|f| f.uses_with))
    }
}

#[derive(Default)]
struct Collector {
    uses_with: bool,
    refs: Vec<(String, Vec<String>)>,
    /// Inner links of reference chains already taken whole.
    inner: HashSet<*const Expr>,
}

impl Visitor for Collector {
    fn expr(&mut self, expr: &Expr) {
        if !is_ref(expr) || self.inner.contains(&(expr as *const Expr)) {
            return;
        }
        let mut link = expr;
        while let Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } = link {
            self.inner.insert(refr.as_ref() as *const Expr);
            link = refr;
        }
        if let Some(found) = static_ref(expr) {
            self.refs.push(found);
        }
    }

    fn with_modifier(&mut self) {
        self.uses_with = true;
    }
}

/// The package as path segments below `data`.
pub fn package_path(module: &Module) -> Option<RulePath> {
    let (root, fields) = static_ref(&module.package.refr)?;
    // `package a.b` is the reference `a.b` (regorus keeps it without `data`).
    let mut path = vec![root];
    path.extend(fields);
    if path.first().is_some_and(|s| s == "data") {
        path.remove(0);
    }
    Some(path)
}

/// The rule's name below its package (`allow`, or `a.b` for a ref head).
pub fn rule_name(rule: &Rule) -> Option<RulePath> {
    let refr = match rule {
        Rule::Default { refr, .. } => refr,
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
    };
    let (root, fields) = static_ref(refr)?;
    let mut name = vec![root];
    name.extend(fields);
    Some(name)
}

/// `import data.lib.identity [as x]`: alias -> path below `data`. Imports of `input`,
/// `future.keywords` and `rego.v1` name no rule.
fn imports(module: &Module) -> HashMap<String, RulePath> {
    let mut out = HashMap::new();
    for import in &module.imports {
        let Some((root, fields)) = static_ref(&import.refr) else {
            continue;
        };
        if root != "data" {
            continue;
        }
        let alias = match &import.r#as {
            Some(span) => span.text().to_string(),
            None => match fields.last() {
                Some(last) => last.clone(),
                None => continue,
            },
        };
        out.insert(alias, fields);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(modules: &[(&str, &str)]) -> RuleGraph {
        let mut engine = regorus::Engine::new();
        for (name, text) in modules {
            engine
                .add_policy(name.to_string(), text.to_string())
                .unwrap();
        }
        RuleGraph::build(engine.get_modules())
    }

    fn path(p: &str) -> RulePath {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn follows_imports_local_names_and_data_refs() {
        let g = graph(&[
            (
                "lib.rego",
                "package lib.identity\nhas_role(r) if r in input.roles\n",
            ),
            (
                "p.rego",
                "package p\nimport data.lib.identity\nallow if identity.has_role(\"a\")\nview if allow\nother := data.q.x\n",
            ),
            (
                "q.rego",
                "package q\nx := 1\ny := 2 if { true with input as {} }\n",
            ),
            (
                "t.rego",
                "package t\ntest_view if data.p.view\ntest_mocked if data.p.view with input as {}\n",
            ),
        ]);
        let reached = g.reached_from(&path("p.view"));
        assert!(reached.contains(&path("p.allow")));
        assert!(reached.contains(&path("lib.identity.has_role")));
        assert!(!reached.contains(&path("q.x")));
        assert!(g.reached_from(&path("p.other")).contains(&path("q.x")));
        assert!(!g.reaches_with(&path("t.test_view")));
        assert!(g.reaches_with(&path("t.test_mocked")));
        assert!(g.reaches_with(&path("q.y")));
        assert!(!g.reaches_with(&path("p.other")));
    }

    #[test]
    fn a_dynamic_reference_reaches_everything_below_its_prefix() {
        let g = graph(&[
            (
                "q.rego",
                "package q\nx := 1\ny := 2 if { true with input as {} }\n",
            ),
            ("p.rego", "package p\nany_q := data.q[input.name]\n"),
        ]);
        assert!(g.reaches_with(&path("p.any_q")));
    }
}
