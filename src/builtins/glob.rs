//! `glob.match`, overriding regorus' for patterns with an empty alternative (`{,a}`, `a{b,}`):
//! OPA's matcher (gobwas/glob) lets an alternative be empty, regorus' (globset) never matches
//! it. Such a pattern is expanded into its alternatives, each matched by regorus. Character
//! classes are written with gobwas' meaning first (`[^a]` is `^` or `a`; `[ab-c]` is a list;
//! `[a-z0-9]` is an error). Any other pattern is regorus' own answer. `glob.quote_meta` escapes as gobwas/glob does.

use regorus::Value;

use super::args::{finish, string};
use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "glob.match",
        nargs: 3,
        eval: glob_match,
    },
    Builtin {
        name: "glob.quote_meta",
        nargs: 1,
        eval: |args| {
            finish(
                "glob.quote_meta",
                string(&args, 0).map(|p| Value::from(quote_meta(p))),
            )
        },
    },
];

/// gobwas/glob's `QuoteMeta`: a `\` before each of `*?[]{}\`, whatever the rest of the
/// string (regorus refuses a string that is not a valid glob, `[a-`, and leaves `]` alone).
fn quote_meta(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// More alternatives than this are left to regorus as written.
const MAX_EXPANSIONS: usize = 256;

fn glob_match(mut args: Vec<Value>) -> anyhow::Result<Value> {
    if let Some(first) = args.first_mut()
        && let Value::String(pattern) = first
    {
        match gobwas_classes(pattern) {
            Ok(Some(translated)) => *first = Value::from(translated),
            Ok(None) => {}
            Err(e) => return builtin_error(format!("glob.match: {e}")),
        }
    }
    let expanded = match args.first() {
        Some(Value::String(p)) if has_empty_alternative(p) => expand(p),
        _ => None,
    };
    let Some(patterns) = expanded else {
        return regorus_builtin::call("glob.match", &args)
            .or_else(|e| builtin_error(format!("glob.match: {e}")));
    };
    let mut args = args;
    for pattern in patterns {
        if let Some(first) = args.first_mut() {
            *first = Value::from(pattern);
        }
        match regorus_builtin::call("glob.match", &args) {
            Ok(Value::Bool(true)) => return Ok(Value::from(true)),
            Ok(_) => {}
            Err(e) => return builtin_error(format!("glob.match: {e}")),
        }
    }
    Ok(Value::from(false))
}

/// `pattern` with each character class written for regorus' matcher (globset) with the
/// meaning gobwas/glob gives it, or `None` when none needs it. gobwas reads a class as either
/// one range (`[a-c]`, `[!a-c]`, and nothing after it) or a list of characters, every one
/// literal (`[^a]` is `^` or `a`, `[ab-c]` is `a`, `b`, `-` or `c`); globset reads `^` first as
/// a negation and `b-c` as a range. An empty class, or a range with more after it
/// (`[a-z0-9]`), is gobwas' error.
fn gobwas_classes(pattern: &str) -> Result<Option<String>, String> {
    if !pattern.contains('[') {
        return Ok(None);
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut changed = false;
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        if c == '\\' {
            out.push(c);
            if let Some(&next) = chars.get(i + 1) {
                out.push(next);
            }
            i += 2;
            continue;
        }
        if c != '[' {
            out.push(c);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let negated = chars.get(i) == Some(&'!');
        if negated {
            i += 1;
        }
        // One range: `lo-hi` and the close.
        if let (Some(&lo), Some('-')) = (chars.get(i), chars.get(i + 1)) {
            let (Some(&hi), Some(']')) = (chars.get(i + 2), chars.get(i + 3)) else {
                return Err(if chars.len() <= i + 3 {
                    "unexpected end of input".to_string()
                } else {
                    "expected close range character".to_string()
                });
            };
            if !negated && lo == '^' {
                // globset would take the `^` for a negation.
                out.push_str(&format!("[\\^-{hi}]"));
                changed = true;
            } else {
                out.extend(&chars[start..i + 4]);
            }
            i += 4;
            continue;
        }
        // A list of literal characters, `\` escaping the next, up to the close.
        let mut members = Vec::new();
        loop {
            match chars.get(i) {
                None => return Err("unexpected end of input".to_string()),
                Some(']') => break,
                Some('\\') => {
                    members.extend(chars.get(i + 1));
                    i += 2;
                }
                Some(&m) => {
                    members.push(m);
                    i += 1;
                }
            }
        }
        i += 1;
        if members.is_empty() {
            return Err("unexpected end of range".to_string());
        }
        let original: String = chars[start..i].iter().collect();
        let written = globset_list(&members, negated).unwrap_or_else(|| original.clone());
        changed |= written != original;
        out.push_str(&written);
    }
    Ok(changed.then_some(out))
}

/// A globset class matching exactly `members` (or all but them), each literal; `None` where no
/// arrangement of them reads so (only `^` and `!`, unnegated, or a backslash).
fn globset_list(members: &[char], negated: bool) -> Option<String> {
    if members.contains(&'\\') {
        return None;
    }
    let has = |c: char| members.contains(&c);
    let plain: Vec<char> = members
        .iter()
        .copied()
        .filter(|c| !matches!(c, ']' | '-' | '^' | '!'))
        .collect();
    if !negated && plain.is_empty() && !has(']') && !has('-') {
        // Only `^` and `!`: a lone one is written escaped, outside a class.
        return match (has('^'), has('!')) {
            (true, false) => Some("\\^".to_string()),
            (false, true) => Some("\\!".to_string()),
            _ => None,
        };
    }
    let mut out = String::from(if negated { "[!" } else { "[" });
    // A `]` is literal first, a `-` first or last; `^` and `!` anywhere but first.
    if has(']') {
        out.push(']');
    } else if has('-') {
        out.push('-');
    }
    out.extend(plain);
    if has('^') {
        out.push('^');
    }
    if has('!') {
        out.push('!');
    }
    if has(']') && has('-') {
        out.push('-');
    }
    out.push(']');
    Some(out)
}

/// The byte ranges of a pattern outside escapes and character classes, with their depth of
/// braces, as `(index, char, depth)` for the structural characters `{`, `,` and `}`.
fn structure(pattern: &str) -> Vec<(usize, char, usize)> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut chars = pattern.char_indices();
    let mut in_class = false;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            _ if in_class => {}
            '{' => {
                depth += 1;
                out.push((i, c, depth));
            }
            ',' if depth > 0 => out.push((i, c, depth)),
            '}' if depth > 0 => {
                out.push((i, c, depth));
                depth -= 1;
            }
            _ => {}
        }
    }
    out
}

