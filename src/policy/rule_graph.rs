//! The rules of a set of modules as a graph: who depends on whom, and what each one does that
//! matters at load.
//!
//! Owns: the dependency graph (a reference's ground prefix, `data.users` of
//! `data.users[input.user]`, names every rule at, above or below that path, as in OPA), its
//! cycles (OPA's `rego_recursion_error`: regorus's interpreter does not check them and overflows
//! its stack on the first decision that reaches one), what a rule reaches, and the facts about
//! each rule that decide where it may run ([`Facts`]). Deciding is [`super::rvm_plan`]'s job.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regorus::unstable::{Expr, Literal, Module, Query, Rule, RuleBody, RuleHead};

use super::rego_ast::{Chain, Descend, Segment, Site, walk_expr, walk_rule};

/// What a rule's definitions do that the RVM may get wrong.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    /// `default f(_) := ...`: the RVM ignores default functions.
    pub default_function: bool,
    /// A `with` modifier (the RVM cannot compile them).
    pub with: bool,
    /// A call to `walk`.
    pub walk: bool,
    /// A ref head with a variable before its last segment (`svc[name].allow := ...`).
    pub dynamic_ref_head: bool,
    /// An `else` chain in which a value may be undefined (`x := input.a if c else := 1`): the
    /// RVM answers undefined where OPA goes on to the next `else`.
    pub else_value_may_be_undefined: bool,
    /// An `else` after a body that iterates (`x := 1 if { some u in us; u.n > 9 } else := 2`):
    /// the RVM answers undefined where the loop finds nothing, OPA goes on to the `else`.
    pub else_after_loop: bool,
    /// A shape the RVM answers differently from OPA, found in the rule's text: a value it
    /// takes as defined when it is not ([`super::unchecked_values`]), an iteration it drops
    /// ([`super::loopless_comprehensions`]), one of conflicting values it answers
    /// ([`super::loop_values`]). Why, after "it".
    pub rvm_wrong_answer: Option<&'static str>,
    /// Ground prefixes (below `data`) of every reference into `data`.
    pub reads: Vec<Vec<String>>,
    /// Every reference into `data` as a pattern of keys (`data[x].q`: any key, then `q`): the
    /// rules it may name, as OPA's compiler finds them for its dependency graph.
    pub read_patterns: Vec<Vec<ReadKey>>,
    /// Indexes into `data` documents by something other than a string literal.
    pub data_indexes: Vec<DataIndex>,
}

/// One key of a [`Facts::read_patterns`] reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadKey {
    /// `.name`, `["name"]`, or the text of a number (`[2]` names no rule but `["2"]`).
    Key(String),
    /// An index known only at evaluation (`[x]`, `[input.k]`): any key.
    Any,
}

/// `data.<prefix>[index]`, where the index is not a string literal.
#[derive(Debug, Clone)]
pub struct DataIndex {
    pub prefix: Vec<String>,
    pub index: IndexKind,
}

/// Where an index into `data` comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum IndexKind {
    /// A number literal (`data.d[1]`).
    Number,
    /// A ground path into the input (`data.d[input.user.id]`).
    Input(Vec<String>),
    /// Anything else: a variable, a call, an expression.
    Other,
}

/// A rule as the graph knows it.
pub struct RuleNode {
    /// Its path below `data`.
    pub path: Vec<String>,
    /// `file:line` of its first definition.
    pub location: String,
    /// The module (file) of its first definition.
    pub file: String,
    /// A function, not a document.
    pub is_function: bool,
    pub facts: Facts,
    /// A hash of the text of its definitions: the same rule text, the same fingerprint.
    pub fingerprint: u64,
}

/// The graph of every rule in a set of modules.
pub struct RuleGraph {
    nodes: Vec<RuleNode>,
    index: HashMap<Vec<String>, usize>,
    edges: Vec<BTreeSet<usize>>,
    trie: Trie,
}

