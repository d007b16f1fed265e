//! Rego template strings (OPA v1.12+): `$"user {input.user} may not {input.action}"` and the
//! raw form `` $`...{expr}...` ``, rewritten into what regorus parses.
//!
//! Owns: finding template strings in a module's text (outside comments, strings and raw
//! strings, nested ones inside expressions too) and replacing each with the call OPA's compiler
//! makes of it: `internal.template_string(["user ", {__authzd_t1 | __authzd_t1 := (input.user)},
//! " may not ", ...])`. Each expression's values are collected in a set, so an undefined one is
//! an empty set, which the builtin writes as `<undefined>`, as OPA does
//! ([`crate::builtins`] renders the parts). The replacement keeps every newline of the
//! original, so line numbers stay those of the file; only columns after a template on its line
//! move. A malformed template is an error with OPA's message, line and column.

use super::syntax_error::SyntaxError;

/// How deep template strings may nest inside each other's expressions.
const MAX_DEPTH: usize = 16;

/// `source` with every template string replaced by its `internal.template_string` call, or
/// `None` when it has none.
pub fn rewrite(source: &str) -> Result<Option<String>, SyntaxError> {
    // Cheap test first: nearly every module has no `$` at all.
    if !source.contains("$\"") && !source.contains("$`") {
        return Ok(None);
    }
    let mut scanner = Scanner {
        src: source.as_bytes(),
        source,
        pos: 0,
        next_var: 0,
        found: false,
    };
    let out = scanner.code(Context::Module, 0)?;
    Ok(scanner.found.then_some(out))
}

/// Where a run of code sits: the module itself, or a template's `{...}` expression (which
/// ends at its closing brace and may hold no comment).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Module,
    Expression,
}

struct Scanner<'a> {
    src: &'a [u8],
    source: &'a str,
    pos: usize,
    next_var: usize,
    found: bool,
}

impl Scanner<'_> {
    /// Copies code from `pos`, rewriting the template strings in it. In an expression, stops
    /// at (and consumes) the `}` that closes it.
    fn code(&mut self, context: Context, depth: usize) -> Result<String, SyntaxError> {
        let mut out = String::new();
        let mut open = 0usize;
        let mut copied_from = self.pos;
        while let Some(&byte) = self.src.get(self.pos) {
            match byte {
                b'#' if context == Context::Expression => {
                    return Err(self.error(
                        self.pos,
                        "comments are not allowed in a template-string expression",
                    ));
                }
                b'#' => self.skip_line(),
                b'"' => self.skip_string()?,
                b'`' => self.skip_raw()?,
                b'$' if matches!(self.src.get(self.pos + 1), Some(b'"' | b'`')) => {
                    if depth >= MAX_DEPTH {
                        return Err(self.error(self.pos, "template strings nest too deeply"));
                    }
                    out.push_str(&self.source[copied_from..self.pos]);
                    out.push_str(&self.template(depth + 1)?);
                    copied_from = self.pos;
                }
                b'{' | b'[' | b'(' => {
                    open += 1;
                    self.pos += 1;
                }
                b'}' if context == Context::Expression && open == 0 => {
                    out.push_str(&self.source[copied_from..self.pos]);
                    self.pos += 1;
                    return Ok(out);
                }
                b'}' | b']' | b')' => {
                    open = open.saturating_sub(1);
                    self.pos += 1;
                }
                _ => self.pos += 1,
            }
        }
        if context == Context::Expression {
            return Err(self.error(self.pos, "expected } to end template string expression"));
        }
        out.push_str(&self.source[copied_from..]);
        Ok(out)
    }

    /// Reads the template string at `pos` (`$"` or `` $` ``) and returns its call.
    fn template(&mut self, depth: usize) -> Result<String, SyntaxError> {
        self.found = true;
        let start = self.pos;
        let raw = self.src.get(start + 1) == Some(&b'`');
        self.pos += 2;
        let mut parts: Vec<String> = Vec::new();
        let mut text = String::new();
        loop {
            let Some(&byte) = self.src.get(self.pos) else {
                return Err(self.error(start, "non-terminated string"));
            };
            match byte {
                b'`' if raw => {
                    self.pos += 1;
                    break;
                }
                b'"' if !raw => {
                    self.pos += 1;
                    break;
                }
                b'\n' if !raw => return Err(self.error(start, "non-terminated string")),
                // `\{` is a brace, not an expression (`\}` is no escape: OPA refuses it).
                b'\\' if self.src.get(self.pos + 1) == Some(&b'{') => {
                    text.push('{');
                    self.pos += 2;
                }
                b'\\' if !raw => {
                    let escape = self.pos;
                    match self.src.get(self.pos + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u') => {
                            text.push_str(&self.source[self.pos..self.pos + 2]);
                            self.pos += 2;
                        }
                        _ => return Err(self.error(escape, "illegal escape sequence")),
                    }
                }
                b'{' => {
                    if !text.is_empty() {
                        parts.push(literal(&std::mem::take(&mut text), raw));
                    }
                    let at = self.pos;
                    self.pos += 1;
                    let expression = self.code(Context::Expression, depth)?;
                    check_expression(&expression).map_err(|message| self.error(at + 1, message))?;
                    self.next_var += 1;
                    let var = format!("__authzd_t{}", self.next_var);
                    // `with` modifies the statement that computes the value.
                    let (term, modifiers) = match top_level_with(&expression) {
                        Some(at) => expression.split_at(at),
                        None => (expression.as_str(), ""),
                    };
                    parts.push(format!("{{{var} | {var} := ({term}){modifiers}}}"));
                }
                _ => {
                    let len = utf8_len(byte);
                    let end = (self.pos + len).min(self.src.len());
                    text.push_str(self.source.get(self.pos..end).unwrap_or(""));
                    self.pos = end;
                }
            }
        }
        if !text.is_empty() {
            parts.push(literal(&text, raw));
        }
        Ok(format!("internal.template_string([{}])", parts.join(", ")))
    }

    fn skip_line(&mut self) {
        while let Some(&byte) = self.src.get(self.pos) {
            if byte == b'\n' {
                return;
            }
            self.pos += 1;
        }
    }

    fn skip_string(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        while let Some(&byte) = self.src.get(self.pos) {
            match byte {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    return Ok(());
                }
                b'\n' => break,
                _ => self.pos += 1,
            }
        }
        Err(self.error(start, "non-terminated string"))
    }

    fn skip_raw(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        self.pos += 1;
        while let Some(&byte) = self.src.get(self.pos) {
            self.pos += 1;
            if byte == b'`' {
                return Ok(());
            }
        }
        Err(self.error(start, "non-terminated raw string"))
    }

    /// An error at byte `at`.
    fn error(&self, at: usize, message: &str) -> SyntaxError {
        SyntaxError::at(self.source, at, message)
    }
}