fn has_empty_alternative(pattern: &str) -> bool {
    structure(pattern)
        .windows(2)
        .any(|w| matches!(w, [(a, '{' | ',', _), (b, ',' | '}', _)] if b - a == 1))
}

/// Every pattern the first top-level `{...}` group stands for, expanded recursively; `None`
/// when the braces do not balance or there would be too many.
fn expand(pattern: &str) -> Option<Vec<String>> {
    let marks = structure(pattern);
    let Some(&(open, _, depth)) = marks.iter().find(|(_, c, _)| *c == '{') else {
        return Some(vec![pattern.to_string()]);
    };
    let mut alternatives = Vec::new();
    let mut start = open + 1;
    let mut close = None;
    for &(i, c, d) in marks.iter().filter(|(i, _, _)| *i > open) {
        if d != depth {
            continue;
        }
        match c {
            ',' => {
                alternatives.push(pattern.get(start..i)?);
                start = i + 1;
            }
            '}' => {
                alternatives.push(pattern.get(start..i)?);
                close = Some(i);
                break;
            }
            _ => {}
        }
    }
    let close = close?;
    let (prefix, suffix) = (pattern.get(..open)?, pattern.get(close + 1..)?);
    let mut out = Vec::new();
    for alternative in alternatives {
        for expanded in expand(&format!("{prefix}{alternative}{suffix}"))? {
            out.push(expanded);
            if out.len() > MAX_EXPANSIONS {
                return None;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_written_with_gobwas_meaning() {
        let t = |p: &str| gobwas_classes(p);
        assert_eq!(t("[^a]b"), Ok(Some("[a^]b".to_string())));
        assert_eq!(t("[ab-c]"), Ok(Some("[-abc]".to_string())));
        assert_eq!(t("[!^a]"), Ok(Some("[!a^]".to_string())));
        assert_eq!(t("[^]"), Ok(Some("\\^".to_string())));
        assert_eq!(t("[^-a]"), Ok(Some("[\\^-a]".to_string())));
        assert_eq!(t("[a-c]x[abc]*"), Ok(None));
        assert_eq!(t("no classes"), Ok(None));
        for invalid in ["[a-z0-9]", "[]", "[!]", "[a", "[a-", "[]a]"] {
            assert!(t(invalid).is_err(), "{invalid}");
        }
    }

    #[test]
    fn quote_meta_escapes_gobwas_specials_only() {
        assert_eq!(
            quote_meta("*?[]{}\\!-,^.a/:|+$()"),
            "\\*\\?\\[\\]\\{\\}\\\\!-,^.a/:|+$()"
        );
        assert_eq!(quote_meta("[a-"), "\\[a-");
        assert_eq!(quote_meta("a]b"), "a\\]b");
    }

    fn matches(pattern: &str, value: &str) -> Value {
        glob_match(vec![Value::from(pattern), Value::Null, Value::from(value)]).unwrap()
    }

    #[test]
    fn empty_alternatives_match_nothing_there() {
        assert_eq!(matches("{,a}", ""), Value::from(true));
        assert_eq!(matches("{,a}b", "b"), Value::from(true));
        assert_eq!(matches("a{b,}", "a"), Value::from(true));
        assert_eq!(matches("a{,b,}c", "ac"), Value::from(true));
        assert_eq!(matches("a{,b,}c", "abc"), Value::from(true));
        assert_eq!(matches("a{,b,}c", "axc"), Value::from(false));
    }

    #[test]
    fn expansion_respects_nesting_and_escapes() {
        assert_eq!(
            expand("x{a,{b,c}}y"),
            Some(vec!["xay".into(), "xby".into(), "xcy".into()])
        );
        assert!(!has_empty_alternative("\\{,a}"));
        assert!(!has_empty_alternative("[{,]"));
        assert_eq!(expand("{a,"), None);
    }

    #[test]
    fn other_patterns_are_regorus_answers() {
        let got = glob_match(vec![
            Value::from("*.github.com"),
            Value::from(vec![Value::from(".")]),
            Value::from("api.github.com"),
        ]);
        assert_eq!(got.unwrap(), Value::from(true));
    }
}
