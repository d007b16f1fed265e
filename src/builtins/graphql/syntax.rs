//! GraphQL text to the AST OPA returns: the JSON shape of gqlparser's (vektah/gqlparser) Go
//! structs, `Position`s dropped and null or empty fields pruned, as `graphql.parse_query` and
//! `graphql.parse_schema` give it.
//!
//! Owns: the lexer, the recursive-descent parser for query and schema documents, and the
//! parse errors in gqlparser's words (`Expected Name, found <EOF>`, with line and column).
//! Comments are kept where gqlparser keeps them. Does not own validation ([`super::validate`]).
//!
//! A hand-written parser, because the AST shape, its comments, its `Raw` values and its error
//! messages are gqlparser's and no Rust GraphQL parser produces them (nor fragment variables,
//! which gqlparser accepts).

use serde_json::{Map, Value as Json, json};

/// A parse error: gqlparser's message and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} in GraphQL string at location {}:{}",
            self.message, self.line, self.column
        )
    }
}

type Result<T> = std::result::Result<T, SyntaxError>;

/// Parses an executable document (operations and fragments) into OPA's AST object.
pub fn parse_query(source: &str) -> Result<Json> {
    let mut parser = Parser::new(source);
    let doc = parser.query_document()?;
    Ok(prune(doc))
}

/// Parses a type-system document into OPA's AST object.
pub fn parse_schema(source: &str) -> Result<Json> {
    let mut parser = Parser::new(source);
    let doc = parser.schema_document()?;
    Ok(prune(doc))
}

/// OPA's pruning of gqlparser's AST: no `Position`, no nulls, no empty arrays or objects
/// (after pruning their insides), recursively.
pub fn prune(value: Json) -> Json {
    match value {
        Json::Array(items) => Json::Array(
            items
                .into_iter()
                .filter(|v| !v.is_null())
                .map(prune)
                .filter(|v| !is_empty_container(v))
                .collect(),
        ),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .filter(|(k, v)| k != "Position" && !v.is_null())
                .map(|(k, v)| (k, prune(v)))
                .filter(|(_, v)| !is_empty_container(v))
                .collect(),
        ),
        other => other,
    }
}

