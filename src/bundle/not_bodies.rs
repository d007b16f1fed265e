//! OPA's `future.keywords.not`: a module that imports it (or all of `future.keywords`) may
//! negate a whole body, `not { input.a == 1; input.b == 2 }`, true when the body has no
//! solution; variables bound inside stay inside, those bound before are read. regorus parses
//! `not {` as the negation of a set literal, so such a body was a parse error or, with one
//! expression, silently the wrong answer.
//!
//! Owns: finding the keyword and rewriting each negated body into what regorus evaluates the
//! same way, `count({true | input.a == 1; input.b == 2}) == 0` (a comprehension reads the
//! variables around it and keeps its own), on the same lines: only columns after the rewrite on
//! its line move. The import also changes how a negated expression treats an undefined call
//! argument (OPA no longer moves the arguments out of the `not`); [`imports_future_not`] tells
//! the load to leave those as regorus evaluates them. `import rego.v2` brings the keyword too
//! ([`rego_v2_as_future_not`]).

use super::syntax_error::SyntaxError;

/// `source` with `import rego.v2` written as `import future.keywords.not`, or `None` without it.
/// OPA's Rego v2 language definition is the keywords `and`, `or` and `not` and nothing else
/// (OPA issue 9224); authzd has the `not` one, and regorus refuses the import. A module that
/// uses `and` or `or` as keywords still fails to parse.
pub fn rego_v2_as_future_not(source: &str) -> Option<String> {
    if !source.contains("rego.v2") {
        return None;
    }
    let mut changed = false;
    let lines: Vec<String> = source
        .split_inclusive('\n')
        .map(|line| {
            let code = line.split('#').next().unwrap_or("");
            let mut words = code.split_whitespace();
            if words.next() == Some("import")
                && words.next() == Some("rego.v2")
                && words.next().is_none()
            {
                changed = true;
                line.replacen("rego.v2", "future.keywords.not", 1)
            } else {
                line.to_string()
            }
        })
        .collect();
    changed.then(|| lines.concat())
}

/// True when `source` imports `future.keywords.not` or all of `future.keywords`.
pub fn imports_future_not(source: &str) -> bool {
    if !source.contains("future.keywords") {
        return false;
    }
    source.lines().any(|line| {
        let code = line.split('#').next().unwrap_or("");
        let mut words = code.split_whitespace();
        words.next() == Some("import")
            && matches!(
                words.next(),
                Some("future.keywords" | "future.keywords.not")
            )
            && words.next().is_none()
    })
}

/// `source` with every `not { ... }` rewritten, or `None` when the module has none (or does not
/// import the keyword). A body OPA's parser refuses (empty, or a set or object literal) is an
/// error with OPA's message.
pub fn rewrite(source: &str) -> Result<Option<String>, SyntaxError> {
    if !imports_future_not(source) {
        return Ok(None);
    }
    let src = source.as_bytes();
    let mut out = String::with_capacity(source.len() + 64);
    let mut copied = 0;
    // One entry per open bracket: the position of the brace that opened a negated body.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut pos = 0;
    let mut found = false;
    while let Some(&byte) = src.get(pos) {
        match byte {
            b'#' => pos = line_end(src, pos),
            b'"' => pos = string_end(src, pos),
            b'`' => pos = raw_end(src, pos),
            b'{' | b'[' | b'(' => {
                open.push(None);
                pos += 1;
            }
            b'}' => {
                if let Some(Some(brace)) = open.pop() {
                    if let Some(refusal) = refused(&source[brace + 1..pos]) {
                        let written = &source[brace..=pos];
                        let message = match refusal {
                            Refusal::Empty => "found empty body".to_string(),
                            Refusal::Literal(kind) => format!(
                                "`{{...}}` in an operand position must contain expression(s), got: {kind} (hint: write `not ({written})` to negate the value, or `not {{{written}}}` for a body holding it)"
                            ),
                        };
                        return Err(SyntaxError::at(source, brace, &message));
                    }
                    out.push_str(&source[copied..pos]);
                    out.push_str("}) == 0");
                    copied = pos + 1;
                }
                pos += 1;
            }
            b']' | b')' => {
                open.pop();
                pos += 1;
            }
            b'n' if is_not_keyword(src, pos) => {
                let brace = skip_space(src, pos + 3);
                if src.get(brace) == Some(&b'{') {
                    out.push_str(&source[copied..pos]);
                    out.push_str("count(");
                    out.push_str(&source[pos + 3..brace]);
                    out.push_str("{true | ");
                    open.push(Some(brace));
                    copied = brace + 1;
                    pos = brace + 1;
                    found = true;
                } else {
                    pos += 3;
                }
            }
            _ => pos += 1,
        }
    }
    if !found {
        return Ok(None);
    }
    out.push_str(&source[copied..]);
    Ok(Some(out))
}

/// Why OPA's parser refuses `body` as a negated body: empty, or one set or object literal
/// (`not {1, 2}`, `not {"a": 1}`: a comma outside `some`/`every`, a colon that is not `:=`,
/// at the body's top level).
fn refused(body: &str) -> Option<Refusal> {
    let src = body.as_bytes();
    let mut pos = 0;
    let mut depth = 0usize;
    let mut empty = true;
    let mut statement_start = 0;
    while let Some(&byte) = src.get(pos) {
        let next = match byte {
            b'#' => line_end(src, pos),
            b'"' => string_end(src, pos),
            b'`' => raw_end(src, pos),
            b'{' | b'[' | b'(' => {
                depth += 1;
                pos + 1
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                pos + 1
            }
            b';' | b'\n' if depth == 0 => {
                statement_start = pos + 1;
                pos + 1
            }
            b',' if depth == 0 => {
                let statement = body[statement_start..pos].trim_start();
                if !statement.starts_with("some ") && !statement.starts_with("every ") {
                    return Some(Refusal::Literal("set"));
                }
                pos + 1
            }
            b':' if depth == 0 && src.get(pos + 1) != Some(&b'=') => {
                return Some(Refusal::Literal("object"));
            }
            _ => pos + 1,
        };
        if byte != b'#' && !byte.is_ascii_whitespace() {
            empty = false;
        }
        pos = next;
    }
    empty.then_some(Refusal::Empty)
}

