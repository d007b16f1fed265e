//! `rego.parse_module(filename, text)`: a Rego module as OPA's AST JSON, the shape OPA's
//! `ast.Module` marshals to (what meta-policies and linters written in Rego read).
//!
//! Owns: converting regorus' parse of the module into OPA's shapes: terms as `{"type",
//! "value"}` (refs, calls, comprehensions, sets and objects in OPA's order), operators as the
//! calls OPA's parser makes of them (`equal`, `assign`, `internal.member_2`, ...), body
//! expressions with `index`, `negated` and `with`, `some` and `every`, rule heads (`name`,
//! `ref`, `key`, `value`, `args`, `assign`), `default`, `else` chains, imports, and comments
//! with their location. Wildcards are renamed `$0`, `$1`, ... in source order, as OPA's parser
//! does. Rego v1 only; annotations are not parsed out of comments (OPA's builtin does not
//! either).

use std::collections::BTreeMap;

use base64::Engine as _;
use regorus::unstable::{
    ArithOp, AssignOp, BinOp, BoolOp, Expr, Literal, LiteralStmt, Module, Query, Rule, RuleHead,
};
use regorus::{Engine, Value};

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "rego.parse_module",
    nargs: 2,
    eval: parse_module,
}];

fn parse_module(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(file)), Some(Value::String(text))) = (args.first(), args.get(1)) else {
        return builtin_error("rego.parse_module: operands 1 and 2 must be strings");
    };
    // A lone surrogate escape is U+FFFD, as OPA's parser reads it; the text keeps its columns.
    let text = crate::bundle::surrogates::rewrite(text).unwrap_or_else(|| text.to_string());
    let mut engine = Engine::new();
    engine.set_rego_v0(false);
    if let Err(e) = engine.add_policy(file.to_string(), text.clone()) {
        return builtin_error(format!(
            "rego.parse_module: 1 error occurred: {}",
            e.to_string().trim()
        ));
    }
    let Some(module) = engine.get_modules().first().cloned() else {
        return builtin_error("rego.parse_module: the module did not parse");
    };
    Ok(Converter::default().module(&module, file, &text))
}

/// One module's conversion; numbers the wildcards as it goes.
#[derive(Default)]
struct Converter {
    wildcards: usize,
}

fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::from(
        members
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect::<BTreeMap<Value, Value>>(),
    )
}

fn term(kind: &str, value: Value) -> Value {
    obj(vec![("type", Value::from(kind)), ("value", value)])
}

fn string(s: &str) -> Value {
    term("string", Value::from(s))
}

fn var(name: &str) -> Value {
    term("var", Value::from(name))
}

fn list(items: Vec<Value>) -> Value {
    Value::from(items)
}

/// `{"type": "ref", "value": [var name, "seg", ...]}` for a builtin's dotted name.
fn name_ref(name: &str) -> Value {
    let mut parts = name.split('.');
    let mut items = vec![var(parts.next().unwrap_or(name))];
    items.extend(parts.map(string));
    term("ref", list(items))
}