/// A literal part of the template as a Rego string: as written (its escapes are Rego's) in
/// `"..."`, or as a raw string, which may span lines, for `` $`...` ``.
fn literal(text: &str, raw: bool) -> String {
    if raw {
        format!("`{text}`")
    } else {
        format!("\"{text}\"")
    }
}

/// What OPA's parser refuses inside `{...}`: nothing, a statement rather than a term, or the
/// wildcard `_` (each expression has at most one value). Comprehensions inside the
/// expression are their own scope: only its top level is looked at.
fn check_expression(expression: &str) -> Result<(), &'static str> {
    let top = top_level(&without_strings(expression));
    if expression.trim().is_empty() {
        return Err("unexpected } token: a template-string expression is empty");
    }
    let mut previous = ' ';
    let mut words = Vec::new();
    let mut word = String::new();
    for c in top.chars().chain([' ']) {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        // `input.not` is a field, not the keyword.
        if !word.is_empty() && previous != '.' {
            words.push(std::mem::take(&mut word));
        }
        word.clear();
        if !c.is_whitespace() {
            previous = c;
        }
    }
    for (keyword, message) in [
        ("some", "unexpected 'some' in template-string expression"),
        ("every", "unexpected 'every' in template-string expression"),
        (
            "not",
            "unexpected negation ('not') in template-string expression",
        ),
        (
            "_",
            "var _ is undeclared: a template-string expression has one value",
        ),
    ] {
        if words.iter().any(|w| w == keyword) {
            return Err(message);
        }
    }
    if top.contains(":=") {
        return Err("unexpected assignment (':=') in template-string expression");
    }
    if top.contains(';') {
        return Err("expected } to end template string expression");
    }
    Ok(())
}