/// What is wrong with a negated body.
enum Refusal {
    Empty,
    /// A set or object literal where a body belongs.
    Literal(&'static str),
}

fn is_ident(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// `not` as a keyword at `pos`, not part of a name (`note`, `x.not`).
fn is_not_keyword(src: &[u8], pos: usize) -> bool {
    src.get(pos..pos + 3) == Some(b"not")
        && !src.get(pos + 3).is_some_and(|&b| is_ident(b))
        && (pos == 0 || !src.get(pos - 1).is_some_and(|&b| is_ident(b) || b == b'.'))
}

fn skip_space(src: &[u8], mut pos: usize) -> usize {
    while src
        .get(pos)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
    {
        pos += 1;
    }
    pos
}

fn line_end(src: &[u8], mut pos: usize) -> usize {
    while src.get(pos).is_some_and(|&b| b != b'\n') {
        pos += 1;
    }
    pos
}

/// The position after the string opening at `pos` (or the end of its line when it does not
/// close there: the parser reports that).
fn string_end(src: &[u8], mut pos: usize) -> usize {
    pos += 1;
    while let Some(&byte) = src.get(pos) {
        match byte {
            b'\\' => pos += 2,
            b'"' => return pos + 1,
            b'\n' => return pos,
            _ => pos += 1,
        }
    }
    pos
}

fn raw_end(src: &[u8], mut pos: usize) -> usize {
    pos += 1;
    while let Some(&byte) = src.get(pos) {
        pos += 1;
        if byte == b'`' {
            return pos;
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rego_v2_brings_the_not_keyword() {
        let out =
            rego_v2_as_future_not("package p\nimport rego.v2 # v2\nx if not { true }\n").unwrap();
        assert_eq!(
            out,
            "package p\nimport future.keywords.not # v2\nx if not { true }\n"
        );
        assert!(imports_future_not(&out));
        assert_eq!(
            rego_v2_as_future_not("package p\n# import rego.v2\nx := \"rego.v2\"\n"),
            None
        );
    }

    const IMPORT: &str = "package t\nimport future.keywords.not\n";

    #[test]
    fn a_negated_body_becomes_a_count_on_the_same_lines() {
        let source = format!("{IMPORT}p if {{ x := 1; not {{\n  input.a == x\n  input.b\n}} }}\n");
        let out = rewrite(&source).ok().flatten().unwrap_or_default();
        assert_eq!(
            out,
            format!(
                "{IMPORT}p if {{ x := 1; count( {{true | \n  input.a == x\n  input.b\n}}) == 0 }}\n"
            )
        );
        assert_eq!(out.lines().count(), source.lines().count());
    }

    #[test]
    fn nested_bodies_strings_and_comments_are_respected() {
        let source = format!(
            "{IMPORT}p if not {{ input.a == \"}}\"; not {{ input.b }} }} # not {{ here }}\n"
        );
        assert_eq!(
            rewrite(&source).ok().flatten().unwrap_or_default(),
            format!(
                "{IMPORT}p if count( {{true |  input.a == \"}}\"; count( {{true |  input.b }}) == 0 }}) == 0 # not {{ here }}\n"
            )
        );
    }

    #[test]
    fn without_the_import_or_a_body_nothing_changes() {
        assert_eq!(rewrite("package t\np if { not {input.a} }\n"), Ok(None));
        assert_eq!(rewrite(&format!("{IMPORT}p if not input.a\n")), Ok(None));
        assert_eq!(
            rewrite(&format!("{IMPORT}note := {{1}}\np if x.not\n")),
            Ok(None)
        );
    }

    #[test]
    fn a_body_opa_refuses_is_an_error_at_its_brace() {
        let error = |body: &str| {
            rewrite(&format!("{IMPORT}p if {{ not {body} }}\n"))
                .err()
                .map(|e| (e.line, e.column, e.message))
        };
        assert_eq!(error("{}"), Some((3, 12, "found empty body".to_string())));
        assert_eq!(
            error("{ # nothing\n}").map(|e| e.2),
            Some("found empty body".to_string())
        );
        assert!(error("{1, 2}").is_some_and(|e| e.2.contains(
            "got: set (hint: write `not ({1, 2})` to negate the value, or `not {{1, 2}}` for a body"
        )));
        assert!(error("{\"a\": 1}").is_some_and(|e| e.2.contains("got: object")));
        for fine in [
            "{ x := 1; x > 2 }",
            "{ some k, v in input; v }",
            "{ f(1, 2) }",
            "{ \"a,b\" == input.s }",
        ] {
            assert_eq!(error(fine), None, "{fine}");
        }
    }

    #[test]
    fn the_import_is_found_whole_or_as_all_future_keywords() {
        assert!(imports_future_not("package t\nimport future.keywords\n"));
        assert!(imports_future_not(
            "package t\n  import   future.keywords.not # yes\n"
        ));
        assert!(!imports_future_not(
            "package t\nimport future.keywords.in\n"
        ));
        assert!(!imports_future_not(
            "package t\n# import future.keywords.not\n"
        ));
    }
}
