//! How deeply a policy file nests brackets, checked before regorus parses it.
//!
//! Owns: refusing a policy whose `[` and `{` nest deeper than a limit. regorus' parser tries
//! each bracket both as a comprehension and as a literal, so its time doubles with every level:
//! `x := [[[...[1]...]]]` 20 deep takes over a second, 24 deep 17 s, 32 deep hours, and one
//! such line would hold the reload thread (or `authzd check`) forever. Policies people write
//! stay far below the limit (rule bodies, `every`, comprehensions and literals together rarely
//! pass 8). Strings, raw strings and comments are skipped.

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
    let (mut line, mut col) = (1usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        col += 1;
        match c {
            '\n' => {
                line += 1;
                col = 0;
            }
            '#' => {
                // A comment runs to the end of the line.
                while chars.peek().is_some_and(|&n| n != '\n') {
                    chars.next();
                }
            }
            '"' => {
                while let Some(s) = chars.next() {
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
                for s in chars.by_ref() {
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
            '[' | '{' => {
                depth += 1;
                if depth > max {
                    return Err(TooDeep {
                        line: line as u32,
                        col: col as u32,
                        message: format!(
                            "rego_parse_error: brackets nested more than {max} deep (--max-policy-nesting): regorus' parser takes time exponential in the nesting; name the inner values instead"
                        ),
                    });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
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