/// Where the first `with` keyword of `expression` outside its strings and brackets starts.
fn top_level_with(expression: &str) -> Option<usize> {
    let bytes = expression.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            b'[' | b'{' | b'(' => depth += 1,
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            b'w' if depth == 0
                && expression[i..].starts_with("with")
                && (i == 0 || !ident(bytes[i - 1]) && bytes[i - 1] != b'.')
                && !bytes.get(i + 4).is_some_and(|&b| ident(b)) =>
            {
                return Some(i);
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// `code` without the bodies of its comprehensions (`[x | ...]`, `{k: v | ...}`): what
/// other brackets enclose (`input.a[_]`, `f(x)`) stays.
fn top_level(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if matches!(c, '[' | '{' | '(') {
            let end = closing(&chars, i);
            let inner: String = chars[i + 1..end.min(chars.len())].iter().collect();
            out.push(c);
            if !has_bar_at_top(&inner) {
                out.push_str(&top_level(&inner));
            }
            if let Some(&close) = chars.get(end) {
                out.push(close);
            }
            i = end + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The index of the bracket that closes the one at `open` (or the end).
fn closing(chars: &[char], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, c) in chars.iter().enumerate().skip(open) {
        match c {
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    chars.len()
}

/// True when `code` has a `|` outside its own brackets: a comprehension's body follows.
fn has_bar_at_top(code: &str) -> bool {
    let mut depth = 0usize;
    for c in code.chars() {
        match c {
            '[' | '{' | '(' => depth += 1,
            ']' | '}' | ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => return true,
            _ => {}
        }
    }
    false
}

/// `code` with the contents of its strings and raw strings blanked (their quotes kept), so that
/// words inside them are not taken for keywords.
fn without_strings(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            '`' => {
                out.push('`');
                for c in chars.by_ref() {
                    if c == '`' {
                        break;
                    }
                    if c == '\n' {
                        out.push('\n');
                    }
                }
                out.push('`');
            }
            c => out.push(c),
        }
    }
    out
}

/// The length of the UTF-8 sequence that `first` starts.
fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        rewrite(source).unwrap().unwrap()
    }

    #[test]
    fn a_template_becomes_the_call_opa_compiles_it_into() {
        assert_eq!(
            rewritten(r#"x := $"user {input.user} may not {input.action}.""#),
            r#"x := internal.template_string(["user ", {__authzd_t1 | __authzd_t1 := (input.user)}, " may not ", {__authzd_t2 | __authzd_t2 := (input.action)}, "."])"#
        );
        assert_eq!(
            rewritten(r#"x := $"""#),
            "x := internal.template_string([])"
        );
    }

    #[test]
    fn modules_without_templates_are_left_alone() {
        for source in [
            "package p\nx := 1\n",
            "package p\nx := \"$\\\"{1}\" # $\"{2}\"\n",
            "package p\nx := `$\"{1}`\n",
            "package p\nx := \"$\" # $`\n",
        ] {
            assert_eq!(rewrite(source), Ok(None), "{source}");
        }
    }

    #[test]
    fn strings_braces_and_templates_inside_an_expression() {
        assert_eq!(
            rewritten(r#"x := $"{"}"}{ {"a": [1]}["a"] }""#),
            r#"x := internal.template_string([{__authzd_t1 | __authzd_t1 := ("}")}, {__authzd_t2 | __authzd_t2 := ( {"a": [1]}["a"] )}])"#
        );
        assert_eq!(
            rewritten(r#"x := $"{ $"in{1}" }""#),
            r#"x := internal.template_string([{__authzd_t2 | __authzd_t2 := ( internal.template_string(["in", {__authzd_t1 | __authzd_t1 := (1)}]) )}])"#
        );
    }

    #[test]
    fn raw_templates_keep_their_lines_and_escape_only_a_brace() {
        let source = "x := $`a\n\\{b\\n {1}`\ny := 2";
        let out = rewritten(source);
        assert_eq!(
            out,
            "x := internal.template_string([`a\n{b\\n `, {__authzd_t1 | __authzd_t1 := (1)}])\ny := 2"
        );
        assert_eq!(out.lines().count(), source.lines().count());
        let multi = "x := $\"{ 1 +\n 2 }\"\ny := 3";
        assert_eq!(rewritten(multi).lines().count(), 3);
    }

    #[test]
    fn an_escaped_brace_is_text_and_with_modifies_the_value_s_statement() {
        assert_eq!(
            rewritten(r#"x := $"\{{1}\{""#),
            r#"x := internal.template_string(["{", {__authzd_t1 | __authzd_t1 := (1)}, "{"])"#
        );
        assert_eq!(
            rewritten(r#"x := $"{a with input as {"a": 42}}""#),
            r#"x := internal.template_string([{__authzd_t1 | __authzd_t1 := (a )with input as {"a": 42}}])"#
        );
        assert_eq!(
            rewritten(r#"x := $"{input.with}{"with"}""#),
            r#"x := internal.template_string([{__authzd_t1 | __authzd_t1 := (input.with)}, {__authzd_t2 | __authzd_t2 := ("with")}])"#
        );
    }

    #[test]
    fn malformed_templates_are_errors_with_opas_messages_and_positions() {
        let cases = [
            ("x := $\"a {1}", 1, 6, "non-terminated string"),
            (
                "x := 1\ny := $\"esc \\}\"",
                2,
                12,
                "illegal escape sequence",
            ),
            ("x := $\"{ x := 1 }\"", 1, 9, "unexpected assignment"),
            ("x := $\"{ some y in [1] }\"", 1, 9, "unexpected 'some'"),
            ("x := $\"{ not true }\"", 1, 9, "unexpected negation"),
            ("x := $\"{ input.a[_] }\"", 1, 9, "var _ is undeclared"),
            ("x := $\"{ }\"", 1, 9, "unexpected } token"),
            ("x := $\"{ 1; 2 }\"", 1, 9, "expected } to end"),
            ("x := $\"{ 1 # c }\"", 1, 12, "comments are not allowed"),
        ];
        for (source, line, column, message) in cases {
            let error = rewrite(source).unwrap_err();
            assert_eq!((error.line, error.column), (line, column), "{source}");
            assert!(error.message.contains(message), "{source}: {error}");
        }
    }

    #[test]
    fn keywords_inside_strings_comprehensions_and_fields_are_not_statements() {
        for source in [
            r#"x := $"{ concat(" ", ["not", "some _"]) }""#,
            r#"x := $"{ [r | some r in input.roles; r != "x"] } { {k | input.a[k]} }""#,
            r#"x := $"{ input.not } { input.with.some }""#,
        ] {
            assert!(rewrite(source).is_ok(), "{source}");
        }
    }
}
