//! Walking regorus's Rego AST: the one traversal behind every analysis, at load (the rule
//! graph, calls, the constructs that decide where a rule runs) and in `authzd check`/`test`
//! (lints, coverage).
//!
//! Owns: visiting each expression of a rule, its head, bodies, comprehensions, `some`/`every`
//! and `with` modifiers, in source order, with the visitor deciding whether to descend (a ref
//! chain is usually handled whole, not link by link); reading a ref chain ([`Chain`],
//! [`static_ref`]) and a span's position. Knows nothing of what an analysis looks for.

use regorus::Value;
use regorus::unstable::{Expr, Literal, LiteralStmt, Query, Rule, RuleHead, Span};

/// A string, number, boolean or null written as such: an expression that is always defined.
pub fn is_scalar_literal(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::String { .. }
            | Expr::RawString { .. }
            | Expr::Number { .. }
            | Expr::Bool { .. }
            | Expr::Null { .. }
    )
}

/// What the visitor wants after seeing an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descend {
    /// Visit its sub-expressions too.
    Yes,
    /// It was handled whole.
    No,
}

/// A place in a rule the walk reports.
pub enum Site<'a> {
    /// An expression.
    Expr(&'a Expr),
    /// A rule's head reference (`p.q[x]` of `p.q[x] := 1`, `f` of `f(x) := 1`): a name that is
    /// defined, not read, with the index expressions of a ref head. [`Descend::Yes`] visits
    /// it as an expression.
    Head(&'a Expr),
    /// The target of a `with` modifier (`with data.x as ...`: the `data.x`), which is replaced,
    /// not read. [`Descend::Yes`] visits it as an expression.
    WithTarget(&'a Expr),
}

/// Visits every expression of `rule` (head, bodies, `else` bodies).
pub fn walk_rule<'a>(rule: &'a Rule, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    match rule {
        Rule::Default {
            refr, args, value, ..
        } => {
            walk_site(Site::Head(refr), visit);
            for arg in args {
                walk_expr(arg, visit);
            }
            walk_expr(value, visit);
        }
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { refr, assign, .. } => {
                    walk_site(Site::Head(refr), visit);
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
                RuleHead::Set { refr, key, .. } => {
                    walk_site(Site::Head(refr), visit);
                    if let Some(key) = key {
                        walk_expr(key, visit);
                    }
                }
                RuleHead::Func {
                    refr, args, assign, ..
                } => {
                    walk_site(Site::Head(refr), visit);
                    for arg in args {
                        walk_expr(arg, visit);
                    }
                    if let Some(assign) = assign {
                        walk_expr(&assign.value, visit);
                    }
                }
            }
            for body in bodies {
                if let Some(assign) = &body.assign {
                    walk_expr(&assign.value, visit);
                }
                walk_query(&body.query, visit);
            }
        }
    }
}

/// Visits every expression of `expr` except those inside nested comprehensions, whose
/// variables and loops are their own.
pub fn walk_own_exprs<'a>(expr: &'a Expr, visit: &mut dyn FnMut(&'a Expr)) {
    walk_expr(expr, &mut |site| match site {
        Site::Expr(Expr::ArrayCompr { .. } | Expr::SetCompr { .. } | Expr::ObjectCompr { .. }) => {
            Descend::No
        }
        Site::Expr(e) => {
            visit(e);
            Descend::Yes
        }
        _ => Descend::Yes,
    });
}

/// Reports a head or a `with` target, and visits it as an expression if asked to.
fn walk_site<'a>(site: Site<'a>, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    let (Site::Head(expr) | Site::WithTarget(expr) | Site::Expr(expr)) = site;
    if visit(site) == Descend::Yes {
        walk_expr(expr, visit);
    }
}

/// Visits every statement of `query`.
pub fn walk_query<'a>(query: &'a Query, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    for stmt in &query.stmts {
        match &stmt.literal {
            Literal::SomeVars { .. } => {}
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => walk_in(key.as_deref(), value, collection, visit),
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => walk_expr(expr, visit),
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, visit);
                walk_query(query, visit);
            }
        }
        for with in &stmt.with_mods {
            walk_site(Site::WithTarget(&with.refr), visit);
            walk_expr(&with.r#as, visit);
        }
    }
}

