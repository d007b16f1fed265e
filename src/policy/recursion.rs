//! Recursion between rules, found at load as OPA finds it (`rego_recursion_error`).
//!
//! Owns: the rule dependency graph of a set of modules and its cycles. A rule depends on every
//! rule a reference in it may name: a reference's ground prefix (`data.users` of
//! `data.users[input.user]`) names every rule at, above or below that path, as in OPA, so a
//! rule in `package users` that reads `data.users[x]` depends on itself. regorus's interpreter
//! does not check this and overflows its stack on the first decision that reaches a cycle; its
//! RVM compiler refuses such rules. A bundle with a cycle is rejected, naming every rule of the
//! cycle with its file and line.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regorus::Value;
use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleHead};

use super::rego_ast::{Descend, Site, walk_expr, walk_rule};

/// A rule as the graph knows it: its path below `data` and where its first definition is.
struct RuleNode {
    path: Vec<String>,
    location: String,
}

/// Rejects `modules` when rules depend on each other in a cycle. The message is OPA's:
/// `file:line: rego_recursion_error: rule data.a is recursive: data.a -> data.b -> data.a`,
/// then the location of every rule in the cycle.
pub fn check<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Result<(), String> {
    let modules: Vec<&Module> = modules.into_iter().collect();
    let mut nodes: Vec<RuleNode> = Vec::new();
    let mut index: HashMap<Vec<String>, usize> = HashMap::new();
    let mut trie = Trie::default();
    let scopes: Vec<ModuleScope> = modules.iter().map(|m| ModuleScope::of(m)).collect();
    // (rule node, its module's scope, rule) for every definition.
    let mut definitions = Vec::new();
    for (module_index, module) in modules.iter().enumerate() {
        let package = &scopes[module_index].package;
        for rule in &module.policy {
            let Some(head) = head_path(rule) else {
                continue;
            };
            let mut path = package.to_vec();
            path.extend(head);
            let node = *index.entry(path.clone()).or_insert_with(|| {
                let span = rule.span();
                nodes.push(RuleNode {
                    path: path.clone(),
                    location: format!("{}:{}", span.source.get_path(), span.line),
                });
                trie.insert(&path, nodes.len() - 1);
                nodes.len() - 1
            });
            definitions.push((node, module_index, rule));
        }
    }
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
    for (node, module_scope, rule) in definitions {
        let scope = Scope {
            module: &scopes[module_scope],
            locals: locals(rule),
        };
        for reference in references(rule, &scope) {
            trie.comparable(&reference, &mut |target| {
                edges[node].insert(target);
            });
        }
    }
    match find_cycle(&edges) {
        None => Ok(()),
        Some(cycle) => Err(message(&nodes, &cycle)),
    }
}

fn message(nodes: &[RuleNode], cycle: &[usize]) -> String {
    let name = |n: usize| {
        nodes
            .get(n)
            .map(|node| rule_ref(&node.path))
            .unwrap_or_default()
    };
    let Some(&first) = cycle.first() else {
        return String::new();
    };
    let chain: Vec<String> = cycle
        .iter()
        .chain(std::iter::once(&first))
        .map(|n| name(*n))
        .collect();
    let location = nodes.get(first).map(|n| n.location.as_str()).unwrap_or("");
    let mut text = format!(
        "{location}: rego_recursion_error: rule {} is recursive: {}",
        name(first),
        chain.join(" -> ")
    );
    for n in cycle {
        if let Some(node) = nodes.get(*n) {
            text.push_str(&format!("\n  {} defined at {}", name(*n), node.location));
        }
    }
    text
}

fn rule_ref(path: &[String]) -> String {
    super::to_ref(path)
}

/// Names that resolve to documents in one module: its package's rules and its imports.
struct ModuleScope {
    package: Vec<String>,
    /// First segments of the package's rules (`allow` of `allow`, `p` of `p.q[x]`).
    rules: BTreeSet<String>,
    /// Import alias -> path below `data` (`None` for `input` imports).
    imports: BTreeMap<String, Option<Vec<String>>>,
}