impl RuleGraph {
    pub fn build<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Self {
        let modules: Vec<&Module> = modules.into_iter().collect();
        let scopes: Vec<ModuleScope> = modules.iter().map(|m| ModuleScope::of(m)).collect();
        let mut nodes: Vec<RuleNode> = Vec::new();
        let mut index: HashMap<Vec<String>, usize> = HashMap::new();
        let mut trie = Trie::default();
        // (rule node, its module's scope, rule) for every definition.
        let mut definitions = Vec::new();
        for (module_index, module) in modules.iter().enumerate() {
            let package = &scopes[module_index].package;
            for rule in &module.policy {
                let Some(head) = rule_name(rule) else {
                    continue;
                };
                let mut path = package.to_vec();
                path.extend(head);
                let node = *index.entry(path.clone()).or_insert_with(|| {
                    let span = rule.span();
                    nodes.push(RuleNode {
                        path: path.clone(),
                        location: format!("{}:{}", span.source.get_path(), span.line),
                        file: span.source.get_path().clone(),
                        is_function: false,
                        facts: Facts::default(),
                        fingerprint: 0,
                    });
                    trie.insert(&path, nodes.len() - 1);
                    nodes.len() - 1
                });
                if let Some(n) = nodes.get_mut(node) {
                    n.is_function |= is_function(rule);
                }
                definitions.push((node, module_index, rule));
            }
        }
        let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); nodes.len()];
        for (node, module_index, rule) in definitions {
            let scope = Scope {
                module: &scopes[module_index],
                locals: locals(rule),
            };
            let facts = facts(rule, &scope);
            let text = rule.span().text();
            for reference in &facts.read_patterns {
                trie.matching(reference, &mut |target| {
                    edges[node].insert(target);
                });
            }
            if let Some(n) = nodes.get_mut(node) {
                n.facts.merge(facts);
                n.fingerprint = fingerprint(n.fingerprint, text);
            }
        }
        Self {
            nodes,
            index,
            edges,
            trie,
        }
    }

    /// Rejects the modules when rules depend on each other in a cycle, with OPA's message:
    /// `file:line: rego_recursion_error: rule data.a is recursive: data.a -> data.b -> data.a`,
    /// then the location of every rule in the cycle.
    pub fn check_recursion(&self) -> Result<(), String> {
        match find_cycle(&self.edges) {
            None => Ok(()),
            Some(cycle) => Err(self.cycle_message(&cycle)),
        }
    }

    /// Rejects the modules when a chain of rules and functions that call each other is longer
    /// than `max`: each link is a nested evaluation in regorus (a stack frame of the
    /// interpreter, a recursive step of the RVM compiler), and a chain of 2,000 overflowed an
    /// 8 MiB stack. Call after [`Self::check_recursion`] (the graph must have no cycle).
    pub fn check_depth(&self, max: usize) -> Result<(), String> {
        let Some(chain) = longest_chain(&self.edges).filter(|c| c.len() > max) else {
            return Ok(());
        };
        let name = |n: &usize| {
            self.nodes
                .get(*n)
                .map(|node| super::to_ref(&node.path))
                .unwrap_or_default()
        };
        let location = chain
            .first()
            .and_then(|n| self.nodes.get(*n))
            .map(|n| n.location.as_str())
            .unwrap_or("");
        let shown: Vec<String> = if chain.len() > 6 {
            let head = chain.iter().take(3).map(name);
            let tail = chain.iter().skip(chain.len() - 2).map(name);
            head.chain(std::iter::once("...".to_string()))
                .chain(tail)
                .collect()
        } else {
            chain.iter().map(name).collect()
        };
        Err(format!(
            "{location}: rego_compile_error: rule {} reaches a chain of {} rules and functions ({}), more than {max} (--max-rule-depth); shorten the chain",
            chain.first().map(name).unwrap_or_default(),
            chain.len(),
            shown.join(" -> ")
        ))
    }

    /// The rule at `path` (below `data`) and every rule it reaches, each once.
    pub fn reach(&self, path: &[String]) -> Option<Vec<&RuleNode>> {
        let start = *self.index.get(path)?;
        let mut seen = BTreeSet::from([start]);
        let mut pending = vec![start];
        while let Some(node) = pending.pop() {
            for next in self.edges.get(node).into_iter().flatten() {
                if seen.insert(*next) {
                    pending.push(*next);
                }
            }
        }
        Some(seen.iter().filter_map(|n| self.nodes.get(*n)).collect())
    }

    /// The paths, up to the variable, of rules whose ref head holds a variable before its
    /// last segment (`["p", "svc"]` of `svc[name].allow := ...` in `package p`).
    pub fn dynamic_ref_heads(&self) -> impl Iterator<Item = &[String]> {
        self.nodes
            .iter()
            .filter(|n| n.facts.dynamic_ref_head)
            .map(|n| n.path.as_slice())
    }

    /// True when `path` (below `data`) names a function.
    pub fn is_function(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| n.is_function)
    }

    /// The rule at `path` (below `data`).
    pub fn node(&self, path: &[String]) -> Option<&RuleNode> {
        self.index.get(path).and_then(|n| self.nodes.get(*n))
    }

    /// True when `path` names a document above rules without being a rule itself (a package, or
    /// a prefix shared by rules): reading it merges rules and data.
    pub fn is_namespace(&self, path: &[String]) -> bool {
        self.trie.is_namespace(path)
    }

    fn cycle_message(&self, cycle: &[usize]) -> String {
        let name = |n: usize| {
            self.nodes
                .get(n)
                .map(|node| super::to_ref(&node.path))
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
        let location = self
            .nodes
            .get(first)
            .map(|n| n.location.as_str())
            .unwrap_or("");
        let mut text = format!(
            "{location}: rego_recursion_error: rule {} is recursive: {}",
            name(first),
            chain.join(" -> ")
        );
        for n in cycle {
            if let Some(node) = self.nodes.get(*n) {
                text.push_str(&format!("\n  {} defined at {}", name(*n), node.location));
            }
        }
        text
    }
}