fn is_empty_container(value: &Json) -> bool {
    match value {
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invalid,
    Eof,
    Bang,
    Dollar,
    Amp,
    ParenL,
    ParenR,
    Spread,
    Colon,
    Equals,
    At,
    BracketL,
    BracketR,
    BraceL,
    BraceR,
    Pipe,
    Name,
    Int,
    Float,
    String,
    BlockString,
    Comment,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Invalid => "<Invalid>",
            Kind::Eof => "<EOF>",
            Kind::Bang => "!",
            Kind::Dollar => "$",
            Kind::Amp => "&",
            Kind::ParenL => "(",
            Kind::ParenR => ")",
            Kind::Spread => "...",
            Kind::Colon => ":",
            Kind::Equals => "=",
            Kind::At => "@",
            Kind::BracketL => "[",
            Kind::BracketR => "]",
            Kind::BraceL => "{",
            Kind::BraceR => "}",
            Kind::Pipe => "|",
            Kind::Name => "Name",
            Kind::Int => "Int",
            Kind::Float => "Float",
            Kind::String => "String",
            Kind::BlockString => "BlockString",
            Kind::Comment => "Comment",
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    value: String,
    line: usize,
    column: usize,
}

impl Token {
    /// gqlparser's `Token.String()`: the kind, and the quoted value when there is one.
    fn describe(&self) -> String {
        if self.value.is_empty() {
            self.kind.as_str().to_string()
        } else {
            format!(
                "{} {}",
                self.kind.as_str(),
                crate::builtins::go_text::quote(&self.value)
            )
        }
    }
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    line_start: usize,
    _source: &'a str,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            chars: source.chars().collect(),
            pos: 0,
            line: 1,
            line_start: 0,
            _source: source,
        }
    }

    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn column(&self, pos: usize) -> usize {
        pos - self.line_start + 1
    }

    fn token(&self, kind: Kind, start: usize, value: String) -> Token {
        Token {
            kind,
            value,
            line: self.line,
            column: self.column(start),
        }
    }

    /// A lexing failure: gqlparser hands the parser an invalid token placed where the
    /// lexer stopped, and the parser reports it as `<Invalid>`.
    fn invalid(&self, at: usize) -> Token {
        Token {
            kind: Kind::Invalid,
            value: String::new(),
            line: self.line,
            column: self.column(at),
        }
    }

    fn next_token(&mut self) -> Token {
        // Skip ignored characters: BOM, whitespace, line terminators, commas.
        while let Some(c) = self.at(self.pos) {
            match c {
                '\u{feff}' | ' ' | '\t' | ',' => self.pos += 1,
                '\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                '\r' => {
                    self.pos += 1;
                    if self.at(self.pos) == Some('\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
        let start = self.pos;
        let Some(c) = self.at(start) else {
            return self.token(Kind::Eof, start, String::new());
        };
        let punct = |lexer: &mut Self, kind| {
            lexer.pos += 1;
            lexer.token(kind, start, String::new())
        };
        match c {
            '!' => punct(self, Kind::Bang),
            '$' => punct(self, Kind::Dollar),
            '&' => punct(self, Kind::Amp),
            '(' => punct(self, Kind::ParenL),
            ')' => punct(self, Kind::ParenR),
            ':' => punct(self, Kind::Colon),
            '=' => punct(self, Kind::Equals),
            '@' => punct(self, Kind::At),
            '[' => punct(self, Kind::BracketL),
            ']' => punct(self, Kind::BracketR),
            '{' => punct(self, Kind::BraceL),
            '}' => punct(self, Kind::BraceR),
            '|' => punct(self, Kind::Pipe),
            '.' => {
                if self.at(start + 1) == Some('.') && self.at(start + 2) == Some('.') {
                    self.pos += 3;
                    self.token(Kind::Spread, start, String::new())
                } else {
                    self.invalid(start)
                }
            }
            '#' => {
                let mut end = start;
                while let Some(c) = self.at(end) {
                    if c == '\n' || c == '\r' {
                        break;
                    }
                    end += 1;
                }
                self.pos = end;
                let text: String = self.chars[start..end].iter().collect();
                self.token(Kind::Comment, start, text)
            }
            '_' | 'a'..='z' | 'A'..='Z' => {
                let mut end = start + 1;
                while let Some(c) = self.at(end) {
                    if c == '_' || c.is_ascii_alphanumeric() {
                        end += 1;
                    } else {
                        break;
                    }
                }
                self.pos = end;
                let text: String = self.chars[start..end].iter().collect();
                self.token(Kind::Name, start, text)
            }
            '-' | '0'..='9' => self.number(start),
            '"' => {
                if self.at(start + 1) == Some('"') && self.at(start + 2) == Some('"') {
                    self.block_string(start)
                } else {
                    self.string(start)
                }
            }
            _ => self.invalid(start),
        }
    }

    fn digits(&mut self) -> std::result::Result<(), usize> {
        match self.at(self.pos) {
            Some(c) if c.is_ascii_digit() => {
                while self.at(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                Ok(())
            }
            _ => Err(self.pos),
        }
    }

    fn number(&mut self, start: usize) -> Token {
        self.pos = start;
        let mut float = false;
        if self.at(self.pos) == Some('-') {
            self.pos += 1;
        }
        if self.at(self.pos) == Some('0') {
            self.pos += 1;
            if self.at(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                return self.invalid(self.pos);
            }
        } else if let Err(at) = self.digits() {
            return self.invalid(at);
        }
        if self.at(self.pos) == Some('.') {
            float = true;
            self.pos += 1;
            if let Err(at) = self.digits() {
                return self.invalid(at);
            }
        }
        if matches!(self.at(self.pos), Some('e' | 'E')) {
            float = true;
            self.pos += 1;
            if matches!(self.at(self.pos), Some('+' | '-')) {
                self.pos += 1;
            }
            if let Err(at) = self.digits() {
                return self.invalid(at);
            }
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        let kind = if float { Kind::Float } else { Kind::Int };
        self.token(kind, start, text)
    }

    fn string(&mut self, start: usize) -> Token {
        let mut i = start + 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.at(i) else {
                return self.invalid(i);
            };
            match c {
                '"' => {
                    self.pos = i + 1;
                    return self.token(Kind::String, start, value);
                }
                '\n' | '\r' => return self.invalid(i),
                '\\' => {
                    i += 1;
                    let Some(e) = self.at(i) else {
                        return self.invalid(i);
                    };
                    match e {
                        '"' => value.push('"'),
                        '/' => value.push('/'),
                        '\\' => value.push('\\'),
                        'b' => value.push('\u{8}'),
                        'f' => value.push('\u{c}'),
                        'n' => value.push('\n'),
                        'r' => value.push('\r'),
                        't' => value.push('\t'),
                        'u' => {
                            let hex: String = (1..=4).filter_map(|k| self.at(i + k)).collect();
                            let code = (hex.len() == 4)
                                .then(|| u32::from_str_radix(&hex, 16).ok())
                                .flatten();
                            let Some(code) = code else {
                                return self.invalid(i);
                            };
                            value.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                            i += 4;
                        }
                        _ => return self.invalid(i),
                    }
                    i += 1;
                }
                c if (c as u32) < 0x20 && c != '\t' => return self.invalid(i),
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
    }

    fn block_string(&mut self, start: usize) -> Token {
        let mut i = start + 3;
        let mut raw = String::new();
        let (mut line, mut line_start) = (self.line, self.line_start);
        loop {
            let Some(c) = self.at(i) else {
                return self.invalid(i);
            };
            if c == '"' && self.at(i + 1) == Some('"') && self.at(i + 2) == Some('"') {
                let token = self.token(Kind::BlockString, start, block_string_value(&raw));
                self.pos = i + 3;
                self.line = line;
                self.line_start = line_start;
                return token;
            }
            if c == '\\'
                && self.at(i + 1) == Some('"')
                && self.at(i + 2) == Some('"')
                && self.at(i + 3) == Some('"')
            {
                raw.push_str("\"\"\"");
                i += 4;
                continue;
            }
            if c == '\n' || (c == '\r' && self.at(i + 1) != Some('\n')) {
                line += 1;
                line_start = i + 1;
            }
            raw.push(c);
            i += 1;
        }
    }
}

/// The spec's BlockStringValue: drop the common indentation and blank first and last lines.
fn block_string_value(raw: &str) -> String {
    let normalized = raw.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = normalized.split('\n').collect();
    let indent_of = |l: &str| l.chars().take_while(|c| *c == ' ' || *c == '\t').count();
    let common = lines
        .iter()
        .skip(1)
        .filter(|l| indent_of(l) < l.chars().count())
        .map(|l| indent_of(l))
        .min();
    let mut out: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| match common {
            Some(n) if i > 0 => l.chars().skip(n).collect(),
            _ => (*l).to_string(),
        })
        .collect();
    let blank = |l: &String| l.chars().all(|c| c == ' ' || c == '\t');
    while out.first().is_some_and(blank) {
        out.remove(0);
    }
    while out.last().is_some_and(blank) {
        out.pop();
    }
    out.join("\n")
}

fn comment_group(comments: &[String]) -> Json {
    if comments.is_empty() {
        return Json::Null;
    }
    let list: Vec<Json> = comments.iter().map(|c| json!({ "Value": c })).collect();
    json!({ "List": list })
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token>,
    /// The comments right before the peeked token (gqlparser's `p.comment`); cleared when
    /// that token is consumed.
    comment: Vec<String>,
}

fn obj(fields: Vec<(&str, Json)>) -> Json {
    let mut map = Map::new();
    for (k, v) in fields {
        map.insert(k.to_string(), v);
    }
    Json::Object(map)
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Self {
        Self {
            lexer: Lexer::new(source),
            peeked: None,
            comment: Vec::new(),
        }
    }

    fn peek(&mut self) -> Token {
        if let Some(t) = &self.peeked {
            return t.clone();
        }
        let mut comments = Vec::new();
        let token = loop {
            let t = self.lexer.next_token();
            if t.kind == Kind::Comment {
                comments.push(t.value);
            } else {
                break t;
            }
        };
        if !comments.is_empty() {
            self.comment = comments;
        }
        self.peeked = Some(token.clone());
        token
    }

    fn next(&mut self) -> Token {
        let t = self.peek();
        self.peeked = None;
        self.comment.clear();
        t
    }

    fn comment(&mut self) -> Json {
        self.peek();
        comment_group(&self.comment)
    }

    fn error<T>(&self, token: &Token, message: String) -> Result<T> {
        Err(SyntaxError {
            message,
            line: token.line,
            column: token.column,
        })
    }

    fn unexpected<T>(&mut self) -> Result<T> {
        let t = self.peek();
        self.unexpected_token(&t)
    }

    fn unexpected_token<T>(&self, t: &Token) -> Result<T> {
        self.error(t, format!("Unexpected {}", t.describe()))
    }

    fn expect(&mut self, kind: Kind) -> Result<Token> {
        let t = self.peek();
        if t.kind == kind {
            return Ok(self.next());
        }
        self.error(
            &t,
            format!("Expected {}, found {}", kind.as_str(), t.kind.as_str()),
        )
    }

    /// Consumes the keyword; returns the comments before it.
    fn expect_keyword(&mut self, word: &str) -> Result<Json> {
        let t = self.peek();
        let comment = comment_group(&self.comment);
        if t.kind == Kind::Name && t.value == word {
            self.next();
            return Ok(comment);
        }
        self.error(
            &t,
            format!(
                "Expected {}, found {}",
                crate::builtins::go_text::quote(word),
                t.describe()
            ),
        )
    }

    fn skip(&mut self, kind: Kind) -> bool {
        if self.peek().kind == kind {
            self.next();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> Result<String> {
        Ok(self.expect(Kind::Name)?.value)
    }

    /// `start item* end`, or nothing when `start` is absent.
    fn many(
        &mut self,
        start: Kind,
        end: Kind,
        mut item: impl FnMut(&mut Self) -> Result<Json>,
    ) -> Result<Vec<Json>> {
        let mut items = Vec::new();
        if !self.skip(start) {
            return Ok(items);
        }
        while self.peek().kind != end {
            items.push(item(self)?);
        }
        self.next();
        Ok(items)
    }

    /// `start item+ end`, or nothing when `start` is absent; also returns the comments
    /// before `end`.
    fn some(
        &mut self,
        start: Kind,
        end: Kind,
        mut item: impl FnMut(&mut Self) -> Result<Json>,
    ) -> Result<(Vec<Json>, Json)> {
        let mut items = Vec::new();
        if !self.skip(start) {
            return Ok((items, Json::Null));
        }
        while self.peek().kind != end {
            items.push(item(self)?);
        }
        if items.is_empty() {
            let t = self.peek();
            return self.error(
                &t,
                format!(
                    "expected at least one definition, found {}",
                    t.kind.as_str()
                ),
            );
        }
        let comment = comment_group(&self.comment);
        self.next();
        Ok((items, comment))
    }

    // ---- executable documents ----

    fn query_document(&mut self) -> Result<Json> {
        let mut operations = Vec::new();
        let mut fragments = Vec::new();
        loop {
            let t = self.peek();
            match t.kind {
                Kind::Eof => break,
                Kind::BraceL => operations.push(self.operation()?),
                Kind::Name => match t.value.as_str() {
                    "query" | "mutation" | "subscription" => operations.push(self.operation()?),
                    "fragment" => fragments.push(self.fragment_definition()?),
                    _ => return self.unexpected(),
                },
                _ => return self.unexpected(),
            }
        }
        Ok(obj(vec![
            ("Operations", Json::Array(operations)),
            ("Fragments", Json::Array(fragments)),
        ]))
    }

    fn operation(&mut self) -> Result<Json> {
        if self.peek().kind == Kind::BraceL {
            return Ok(obj(vec![
                ("Operation", json!("query")),
                ("Name", json!("")),
                ("SelectionSet", Json::Array(self.required_selection_set()?)),
            ]));
        }
        let comment = self.comment();
        let operation = self.operation_type()?;
        let name = if self.peek().kind == Kind::Name {
            self.next().value
        } else {
            String::new()
        };
        let variables = self.variable_definitions()?;
        let directives = self.directives(false)?;
        let selections = self.required_selection_set()?;
        Ok(obj(vec![
            ("Operation", json!(operation)),
            ("Name", json!(name)),
            ("VariableDefinitions", Json::Array(variables)),
            ("Directives", Json::Array(directives)),
            ("SelectionSet", Json::Array(selections)),
            ("Comment", comment),
        ]))
    }

    fn operation_type(&mut self) -> Result<&'static str> {
        let t = self.next();
        match t.value.as_str() {
            "query" if t.kind == Kind::Name => Ok("query"),
            "mutation" if t.kind == Kind::Name => Ok("mutation"),
            "subscription" if t.kind == Kind::Name => Ok("subscription"),
            _ => self.unexpected_token(&t),
        }
    }

    fn variable_definitions(&mut self) -> Result<Vec<Json>> {
        self.many(Kind::ParenL, Kind::ParenR, |p| p.variable_definition())
    }

    fn variable_definition(&mut self) -> Result<Json> {
        let comment = self.comment();
        let variable = self.variable()?;
        self.expect(Kind::Colon)?;
        let typ = self.type_reference()?;
        let default = if self.skip(Kind::Equals) {
            self.value_literal(true)?
        } else {
            Json::Null
        };
        let directives = self.directives(false)?;
        Ok(obj(vec![
            ("Variable", json!(variable)),
            ("Type", typ),
            ("DefaultValue", default),
            ("Directives", Json::Array(directives)),
            ("Comment", comment),
            ("Used", json!(false)),
        ]))
    }

    fn variable(&mut self) -> Result<String> {
        self.expect(Kind::Dollar)?;
        self.name()
    }

    fn optional_selection_set(&mut self) -> Result<Vec<Json>> {
        Ok(self.some(Kind::BraceL, Kind::BraceR, |p| p.selection())?.0)
    }

    fn required_selection_set(&mut self) -> Result<Vec<Json>> {
        let t = self.peek();
        if t.kind != Kind::BraceL {
            return self.error(
                &t,
                format!(
                    "Expected {}, found {}",
                    Kind::BraceL.as_str(),
                    t.kind.as_str()
                ),
            );
        }
        self.optional_selection_set()
    }

    fn selection(&mut self) -> Result<Json> {
        if self.peek().kind == Kind::Spread {
            self.fragment()
        } else {
            self.field()
        }
    }

    fn field(&mut self) -> Result<Json> {
        let comment = self.comment();
        let alias = self.name()?;
        let name = if self.skip(Kind::Colon) {
            self.name()?
        } else {
            alias.clone()
        };
        let arguments = self.arguments(false)?;
        let directives = self.directives(false)?;
        let selections = if self.peek().kind == Kind::BraceL {
            self.optional_selection_set()?
        } else {
            Vec::new()
        };
        Ok(obj(vec![
            ("Alias", json!(alias)),
            ("Name", json!(name)),
            ("Arguments", Json::Array(arguments)),
            ("Directives", Json::Array(directives)),
            ("SelectionSet", Json::Array(selections)),
            ("Comment", comment),
        ]))
    }

    fn arguments(&mut self, is_const: bool) -> Result<Vec<Json>> {
        self.many(Kind::ParenL, Kind::ParenR, |p| {
            let comment = p.comment();
            let name = p.name()?;
            p.expect(Kind::Colon)?;
            let value = p.value_literal(is_const)?;
            Ok(obj(vec![
                ("Name", json!(name)),
                ("Value", value),
                ("Comment", comment),
            ]))
        })
    }

    fn fragment(&mut self) -> Result<Json> {
        self.peek();
        let comment = comment_group(&self.comment);
        self.expect(Kind::Spread)?;
        let t = self.peek();
        if t.kind == Kind::Name && t.value != "on" {
            let name = self.fragment_name()?;
            let directives = self.directives(false)?;
            return Ok(obj(vec![
                ("Name", json!(name)),
                ("Directives", Json::Array(directives)),
                ("Comment", comment),
            ]));
        }
        let mut type_condition = String::new();
        if t.value == "on" {
            self.next();
            type_condition = self.name()?;
        }
        let directives = self.directives(false)?;
        let selections = self.required_selection_set()?;
        Ok(obj(vec![
            ("TypeCondition", json!(type_condition)),
            ("Directives", Json::Array(directives)),
            ("SelectionSet", Json::Array(selections)),
            ("Comment", comment),
        ]))
    }

    fn fragment_definition(&mut self) -> Result<Json> {
        let comment = self.comment();
        self.expect_keyword("fragment")?;
        let name = self.fragment_name()?;
        let variables = self.variable_definitions()?;
        self.expect_keyword("on")?;
        let type_condition = self.name()?;
        let directives = self.directives(false)?;
        let selections = self.required_selection_set()?;
        Ok(obj(vec![
            ("Name", json!(name)),
            ("VariableDefinition", Json::Array(variables)),
            ("TypeCondition", json!(type_condition)),
            ("Directives", Json::Array(directives)),
            ("SelectionSet", Json::Array(selections)),
            ("Comment", comment),
        ]))
    }

    fn fragment_name(&mut self) -> Result<String> {
        if self.peek().value == "on" {
            return self.unexpected();
        }
        self.name()
    }

    fn value_literal(&mut self, is_const: bool) -> Result<Json> {
        let t = self.peek();
        let kind = match t.kind {
            Kind::BracketL | Kind::BraceL => {
                let comment = comment_group(&self.comment);
                let (kind, children) = if t.kind == Kind::BracketL {
                    let items = self.many(Kind::BracketL, Kind::BracketR, |p| {
                        let value = p.value_literal(is_const)?;
                        Ok(obj(vec![("Name", json!("")), ("Value", value)]))
                    })?;
                    (8, items)
                } else {
                    let fields = self.many(Kind::BraceL, Kind::BraceR, |p| {
                        let comment = p.comment();
                        let name = p.name()?;
                        p.expect(Kind::Colon)?;
                        let value = p.value_literal(is_const)?;
                        Ok(obj(vec![
                            ("Name", json!(name)),
                            ("Value", value),
                            ("Comment", comment),
                        ]))
                    })?;
                    (9, fields)
                };
                return Ok(value_node(kind, "", Json::Array(children), comment));
            }
            Kind::Dollar if !is_const => {
                let name = self.variable()?;
                return Ok(value_node(0, &name, Json::Null, Json::Null));
            }
            Kind::Int => 1,
            Kind::Float => 2,
            Kind::String => 3,
            Kind::BlockString => 4,
            Kind::Name => match t.value.as_str() {
                "true" | "false" => 5,
                "null" => 6,
                _ => 7,
            },
            _ => return self.unexpected(),
        };
        self.next();
        Ok(value_node(kind, &t.value, Json::Null, Json::Null))
    }

    fn directives(&mut self, is_const: bool) -> Result<Vec<Json>> {
        let mut directives = Vec::new();
        while self.peek().kind == Kind::At {
            self.next();
            let name = self.name()?;
            let arguments = self.arguments(is_const)?;
            directives.push(obj(vec![
                ("Name", json!(name)),
                ("Arguments", Json::Array(arguments)),
                ("Location", json!("")),
            ]));
        }
        Ok(directives)
    }

    fn type_reference(&mut self) -> Result<Json> {
        let (named, elem) = if self.skip(Kind::BracketL) {
            let elem = self.type_reference()?;
            self.expect(Kind::BracketR)?;
            (String::new(), elem)
        } else {
            (self.name()?, Json::Null)
        };
        let non_null = self.skip(Kind::Bang);
        Ok(obj(vec![
            ("NamedType", json!(named)),
            ("Elem", elem),
            ("NonNull", json!(non_null)),
        ]))
    }

    // ---- type-system documents ----

    fn schema_document(&mut self) -> Result<Json> {
        let mut schema = Vec::new();
        let mut schema_extension = Vec::new();
        let mut directives = Vec::new();
        let mut definitions = Vec::new();
        let mut extensions = Vec::new();
        loop {
            let mut t = self.peek();
            if t.kind == Kind::Eof {
                break;
            }
            let mut description = (Json::Null, String::new());
            let description_token = t.clone();
            if matches!(t.kind, Kind::String | Kind::BlockString) {
                description = self.description();
                t = self.peek();
            }
            if t.kind != Kind::Name {
                return self.unexpected();
            }
            match t.value.as_str() {
                "scalar" | "type" | "interface" | "union" | "enum" | "input" => {
                    definitions.push(self.type_definition(description)?);
                }
                "schema" => schema.push(self.schema_definition(description)?),
                "directive" => directives.push(self.directive_definition(description)?),
                "extend" => {
                    if !description.1.is_empty() {
                        // An extension takes no description; gqlparser names the description.
                        return self.unexpected_token(&description_token);
                    }
                    self.extension(&mut schema_extension, &mut extensions)?;
                }
                _ => return self.unexpected(),
            }
        }
        Ok(obj(vec![
            ("Schema", Json::Array(schema)),
            ("SchemaExtension", Json::Array(schema_extension)),
            ("Directives", Json::Array(directives)),
            ("Definitions", Json::Array(definitions)),
            ("Extensions", Json::Array(extensions)),
            ("Comment", comment_group(&self.comment)),
        ]))
    }

    /// A description and the comments before it.
    fn description(&mut self) -> (Json, String) {
        let t = self.peek();
        if !matches!(t.kind, Kind::String | Kind::BlockString) {
            return (Json::Null, String::new());
        }
        let comment = comment_group(&self.comment);
        (comment, self.next().value)
    }

    fn schema_definition(&mut self, description: (Json, String)) -> Result<Json> {
        let after = self.expect_keyword("schema")?;
        let directives = self.directives(true)?;
        let (operation_types, end) = self.some(Kind::BraceL, Kind::BraceR, |p| {
            p.operation_type_definition()
        })?;
        Ok(obj(vec![
            ("Description", json!(description.1)),
            ("Directives", Json::Array(directives)),
            ("OperationTypes", Json::Array(operation_types)),
            ("BeforeDescriptionComment", description.0),
            ("AfterDescriptionComment", after),
            ("EndOfDefinitionComment", end),
        ]))
    }

    fn operation_type_definition(&mut self) -> Result<Json> {
        let comment = self.comment();
        let operation = self.operation_type()?;
        self.expect(Kind::Colon)?;
        let typ = self.name()?;
        Ok(obj(vec![
            ("Operation", json!(operation)),
            ("Type", json!(typ)),
            ("Comment", comment),
        ]))
    }

    fn type_definition(&mut self, description: (Json, String)) -> Result<Json> {
        let keyword = self.peek().value;
        let after = self.expect_keyword(&keyword)?;
        let mut def = Definition::new(&keyword, self.name()?);
        def.before = description.0;
        def.description = description.1;
        def.after = after;
        self.definition_body(&keyword, &mut def, false)?;
        Ok(def.into_json())
    }

    /// Everything after the name, shared by definitions and extensions.
    fn definition_body(&mut self, keyword: &str, def: &mut Definition, ext: bool) -> Result<()> {
        match keyword {
            "scalar" => def.directives = self.directives(true)?,
            "type" | "interface" => {
                // gqlparser's interface extensions take no `implements`.
                if !(ext && keyword == "interface") {
                    def.interfaces = self.implements_interfaces()?;
                }
                def.directives = self.directives(true)?;
                (def.fields, def.end) =
                    self.some(Kind::BraceL, Kind::BraceR, |p| p.field_definition(false))?;
            }
            "union" => {
                def.directives = self.directives(true)?;
                def.types = self.union_member_types()?;
            }
            "enum" => {
                def.directives = self.directives(true)?;
                (def.enum_values, def.end) =
                    self.some(Kind::BraceL, Kind::BraceR, |p| p.enum_value_definition())?;
            }
            _ => {
                def.directives = self.directives(true)?;
                (def.fields, def.end) =
                    self.some(Kind::BraceL, Kind::BraceR, |p| p.field_definition(true))?;
            }
        }
        Ok(())
    }

    fn implements_interfaces(&mut self) -> Result<Vec<Json>> {
        let mut types = Vec::new();
        let t = self.peek();
        if t.kind == Kind::Name && t.value == "implements" {
            self.next();
            self.skip(Kind::Amp);
            types.push(json!(self.name()?));
            while self.skip(Kind::Amp) {
                types.push(json!(self.name()?));
            }
        }
        Ok(types)
    }

    fn union_member_types(&mut self) -> Result<Vec<Json>> {
        let mut types = Vec::new();
        if self.skip(Kind::Equals) {
            self.skip(Kind::Pipe);
            types.push(json!(self.name()?));
            while self.skip(Kind::Pipe) {
                types.push(json!(self.name()?));
            }
        }
        Ok(types)
    }

    /// A field definition, an input field (`input`) or an argument definition.
    fn field_definition(&mut self, input: bool) -> Result<Json> {
        let (before, description) = self.description();
        let after = self.comment();
        let name = self.name()?;
        let arguments = if input {
            Vec::new()
        } else {
            self.argument_definitions()?
        };
        self.expect(Kind::Colon)?;
        let typ = self.type_reference()?;
        let default = if input && self.skip(Kind::Equals) {
            self.value_literal(true)?
        } else {
            Json::Null
        };
        let directives = self.directives(true)?;
        Ok(obj(vec![
            ("Description", json!(description)),
            ("Name", json!(name)),
            ("Arguments", Json::Array(arguments)),
            ("DefaultValue", default),
            ("Type", typ),
            ("Directives", Json::Array(directives)),
            ("BeforeDescriptionComment", before),
            ("AfterDescriptionComment", after),
        ]))
    }

    fn argument_definitions(&mut self) -> Result<Vec<Json>> {
        Ok(self
            .some(Kind::ParenL, Kind::ParenR, |p| {
                let mut arg = p.field_definition(true)?;
                if let Json::Object(map) = &mut arg {
                    map.remove("Arguments");
                }
                Ok(arg)
            })?
            .0)
    }

    fn enum_value_definition(&mut self) -> Result<Json> {
        let (before, description) = self.description();
        let after = self.comment();
        let name = self.name()?;
        let directives = self.directives(true)?;
        Ok(obj(vec![
            ("Description", json!(description)),
            ("Name", json!(name)),
            ("Directives", Json::Array(directives)),
            ("BeforeDescriptionComment", before),
            ("AfterDescriptionComment", after),
        ]))
    }

    fn directive_definition(&mut self, description: (Json, String)) -> Result<Json> {
        let after = self.expect_keyword("directive")?;
        self.expect(Kind::At)?;
        let name = self.name()?;
        let arguments = self.argument_definitions()?;
        let t = self.peek();
        let repeatable = t.kind == Kind::Name && t.value == "repeatable";
        if repeatable {
            self.next();
        }
        self.expect_keyword("on")?;
        self.skip(Kind::Pipe);
        let mut locations = vec![self.directive_location()?];
        while self.skip(Kind::Pipe) {
            locations.push(self.directive_location()?);
        }
        Ok(obj(vec![
            ("Description", json!(description.1)),
            ("Name", json!(name)),
            ("Arguments", Json::Array(arguments)),
            ("Locations", Json::Array(locations)),
            ("IsRepeatable", json!(repeatable)),
            ("BeforeDescriptionComment", description.0),
            ("AfterDescriptionComment", after),
        ]))
    }

    fn directive_location(&mut self) -> Result<Json> {
        const LOCATIONS: &[&str] = &[
            "QUERY",
            "MUTATION",
            "SUBSCRIPTION",
            "FIELD",
            "FRAGMENT_DEFINITION",
            "FRAGMENT_SPREAD",
            "INLINE_FRAGMENT",
            "VARIABLE_DEFINITION",
            "SCHEMA",
            "SCALAR",
            "OBJECT",
            "FIELD_DEFINITION",
            "ARGUMENT_DEFINITION",
            "INTERFACE",
            "UNION",
            "ENUM",
            "ENUM_VALUE",
            "INPUT_OBJECT",
            "INPUT_FIELD_DEFINITION",
        ];
        let t = self.expect(Kind::Name)?;
        if LOCATIONS.contains(&t.value.as_str()) {
            return Ok(json!(t.value));
        }
        self.unexpected_token(&t)
    }

    fn extension(&mut self, schema_ext: &mut Vec<Json>, exts: &mut Vec<Json>) -> Result<()> {
        let after = self.expect_keyword("extend")?;
        let t = self.peek();
        let keyword = t.value.clone();
        match keyword.as_str() {
            "schema" if t.kind == Kind::Name => {
                self.next();
                let directives = self.directives(true)?;
                let (operation_types, end) = self.some(Kind::BraceL, Kind::BraceR, |p| {
                    p.operation_type_definition()
                })?;
                if directives.is_empty() && operation_types.is_empty() {
                    return self.unexpected();
                }
                schema_ext.push(obj(vec![
                    ("Description", json!("")),
                    ("Directives", Json::Array(directives)),
                    ("OperationTypes", Json::Array(operation_types)),
                    ("AfterDescriptionComment", after),
                    ("EndOfDefinitionComment", end),
                ]));
            }
            "scalar" | "type" | "interface" | "union" | "enum" | "input"
                if t.kind == Kind::Name =>
            {
                self.next();
                let mut def = Definition::new(&keyword, self.name()?);
                def.after = after;
                self.definition_body(&keyword, &mut def, true)?;
                if def.is_empty_extension() {
                    return self.unexpected();
                }
                exts.push(def.into_json());
            }
            _ => return self.unexpected(),
        }
        Ok(())
    }
}

fn value_node(kind: u8, raw: &str, children: Json, comment: Json) -> Json {
    obj(vec![
        ("Raw", json!(raw)),
        ("Children", children),
        ("Kind", json!(kind)),
        ("Comment", comment),
        ("ExpectedTypeHasDefault", json!(false)),
    ])
}

/// gqlparser's `Definition` (types and their extensions) while it is being parsed.
struct Definition {
    kind: &'static str,
    name: String,
    description: String,
    directives: Vec<Json>,
    interfaces: Vec<Json>,
    fields: Vec<Json>,
    types: Vec<Json>,
    enum_values: Vec<Json>,
    before: Json,
    after: Json,
    end: Json,
}

impl Definition {
    fn new(keyword: &str, name: String) -> Self {
        let kind = match keyword {
            "scalar" => "SCALAR",
            "type" => "OBJECT",
            "interface" => "INTERFACE",
            "union" => "UNION",
            "enum" => "ENUM",
            _ => "INPUT_OBJECT",
        };
        Self {
            kind,
            name,
            description: String::new(),
            directives: Vec::new(),
            interfaces: Vec::new(),
            fields: Vec::new(),
            types: Vec::new(),
            enum_values: Vec::new(),
            before: Json::Null,
            after: Json::Null,
            end: Json::Null,
        }
    }

    fn is_empty_extension(&self) -> bool {
        self.directives.is_empty()
            && self.interfaces.is_empty()
            && self.fields.is_empty()
            && self.types.is_empty()
            && self.enum_values.is_empty()
    }

    fn into_json(self) -> Json {
        obj(vec![
            ("Kind", json!(self.kind)),
            ("Description", json!(self.description)),
            ("Name", json!(self.name)),
            ("Directives", Json::Array(self.directives)),
            ("Interfaces", Json::Array(self.interfaces)),
            ("Fields", Json::Array(self.fields)),
            ("Types", Json::Array(self.types)),
            ("EnumValues", Json::Array(self.enum_values)),
            ("BuiltIn", json!(false)),
            ("BeforeDescriptionComment", self.before),
            ("AfterDescriptionComment", self.after),
            ("EndOfDefinitionComment", self.end),
        ])
    }
}
