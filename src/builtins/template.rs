//! `strings.render_template`: Go's `text/template` as OPA runs it, on Rego values converted the
//! way OPA converts them (numbers become Go's `json.Number`, a string type: they print as
//! written, are always true in `if`, compare as strings, and `printf "%d"` refuses them; a
//! missing key or a null prints `<undefined>`).
//!
//! Owns: a subset of `text/template`: text and actions with `{{-`/`-}}` trimming and comments;
//! pipelines with `|`, fields, variables (`:=`, `=`), literals and parentheses; `if`/`else
//! if`/`else`, `range` (arrays, objects in key order, `else`, `break`, `continue`), `with`;
//! the functions `and or not len index print printf println eq ne lt le gt ge html js
//! urlquery`. No crate covers these semantics (`gtmpl` ranges maps in hash order and prints
//! composites as Rust debug output), so it is written here. Not supported: `define`,
//! `template`, `block`, `slice`, `call` (an error says so).

use std::collections::BTreeMap;
use std::fmt::Write;

use regorus::Value;
use serde_json::Value as Json;

use super::sprintf::Operand as FmtOperand;
use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "strings.render_template",
    nargs: 2,
    eval: render_template,
}];

const NAME: &str = "strings.render_template";

/// A Go value as the template sees it.
#[derive(Clone, Debug, PartialEq)]
enum V {
    /// A missing map key or a nil interface: prints as OPA's `<undefined>`.
    NoValue,
    Nil,
    Bool(bool),
    Str(String),
    /// `json.Number`: a string holding the number as written.
    Num(String),
    Int(i64),
    Float(f64),
    Arr(Vec<V>),
    Map(BTreeMap<String, V>),
}

fn from_json(j: &Json) -> V {
    match j {
        Json::Null => V::Nil,
        Json::Bool(b) => V::Bool(*b),
        Json::Number(n) => V::Num(n.to_string()),
        Json::String(s) => V::Str(s.clone()),
        Json::Array(a) => V::Arr(a.iter().map(from_json).collect()),
        Json::Object(o) => V::Map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

fn go_float(f: f64) -> String {
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust: 1e21, 1.5e-7; Go: 1e+21, 1.5e-07.
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            return format!("{m}e{sign}{digits:0>2}");
        }
        return s;
    }
    format!("{f}")
}

/// Go's `%v` (`nested`: inside a slice or map, where nil is `<nil>`).
fn show(v: &V, nested: bool) -> String {
    match v {
        V::NoValue if nested => "<no value>".into(),
        V::NoValue => "<undefined>".into(),
        V::Nil if nested => "<nil>".into(),
        V::Nil => "<undefined>".into(),
        V::Bool(b) => b.to_string(),
        V::Str(s) | V::Num(s) => s.clone(),
        V::Int(i) => i.to_string(),
        V::Float(f) => go_float(*f),
        V::Arr(a) => {
            let items: Vec<String> = a.iter().map(|x| show(x, true)).collect();
            format!("[{}]", items.join(" "))
        }
        V::Map(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, x)| format!("{k}:{}", show(x, true)))
                .collect();
            format!("map[{}]", items.join(" "))
        }
    }
}

/// Go's template truth: empty and zero values are false; a `json.Number` is a non-empty string.
fn truth(v: &V) -> bool {
    match v {
        V::NoValue | V::Nil => false,
        V::Bool(b) => *b,
        V::Str(s) | V::Num(s) => !s.is_empty(),
        V::Int(i) => *i != 0,
        V::Float(f) => *f != 0.0,
        V::Arr(a) => !a.is_empty(),
        V::Map(m) => !m.is_empty(),
    }
}

fn go_type(v: &V) -> &'static str {
    match v {
        V::NoValue | V::Nil => "<nil>",
        V::Bool(_) => "bool",
        V::Str(_) => "string",
        V::Num(_) => "json.Number",
        V::Int(_) => "int",
        V::Float(_) => "float64",
        V::Arr(_) => "[]interface {}",
        V::Map(_) => "map[string]interface {}",
    }
}