/// Folds one definition's text into a rule's fingerprint (in source order).
fn fingerprint(so_far: u64, text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    so_far.hash(&mut hasher);
    text.hash(&mut hasher);
    hasher.finish()
}

impl Facts {
    fn merge(&mut self, other: Facts) {
        self.default_function |= other.default_function;
        self.with |= other.with;
        self.walk |= other.walk;
        self.dynamic_ref_head |= other.dynamic_ref_head;
        self.else_value_may_be_undefined |= other.else_value_may_be_undefined;
        self.else_after_loop |= other.else_after_loop;
        self.rvm_wrong_answer = self.rvm_wrong_answer.or(other.rvm_wrong_answer);
        self.reads.extend(other.reads);
        self.read_patterns.extend(other.read_patterns);
        self.data_indexes.extend(other.data_indexes);
    }
}

/// What an import names.
pub type ImportTarget = Option<Vec<String>>;

/// A module's imports of documents: alias -> path below `data`, or `None` for an `input`
/// import. `future.keywords` and `rego.v1` name no document and are left out.
pub fn imports(module: &Module) -> BTreeMap<String, ImportTarget> {
    let mut imports = BTreeMap::new();
    for import in &module.imports {
        let chain = Chain::of(&import.refr);
        let path = chain.ground();
        let alias = match &import.r#as {
            Some(span) => span.text().to_string(),
            None => match path.last() {
                Some(last) => last.clone(),
                None => chain.root.clone(),
            },
        };
        let target = match chain.root.as_str() {
            "data" => Some(Some(path)),
            "input" => Some(None),
            _ => None,
        };
        if let Some(target) = target {
            imports.insert(alias, target);
        }
    }
    imports
}

/// Names that resolve to documents in one module: its package's rules and its imports.
struct ModuleScope {
    package: Vec<String>,
    /// First segments of the package's rules (`allow` of `allow`, `p` of `p.q[x]`).
    rules: BTreeSet<String>,
    imports: BTreeMap<String, ImportTarget>,
}

