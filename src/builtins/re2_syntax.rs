//! Go's regular expression syntax, which OPA's `regex.*` builtins read (RE2's), written in the
//! syntax of Rust's `regex` crate, which regorus and authzd compile patterns with.
//!
//! Owns: rewriting a pattern where the two crates read the same text differently, so that
//! Rust's `regex` matches what Go's `regexp` matches:
//! - `\d`, `\w`, `\s` (and `\D`, `\W`, `\S`) are ASCII in Go and Unicode in Rust: they become
//!   `[0-9]`, `[0-9A-Za-z_]`, `[\t\n\f\r ]` (a negated class for the capitals);
//! - `\b` and `\B` are ASCII word boundaries in Go: `(?-u:\b)`, `(?-u:\B)`;
//! - a `{` that opens no repetition (`{a}`, `x{,3}`, `x{01}`) is a literal in Go and an error
//!   in Rust: `\{`;
//! - `\Q...\E` (Go's quoted text) becomes the text escaped; octal escapes (`\012`) become
//!   `\x{a}`; `\<` and `\>` are Go's `<` and `>` (word boundaries in Rust);
//! - inside a class, `[` (but for `[:alpha:]`), `&` and `~` are literals in Go and start
//!   nested classes or set operations in Rust: they are escaped.
//!
//! - a repetition Go refuses and Rust takes (`x**`, `x+{2}`, `(?i)*`, `x{1001}`) is made one
//!   Rust refuses too.
//!
//! Anything else is written as it stands; a pattern Go refuses stays one that Rust refuses,
//! but for Rust's own flags (`(?x)`, `(?u)`, `(?R)`), which Go refuses.

use std::borrow::Cow;

/// Go's Perl classes, as Rust class items.
fn perl_class(letter: char) -> Option<&'static str> {
    match letter.to_ascii_lowercase() {
        'd' => Some("0-9"),
        'w' => Some("0-9A-Za-z_"),
        's' => Some(r"\t\n\f\r "),
        _ => None,
    }
}

/// Text Rust's `regex` refuses (an unknown flag), written where Go refuses a repetition that
/// Rust would take, so that the pattern is invalid on both.
const REFUSED: &str = "(?z)";

/// What stands before a repetition operator, for Go's checks: nothing to repeat (the start,
/// `(`, `|`, a flags group) and a repetition (`a**`) are errors in Go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    Nothing,
    Atom,
    Repetition,
}

/// `pattern` (Go's syntax) as Rust's `regex` reads it with the same meaning; borrowed when
/// nothing changes, as for most patterns.
pub fn to_rust(pattern: &str) -> Cow<'_, str> {
    if !pattern.contains(['\\', '{', '[', '*', '+', '?']) {
        return Cow::Borrowed(pattern);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut at = 0;
    let mut before = Before::Nothing;
    while let Some(&c) = chars.get(at) {
        let repeat_end = match c {
            '*' | '+' | '?' => Some(at + 1),
            '{' => repeat_end(&chars, at),
            _ => None,
        };
        if let Some(mut end) = repeat_end {
            // A `?` right after a repetition makes it lazy.
            if chars.get(end) == Some(&'?') {
                end += 1;
            }
            let counts_ok = c != '{' || counts_within_limit(&chars[at..end]);
            if before != Before::Atom || !counts_ok {
                out.push_str(REFUSED);
            }
            out.extend(&chars[at..end]);
            before = Before::Repetition;
            at = end;
            continue;
        }
        before = Before::Atom;
        at = match c {
            '\\' => outside_escape(&chars, at, &mut out),
            '[' => class(&chars, at, &mut out),
            '{' => {
                out.push_str(r"\{");
                at + 1
            }
            '(' => {
                // After `(`, `(?:` or a flags group `(?i)`, there is nothing to repeat.
                let end = group_start(&chars, at);
                out.extend(&chars[at..end]);
                before = Before::Nothing;
                end
            }
            '|' => {
                out.push('|');
                before = Before::Nothing;
                at + 1
            }
            _ => {
                out.push(c);
                at + 1
            }
        };
    }
    if out == pattern {
        Cow::Borrowed(pattern)
    } else {
        Cow::Owned(out)
    }
}

/// The end of a group's opening at `at`: `(`, `(?:`, `(?P<name>`, `(?i:` or a whole flags
/// group `(?i)`.
fn group_start(chars: &[char], at: usize) -> usize {
    if chars.get(at + 1) != Some(&'?') {
        return at + 1;
    }
    let end = at + 2;
    let close = if matches!(chars.get(end), Some('P' | '<')) {
        // A group name: through its `>`.
        chars[end..].iter().position(|&c| c == '>')
    } else {
        chars[end..].iter().position(|&c| c == ':' || c == ')')
    };
    close.map_or(chars.len(), |i| end + i + 1)
}