// ---------------------------------------------------------------- parsing

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Dot,
    /// `.name`, and whether it follows the previous token without a space (a field chain).
    Field(String, bool),
    Var(String),
    Str(String),
    Number(String),
    Char(i64),
    Ident(String),
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

fn lex_action(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut spaced = true;
    while let Some(&c) = chars.get(i) {
        if c.is_whitespace() {
            spaced = true;
            i += 1;
            continue;
        }
        let start = i;
        let ident_end = |mut j: usize| {
            while chars
                .get(j)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                j += 1;
            }
            j
        };
        match c {
            '.' if chars
                .get(i + 1)
                .is_some_and(|c| c.is_alphabetic() || *c == '_') =>
            {
                let end = ident_end(i + 1);
                let name: String = chars.get(i + 1..end).unwrap_or(&[]).iter().collect();
                toks.push(Tok::Field(name, !spaced));
                i = end;
            }
            '.' if !chars.get(i + 1).is_some_and(char::is_ascii_digit) => {
                toks.push(Tok::Dot);
                i += 1;
            }
            '$' => {
                let end = ident_end(i + 1);
                let name: String = chars.get(i..end).unwrap_or(&[]).iter().collect();
                toks.push(Tok::Var(name));
                i = end;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated quoted string".into()),
                        Some('"') => break,
                        Some('\\') => {
                            i += 1;
                            match chars.get(i) {
                                Some('n') => s.push('\n'),
                                Some('t') => s.push('\t'),
                                Some('r') => s.push('\r'),
                                Some(&c) => s.push(c),
                                None => return Err("unterminated quoted string".into()),
                            }
                        }
                        Some(&c) => s.push(c),
                    }
                    i += 1;
                }
                i += 1;
                toks.push(Tok::Str(s));
            }
            '`' => {
                let end = chars
                    .iter()
                    .skip(i + 1)
                    .position(|c| *c == '`')
                    .ok_or("unterminated raw quoted string")?;
                toks.push(Tok::Str(
                    chars
                        .get(i + 1..i + 1 + end)
                        .unwrap_or(&[])
                        .iter()
                        .collect(),
                ));
                i += end + 2;
            }
            '\'' => {
                let c = chars
                    .get(i + 1)
                    .copied()
                    .ok_or("unterminated character constant")?;
                if chars.get(i + 2) != Some(&'\'') {
                    return Err("unterminated character constant".into());
                }
                toks.push(Tok::Char(i64::from(u32::from(c))));
                i += 3;
            }
            '(' => {
                toks.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                toks.push(Tok::RParen);
                i += 1;
            }
            '|' => {
                toks.push(Tok::Pipe);
                i += 1;
            }
            ',' => {
                toks.push(Tok::Comma);
                i += 1;
            }
            ':' if chars.get(i + 1) == Some(&'=') => {
                toks.push(Tok::Declare);
                i += 2;
            }
            '=' => {
                toks.push(Tok::Assign);
                i += 1;
            }
            c if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' => {
                let mut end = i + 1;
                while chars.get(end).is_some_and(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')
                }) {
                    end += 1;
                }
                toks.push(Tok::Number(
                    chars.get(i..end).unwrap_or(&[]).iter().collect(),
                ));
                i = end;
            }
            c if c.is_alphabetic() || c == '_' => {
                let end = ident_end(i);
                toks.push(Tok::Ident(
                    chars.get(i..end).unwrap_or(&[]).iter().collect(),
                ));
                i = end;
            }
            other => return Err(format!("unexpected {other:?} in command")),
        }
        spaced = false;
        debug_assert!(i > start);
    }
    Ok(toks)
}

#[derive(Clone, Debug)]
enum Term {
    Dot,
    Var(String),
    Lit(V),
    Func(String),
    Pipe(Box<Pipeline>),
}