impl ModuleScope {
    fn of(module: &Module) -> Self {
        let package = package_path(module).unwrap_or_default();
        let rules = module
            .policy
            .iter()
            .filter_map(|r| rule_name(r)?.into_iter().next())
            .collect();
        let imports = imports(module);
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

/// What a reference's root names.
enum Root {
    /// A path below `data`, before the reference's own segments.
    Data(Vec<String>),
    Input,
    /// A local variable, a builtin's namespace, or nothing known.
    Other,
}

impl Scope<'_> {
    fn root(&self, root: &str) -> Root {
        if root == "data" {
            return Root::Data(Vec::new());
        }
        if root == "input" {
            return Root::Input;
        }
        if self.locals.contains(root) {
            return Root::Other;
        }
        if let Some(target) = self.module.imports.get(root) {
            return match target {
                Some(path) => Root::Data(path.clone()),
                None => Root::Input,
            };
        }
        if self.module.rules.contains(root) {
            let mut path = self.module.package.clone();
            path.push(root.to_string());
            return Root::Data(path);
        }
        Root::Other
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

/// The facts of one rule definition.
fn facts(rule: &Rule, scope: &Scope<'_>) -> Facts {
    let mut facts = Facts {
        rvm_wrong_answer: super::unchecked_values::find(rule)
            .or_else(|| super::loopless_comprehensions::find(rule))
            .or_else(|| super::loop_values::find(rule)),
        ..Facts::default()
    };
    match rule {
        Rule::Default { args, .. } => facts.default_function = !args.is_empty(),
        Rule::Spec { head, bodies, .. } => {
            facts.else_value_may_be_undefined = else_value_may_be_undefined(head, bodies);
            facts.else_after_loop = else_after_loop(bodies);
            let (RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. }) = head;
            let chain = Chain::of(refr);
            // A multi-value rule's path (`x[t]` of `x[t] contains n`) may not hold a variable
            // anywhere: the RVM merges the values of every `t` into one set.
            let checked = match head {
                RuleHead::Set { key: Some(_), .. } => chain.segments.len(),
                _ => chain.segments.len().saturating_sub(1),
            };
            facts.dynamic_ref_head = chain
                .segments
                .iter()
                .take(checked)
                .any(|s| matches!(s, Segment::Dynamic(_)));
        }
    }
    let mut pending: Vec<&Expr> = Vec::new();
    walk_rule(rule, &mut |site| {
        visit(site, scope, &mut pending, &mut facts)
    });
    while let Some(expr) = pending.pop() {
        let mut more = Vec::new();
        walk_expr(expr, &mut |site| visit(site, scope, &mut more, &mut facts));
        pending.extend(more);
    }
    facts
}

/// Whether a value of an `else` chain may be undefined while its body holds, with another
/// `else` after it: the RVM then answers undefined, OPA the next `else`. A constant is always
/// defined, and so is a value its own body tests (`x := input.a if input.a`).
fn else_value_may_be_undefined(head: &RuleHead, bodies: &[RuleBody]) -> bool {
    if !bodies.iter().any(|b| b.is_else) {
        return false;
    }
    let head_value = match head {
        RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
            assign.as_ref().map(|a| &a.value)
        }
        RuleHead::Set { .. } => None,
    };
    let last = bodies.len().saturating_sub(1);
    bodies.iter().enumerate().take(last).any(|(i, body)| {
        let value = if i == 0 {
            head_value
        } else {
            body.assign.as_ref().map(|a| &a.value)
        };
        value.is_some_and(|v| !is_constant(v) && !tested_by(v, &body.query))
    })
}

/// Whether a body that an `else` follows iterates by itself ([`super::loopless_comprehensions`]
/// says what counts).
fn else_after_loop(bodies: &[RuleBody]) -> bool {
    let last = bodies.len().saturating_sub(1);
    bodies.iter().any(|b| b.is_else)
        && bodies.iter().take(last).any(|b| {
            b.query
                .stmts
                .iter()
                .any(super::loopless_comprehensions::iterates)
        })
}

/// Whether one statement of `query` is `value` itself (so the body holds only if it is defined).
fn tested_by(value: &Expr, query: &Query) -> bool {
    let text = value.span().text();
    query.stmts.iter().any(
        |stmt| matches!(&stmt.literal, Literal::Expr { expr, .. } if expr.span().text() == text),
    )
}

/// A literal, or an array, set or object of literals.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        e if super::rego_ast::is_scalar_literal(e) => true,
        Expr::Array { items, .. } | Expr::Set { items, .. } => items.iter().all(|i| is_constant(i)),
        Expr::Object { fields, .. } => fields
            .iter()
            .all(|(_, k, v)| is_constant(k) && is_constant(v)),
        _ => false,
    }
}

