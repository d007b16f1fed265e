//! How deeply a policy file nests brackets, checked before regorus parses it.
//!
//! Owns: refusing a policy whose `[` and `{` nest deeper than a limit. regorus' parser tries
//! each bracket both as a comprehension and as a literal, so its time doubles with every level:
//! `x := [[[...[1]...]]]` 20 deep takes over a second, 24 deep 17 s, 32 deep hours, and one
//! such line would hold the reload thread (or `authzd check`) forever. Policies people write
//! stay far below the limit (rule bodies, `every`, comprehensions and literals together rarely
//! pass 8). Strings, raw strings and comments are skipped. A deep literal that is plain JSON
//! (an inline JSON schema, a GraphQL AST in OPA's own tests) is not refused but read through
//! `json.unmarshal` of its text ([`fold_deep_json`]).

/// The default limit on nested `[` and `{` (`--max-policy-nesting`).
pub const DEFAULT_MAX_NESTING: usize = 16;

/// The first bracket beyond the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based, in characters.
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl TooDeep {
    /// `file:line:col: message`, as the other load errors read.
    pub fn located(&self, file: &str) -> String {
        format!("{file}:{}:{}: {}", self.line, self.col, self.message)
    }
}

/// `Err` at the first bracket beyond `max` levels.
pub fn check(text: &str, max: usize) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    for bracket in brackets(text) {
        if !bracket.open {
            depth = depth.saturating_sub(1);
            continue;
        }
        depth += 1;
        if depth > max {
            return Err(TooDeep {
                line: bracket.line,
                col: bracket.col,
                message: format!(
                    "rego_parse_error: brackets nested more than {max} deep (--max-policy-nesting): regorus' parser takes time exponential in the nesting; name the inner values instead"
                ),
            });
        }
    }
    Ok(())
}

/// `text` as regorus may parse it: as it is within `max` levels, else with its deep JSON
/// literals folded ([`fold_deep_json`]) when that brings it within; otherwise the first
/// bracket beyond the limit.
pub fn readable(text: &str, max: usize) -> Result<std::borrow::Cow<'_, str>, TooDeep> {
    let Err(deep) = check(text, max) else {
        return Ok(std::borrow::Cow::Borrowed(text));
    };
    match fold_deep_json(text, max) {
        Some(folded) if check(&folded, max).is_ok() => Ok(std::borrow::Cow::Owned(folded)),
        _ => Err(deep),
    }
}

/// `text` with each literal that nests beyond `max` and is plain JSON (an inline JSON schema,
/// a GraphQL AST) written as `json.unmarshal("...")` of its own text, which regorus parses in
/// linear time and evaluates to the same value; line breaks inside it are kept after the call,
/// so the lines below keep their numbers. The outermost such literal around each too-deep
/// bracket is taken. `None` when there is none (a deep comprehension or set is left to
/// [`check`]).
pub fn fold_deep_json(text: &str, max: usize) -> Option<String> {
    let all = brackets(text);
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut skip_until = 0usize;
    for (i, bracket) in all.iter().enumerate() {
        if bracket.at < skip_until {
            continue;
        }
        if !bracket.open {
            open.pop();
            continue;
        }
        open.push(i);
        if open.len() <= max {
            continue;
        }
        // Outermost first: one call for the whole literal where it is all JSON.
        let folded = open.iter().find_map(|&o| {
            let start = all.get(o)?.at;
            let end = closing(&all, o)?;
            let region = text.get(start..=end)?;
            serde_json::from_str::<serde_json::Value>(region).ok()?;
            let quoted = serde_json::to_string(region).ok()?;
            let breaks = region.matches('\n').count();
            Some((
                start,
                end + 1,
                format!("json.unmarshal({quoted}){}", "\n".repeat(breaks)),
            ))
        });
        let (start, end, call) = folded?;
        // The brackets before the folded literal's own stay open.
        open.retain(|&o| all.get(o).is_some_and(|b| b.at < start));
        skip_until = end;
        edits.push((start, end, call));
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end, call) in edits {
        out.push_str(text.get(last..start)?);
        out.push_str(&call);
        last = end;
    }
    out.push_str(text.get(last..)?);
    Some(out)
}