impl Converter {
    fn module(&mut self, module: &Module, file: &str, text: &str) -> Value {
        let mut members = vec![(
            "package",
            obj(vec![("path", self.package_path(&module.package.refr))]),
        )];
        if !module.imports.is_empty() {
            let imports = module
                .imports
                .iter()
                .map(|import| {
                    let mut m = vec![("path", self.term(&import.refr))];
                    if let Some(alias) = &import.r#as {
                        m.push(("alias", Value::from(alias.text())));
                    }
                    obj(m)
                })
                .collect();
            members.push(("imports", list(imports)));
        }
        let rules: Vec<Value> = module.policy.iter().map(|r| self.rule(r)).collect();
        if !rules.is_empty() {
            members.push(("rules", list(rules)));
        }
        let comments = comments(file, text);
        if !comments.is_empty() {
            members.push(("comments", list(comments)));
        }
        obj(members)
    }

    /// `package a.b` as `[var data, "a", "b"]`: the package's first name, a var in its ref,
    /// is a string in OPA's path.
    fn package_path(&mut self, refr: &Expr) -> Value {
        let mut items = vec![var("data")];
        for part in self.ref_items(refr) {
            match field(&part, "value") {
                Some(name) if is_term_of(&part, "var") => items.push(term("string", name)),
                _ => items.push(part),
            }
        }
        list(items)
    }

    fn rule(&mut self, rule: &Rule) -> Value {
        match rule {
            Rule::Default {
                refr,
                args,
                value,
                op,
                ..
            } => {
                let kind = if args.is_empty() {
                    HeadKind::Value {
                        assigns: matches!(op, AssignOp::ColEq),
                    }
                } else {
                    HeadKind::Function
                };
                let mut head = self.head_ref(refr, kind, false);
                if !args.is_empty() {
                    head.push(("args", list(args.iter().map(|a| self.term(a)).collect())));
                }
                if matches!(op, AssignOp::ColEq) {
                    head.push(("assign", Value::Bool(true)));
                }
                head.push(("value", self.term(value)));
                obj(vec![
                    ("body", true_body()),
                    ("default", Value::Bool(true)),
                    ("head", obj(head)),
                ])
            }
            Rule::Spec { head, bodies, .. } => {
                let (head_members, assign) = self.head(head, !bodies.is_empty());
                // The rule's own body, then its `else` bodies, each nested in the one before.
                let mut chain: Vec<(Vec<(&str, Value)>, Value)> = Vec::new();
                let first_body = bodies
                    .iter()
                    .find(|b| !b.is_else)
                    .map(|b| self.query(&b.query))
                    .unwrap_or_else(true_body);
                chain.push((head_members.clone(), first_body));
                for body in bodies.iter().filter(|b| b.is_else) {
                    let mut else_head: Vec<(&str, Value)> = head_members
                        .iter()
                        .filter(|(k, _)| *k != "value" && *k != "assign")
                        .cloned()
                        .collect();
                    let value = match &body.assign {
                        Some(a) => {
                            if matches!(a.op, AssignOp::ColEq) {
                                else_head.push(("assign", Value::Bool(true)));
                            }
                            self.term(&a.value)
                        }
                        None => {
                            if assign {
                                else_head.push(("assign", Value::Bool(true)));
                            }
                            term("boolean", Value::Bool(true))
                        }
                    };
                    else_head.push(("value", value));
                    let body = self.query(&body.query);
                    chain.push((else_head, body));
                }
                let mut nested: Option<Value> = None;
                while let Some((head, body)) = chain.pop() {
                    let mut members = vec![("body", body), ("head", obj(head))];
                    if let Some(inner) = nested.take() {
                        members.push(("else", inner));
                    }
                    nested = Some(obj(members));
                }
                nested.unwrap_or(Value::Null)
            }
        }
    }

    /// A head's members, and whether it assigns with `:=`.
    fn head(&mut self, head: &RuleHead, has_body: bool) -> (Vec<(&'static str, Value)>, bool) {
        match head {
            RuleHead::Compr { refr, assign, .. } => {
                let assigns = assign
                    .as_ref()
                    .is_some_and(|a| matches!(a.op, AssignOp::ColEq));
                let mut members = self.head_ref(
                    refr,
                    HeadKind::Value {
                        assigns: assign.is_some(),
                    },
                    has_body,
                );
                let value = match assign {
                    Some(a) => self.term(&a.value),
                    None => term("boolean", Value::Bool(true)),
                };
                if assigns {
                    members.push(("assign", Value::Bool(true)));
                }
                members.push(("value", value));
                (members, assigns)
            }
            RuleHead::Set { refr, key, .. } => {
                let mut members = self.head_ref(refr, HeadKind::Set, has_body);
                if let Some(key) = key {
                    members.push(("key", self.term(key)));
                }
                (members, false)
            }
            RuleHead::Func {
                refr, args, assign, ..
            } => {
                let mut members = self.head_ref(refr, HeadKind::Function, has_body);
                members.push(("args", list(args.iter().map(|a| self.term(a)).collect())));
                let assigns = assign
                    .as_ref()
                    .is_some_and(|a| matches!(a.op, AssignOp::ColEq));
                if assigns {
                    members.push(("assign", Value::Bool(true)));
                }
                let value = match assign {
                    Some(a) => self.term(&a.value),
                    None => term("boolean", Value::Bool(true)),
                };
                members.push(("value", value));
                (members, assigns)
            }
        }
    }

    /// A head's `name`, `key` (for the kinds of head OPA's parser gives them) and `ref`. A
    /// one-segment head is named. Of two segments: one with a value is named, and its second
    /// segment is its `key` when it has no body or that segment is a variable or a ref (the
    /// legacy partial object `p[k] := v`); `g[x] if` has the key `x` and no name; a function
    /// is named when it has a body.
    fn head_ref(
        &mut self,
        refr: &Expr,
        kind: HeadKind,
        has_body: bool,
    ) -> Vec<(&'static str, Value)> {
        let items = self.ref_items(refr);
        let mut members = Vec::new();
        let two = items.len() == 2;
        let named = items.len() == 1
            || (two
                && match kind {
                    HeadKind::Value { assigns } => assigns,
                    HeadKind::Set => false,
                    HeadKind::Function => has_body,
                });
        if named && let Some(name) = items.first().and_then(term_text) {
            members.push(("name", Value::from(name)));
        }
        if let (HeadKind::Value { assigns }, [_, last]) = (kind, items.as_slice()) {
            let keyed = if assigns {
                !has_body || is_term_of(last, "var") || is_term_of(last, "ref")
            } else {
                is_term_of(last, "var")
            };
            if keyed {
                members.push(("key", last.clone()));
            }
        }
        members.push(("ref", list(items)));
        members
    }

    fn query(&mut self, query: &Query) -> Value {
        let stmts: Vec<Value> = query
            .stmts
            .iter()
            .enumerate()
            .map(|(i, s)| self.statement(i, s))
            .collect();
        if stmts.is_empty() {
            return true_body();
        }
        list(stmts)
    }

    fn statement(&mut self, index: usize, stmt: &LiteralStmt) -> Value {
        let mut members = vec![("index", Value::from(index as u64))];
        let terms = match &stmt.literal {
            Literal::SomeVars { vars, .. } => obj(vec![(
                "symbols",
                list(vars.iter().map(|v| var(v.text())).collect()),
            )]),
            Literal::SomeIn {
                key,
                value,
                collection,
                ..
            } => {
                let call = self.membership(key.as_deref(), value, collection);
                obj(vec![("symbols", list(vec![term("call", call)]))])
            }
            Literal::Expr { expr, .. } => self.statement_terms(expr),
            Literal::NotExpr { expr, .. } => {
                members.push(("negated", Value::Bool(true)));
                self.statement_terms(expr)
            }
            Literal::Every {
                key,
                value,
                domain,
                query,
                ..
            } => {
                let key = key.as_ref().map_or(Value::Null, |k| var(k.text()));
                obj(vec![
                    ("body", self.query(query)),
                    ("domain", self.term(domain)),
                    ("key", key),
                    ("value", var(value.text())),
                ])
            }
        };
        members.push(("terms", terms));
        if !stmt.with_mods.is_empty() {
            let with = stmt
                .with_mods
                .iter()
                .map(|w| {
                    obj(vec![
                        ("target", self.term(&w.refr)),
                        ("value", self.term(&w.r#as)),
                    ])
                })
                .collect();
            members.push(("with", list(with)));
        }
        obj(members)
    }

    /// A body expression's terms: an operator or call as `[operator, operands...]`, anything
    /// else as its term.
    fn statement_terms(&mut self, expr: &Expr) -> Value {
        match self.call_parts(expr) {
            Some(parts) => list(parts),
            None => self.term(expr),
        }
    }

    /// `[operator ref, operands...]` for the expressions OPA represents as calls.
    fn call_parts(&mut self, expr: &Expr) -> Option<Vec<Value>> {
        let (name, operands): (&str, Vec<&Expr>) = match expr {
            Expr::Call { fcn, params, .. } => {
                let mut parts = vec![self.term(fcn)];
                if !is_term_of(&parts[0], "ref") {
                    parts[0] = term("ref", list(vec![parts[0].clone()]));
                }
                parts.extend(params.iter().map(|p| self.term(p)));
                return Some(parts);
            }
            Expr::BoolExpr { op, lhs, rhs, .. } => (
                match op {
                    BoolOp::Lt => "lt",
                    BoolOp::Le => "lte",
                    BoolOp::Eq => "equal",
                    BoolOp::Ge => "gte",
                    BoolOp::Gt => "gt",
                    BoolOp::Ne => "neq",
                },
                vec![lhs, rhs],
            ),
            Expr::ArithExpr { op, lhs, rhs, .. } => (
                match op {
                    ArithOp::Add => "plus",
                    ArithOp::Sub => "minus",
                    ArithOp::Mul => "mul",
                    ArithOp::Div => "div",
                    ArithOp::Mod => "rem",
                },
                vec![lhs, rhs],
            ),
            Expr::BinExpr { op, lhs, rhs, .. } => (
                match op {
                    BinOp::Union => "or",
                    BinOp::Intersection => "and",
                },
                vec![lhs, rhs],
            ),
            Expr::AssignExpr { op, lhs, rhs, .. } => (
                match op {
                    AssignOp::Eq => "eq",
                    AssignOp::ColEq => "assign",
                },
                vec![lhs, rhs],
            ),
            Expr::Membership {
                key,
                value,
                collection,
                ..
            } => {
                let call = self.membership(key.as_deref(), value, collection);
                let Value::Array(parts) = call else {
                    return None;
                };
                return Some(parts.to_vec());
            }
            Expr::UnaryExpr { expr: inner, .. } if !matches!(&**inner, Expr::Number { .. }) => {
                let zero = term("number", Value::from(0u64));
                let operand = self.term(inner);
                return Some(vec![name_ref("minus"), zero, operand]);
            }
            _ => return None,
        };
        let mut parts = vec![name_ref(name)];
        parts.extend(operands.into_iter().map(|o| self.term(o)));
        Some(parts)
    }

    /// `internal.member_2(x, xs)` / `internal.member_3(k, v, xs)` as a call's parts.
    fn membership(&mut self, key: Option<&Expr>, value: &Expr, collection: &Expr) -> Value {
        let mut parts = vec![name_ref(if key.is_some() {
            "internal.member_3"
        } else {
            "internal.member_2"
        })];
        if let Some(key) = key {
            parts.push(self.term(key));
        }
        parts.push(self.term(value));
        parts.push(self.term(collection));
        list(parts)
    }

    fn term(&mut self, expr: &Expr) -> Value {
        if let Some(parts) = self.call_parts(expr) {
            return term("call", list(parts));
        }
        match expr {
            Expr::String { value, .. } | Expr::RawString { value, .. } => {
                term("string", value.clone())
            }
            Expr::Number { value, .. } => term("number", value.clone()),
            Expr::Bool { value, .. } => term("boolean", value.clone()),
            // OPA marshals null's (empty) value as `{}`.
            Expr::Null { .. } => term("null", Value::new_object()),
            Expr::Var { value, .. } => {
                // The root documents are refs in OPA's AST, even alone.
                if value
                    .as_string()
                    .is_ok_and(|s| &**s == "input" || &**s == "data")
                {
                    return term("ref", list(vec![term("var", value.clone())]));
                }
                if value.as_string().is_ok_and(|s| &**s == "_") {
                    let name = format!("${}", self.wildcards);
                    self.wildcards += 1;
                    var(&name)
                } else {
                    term("var", value.clone())
                }
            }
            Expr::UnaryExpr { expr: inner, .. } => match &**inner {
                Expr::Number { value, .. } => {
                    let negated = if let Ok(i) = value.as_i64() {
                        Value::from(-i)
                    } else {
                        value.as_f64().map_or(Value::Null, |f| Value::from(-f))
                    };
                    term("number", negated)
                }
                other => self.term(other),
            },
            Expr::Array { items, .. } => {
                term("array", list(items.iter().map(|i| self.term(i)).collect()))
            }
            Expr::Set { items, .. } => {
                let mut items: Vec<(Value, Value)> = items
                    .iter()
                    .map(|i| (literal_value(i), self.term(i)))
                    .collect();
                items.sort_by(|a, b| super::template_string::opa_order(&a.0, &b.0));
                term("set", list(items.into_iter().map(|(_, t)| t).collect()))
            }
            Expr::Object { fields, .. } => {
                let mut pairs: Vec<(Value, Value)> = fields
                    .iter()
                    .map(|(_, k, v)| {
                        let key = self.term(k);
                        (literal_value(k), list(vec![key, self.term(v)]))
                    })
                    .collect();
                pairs.sort_by(|a, b| super::template_string::opa_order(&a.0, &b.0));
                term("object", list(pairs.into_iter().map(|(_, p)| p).collect()))
            }
            Expr::ArrayCompr { term: t, query, .. } => {
                let t = self.term(t);
                let body = self.query(query);
                term("arraycomprehension", obj(vec![("body", body), ("term", t)]))
            }
            Expr::SetCompr { term: t, query, .. } => {
                let t = self.term(t);
                let body = self.query(query);
                term("setcomprehension", obj(vec![("body", body), ("term", t)]))
            }
            Expr::ObjectCompr {
                key, value, query, ..
            } => {
                let k = self.term(key);
                let v = self.term(value);
                let body = self.query(query);
                term(
                    "objectcomprehension",
                    obj(vec![("body", body), ("key", k), ("value", v)]),
                )
            }
            Expr::RefDot { .. } | Expr::RefBrack { .. } => term("ref", list(self.ref_items(expr))),
            // Handled as calls above.
            _ => Value::Null,
        }
    }

    /// A ref's terms: its head, then each segment (`.x` as a string).
    fn ref_items(&mut self, expr: &Expr) -> Vec<Value> {
        match expr {
            Expr::RefDot { refr, field, .. } => {
                let mut items = self.ref_items(refr);
                items.push(term("string", field.1.clone()));
                items
            }
            Expr::RefBrack { refr, index, .. } => {
                let mut items = self.ref_items(refr);
                items.push(self.term(index));
                items
            }
            other => {
                let head = self.term(other);
                // A ref on a ref (`f(x).y` is a call head): keep its items flat.
                match field(&head, "value") {
                    Some(Value::Array(items)) if is_term_of(&head, "ref") => items.to_vec(),
                    _ => vec![head],
                }
            }
        }
    }
}

/// What a rule head defines, for [`Converter::head_ref`].
#[derive(Clone, Copy)]
enum HeadKind {
    /// A complete or object rule; `assigns` when it has a value (`:=` or `=`).
    Value {
        assigns: bool,
    },
    /// A partial set (`contains`).
    Set,
    Function,
}

/// The body OPA gives a rule without one: `[true]`.
fn true_body() -> Value {
    list(vec![obj(vec![
        ("index", Value::from(0u64)),
        ("terms", term("boolean", Value::Bool(true))),
    ])])
}

/// A member of a term (`"type"`, `"value"`) this module built.
fn field(t: &Value, name: &str) -> Option<Value> {
    t.as_object().ok()?.get(&Value::from(name)).cloned()
}

fn is_term_of(t: &Value, kind: &str) -> bool {
    field(t, "type") == Some(Value::from(kind))
}

fn term_text(t: &Value) -> Option<String> {
    field(t, "value")?.as_string().ok().map(|s| s.to_string())
}

/// A literal term's value, for ordering set members and object keys as OPA does; a
/// non-literal sorts as a string of its source.
fn literal_value(expr: &Expr) -> Value {
    match expr {
        Expr::String { value, .. }
        | Expr::RawString { value, .. }
        | Expr::Number { value, .. }
        | Expr::Bool { value, .. } => value.clone(),
        Expr::Null { .. } => Value::Null,
        other => {
            // Vars and refs sort after every scalar: OPA orders a var before a ref, both after
            // strings; keep source order among them.
            let text = other.span().text().to_string();
            Value::from(vec![Value::from(text)])
        }
    }
}

/// Every comment of `text` (outside strings), with OPA's location and its text after `#` in
/// base64, as OPA's `ast.Comment` marshals.
fn comments(file: &str, text: &str) -> Vec<Value> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let (mut line, mut line_start, mut i) = (1usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                let body = text.get(i + 1..end).unwrap_or("");
                found.push(obj(vec![
                    (
                        "Location",
                        obj(vec![
                            ("col", Value::from((i - line_start + 1) as u64)),
                            ("file", Value::from(file)),
                            ("row", Value::from(line as u64)),
                        ]),
                    ),
                    (
                        "Text",
                        Value::from(base64::engine::general_purpose::STANDARD.encode(body)),
                    ),
                ]));
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_strings_with_their_location() {
        let text = "package a # one\nx := \"# not\" # two\ny := `#\n# raw` #three\n";
        let found = comments("m.rego", text);
        let got: Vec<(u64, u64, String)> = found
            .iter()
            .map(|c| {
                let location = &c["Location"];
                let text = c["Text"].as_string().unwrap().to_string();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap();
                (
                    location["row"].as_u64().unwrap(),
                    location["col"].as_u64().unwrap(),
                    String::from_utf8(decoded).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, 11, " one".to_string()),
                (2, 14, " two".to_string()),
                (4, 8, "three".to_string())
            ]
        );
    }

    #[test]
    fn a_module_that_does_not_parse_is_a_builtin_error() {
        let args = vec![Value::from("m.rego"), Value::from("package")];
        assert_eq!(parse_module(args.clone()).unwrap(), Value::Undefined);
        let strict = super::super::with_strict_errors(true, || parse_module(args));
        assert!(
            strict
                .unwrap_err()
                .to_string()
                .contains("rego.parse_module")
        );
    }
}