/// One step of [`facts`]: a whole ref chain is resolved once; the expressions in its brackets
/// are left in `pending` to be visited in turn.
fn visit<'a>(
    site: Site<'a>,
    scope: &Scope<'_>,
    pending: &mut Vec<&'a Expr>,
    facts: &mut Facts,
) -> Descend {
    let expr = match site {
        Site::Expr(expr) => expr,
        // A head defines its path; only a ref head's indexes (`p[x]`) are read.
        Site::Head(head) => {
            for segment in Chain::of(head).segments {
                if let Segment::Dynamic(index) = segment {
                    pending.push(index);
                }
            }
            return Descend::No;
        }
        // `with data.x as v` replaces data.x; it does not read it.
        Site::WithTarget(_) => {
            facts.with = true;
            return Descend::No;
        }
    };
    if let Expr::Call { fcn, .. } = expr
        && regorus::utils::get_path_string(fcn, None).is_ok_and(|name| name == "walk")
    {
        facts.walk = true;
    }
    if !matches!(
        expr,
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
    ) {
        return Descend::Yes;
    }
    let chain = Chain::of(expr);
    if let Root::Data(mut path) = scope.root(&chain.root) {
        let mut pattern: Vec<ReadKey> = path.iter().cloned().map(ReadKey::Key).collect();
        pattern.extend(chain.segments.iter().map(|segment| match segment {
            Segment::Name(name) | Segment::Number(name) => ReadKey::Key(name.clone()),
            Segment::Dynamic(_) => ReadKey::Any,
        }));
        facts.read_patterns.push(pattern);
        let mut index = None;
        for segment in &chain.segments {
            match segment {
                Segment::Name(name) => path.push(name.clone()),
                Segment::Number(_) => {
                    index = Some(IndexKind::Number);
                    break;
                }
                Segment::Dynamic(index_expr) => {
                    index = Some(index_kind(index_expr, scope));
                    break;
                }
            }
        }
        if let Some(index) = index {
            facts.data_indexes.push(DataIndex {
                prefix: path.clone(),
                index,
            });
        }
        facts.reads.push(path);
    }
    for segment in &chain.segments {
        if let Segment::Dynamic(index) = segment {
            pending.push(index);
        }
    }
    Descend::No
}

fn index_kind(expr: &Expr, scope: &Scope<'_>) -> IndexKind {
    let chain = Chain::of(expr);
    if !matches!(
        expr,
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
    ) {
        return IndexKind::Other;
    }
    match scope.root(&chain.root) {
        Root::Input if chain.segments.iter().all(|s| matches!(s, Segment::Name(_))) => {
            IndexKind::Input(chain.ground())
        }
        _ => IndexKind::Other,
    }
}

/// A module's package as path segments below `data` (`["orders"]` of `package orders`).
pub fn package_path(module: &Module) -> Option<Vec<String>> {
    let chain = Chain::of(&module.package.refr);
    if chain.root.is_empty() {
        return None;
    }
    let mut path = vec![chain.root.clone()];
    path.extend(chain.ground());
    // regorus keeps `package a.b` as the reference `a.b`, without `data`.
    if path.first().is_some_and(|s| s == "data") {
        path.remove(0);
    }
    Some(path)
}

/// The ground path of a rule's head below its package (`allow`, `p.q` of `p.q[x] := 1`).
pub fn rule_name(rule: &Rule) -> Option<Vec<String>> {
    let chain = Chain::of(head_ref(rule));
    if chain.root.is_empty() {
        return None;
    }
    let mut path = vec![chain.root.clone()];
    path.extend(chain.ground());
    Some(path)
}

/// True for a function's definition (`f(x) := ...`, `default f(_) := ...`).
pub fn is_function(rule: &Rule) -> bool {
    match rule {
        Rule::Spec { head, .. } => matches!(head, RuleHead::Func { .. }),
        Rule::Default { args, .. } => !args.is_empty(),
    }
}

