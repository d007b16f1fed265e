//! `authzd check --strict`: what OPA's strict mode flags, where the syntax tree can tell.
//!
//! Owns: unused imports, unused local variables (assigned with `:=` or declared with `some`
//! and never read), calls to OPA's deprecated builtins, and `not <ref> in` over a ref that may
//! be undefined (not OPA's, but the idiom that flips a `deny`). regorus has no strict mode of
//! its own, so these are read from its syntax tree: by name within a rule, which can miss a
//! variable shadowed in a nested comprehension but never flags a used one.

use std::collections::{BTreeMap, HashMap};

use regorus::unstable::{AssignOp, Expr, Literal, Module, Query, Ref, Rule, Span};

use super::Diagnostic;
use crate::policy::rego_ast::{Descend, Site, static_ref, walk_expr, walk_rule};

/// OPA's deprecated builtins and what replaces each.
const DEPRECATED: &[(&str, &str)] = &[
    ("any", "use `some x in xs` or a comprehension"),
    ("all", "use `every x in xs`"),
    ("re_match", "use regex.match"),
    ("set_diff", "use the `-` operator on sets"),
    ("net.cidr_overlap", "use net.cidr_contains"),
    ("cast_array", "use a comprehension or type checks"),
    ("cast_set", "use a set comprehension"),
    ("cast_string", "use a type check"),
    ("cast_boolean", "use a type check"),
    ("cast_null", "use a type check"),
    ("cast_object", "use a type check"),
];

/// The strict-mode findings of one module, in source order.
pub fn lint(module: &Module) -> Vec<Diagnostic> {
    let mut out = unused_imports(module);
    for rule in &module.policy {
        out.extend(unused_locals(rule));
        out.extend(deprecated_calls(rule));
        out.extend(negated_membership(rule));
    }
    out.sort_by_key(|d| (d.line, d.col));
    out
}

fn at(span: &Span, message: String) -> Diagnostic {
    let (line, col) = crate::policy::rego_ast::span_position(span);
    Diagnostic {
        file: span.source.file().to_string(),
        line,
        col,
        message,
    }
}

/// What replaces `name` when it is one of OPA's deprecated builtins.
pub fn deprecated(name: &str) -> Option<&'static str> {
    DEPRECATED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, instead)| *instead)
}

/// Counts every `Var` of `rule` (heads and `with` targets included) into `uses`.
fn count_vars(rule: &Rule, uses: &mut HashMap<String, usize>) {
    walk_rule(rule, &mut |site| {
        if let Site::Expr(Expr::Var { span, .. }) = site {
            *uses.entry(span.text().to_string()).or_default() += 1;
        }
        Descend::Yes
    });
}

fn unused_imports(module: &Module) -> Vec<Diagnostic> {
    let mut uses = HashMap::new();
    for rule in &module.policy {
        count_vars(rule, &mut uses);
    }
    let mut out = Vec::new();
    for import in &module.imports {
        let Some((root, fields)) = static_ref(&import.refr) else {
            continue;
        };
        // `future.keywords` and `rego.v1` switch syntax on; they bind no name.
        if root == "future" || root == "rego" {
            continue;
        }
        let alias = match &import.r#as {
            Some(span) => span.text().to_string(),
            None => fields.last().cloned().unwrap_or(root.clone()),
        };
        if !uses.contains_key(&alias) {
            out.push(at(
                &import.span,
                format!("import {} unused", import.refr.span().text()),
            ));
        }
    }
    out
}

/// The variables a rule introduces (`x := ...`, `[a, b] := ...`, `some x`, `some k, v in`).
#[derive(Default)]
struct Definitions {
    /// name -> where it is introduced, and how many of the rule's `Var`s are that
    /// introduction itself.
    found: BTreeMap<String, (Span, &'static str, usize)>,
    /// Queries already read: a comprehension inside a comprehension is found twice.
    seen: std::collections::BTreeSet<Ref<Query>>,
}

impl Definitions {
    fn add(&mut self, name: &str, span: &Span, what: &'static str) {
        if name == "_" || name.starts_with('$') {
            return;
        }
        let entry = self
            .found
            .entry(name.to_string())
            .or_insert((span.clone(), what, 0));
        entry.2 += 1;
    }

    fn add_pattern(&mut self, e: &Expr, what: &'static str) {
        match e {
            Expr::Var { span, .. } => self.add(span.text(), span, what),
            Expr::Array { items, .. } => {
                for item in items {
                    self.add_pattern(item, what);
                }
            }
            Expr::Object { fields, .. } => {
                for (_, _, value) in fields {
                    self.add_pattern(value, what);
                }
            }
            _ => {}
        }
    }