/// Calls `f` with every statement of `rule`'s bodies and of the queries nested in them or in
/// its head (comprehensions, `every`), outer statements first.
pub fn for_each_statement<'a>(rule: &'a Rule, f: &mut dyn FnMut(&'a LiteralStmt)) {
    let mut head_values: Vec<&Expr> = Vec::new();
    match rule {
        Rule::Default { value, .. } => head_values.push(&**value),
        Rule::Spec { head, bodies, .. } => {
            match head {
                RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
                    head_values.extend(assign.iter().map(|a| &*a.value));
                }
                RuleHead::Set { key, .. } => head_values.extend(key.iter().map(|k| &**k)),
            }
            for body in bodies {
                head_values.extend(body.assign.iter().map(|a| &*a.value));
                statements_of(&body.query, f);
            }
        }
    }
    for value in head_values {
        walk_expr(value, &mut |site| nested_statements(site, f));
    }
}

/// At a comprehension, its statements; elsewhere, go on.
fn nested_statements<'a>(site: Site<'a>, f: &mut dyn FnMut(&'a LiteralStmt)) -> Descend {
    if let Site::Expr(
        Expr::ArrayCompr { query, .. }
        | Expr::SetCompr { query, .. }
        | Expr::ObjectCompr { query, .. },
    ) = site
    {
        statements_of(query, f);
        return Descend::No;
    }
    Descend::Yes
}

fn statements_of<'a>(query: &'a Query, f: &mut dyn FnMut(&'a LiteralStmt)) {
    for stmt in &query.stmts {
        f(stmt);
        let mut nested = |site: Site<'a>| nested_statements(site, f);
        match &stmt.literal {
            Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                walk_expr(expr, &mut nested)
            }
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                if let Some(key) = key {
                    walk_expr(key, &mut nested);
                }
                walk_expr(value, &mut nested);
                walk_expr(collection, &mut nested);
            }
            Literal::Every { domain, query, .. } => {
                walk_expr(domain, &mut nested);
                statements_of(query, f);
            }
            Literal::SomeVars { .. } => {}
        }
    }
}

/// Visits `expr` and, unless the visitor says otherwise, everything inside it.
pub fn walk_expr<'a>(expr: &'a Expr, visit: &mut dyn FnMut(Site<'a>) -> Descend) {
    if visit(Site::Expr(expr)) == Descend::No {
        return;
    }
    match expr {
        Expr::Call { fcn, params, .. } => {
            walk_expr(fcn, visit);
            for param in params {
                walk_expr(param, visit);
            }
        }
        Expr::Array { items, .. } | Expr::Set { items, .. } => {
            for item in items {
                walk_expr(item, visit);
            }
        }
        Expr::Object { fields, .. } => {
            for (_, key, value) in fields {
                walk_expr(key, visit);
                walk_expr(value, visit);
            }
        }
        Expr::ArrayCompr { term, query, .. } | Expr::SetCompr { term, query, .. } => {
            walk_expr(term, visit);
            walk_query(query, visit);
        }
        Expr::ObjectCompr {
            key, value, query, ..
        } => {
            walk_expr(key, visit);
            walk_expr(value, visit);
            walk_query(query, visit);
        }
        Expr::UnaryExpr { expr, .. } => walk_expr(expr, visit),
        Expr::RefDot { refr, .. } => walk_expr(refr, visit),
        Expr::RefBrack { refr, index, .. } => {
            walk_expr(refr, visit);
            walk_expr(index, visit);
        }
        Expr::BinExpr { lhs, rhs, .. }
        | Expr::BoolExpr { lhs, rhs, .. }
        | Expr::ArithExpr { lhs, rhs, .. }
        | Expr::AssignExpr { lhs, rhs, .. } => {
            walk_expr(lhs, visit);
            walk_expr(rhs, visit);
        }
        Expr::Membership {
            key,
            value,
            collection,
            ..
        } => walk_in(key.as_deref(), value, collection, visit),
        // Literals and variables have no sub-expressions.
        _ => {}
    }
}

/// `[key,] value in collection`, in `some ... in` and as an expression.
fn walk_in<'a>(
    key: Option<&'a Expr>,
    value: &'a Expr,
    collection: &'a Expr,
    visit: &mut dyn FnMut(Site<'a>) -> Descend,
) {
    if let Some(key) = key {
        walk_expr(key, visit);
    }
    walk_expr(value, visit);
    walk_expr(collection, visit);
}