/// The reference a rule's head defines (`p`, `a.b[k]`, `f`).
pub(super) fn head_ref(rule: &Rule) -> &Expr {
    match rule {
        Rule::Default { refr, .. } => refr,
        Rule::Spec { head, .. } => match head {
            RuleHead::Compr { refr, .. }
            | RuleHead::Set { refr, .. }
            | RuleHead::Func { refr, .. } => refr,
        },
    }
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

    /// Calls `found` for every rule whose path matches a prefix of `pattern` or has a prefix
    /// that matches all of it ([`ReadKey::Any`] matching any one key), maybe more than once.
    fn matching(&self, pattern: &[ReadKey], found: &mut dyn FnMut(usize)) {
        // Iterative: a reference may be long, and `Any` branches.
        let mut pending: Vec<(&Trie, &[ReadKey])> = vec![(self, pattern)];
        while let Some((node, rest)) = pending.pop() {
            let Some((key, rest)) = rest.split_first() else {
                node.all(found);
                continue;
            };
            node.rules.iter().for_each(|r| found(*r));
            match key {
                ReadKey::Key(key) => {
                    if let Some(child) = node.children.get(key) {
                        pending.push((child, rest));
                    }
                }
                ReadKey::Any => pending.extend(node.children.values().map(|c| (c, rest))),
            }
        }
    }

    fn all(&self, found: &mut dyn FnMut(usize)) {
        self.rules.iter().for_each(|r| found(*r));
        for child in self.children.values() {
            child.all(found);
        }
    }

    fn is_namespace(&self, path: &[String]) -> bool {
        let mut node = self;
        for segment in path {
            if !node.rules.is_empty() {
                // A rule above: the path is inside a rule's value, not above rules.
                return false;
            }
            match node.children.get(segment) {
                Some(child) => node = child,
                None => return false,
            }
        }
        node.rules.is_empty() && !node.children.is_empty()
    }
}

/// The default of `--max-rule-depth`: far beyond what policies need, far below what a worker's
/// stack holds (see [`crate::threads::EVAL_STACK_BYTES`]).
pub const DEFAULT_MAX_RULE_DEPTH: usize = 128;