impl ModuleScope {
    fn of(module: &Module) -> Self {
        let package = full_path(&module.package.refr);
        let rules = module
            .policy
            .iter()
            .filter_map(|r| head_path(r)?.into_iter().next())
            .collect();
        let mut imports = BTreeMap::new();
        for import in &module.imports {
            let (path, root) = ref_path(&import.refr);
            let alias = match &import.r#as {
                Some(span) => span.text().to_string(),
                None => match path.last() {
                    Some(last) => last.clone(),
                    None => root.clone(),
                },
            };
            let target = match root.as_str() {
                "data" => Some(Some(path)),
                "input" => Some(None),
                // future.keywords, rego.v1: not documents.
                _ => None,
            };
            if let Some(target) = target {
                imports.insert(alias, target);
            }
        }
        Self {
            package,
            rules,
            imports,
        }
    }
}

/// Names inside one rule: its module's, minus the rule's local variables (which shadow
/// neither `data` nor `input`).
struct Scope<'m> {
    module: &'m ModuleScope,
    locals: BTreeSet<String>,
}

impl Scope<'_> {
    /// The path below `data` that a reference rooted at `root` with `rest` names, if any.
    fn resolve(&self, root: &str, rest: Vec<String>) -> Option<Vec<String>> {
        if root == "data" {
            return Some(rest);
        }
        if root == "input" || self.locals.contains(root) {
            return None;
        }
        if let Some(target) = self.module.imports.get(root) {
            let mut path = target.clone()?;
            path.extend(rest);
            return Some(path);
        }
        if self.module.rules.contains(root) {
            let mut path = self.module.package.clone();
            path.push(root.to_string());
            path.extend(rest);
            return Some(path);
        }
        None
    }
}

/// Every variable a rule declares: `:=` targets, `some` variables, `every` bindings and
/// function arguments. Declared once anywhere in the rule, a name is taken as local throughout
/// it: that can only miss a dependency, never invent one.
fn locals(rule: &Rule) -> BTreeSet<String> {
    let mut locals = BTreeSet::new();
    let vars_of = |expr: &Expr, into: &mut BTreeSet<String>| {
        walk_expr(expr, &mut |site| {
            if let Site::Expr(Expr::Var { span, .. }) = site {
                into.insert(span.text().to_string());
            }
            Descend::Yes
        });
    };
    if let Rule::Spec {
        head: RuleHead::Func { args, .. },
        ..
    } = rule
    {
        for arg in args {
            vars_of(arg, &mut locals);
        }
    }
    let mut declared: Vec<&Expr> = Vec::new();
    let mut queries: Vec<&Query> = Vec::new();
    walk_rule(rule, &mut |site| {
        match site {
            Site::Expr(Expr::AssignExpr {
                op: regorus::unstable::AssignOp::ColEq,
                lhs,
                ..
            }) => declared.push(lhs),
            Site::Expr(
                Expr::ArrayCompr { query, .. }
                | Expr::SetCompr { query, .. }
                | Expr::ObjectCompr { query, .. },
            ) => queries.push(query),
            _ => {}
        }
        Descend::Yes
    });
    if let Rule::Spec { bodies, .. } = rule {
        queries.extend(bodies.iter().map(|b| b.query.as_ref()));
    }
    while let Some(query) = queries.pop() {
        for stmt in &query.stmts {
            match &stmt.literal {
                Literal::SomeVars { vars, .. } => {
                    locals.extend(vars.iter().map(|v| v.text().to_string()));
                }
                Literal::SomeIn { key, value, .. } => {
                    declared.extend(key.iter().map(|k| k.as_ref()));
                    declared.push(value);
                }
                Literal::Every {
                    key, value, query, ..
                } => {
                    locals.extend(key.iter().map(|k| k.text().to_string()));
                    locals.insert(value.text().to_string());
                    queries.push(query);
                }
                Literal::Expr { .. } | Literal::NotExpr { .. } => {}
            }
        }
    }
    for expr in declared {
        vars_of(expr, &mut locals);
    }
    locals
}

/// The ground prefix (below `data`) of every reference in `rule` that names a document.
fn references(rule: &Rule, scope: &Scope<'_>) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut pending: Vec<&Expr> = Vec::new();
    walk_rule(rule, &mut |site| {
        visit(site, scope, &mut pending, &mut found)
    });
    while let Some(expr) = pending.pop() {
        let mut more = Vec::new();
        walk_expr(expr, &mut |site| visit(site, scope, &mut more, &mut found));
        pending.extend(more);
    }
    found
}