/// The byte offset of the bracket closing `all[open]`.
fn closing(all: &[Bracket], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for bracket in all.get(open..)? {
        if bracket.open {
            depth += 1;
        } else {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(bracket.at);
            }
        }
    }
    None
}

/// One `[`, `{`, `]` or `}` outside strings, raw strings and comments.
struct Bracket {
    /// Byte offset.
    at: usize,
    open: bool,
    /// 1-based, in characters.
    line: u32,
    col: u32,
}

fn brackets(text: &str) -> Vec<Bracket> {
    let mut found = Vec::new();
    let (mut line, mut col) = (1u32, 0u32);
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        col += 1;
        match c {
            '\n' => {
                line += 1;
                col = 0;
            }
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|&(_, n)| n != '\n') {
                    chars.next();
                }
            }
            '"' => {
                while let Some((_, s)) = chars.next() {
                    col += 1;
                    match s {
                        '\\' => {
                            chars.next();
                            col += 1;
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for (_, s) in chars.by_ref() {
                    col += 1;
                    if s == '\n' {
                        line += 1;
                        col = 0;
                    }
                    if s == '`' {
                        break;
                    }
                }
            }
            '[' | '{' | ']' | '}' => found.push(Bracket {
                at,
                open: matches!(c, '[' | '{'),
                line,
                col,
            }),
            _ => {}
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(n: usize) -> String {
        format!(
            "package p\n\nx := {}1{}\n",
            "[{\"a\": ".repeat(n),
            "}]".repeat(n)
        )
    }

    #[test]
    fn deep_brackets_are_refused_with_their_position() {
        assert!(check(&nested(8), 16).is_ok());
        let err = check(&nested(9), 16).unwrap_err();
        assert_eq!((err.line, err.col), (3, 5 + 8 * 7 + 1));
        let text = err.located("p.rego");
        assert!(text.starts_with("p.rego:3:"), "{text}");
        assert!(text.contains("nested more than 16 deep"), "{text}");
    }

    #[test]
    fn a_deep_json_literal_is_folded_into_one_call_on_the_same_lines() {
        let deep = nested(9);
        let folded = fold_deep_json(&deep, 16).unwrap();
        assert!(
            folded.starts_with("package p\n\nx := json.unmarshal(\"[{\\\"a\\\": "),
            "{folded}"
        );
        check(&folded, 16).unwrap();
        let multi = "package p\nx := {\"a\": [[[[\n1\n]]]], \"b\": [[[[2]]]]}\ny := 1\n";
        let folded = fold_deep_json(multi, 3).unwrap();
        assert_eq!(folded.lines().count(), multi.lines().count(), "{folded}");
        assert!(folded.ends_with("\ny := 1\n"), "{folded}");
        check(&folded, 3).unwrap();
        // Only the inner literals when the outer one holds a variable.
        let mixed = "package p\nx := {\"a\": [[[[1]]]], \"v\": input.v}\n";
        let folded = fold_deep_json(mixed, 3).unwrap();
        assert!(
            folded.contains("{\"a\": json.unmarshal(\"[[[[1]]]]\"), \"v\": input.v}"),
            "{folded}"
        );
    }

    #[test]
    fn a_deep_literal_that_is_not_json_is_not_folded() {
        assert_eq!(
            fold_deep_json("package p\nx := [[[[y | y := 1]]]]\n", 3),
            None
        );
        assert_eq!(fold_deep_json("package p\nx := [[[{1}]]]\n", 3), None);
        assert_eq!(fold_deep_json("package p\nx := [[1]]\n", 3), None);
    }

    #[test]
    fn strings_raw_strings_and_comments_do_not_count() {
        let text = format!(
            "package p\n# {}\nx := \"{}\\\"[[\"\ny := `{}\n{}`\nallow if {{ input.a[0] == {{\"b\": [1]}} }}\n",
            "[".repeat(40),
            "{".repeat(40),
            "[".repeat(40),
            "{".repeat(40)
        );
        check(&text, 4).unwrap();
    }
}
