//! `glob.match`, overriding regorus' for patterns with an empty alternative (`{,a}`, `a{b,}`):
//! OPA's matcher (gobwas/glob) lets an alternative be empty, regorus' (globset) never matches
//! it. Such a pattern is expanded into its alternatives, each matched by regorus; any other
//! pattern is regorus' own answer. `glob.quote_meta` escapes as gobwas/glob does.

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

fn glob_match(args: Vec<Value>) -> anyhow::Result<Value> {
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