/// Go refuses a count above 1,000 (`x{1001}`), which Rust takes.
fn counts_within_limit(repeat: &[char]) -> bool {
    let text: String = repeat.iter().collect();
    text.trim_matches(|c| matches!(c, '{' | '}' | '?'))
        .split(',')
        .all(|n| n.is_empty() || n.parse::<u32>().is_ok_and(|n| n <= 1000))
}

/// The index after `{n}`, `{n,}` or `{n,m}` at `at`, as Go's parser takes a repetition
/// (digits without a leading zero); `None` where Go reads a literal `{`.
fn repeat_end(chars: &[char], at: usize) -> Option<usize> {
    let number = |from: usize| {
        let digits = chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let leading_zero = digits >= 2 && chars[from] == '0';
        (digits > 0 && !leading_zero).then_some(from + digits)
    };
    let mut next = number(at + 1)?;
    if chars.get(next) == Some(&',') {
        next += 1;
        if chars.get(next) != Some(&'}') {
            next = number(next)?;
        }
    }
    (chars.get(next) == Some(&'}')).then_some(next + 1)
}

/// One escape outside a class, at `at` (the `\`); the index after it.
fn outside_escape(chars: &[char], at: usize, out: &mut String) -> usize {
    let Some(&c) = chars.get(at + 1) else {
        out.push('\\');
        return at + 1;
    };
    if let Some(items) = perl_class(c) {
        let negated = if c.is_ascii_uppercase() { "^" } else { "" };
        out.push_str(&format!("[{negated}{items}]"));
        return at + 2;
    }
    match c {
        'b' => out.push_str(r"(?-u:\b)"),
        'B' => out.push_str(r"(?-u:\B)"),
        'Q' => return quoted(chars, at + 2, out),
        _ => return char_escape(chars, at, out).unwrap_or_else(|| copy(chars, at, out)),
    }
    at + 2
}

/// Go's `\Q...\E` from `from` (after the `\Q`): the text escaped, to the `\E` or the end.
fn quoted(chars: &[char], from: usize, out: &mut String) -> usize {
    let mut at = from;
    while let Some(&c) = chars.get(at) {
        if c == '\\' && chars.get(at + 1) == Some(&'E') {
            return at + 2;
        }
        out.push_str(&regex::escape(&c.to_string()));
        at += 1;
    }
    at
}

/// A `\` and the character after it, as written (with the braces of `\x{..}` and `\p{..}`,
/// which must not be read as a repetition).
fn copy(chars: &[char], at: usize, out: &mut String) -> usize {
    let mut end = (at + 2).min(chars.len());
    if matches!(chars.get(at + 1), Some('x' | 'p' | 'P')) {
        if chars.get(end) == Some(&'{') {
            end = chars[end..]
                .iter()
                .position(|&c| c == '}')
                .map_or(chars.len(), |i| end + i + 1);
        } else if chars.get(at + 1) == Some(&'x') {
            end = (end + 2).min(chars.len());
        } else {
            end = (end + 1).min(chars.len());
        }
    }
    out.extend(&chars[at..end]);
    end
}

/// The escapes whose character Go and Rust write differently, in or out of a class: octal
/// (`\0`, `\012`; `\1` alone is refused by both), and `\<`, `\>`, which are Go's literals. The
/// index after it, or `None` to copy it as written.
fn char_escape(chars: &[char], at: usize, out: &mut String) -> Option<usize> {
    let c = *chars.get(at + 1)?;
    let is_octal = |i: usize| chars.get(i).is_some_and(|c| ('0'..='7').contains(c));
    match c {
        '<' | '>' => {
            out.push(c);
            Some(at + 2)
        }
        '0'..='7' if c == '0' || is_octal(at + 2) => {
            let mut value = 0u32;
            let mut end = at + 1;
            while end < at + 4 && is_octal(end) {
                value = value * 8 + (chars[end] as u32 - '0' as u32);
                end += 1;
            }
            out.push_str(&format!(r"\x{{{value:x}}}"));
            Some(end)
        }
        _ => None,
    }
}

/// A class at `at` (the `[`); the index after its `]`, or the end when it has none (which both
/// refuse).
fn class(chars: &[char], at: usize, out: &mut String) -> usize {
    out.push('[');
    let mut next = at + 1;
    if chars.get(next) == Some(&'^') {
        out.push('^');
        next += 1;
    }
    // A `]` first is a member.
    if chars.get(next) == Some(&']') {
        out.push_str(r"\]");
        next += 1;
    }
    while let Some(&c) = chars.get(next) {
        next = match c {
            ']' => {
                out.push(']');
                return next + 1;
            }
            '[' if chars.get(next + 1) == Some(&':') => posix_class(chars, next, out),
            '\\' => class_item_escape(chars, next, out),
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
                next + 1
            }
            _ => {
                out.push(c);
                next + 1
            }
        };
    }
    next
}