/// The longest path of the (acyclic) graph, its nodes in order. Iterative, like
/// [`find_cycle`]: the chain it measures may be long.
fn longest_chain(edges: &[BTreeSet<usize>]) -> Option<Vec<usize>> {
    // depth[n]: nodes on the longest path from n; next[n]: its successor on that path.
    let mut depth: Vec<usize> = vec![0; edges.len()];
    let mut next: Vec<Option<usize>> = vec![None; edges.len()];
    for start in 0..edges.len() {
        if depth[start] > 0 {
            continue;
        }
        let mut stack = vec![(start, false)];
        while let Some((node, expanded)) = stack.pop() {
            if depth[node] > 0 {
                continue;
            }
            if !expanded {
                stack.push((node, true));
                stack.extend(
                    edges[node]
                        .iter()
                        .filter(|n| depth[**n] == 0 && **n != node)
                        .map(|n| (*n, false)),
                );
                continue;
            }
            let best = edges[node]
                .iter()
                .filter(|n| **n != node)
                .max_by_key(|n| depth[**n])
                .copied();
            depth[node] = 1 + best.map_or(0, |b| depth[b]);
            next[node] = best;
        }
    }
    let mut node = (0..edges.len()).max_by_key(|n| depth[*n])?;
    let mut chain = vec![node];
    while let Some(following) = next[node] {
        chain.push(following);
        node = following;
    }
    Some(chain)
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

    fn graph(modules: &[&str]) -> RuleGraph {
        let mut engine = regorus::Engine::new();
        crate::builtins::register(&mut engine).unwrap();
        for (i, rego) in modules.iter().enumerate() {
            engine
                .add_policy(format!("m{i}.rego"), rego.to_string())
                .unwrap();
        }
        RuleGraph::build(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    fn load(modules: &[&str]) -> Result<(), String> {
        graph(modules).check_recursion()
    }

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(str::to_string).collect()
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
    fn a_dynamic_key_matches_any_one_key_as_in_opa() {
        // OPA 1.20: `data[x].q` reaches the rules named q one level down, not p itself, and a
        // number names no rule.
        load(&["package test\np := data[x].q if x := \"test\"\nq := 1\n"]).unwrap();
        load(&["package test\np := data[2]\n"]).unwrap();
        let err = load(&["package test\np := data[x] if x := \"test\"\n"]).unwrap_err();
        assert!(err.contains("data.test.p -> data.test.p"), "{err}");
        let err = load(&["package a.test\np := data[y][x] if { y := 1; x := 2 }\n"]).unwrap_err();
        assert!(err.contains("data.a.test.p -> data.a.test.p"), "{err}");
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

    #[test]
    fn chains_longer_than_the_limit_are_refused_with_the_chain() {
        let chain = |n: usize| {
            let mut rego = String::from("package long\nr0 := 0\n");
            for i in 1..n {
                rego.push_str(&format!("r{i} := r{} + 1\n", i - 1));
            }
            rego
        };
        graph(&[&chain(128)]).check_depth(128).unwrap();
        let err = graph(&[&chain(129)]).check_depth(128).unwrap_err();
        assert!(err.contains("rego_compile_error"), "{err}");
        assert!(
            err.contains("a chain of 129 rules and functions (data.long.r128 -> data.long.r127 -> data.long.r126 -> ... -> data.long.r1 -> data.long.r0), more than 128"),
            "{err}"
        );
        // Functions are links too; a diamond is measured by its longest branch.
        let rego = "package f\nf(x) := g(x) + h(x)\ng(x) := h(x)\nh(x) := x\nr := f(1)\n";
        let err = graph(&[rego]).check_depth(3).unwrap_err();
        assert!(err.contains("a chain of 4 rules"), "{err}");
        graph(&[rego]).check_depth(4).unwrap();
    }

    #[test]
    fn an_else_chain_with_a_value_that_may_be_undefined() {
        let g = graph(&[concat!(
            "package p\n",
            "x := input.a.b if input.a\nelse := \"last\"\n",
            "y := 1 if input.a\nelse := 2\n",
            "z := input.a if input.a\n",
            "w := input.a if input.a\nelse := input.b if true\n",
            "v := input.a if input.a\nelse := input.b if true\nelse := 3\n",
        )]);
        let facts = |p: &str| {
            g.reach(&path(p)).unwrap()[0]
                .facts
                .else_value_may_be_undefined
        };
        assert!(facts("p.x"));
        assert!(!facts("p.y"));
        assert!(!facts("p.z"));
        // Tested by its own body, or the last in the chain: the RVM agrees.
        assert!(!facts("p.w"));
        assert!(facts("p.v"));
    }

    #[test]
    fn an_else_after_a_body_that_iterates() {
        let g = graph(&[concat!(
            "package p\n",
            "x := 1 if { some u in input.us; u > 9 }\nelse := 2\n",
            "y := 1 if { u := input.us[_]; u > 9 }\nelse := 2\n",
            "z := 1 if { input.a > 9 }\nelse := 2 if { some u in input.us; u > 9 }\n",
            "w := 1 if { every u in input.us { u > 9 } }\nelse := 2\n",
        )]);
        let facts = |p: &str| g.reach(&path(p)).unwrap()[0].facts.else_after_loop;
        assert!(facts("p.x"));
        assert!(facts("p.y"));
        // The last body has no `else` after it.
        assert!(!facts("p.z"));
        assert!(facts("p.w"));
    }

    #[test]
    fn facts_and_reach() {
        let g = graph(&[
            "package lib\ndefault f(_) := 1\nf(x) := 2 if x > 5\nhas(r) if r in data.bindings[input.subject.id]\n",
            "package p\nimport data.lib\nr := lib.f(1)\ns if lib.has(\"admin\")\nt := data.d[1]\nu := data.d[input.k[0]]\nsvc[name].allow := true if some name in [\"a\"]\nw := data.lib\n",
        ]);
        let reach = |p: &str| -> Vec<String> {
            g.reach(&path(p))
                .unwrap()
                .iter()
                .map(|n| n.path.join("."))
                .collect()
        };
        assert_eq!(reach("p.r"), ["lib.f", "p.r"]);
        let has = g.reach(&path("lib.has")).unwrap();
        assert_eq!(
            has[0].facts.data_indexes[0].index,
            IndexKind::Input(path("subject.id"))
        );
        let t = &g.reach(&path("p.t")).unwrap()[0].facts;
        assert_eq!(t.data_indexes[0].index, IndexKind::Number);
        let u = &g.reach(&path("p.u")).unwrap()[0].facts;
        assert_eq!(u.data_indexes[0].index, IndexKind::Other);
        assert!(g.reach(&path("lib.f")).unwrap()[0].facts.default_function);
        assert!(g.reach(&path("p.svc")).unwrap()[0].facts.dynamic_ref_head);
        assert!(g.is_namespace(&path("lib")));
        assert!(!g.is_namespace(&path("lib.f")));
        assert!(!g.is_namespace(&path("d")));
    }
}