    fn query(&mut self, q: &Ref<Query>) {
        if !self.seen.insert(q.clone()) {
            return;
        }
        for stmt in &q.stmts {
            match &stmt.literal {
                Literal::Expr { expr, .. } => {
                    if let Expr::AssignExpr {
                        op: AssignOp::ColEq,
                        lhs,
                        ..
                    } = expr.as_ref()
                    {
                        self.add_pattern(lhs, "assigned");
                    }
                }
                Literal::SomeVars { vars, .. } => {
                    for var in vars {
                        // A `some x` is not a `Var` expression: it adds no use to discount.
                        if var.text() != "_" {
                            self.found.entry(var.text().to_string()).or_insert((
                                var.clone(),
                                "declared",
                                0,
                            ));
                        }
                    }
                }
                Literal::SomeIn { key, value, .. } => {
                    if let Some(key) = key {
                        self.add_pattern(key, "declared");
                    }
                    self.add_pattern(value, "declared");
                }
                Literal::NotExpr { .. } | Literal::Every { .. } => {}
            }
            // Nested queries (comprehensions, `every`) introduce their own variables.
            let mut nested: Vec<Ref<Query>> = Vec::new();
            let mut comprehensions = |site: Site<'_>| {
                if let Site::Expr(
                    Expr::ArrayCompr { query, .. }
                    | Expr::SetCompr { query, .. }
                    | Expr::ObjectCompr { query, .. },
                ) = site
                {
                    nested.push(query.clone());
                }
                Descend::Yes
            };
            match &stmt.literal {
                Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } => {
                    walk_expr(expr, &mut comprehensions)
                }
                Literal::SomeIn { collection, .. } => walk_expr(collection, &mut comprehensions),
                Literal::Every { query, .. } => self.query(query),
                Literal::SomeVars { .. } => {}
            }
            for q in nested {
                self.query(&q);
            }
        }
    }
}

fn unused_locals(rule: &Rule) -> Vec<Diagnostic> {
    let Rule::Spec { bodies, .. } = rule else {
        return Vec::new();
    };
    let mut definitions = Definitions::default();
    for body in bodies {
        definitions.query(&body.query);
    }
    if definitions.found.is_empty() {
        return Vec::new();
    }
    let mut uses = HashMap::new();
    count_vars(rule, &mut uses);
    let mut out: Vec<Diagnostic> = definitions
        .found
        .into_iter()
        .filter(|(name, (_, _, introductions))| {
            uses.get(name).copied().unwrap_or(0) <= *introductions
        })
        .map(|(name, (span, what, _))| at(&span, format!("{what} var {name} unused")))
        .collect();
    out.sort_by_key(|d| (d.line, d.col));
    out
}

fn deprecated_calls(rule: &Rule) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    walk_rule(rule, &mut |site| {
        if let Site::Expr(Expr::Call { span, fcn, .. }) = site
            && let Some((root, fields)) = static_ref(fcn)
        {
            let name = std::iter::once(root.as_str())
                .chain(fields.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(".");
            if let Some(instead) = deprecated(&name) {
                found.push(at(
                    span,
                    format!("deprecated built-in function {name}: {instead}"),
                ));
            }
        }
        Descend::Yes
    });
    found
}

/// `not <ref> in <collection>`: when the ref is undefined the whole body is (as in OPA), so a
/// `deny` written this way does not fire on a missing value. Flagged so the author says what a
/// missing value means.
fn negated_membership(rule: &Rule) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    crate::policy::negation::for_each_negation(rule, &mut |_, expr| {
        if let Expr::Membership { span, value, .. } = expr
            && matches!(
                value.as_ref(),
                Expr::RefDot { .. } | Expr::RefBrack { .. } | Expr::Var { .. }
            )
        {
            let what = value.span().text();
            found.push(at(
                span,
                format!(
                    "`not {what} in ...` is undefined, not true, when {what} is undefined (as in OPA): \
                     this body does not hold for a missing value; test for it explicitly \
                     (`not {what}`) if it should"
                ),
            ));
        }
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_not_in_over_a_ref_that_may_be_undefined() {
        let found = lint_text(
            "package p\nimport rego.v1\ndeny if not input.ip in {\"a\"}\nok if not \"b\" in {\"a\"}\n",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("p.rego:3:13: `not input.ip in ...` is undefined"),
            "{found:?}"
        );
    }

    fn lint_text(text: &str) -> Vec<String> {
        let mut engine = regorus::Engine::new();
        engine.add_policy("p.rego".into(), text.into()).unwrap();
        let module = engine.get_modules()[0].clone();
        lint(&module).into_iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn flags_unused_imports_and_locals_with_positions() {
        let found = lint_text(concat!(
            "package p\n",
            "import data.lib.identity\n",
            "import data.lib.used\n",
            "import rego.v1\n",
            "allow if {\n",
            "\tx := 1\n",
            "\ty := 2\n",
            "\ty > 1\n",
            "\tused.ok\n",
            "\tsome z\n",
            "\tnames := [n | some n in input.names]\n",
            "\tcount(names) > 0\n",
            "}\n",
        ));
        assert_eq!(
            found,
            vec![
                "p.rego:2:1: import data.lib.identity unused",
                "p.rego:6:2: assigned var x unused",
                "p.rego:10:7: declared var z unused",
            ]
        );
    }

    #[test]
    fn used_variables_and_destructuring() {
        let found = lint_text(concat!(
            "package p\n",
            "deny contains msg if {\n",
            "\t[a, b] := [1, 2]\n",
            "\tmsg := sprintf(\"%v\", [a])\n",
            "}\n",
            "f(x) := y if { y := x + 1 }\n",
        ));
        assert_eq!(found, vec!["p.rego:3:6: assigned var b unused"]);
    }
}