#[derive(Clone, Debug)]
struct Operand {
    term: Term,
    fields: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct Pipeline {
    decl: Vec<String>,
    assign: bool,
    cmds: Vec<Vec<Operand>>,
}

fn parse_pipeline(toks: &[Tok]) -> Result<Pipeline, String> {
    let mut p = Pipeline::default();
    let mut i = 0;
    // Declarations: `$x :=`, `$x, $y :=`, `$x =`.
    let mut j = 0;
    let mut vars = Vec::new();
    while let Some(Tok::Var(v)) = toks.get(j) {
        vars.push(v.clone());
        j += 1;
        if toks.get(j) == Some(&Tok::Comma) {
            j += 1;
        } else {
            break;
        }
    }
    match toks.get(j) {
        Some(Tok::Declare) if !vars.is_empty() => {
            p.decl = vars;
            i = j + 1;
        }
        Some(Tok::Assign) if vars.len() == 1 => {
            p.decl = vars;
            p.assign = true;
            i = j + 1;
        }
        _ => {}
    }
    let mut cmd = Vec::new();
    while let Some(t) = toks.get(i) {
        match t {
            Tok::Pipe => {
                if cmd.is_empty() {
                    return Err("missing command".into());
                }
                p.cmds.push(std::mem::take(&mut cmd));
                i += 1;
            }
            _ => {
                let (operand, next) = parse_operand(toks, i)?;
                cmd.push(operand);
                i = next;
            }
        }
    }
    if cmd.is_empty() {
        return Err("missing value for command".into());
    }
    p.cmds.push(cmd);
    Ok(p)
}

fn parse_operand(toks: &[Tok], mut i: usize) -> Result<(Operand, usize), String> {
    let term = match toks.get(i) {
        Some(Tok::Dot) => Term::Dot,
        Some(Tok::Field(f, _)) => {
            i += 1;
            let mut fields = vec![f.clone()];
            while let Some(Tok::Field(f, true)) = toks.get(i) {
                fields.push(f.clone());
                i += 1;
            }
            return Ok((
                Operand {
                    term: Term::Dot,
                    fields,
                },
                i,
            ));
        }
        Some(Tok::Var(v)) => Term::Var(v.clone()),
        Some(Tok::Str(s)) => Term::Lit(V::Str(s.clone())),
        Some(Tok::Char(c)) => Term::Lit(V::Int(*c)),
        Some(Tok::Number(n)) => Term::Lit(number_literal(n)?),
        Some(Tok::Ident(id)) => match id.as_str() {
            "true" => Term::Lit(V::Bool(true)),
            "false" => Term::Lit(V::Bool(false)),
            "nil" => Term::Lit(V::Nil),
            _ => Term::Func(id.clone()),
        },
        Some(Tok::LParen) => {
            let mut depth = 0;
            let mut end = None;
            for (k, t) in toks.iter().enumerate().skip(i) {
                match t {
                    Tok::LParen => depth += 1,
                    Tok::RParen => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(k);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unclosed left paren")?;
            let inner = parse_pipeline(toks.get(i + 1..end).unwrap_or(&[]))?;
            i = end;
            Term::Pipe(Box::new(inner))
        }
        Some(other) => return Err(format!("unexpected {other:?} in operand")),
        None => return Err("missing operand".into()),
    };
    i += 1;
    let mut fields = Vec::new();
    while let Some(Tok::Field(f, true)) = toks.get(i) {
        fields.push(f.clone());
        i += 1;
    }
    Ok((Operand { term, fields }, i))
}

fn number_literal(n: &str) -> Result<V, String> {
    if let Ok(i) = n.parse::<i64>() {
        return Ok(V::Int(i));
    }
    if let Some(hex) = n.strip_prefix("0x").or_else(|| n.strip_prefix("0X"))
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Ok(V::Int(i));
    }
    n.parse::<f64>()
        .map(V::Float)
        .map_err(|_| format!("bad number syntax: {n:?}"))
}

#[derive(Debug)]
enum Node {
    Text(String),
    Action(Pipeline),
    If(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    With(Vec<(Pipeline, Vec<Node>)>, Vec<Node>),
    Range(Pipeline, Vec<Node>, Vec<Node>),
    Break,
    Continue,
}

/// A piece of the template: text, or the inside of an action.
enum Piece {
    Text(String),
    Action(String, usize),
}

fn split(src: &str) -> Result<Vec<Piece>, String> {
    let mut pieces = Vec::new();
    let mut rest = src;
    let mut trim_next = false;
    let mut line = 1;
    while let Some(open) = rest.find("{{") {
        let mut text = rest.get(..open).unwrap_or("").to_string();
        let after = rest.get(open + 2..).unwrap_or("");
        let trim_left =
            after.starts_with("- ") || after.starts_with("-\t") || after.starts_with("-\n");
        if trim_next {
            text = text.trim_start().to_string();
        }
        if trim_left {
            text = text.trim_end().to_string();
        }
        line += rest.get(..open).unwrap_or("").matches('\n').count();
        pieces.push(Piece::Text(text));
        let body_start = if trim_left { 1 } else { 0 };
        let body = after.get(body_start..).unwrap_or("");
        let close = find_close(body)
            .ok_or_else(|| format!("template: template:{line}: unclosed action"))?;
        let mut inner = body.get(..close).unwrap_or("");
        trim_next = inner.ends_with(" -") || inner.ends_with("\t-") || inner.ends_with("\n-");
        if trim_next {
            inner = inner.get(..inner.len() - 1).unwrap_or("");
        }
        let inner = inner.trim();
        if !(inner.starts_with("/*") && inner.ends_with("*/")) {
            pieces.push(Piece::Action(inner.to_string(), line));
        }
        line += body.get(..close).unwrap_or("").matches('\n').count();
        rest = body.get(close + 2..).unwrap_or("");
    }
    let text = if trim_next { rest.trim_start() } else { rest };
    pieces.push(Piece::Text(text.to_string()));
    Ok(pieces)
}

/// Where `}}` closes an action, outside quotes.
fn find_close(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match quote {
            Some(q) if b == b'\\' && q != b'`' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' || b == b'\'' => quote = Some(b),
            None if b == b'}' && bytes.get(i + 1) == Some(&b'}') => return Some(i),
            None if b == b'/' && bytes.get(i + 1) == Some(&b'*') => {
                let end = body.get(i..)?.find("*/")?;
                i += end + 1;
            }
            None => {}
        }
        i += 1;
    }
    None
}

fn parse(src: &str) -> Result<Vec<Node>, String> {
    let pieces = split(src)?;
    let mut iter = pieces.into_iter().peekable();
    let (nodes, end) = parse_list(&mut iter, 0)?;
    match end {
        None => Ok(nodes),
        Some((word, line)) => Err(format!(
            "template: template:{line}: unexpected {{{{{word}}}}}"
        )),
    }
}

type Pieces = std::iter::Peekable<std::vec::IntoIter<Piece>>;

/// A parsed list and what ended it: `end` or `else ...`, with its line, or the end of input.
type ParsedList = (Vec<Node>, Option<(String, usize)>);

/// Parses nodes up to an `end` or `else` (returned with its line), or the end of input.
fn parse_list(iter: &mut Pieces, depth: usize) -> Result<ParsedList, String> {
    let mut nodes = Vec::new();
    while let Some(piece) = iter.next() {
        let (action, line) = match piece {
            Piece::Text(t) => {
                if !t.is_empty() {
                    nodes.push(Node::Text(t));
                }
                continue;
            }
            Piece::Action(a, line) => (a, line),
        };
        let err = |m: &str| format!("template: template:{line}: {m}");
        let (word, rest) = match action.split_once(char::is_whitespace) {
            Some((w, r)) => (w.to_string(), r.trim().to_string()),
            None => (action.clone(), String::new()),
        };
        match word.as_str() {
            "end" | "else" if depth == 0 => return Err(err(&format!("unexpected {{{{{word}}}}}"))),
            "end" => return Ok((nodes, Some(("end".into(), line)))),
            "else" => {
                return Ok((
                    nodes,
                    Some((format!("else {rest}").trim().to_string(), line)),
                ));
            }
            "if" | "with" => {
                let mut branches = Vec::new();
                let mut cond = rest;
                let else_nodes = loop {
                    let pipe = parse_pipeline(&lex_action(&cond).map_err(|e| err(&e))?)
                        .map_err(|e| err(&e))?;
                    let (body, end) = parse_list(iter, depth + 1)?;
                    branches.push((pipe, body));
                    match end {
                        Some((e, _)) if e == "end" => break Vec::new(),
                        Some((e, _)) if e == "else" => {
                            let (body, end) = parse_list(iter, depth + 1)?;
                            match end {
                                Some((e, _)) if e == "end" => break body,
                                _ => return Err(err("expected end")),
                            }
                        }
                        Some((e, _)) if e.starts_with(&format!("else {word} ")) => {
                            cond = e.get(6 + word.len()..).unwrap_or("").to_string();
                        }
                        _ => return Err(err("unexpected EOF")),
                    }
                };
                nodes.push(if word == "if" {
                    Node::If(branches, else_nodes)
                } else {
                    Node::With(branches, else_nodes)
                });
            }
            "range" => {
                let pipe = parse_pipeline(&lex_action(&rest).map_err(|e| err(&e))?)
                    .map_err(|e| err(&e))?;
                let (body, end) = parse_list(iter, depth + 1)?;
                let else_nodes = match end {
                    Some((e, _)) if e == "end" => Vec::new(),
                    Some((e, _)) if e == "else" => match parse_list(iter, depth + 1)? {
                        (body, Some((e, _))) if e == "end" => body,
                        _ => return Err(err("expected end")),
                    },
                    _ => return Err(err("unexpected EOF")),
                };
                nodes.push(Node::Range(pipe, body, else_nodes));
            }
            "break" => nodes.push(Node::Break),
            "continue" => nodes.push(Node::Continue),
            "define" | "template" | "block" => {
                return Err(err(&format!("{word} is not supported by authzd")));
            }
            _ => {
                let pipe = parse_pipeline(&lex_action(&action).map_err(|e| err(&e))?)
                    .map_err(|e| err(&e))?;
                nodes.push(Node::Action(pipe));
            }
        }
    }
    Ok((nodes, None))
}

// ---------------------------------------------------------------- execution

enum Flow {
    Normal,
    Break,
    Continue,
}

struct Exec {
    out: String,
    /// Variable scopes, innermost last; `$` is the data.
    vars: Vec<Vec<(String, V)>>,
    steps: usize,
}

/// Rendering stops past this many steps (a template is data, not a program).
const MAX_STEPS: usize = 1_000_000;

impl Exec {
    fn lookup(&self, name: &str) -> Result<V, String> {
        self.vars
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("undefined variable: {name}"))
    }

    fn set(&mut self, name: &str, v: V, declare: bool) -> Result<(), String> {
        if declare {
            if let Some(scope) = self.vars.last_mut() {
                scope.push((name.to_string(), v));
            }
            return Ok(());
        }
        for scope in self.vars.iter_mut().rev() {
            if let Some(slot) = scope.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v;
                return Ok(());
            }
        }
        Err(format!("undefined variable: {name}"))
    }