/// `[:alpha:]` (or `[:^alpha:]`) at `at`, as written; a `[` with no `:]` after it is a
/// literal.
fn posix_class(chars: &[char], at: usize, out: &mut String) -> usize {
    let close = chars[at + 2..]
        .windows(2)
        .position(|w| w == [':', ']'])
        .map(|i| at + 2 + i + 2);
    match close {
        Some(end) => {
            out.extend(&chars[at..end]);
            end
        }
        None => {
            out.push_str(r"\[");
            at + 1
        }
    }
}

/// One escape inside a class, at `at`; the index after it.
fn class_item_escape(chars: &[char], at: usize, out: &mut String) -> usize {
    if let Some(&c) = chars.get(at + 1)
        && let Some(items) = perl_class(c)
    {
        if c.is_ascii_uppercase() {
            // A negated class nested in this one: their union, as in Go.
            out.push_str(&format!("[^{items}]"));
        } else {
            out.push_str(items);
        }
        return at + 2;
    }
    char_escape(chars, at, out).unwrap_or_else(|| copy(chars, at, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(pattern: &str) -> String {
        to_rust(pattern).into_owned()
    }

    #[test]
    fn perl_classes_and_boundaries_are_ascii() {
        assert_eq!(rust(r"^\d+$"), "^[0-9]+$");
        assert_eq!(
            rust(r"\w\W\s\S\D"),
            r"[0-9A-Za-z_][^0-9A-Za-z_][\t\n\f\r ][^\t\n\f\r ][^0-9]"
        );
        assert_eq!(rust(r"[\d_-]"), "[0-9_-]");
        assert_eq!(rust(r"[a\D]"), "[a[^0-9]]");
        assert_eq!(rust(r"\bfoo\B"), r"(?-u:\b)foo(?-u:\B)");
        let ascii = regex::Regex::new(&rust(r"^\d+$")).unwrap();
        assert!(ascii.is_match("123") && !ascii.is_match("١٢٣"));
        let word = regex::Regex::new(&rust(r"\bb")).unwrap();
        assert!(word.is_match("éb"), "é is no word character in Go");
    }

    #[test]
    fn a_brace_that_opens_no_repetition_is_a_literal() {
        assert_eq!(rust("a{2}b{2,}c{2,3}"), "a{2}b{2,}c{2,3}");
        assert_eq!(rust("{a}"), r"\{a}");
        assert_eq!(rust("x{,3}"), r"x\{,3}");
        assert_eq!(rust("x{01}"), r"x\{01}");
        assert_eq!(rust("x{1"), r"x\{1");
        assert_eq!(
            rust(r"\x{41}{2}\p{Greek}{1}\pL{1}\x41{1}"),
            r"\x{41}{2}\p{Greek}{1}\pL{1}\x41{1}"
        );
        for pattern in ["{a}", "x{,3}", "{a,b}*", "{1,2", "^{.*}$"] {
            assert!(regex::Regex::new(&rust(pattern)).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn go_only_escapes_and_class_literals() {
        assert_eq!(rust(r"\Qa.b*\Ec"), r"a\.b\*c");
        assert_eq!(rust(r"\Q{x"), r"\{x");
        assert_eq!(rust(r"\012\0a\101"), r"\x{a}\x{0}a\x{41}");
        assert_eq!(rust(r"\1"), r"\1");
        assert_eq!(rust(r"\<a\>"), "<a>");
        assert_eq!(rust("[[]"), r"[\[]");
        assert_eq!(rust("[a&&b~~c]"), r"[a\&\&b\~\~c]");
        assert_eq!(rust("[]a]"), r"[\]a]");
        assert_eq!(rust("[^]a]"), r"[^\]a]");
        assert_eq!(rust("[[:alpha:][]"), r"[[:alpha:]\[]");
        assert_eq!(rust(r"[\[\]]"), r"[\[\]]");
        for pattern in ["[[]", "[a&&b]", r"\Q[\E", r"\012"] {
            assert!(regex::Regex::new(&rust(pattern)).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn repetitions_go_refuses_are_refused() {
        for pattern in [
            "a**", "a+{2}", "a?+", "a*?*", "(?i)*", "(?i){2}", "a|*", "x{1001}", "(*a)",
        ] {
            assert!(regex::Regex::new(&rust(pattern)).is_err(), "{pattern}");
        }
        for pattern in [
            "a*?",
            "a??",
            "a{2}?",
            "(a*)*",
            "(?i)a*",
            "(?:a)+",
            "(?P<n>a)+",
            "x{1000}",
            "^*",
        ] {
            assert_eq!(rust(pattern), pattern);
            assert!(regex::Regex::new(pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn most_patterns_are_left_as_they_are() {
        for pattern in [
            "^[a-z]+$",
            r"^(?i)[a-f0-9]{8}-[a-f0-9]{4}$",
            r"\.example\.com$",
            r"^/api/v[0-9]+/orders/\p{L}+$",
            "",
        ] {
            assert!(matches!(to_rust(pattern), Cow::Borrowed(_)), "{pattern}");
        }
    }
}