/// A link of a ref chain after its root.
pub enum Segment<'a> {
    /// `.name` or `["name"]`.
    Name(String),
    /// `[1]`.
    Number(String),
    /// `[x]`, `[f(y)]`, ...
    Dynamic(&'a Expr),
}

/// A ref chain: its root variable and its links (`data.orders[x].allow`: `data`, then
/// `orders`, `x`, `allow`). The root is empty when the chain does not start at a variable
/// (`f(x).y`).
pub struct Chain<'a> {
    pub root: String,
    pub segments: Vec<Segment<'a>>,
}

impl<'a> Chain<'a> {
    pub fn of(expr: &'a Expr) -> Self {
        let mut segments = Vec::new();
        let mut link = expr;
        let root = loop {
            match link {
                Expr::Var { span, .. } => break span.text().to_string(),
                Expr::RefDot { refr, field, .. } => {
                    segments.push(Segment::Name(value_text(&field.1)));
                    link = refr;
                }
                Expr::RefBrack { refr, index, .. } => {
                    segments.push(match index.as_ref() {
                        Expr::String { value, .. } | Expr::RawString { value, .. } => {
                            Segment::Name(value_text(value))
                        }
                        Expr::Number { value, .. } => Segment::Number(value_text(value)),
                        other => Segment::Dynamic(other),
                    });
                    link = refr;
                }
                _ => break String::new(),
            }
        };
        segments.reverse();
        Self { root, segments }
    }

    /// The segments up to the first that is not a literal.
    pub fn ground(&self) -> Vec<String> {
        self.segments
            .iter()
            .map_while(|s| match s {
                Segment::Name(name) | Segment::Number(name) => Some(name.clone()),
                Segment::Dynamic(_) => None,
            })
            .collect()
    }
}

fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// A reference's root variable and the names that follow it up to the first link that is
/// not a string literal (`data.orders[x].allow` is `data`, `["orders"]`); `None` for what is
/// not a reference to a variable.
pub fn static_ref(e: &Expr) -> Option<(String, Vec<String>)> {
    if !is_ref(e) {
        return None;
    }
    let chain = Chain::of(e);
    if chain.root.is_empty() {
        return None;
    }
    let fields = chain
        .segments
        .iter()
        .map_while(|s| match s {
            Segment::Name(name) => Some(name.clone()),
            _ => None,
        })
        .collect();
    Some((chain.root, fields))
}

/// True for the expressions that make up a reference chain.
pub fn is_ref(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Var { .. } | Expr::RefDot { .. } | Expr::RefBrack { .. }
    )
}

/// `source` parsed as a v1 module, for the unit tests of the load-time rewrites.
#[cfg(test)]
pub fn parsed(source: &str) -> impl std::ops::Deref<Target = regorus::unstable::Module> {
    let mut engine = regorus::Engine::new();
    engine.add_policy("t.rego".into(), source.into()).unwrap();
    engine.get_modules()[0].clone()
}

/// Where `expr` starts in `source`, its parse. regorus' span of an object literal with more
/// than one field starts at its last key (its parser moves the start to each field it reads),
/// so an object starts at the `{` before its first field instead, and a reference into one
/// where the object starts.
pub fn expr_start(expr: &Expr, source: &str) -> usize {
    match expr {
        Expr::Object { span, fields, .. } => fields
            .first()
            .and_then(|(first, _, _)| source.get(..first.start as usize)?.rfind('{'))
            .unwrap_or(span.start as usize),
        Expr::RefDot { refr, .. } | Expr::RefBrack { refr, .. } => expr_start(refr, source),
        _ => expr.span().start as usize,
    }
}

/// A module's package path (`a.b` of `package a.b # c`) and its lines that may start a rule
/// (column 0, after a `default`), read from the text without parsing it: the cheap look the
/// rewrites that need the bundle's other modules take of them.
pub fn head_lines(text: &str) -> (String, Vec<&str>) {
    let mut package = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("package ") {
            package.get_or_insert_with(|| {
                path.split(['#', ' ', '\t'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
        } else if !line.starts_with("import ") {
            lines.push(line.strip_prefix("default ").unwrap_or(line));
        }
    }
    (package.unwrap_or_default(), lines)
}

/// Line and character column (both 1-based) where `span` starts.
pub fn span_position(span: &Span) -> (u32, u32) {
    let text = span.source.contents();
    let start = (span.start as usize).min(text.len());
    let before = text.get(..start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).unwrap_or_default().chars().count() as u32 + 1;
    (span.line, col)
}