    fn walk(&mut self, nodes: &[Node], dot: &V) -> Result<Flow, String> {
        for node in nodes {
            self.steps += 1;
            if self.steps > MAX_STEPS || self.out.len() > 16 << 20 {
                return Err("template too expensive to render".into());
            }
            match node {
                Node::Text(t) => self.out.push_str(t),
                Node::Action(p) => {
                    let v = self.pipeline(p, dot)?;
                    if p.decl.is_empty() {
                        let text = show(&v, false);
                        self.out.push_str(&text);
                    }
                }
                Node::If(branches, else_nodes) | Node::With(branches, else_nodes) => {
                    let with = matches!(node, Node::With(..));
                    let mut taken = false;
                    for (cond, body) in branches {
                        self.vars.push(Vec::new());
                        let v = self.pipeline(cond, dot)?;
                        if truth(&v) {
                            taken = true;
                            let flow = self.walk(body, if with { &v } else { dot })?;
                            self.vars.pop();
                            if !matches!(flow, Flow::Normal) {
                                return Ok(flow);
                            }
                            break;
                        }
                        self.vars.pop();
                    }
                    if !taken {
                        let flow = self.walk(else_nodes, dot)?;
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                    }
                }
                Node::Range(p, body, else_nodes) => {
                    let mut plain = p.clone();
                    let names = std::mem::take(&mut plain.decl);
                    let v = self.pipeline(&plain, dot)?;
                    let items: Vec<(V, V)> = match v {
                        V::Arr(a) => a
                            .into_iter()
                            .enumerate()
                            .map(|(i, x)| (V::Int(i64::try_from(i).unwrap_or(i64::MAX)), x))
                            .collect(),
                        V::Map(m) => m.into_iter().map(|(k, x)| (V::Str(k), x)).collect(),
                        V::NoValue | V::Nil => Vec::new(),
                        V::Int(n) => (0..n.max(0)).map(|i| (V::Int(i), V::Int(i))).collect(),
                        other => {
                            return Err(format!(
                                "range can't iterate over {}",
                                show(&other, false)
                            ));
                        }
                    };
                    if items.is_empty() {
                        let flow = self.walk(else_nodes, dot)?;
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                        continue;
                    }
                    for (k, x) in items {
                        self.vars.push(Vec::new());
                        match names.as_slice() {
                            [v] => self.set(v, x.clone(), true)?,
                            [kn, vn] => {
                                self.set(kn, k, true)?;
                                self.set(vn, x.clone(), true)?;
                            }
                            _ => {}
                        }
                        let flow = self.walk(body, &x)?;
                        self.vars.pop();
                        if matches!(flow, Flow::Break) {
                            break;
                        }
                    }
                }
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn pipeline(&mut self, p: &Pipeline, dot: &V) -> Result<V, String> {
        let mut last: Option<V> = None;
        for cmd in &p.cmds {
            last = Some(self.command(cmd, dot, last)?);
        }
        let v = last.unwrap_or(V::NoValue);
        if let Some(name) = p.decl.first() {
            self.set(name, v.clone(), !p.assign)?;
        }
        Ok(v)
    }

    fn command(&mut self, cmd: &[Operand], dot: &V, piped: Option<V>) -> Result<V, String> {
        let Some(first) = cmd.first() else {
            return Err("empty command".into());
        };
        if let Term::Func(name) = &first.term {
            let mut args = Vec::new();
            for op in cmd.get(1..).unwrap_or(&[]) {
                args.push(self.operand(op, dot)?);
            }
            if let Some(p) = piped {
                args.push(p);
            }
            return call(name, args);
        }
        if cmd.len() > 1 || piped.is_some() {
            return Err(format!(
                "can't give argument to non-function {}",
                describe(first)
            ));
        }
        self.operand(first, dot)
    }

    fn operand(&mut self, op: &Operand, dot: &V) -> Result<V, String> {
        let mut v = match &op.term {
            Term::Dot => dot.clone(),
            Term::Var(name) => self.lookup(name)?,
            Term::Lit(v) => v.clone(),
            Term::Func(name) => call(name, Vec::new())?,
            Term::Pipe(p) => {
                self.vars.push(Vec::new());
                let v = self.pipeline(p, dot);
                self.vars.pop();
                v?
            }
        };
        for field in &op.fields {
            v = match v {
                V::Map(m) => m.get(field).cloned().unwrap_or(V::NoValue),
                // A missing key's fields are missing too.
                V::NoValue => V::NoValue,
                V::Nil => {
                    return Err(format!("nil pointer evaluating interface {{}}.{field}"));
                }
                other => {
                    return Err(format!(
                        "can't evaluate field {field} in type {}",
                        go_type(&other)
                    ));
                }
            };
        }
        Ok(v)
    }
}

fn describe(op: &Operand) -> String {
    match &op.term {
        Term::Lit(v) => show(v, false),
        Term::Var(n) => n.clone(),
        _ => ".".to_string(),
    }
}

// ---------------------------------------------------------------- functions

fn arg(args: &[V], i: usize) -> V {
    args.get(i).cloned().unwrap_or(V::NoValue)
}

fn call(name: &str, args: Vec<V>) -> Result<V, String> {
    let n = args.len();
    let need = |k: usize| {
        if n == k {
            Ok(())
        } else {
            Err(format!("wrong number of args for {name}: want {k} got {n}"))
        }
    };
    match name {
        "and" => Ok(args
            .iter()
            .find(|v| !truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(V::NoValue)),
        "or" => Ok(args
            .iter()
            .find(|v| truth(v))
            .or(args.last())
            .cloned()
            .unwrap_or(V::NoValue)),
        "not" => {
            need(1)?;
            Ok(V::Bool(!truth(&arg(&args, 0))))
        }
        "len" => {
            need(1)?;
            match arg(&args, 0) {
                V::Str(s) | V::Num(s) => Ok(V::Int(s.len() as i64)),
                V::Arr(a) => Ok(V::Int(a.len() as i64)),
                V::Map(m) => Ok(V::Int(m.len() as i64)),
                other => Err(format!(
                    "error calling len: len of type {}",
                    go_type(&other)
                )),
            }
        }
        "index" => {
            let mut v = arg(&args, 0);
            for key in args.iter().skip(1) {
                v = match (&v, key) {
                    (V::Arr(a), V::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| a.get(i).cloned())
                        .ok_or_else(|| format!("error calling index: index out of range: {i}"))?,
                    (V::Map(m), V::Str(k)) => m.get(k).cloned().unwrap_or(V::NoValue),
                    (V::Str(s), V::Int(i)) => usize::try_from(*i)
                        .ok()
                        .and_then(|i| s.as_bytes().get(i).copied())
                        .map(|b| V::Int(i64::from(b)))
                        .ok_or_else(|| format!("error calling index: index out of range: {i}"))?,
                    (V::Arr(_), k) => {
                        return Err(format!(
                            "error calling index: cannot index slice/array with type {}",
                            go_type(k)
                        ));
                    }
                    (other, _) => {
                        return Err(format!(
                            "error calling index: can't index item of type {}",
                            go_type(other)
                        ));
                    }
                };
            }
            Ok(v)
        }
        "print" => Ok(V::Str(sprint(&args))),
        "println" => {
            let items: Vec<String> = args.iter().map(|v| show(v, true)).collect();
            Ok(V::Str(items.join(" ") + "\n"))
        }
        "printf" => {
            let (Some(V::Str(format)), rest) = (args.first(), args.get(1..).unwrap_or(&[])) else {
                return Err("error calling printf: format must be a string".into());
            };
            let operands: Vec<FmtOperand> = rest.iter().map(fmt_operand).collect();
            Ok(V::Str(super::sprintf::format_go(format, &operands)))
        }
        "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
            if n < 2 {
                return Err(format!(
                    "wrong number of args for {name}: want at least 1 got {n}"
                ));
            }
            let a = arg(&args, 0);
            if name == "eq" {
                let mut any = false;
                for b in args.iter().skip(1) {
                    any |= compare(name, &a, b)? == std::cmp::Ordering::Equal;
                }
                return Ok(V::Bool(any));
            }
            need(2)?;
            let ord = compare(name, &a, &arg(&args, 1))?;
            use std::cmp::Ordering::*;
            Ok(V::Bool(match name {
                "ne" => ord != Equal,
                "lt" => ord == Less,
                "le" => ord != Greater,
                "gt" => ord == Greater,
                _ => ord != Less,
            }))
        }
        "html" => Ok(V::Str(html_escape(&sprint(&args)))),
        "js" => Ok(V::Str(js_escape(&sprint(&args)))),
        "urlquery" => Ok(V::Str(url_escape(&sprint(&args)))),
        _ => Err(format!("function {name:?} not defined")),
    }
}

/// Go's comparison of basic kinds: strings (and `json.Number`) with strings, numbers with
/// numbers, booleans for equality only.
fn compare(name: &str, a: &V, b: &V) -> Result<std::cmp::Ordering, String> {
    let incompatible = || {
        format!(
            "error calling {name}: incompatible types for comparison: {} and {}",
            go_type(a),
            go_type(b)
        )
    };
    match (a, b) {
        (V::Str(x) | V::Num(x), V::Str(y) | V::Num(y)) => Ok(x.cmp(y)),
        (V::Int(x), V::Int(y)) => Ok(x.cmp(y)),
        (V::Float(x), V::Float(y)) => x.partial_cmp(y).ok_or_else(incompatible),
        (V::Bool(x), V::Bool(y)) if matches!(name, "eq" | "ne") => Ok(x.cmp(y)),
        (V::Bool(_), V::Bool(_)) => {
            Err(format!("error calling {name}: invalid type for comparison"))
        }
        (V::Nil | V::NoValue, V::Nil | V::NoValue) if matches!(name, "eq" | "ne") => {
            Ok(std::cmp::Ordering::Equal)
        }
        _ => Err(incompatible()),
    }
}

/// Go's `fmt.Sprint`: a space between operands when neither is a string (`json.Number` is one).
fn sprint(args: &[V]) -> String {
    let mut out = String::new();
    let is_string = |v: &V| matches!(v, V::Str(_) | V::Num(_));
    for (i, v) in args.iter().enumerate() {
        if i > 0 && !is_string(v) && args.get(i - 1).is_some_and(|p| !is_string(p)) {
            out.push(' ');
        }
        out.push_str(&show(v, true));
    }
    out
}

/// A template value as Go's `fmt` receives it (for `printf`).
fn fmt_operand(v: &V) -> FmtOperand {
    match v {
        V::Int(i) => FmtOperand::int(*i, "int"),
        V::Float(f) => FmtOperand::float(*f),
        V::Str(s) => FmtOperand::string(s.clone(), "string"),
        V::Num(s) => FmtOperand::string(s.clone(), "json.Number"),
        V::Bool(b) => FmtOperand::boolean(*b),
        // A missing key is a nil interface once it is an argument.
        V::NoValue | V::Nil => FmtOperand::nil(),
        V::Arr(items) => FmtOperand::slice(items.iter().map(fmt_operand).collect(), go_type(v)),
        V::Map(entries) => FmtOperand::map(
            entries
                .iter()
                .map(|(k, x)| (FmtOperand::string(k.clone(), "string"), fmt_operand(x)))
                .collect(),
            go_type(v),
        ),
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

fn render(template: &str, vars: &Json) -> Result<String, String> {
    let nodes = parse(template)?;
    let data = from_json(vars);
    let mut exec = Exec {
        out: String::new(),
        vars: vec![vec![("$".to_string(), data.clone())]],
        steps: 0,
    };
    exec.walk(&nodes, &data)
        .map_err(|e| format!("template: template: executing \"template\": {e}"))?;
    Ok(exec.out)
}

fn render_template(args: Vec<Value>) -> anyhow::Result<Value> {
    let (Some(Value::String(template)), Some(vars @ Value::Object(_))) =
        (args.first(), args.get(1))
    else {
        return builtin_error(format!("{NAME}: operands must be a string and an object"));
    };
    let vars = match serde_json::to_value(vars) {
        Ok(v) => v,
        Err(e) => return builtin_error(format!("{NAME}: {e}")),
    };
    match render(template, &vars) {
        Ok(s) => Ok(Value::from(s)),
        Err(e) => builtin_error(format!("{NAME}: {e}")),
    }
}

#[cfg(test)]
mod tests;