/// One step of [`references`]: a whole ref chain is resolved once; the expressions in its
/// brackets are left in `pending` to be visited in turn.
fn visit<'a>(
    site: Site<'a>,
    scope: &Scope<'_>,
    pending: &mut Vec<&'a Expr>,
    found: &mut Vec<Vec<String>>,
) -> Descend {
    let expr = match site {
        Site::Expr(expr) => expr,
        // `with data.x as v` replaces data.x; it does not read it.
        Site::WithTarget(_) => return Descend::No,
    };
    if !matches!(
        expr,
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
    ) {
        return Descend::Yes;
    }
    let (rest, root) = ref_path(expr);
    if let Some(path) = scope.resolve(&root, rest) {
        found.push(path);
    }
    bracket_indexes(expr, pending);
    Descend::No
}

/// The index expressions inside a ref chain (`x` and `y` of `a[x].b[y]`).
fn bracket_indexes<'a>(mut expr: &'a Expr, into: &mut Vec<&'a Expr>) {
    loop {
        match expr {
            Expr::RefBrack { refr, index, .. } => {
                into.push(index);
                expr = refr;
            }
            Expr::RefDot { refr, .. } => expr = refr,
            _ => return,
        }
    }
}

/// A ref chain's root variable and its ground segments after the root, up to the first
/// segment that is not a literal.
fn ref_path(expr: &Expr) -> (Vec<String>, String) {
    let mut links = Vec::new();
    let mut link = expr;
    let root = loop {
        match link {
            Expr::Var { span, .. } => break span.text().to_string(),
            Expr::RefDot { refr, field, .. } => {
                links.push(Some(value_text(&field.1)));
                link = refr;
            }
            Expr::RefBrack { refr, index, .. } => {
                links.push(literal_text(index));
                link = refr;
            }
            _ => break String::new(),
        }
    };
    let path = links
        .into_iter()
        .rev()
        .map_while(|segment| segment)
        .collect();
    (path, root)
}

fn literal_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::String { value, .. } | Expr::RawString { value, .. } | Expr::Number { value, .. } => {
            Some(value_text(value))
        }
        _ => None,
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A ref chain as a whole path, root included (`a.b` of `package a.b`).
fn full_path(expr: &Expr) -> Vec<String> {
    let (mut rest, root) = ref_path(expr);
    rest.insert(0, root);
    rest
}

/// The ground path of a rule's head below its package (`p.q` of `p.q[x] := 1`).
fn head_path(rule: &Rule) -> Option<Vec<String>> {
    let refr = match rule {
        Rule::Default { refr, .. } => refr,
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
    };
    let (mut rest, root) = ref_path(refr);
    if root.is_empty() {
        return None;
    }
    rest.insert(0, root);
    Some(rest)
}

/// Rule paths, for finding the rules a reference may name.
#[derive(Default)]
struct Trie {
    rules: Vec<usize>,
    children: BTreeMap<String, Trie>,
}

impl Trie {
    fn insert(&mut self, path: &[String], rule: usize) {
        let mut node = self;
        for segment in path {
            node = node.children.entry(segment.clone()).or_default();
        }
        node.rules.push(rule);
    }

    /// Calls `found` for every rule whose path is a prefix of `path` or has `path` as prefix.
    fn comparable(&self, path: &[String], found: &mut dyn FnMut(usize)) {
        let mut node = self;
        for segment in path {
            node.rules.iter().for_each(|r| found(*r));
            match node.children.get(segment) {
                Some(child) => node = child,
                None => return,
            }
        }
        node.all(found);
    }

    fn all(&self, found: &mut dyn FnMut(usize)) {
        self.rules.iter().for_each(|r| found(*r));
        for child in self.children.values() {
            child.all(found);
        }
    }
}

/// A cycle in the graph (its nodes in order), if there is one. Iterative depth-first search,
/// so a long chain of rules cannot overflow the stack here either.
fn find_cycle(edges: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // (node, its successors not yet visited)
        let mut path: Vec<(usize, Vec<usize>)> = Vec::new();
        marks[start] = Mark::OnPath;
        path.push((start, edges[start].iter().rev().copied().collect()));
        while let Some((node, successors)) = path.last_mut() {
            let node = *node;
            match successors.pop() {
                Some(next) => match marks[next] {
                    Mark::OnPath => {
                        let from = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        return Some(path[from..].iter().map(|(n, _)| *n).collect());
                    }
                    Mark::New => {
                        marks[next] = Mark::OnPath;
                        path.push((next, edges[next].iter().rev().copied().collect()));
                    }
                    Mark::Done => {}
                },
                None => {
                    marks[node] = Mark::Done;
                    path.pop();
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(modules: &[&str]) -> Result<(), String> {
        let mut engine = regorus::Engine::new();
        crate::builtins::register(&mut engine).unwrap();
        for (i, rego) in modules.iter().enumerate() {
            engine
                .add_policy(format!("m{i}.rego"), rego.to_string())
                .unwrap();
        }
        check(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    #[test]
    fn mutual_recursion_is_refused_with_the_cycle() {
        let err = load(&["package p\na := x if { x := b }\nb := y if { y := a }\n"]).unwrap_err();
        assert!(err.contains("rego_recursion_error"), "{err}");
        assert!(err.contains("data.p.a -> data.p.b -> data.p.a"), "{err}");
        assert!(
            err.contains("m0.rego:2") && err.contains("m0.rego:3"),
            "{err}"
        );
    }

    #[test]
    fn a_dynamic_ref_into_the_own_package_is_recursion_as_in_opa() {
        // OPA 1.20: rule data.users.allow is recursive: data.users.allow -> data.users.allow
        let err = load(&["package users\nallow if data.users[input.user].tenant == \"t5\"\n"])
            .unwrap_err();
        assert!(
            err.contains("data.users.allow -> data.users.allow"),
            "{err}"
        );
    }

    #[test]
    fn across_packages_through_imports_and_functions() {
        let err = load(&[
            "package a\nimport data.b\nx if b.y\n",
            "package b\ny if data.a.x\n",
        ])
        .unwrap_err();
        assert!(err.contains("data.a.x -> data.b.y -> data.a.x"), "{err}");
        let err = load(&["package f\ng(n) := h(n)\nh(n) := g(n)\n"]).unwrap_err();
        assert!(err.contains("data.f.g -> data.f.h -> data.f.g"), "{err}");
        // The whole package, directly or walked, includes the rule itself (OPA 1.20 agrees).
        let err = load(&["package p2\nx := 1\ny := count(data.p2)\n"]).unwrap_err();
        assert!(err.contains("data.p2.y -> data.p2.y"), "{err}");
        let err = load(&["package wk\nx := [p | walk(data.wk, [p, _])]\n"]).unwrap_err();
        assert!(err.contains("data.wk.x -> data.wk.x"), "{err}");
    }

    #[test]
    fn what_opa_accepts_loads() {
        load(&[
            // Ground refs beside the rule, other packages, locals that shadow rule names.
            "package users\nallow if data.users.alice.tenant == \"t5\"\nallow if data.roles[input.user] == \"admin\"\n",
            "package rbac\ndefault allow := false\nallow if { u := data.rbac.users[input.user]; \"admin\" in u.roles }\n",
            "package q\nr := 1\ns if { r := 2; r == 2 }\nt if { some r in [1]; r == 1 }\n",
            "package w\nimport data.rbac\nv if rbac.allow with data.rbac.users as {}\n",
            "package chain\na := b + 1\nb := c + 1\nc := 1\n",
            "package pkgref\nx := 1\ny := data.pkgref.x\n",
            "package ev\nallow if { every u in data.ev.list { u > 0 } }\nlist := [1]\n",
        ])
        .unwrap();
    }

    #[test]
    fn long_chains_do_not_overflow() {
        let mut rego = String::from("package long\nr0 := 0\n");
        for i in 1..5000 {
            rego.push_str(&format!("r{i} := r{} + 1\n", i - 1));
        }
        load(&[&rego]).unwrap();
    }
}
