//! `regex.globs_match`: whether two glob-like patterns (`.`, `[...]` sets, `*` and `+` after a
//! token, `\` escapes) can match a common string, with the answers of the algorithm OPA uses
//! (the glob-intersection library's token matching, including its corner cases: two empty
//! patterns intersect, `a*` and `b*` do not).
//!
//! Owns: tokenising the patterns (with that library's error messages), simplifying runs of
//! flagged tokens and the intersection walk.

use std::collections::BTreeSet;

use regorus::Value;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "regex.globs_match",
    nargs: 2,
    eval: globs_match,
}];

#[derive(Clone, Debug, PartialEq, Eq)]
enum Kind {
    Char(char),
    Dot,
    Set(BTreeSet<char>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flag {
    None,
    Plus,
    Star,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Token {
    kind: Kind,
    flag: Flag,
}

/// Whether two tokens share a character (flags aside).
fn matches(a: &Token, b: &Token) -> bool {
    match (&a.kind, &b.kind) {
        (Kind::Char(x), Kind::Char(y)) => x == y,
        (Kind::Char(c), Kind::Set(s)) | (Kind::Set(s), Kind::Char(c)) => s.contains(c),
        (Kind::Set(x), Kind::Set(y)) => x.intersection(y).next().is_some(),
        // A dot matches anything, even an empty set (as the library has it).
        (Kind::Dot, _) | (_, Kind::Dot) => true,
    }
}

fn invalid(input: &[char], pos: usize, message: &str) -> String {
    let input: String = input.iter().collect();
    format!("input:{input}, pos:{pos}, {message}: the input provided is invalid")
}

/// The next character at `i`, with whether it was escaped, and where the one after starts.
fn next_rune(input: &[char], i: usize) -> Result<Option<(char, bool, usize)>, String> {
    match input.get(i) {
        None => Ok(None),
        Some('\\') => match input.get(i + 1) {
            Some(&c) => Ok(Some((c, true, i + 2))),
            None => Err(invalid(input, i, "input ends with a \\ (escape) character")),
        },
        Some(&c) => Ok(Some((c, false, i + 1))),
    }
}

fn tokenize(input: &[char]) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some((c, escaped, next)) = next_rune(input, i)? {
        i = next;
        let kind = match c {
            _ if escaped => Kind::Char(c),
            '.' => Kind::Dot,
            ']' => return Err(invalid(input, i, "set-close ']' with no preceding '['")),
            '[' => {
                let (set, next) = set(input, i)?;
                i = next;
                Kind::Set(set)
            }
            '*' | '+' => {
                let message = format!("flag '{c}' must be preceded by a non-flag");
                return Err(invalid(input, i, &message));
            }
            c => Kind::Char(c),
        };
        let flag = match input.get(i) {
            Some('*') => Flag::Star,
            Some('+') => Flag::Plus,
            _ => Flag::None,
        };
        if flag != Flag::None {
            i += 1;
        }
        tokens.push(Token { kind, flag });
    }
    Ok(tokens)
}

/// A `[...]` set starting after its `[` at `i`; returns the set and where the next token starts.
fn set(input: &[char], mut i: usize) -> Result<(BTreeSet<char>, usize), String> {
    let mut chars = BTreeSet::new();
    let mut prev: Option<char> = None;
    while let Some((c, escaped, next)) = next_rune(input, i)? {
        i = next;
        match c {
            ']' if !escaped => return Ok((chars, i)),
            '-' if !escaped => {
                let Some(low) = prev else {
                    let message = "range character '-' must be preceded by a Unicode character";
                    return Err(invalid(input, i, message));
                };
                if i + 1 >= input.len() {
                    let message = "range character '-' must be followed by a Unicode character";
                    return Err(invalid(input, i, message));
                }
                let Some((high, escaped, next)) = next_rune(input, i)? else {
                    break;
                };
                i = next;
                if !escaped && (high == ']' || high == '-') {
                    let message = "range character '-' cannot be followed by a special symbol";
                    return Err(invalid(input, i, message));
                }
                if high < low {
                    let message =
                        format!("range is out of order: '{high}' comes before '{low}' in Unicode");
                    return Err(invalid(input, i, &message));
                }
                chars.extend(low..=high);
                prev = None;
            }
            c => {
                chars.insert(c);
                prev = Some(c);
            }
        }
    }
    Err(invalid(input, i, "found [ without matching ]"))
}

/// Merges a flagged token into an equal flagged token before it (`t+t*` is `t+`).
fn simplify(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if let Some(last) = out.last_mut()
            && token.flag != Flag::None
            && last.flag != Flag::None
            && token.kind == last.kind
        {
            if token.flag == Flag::Plus {
                last.flag = Flag::Plus;
            }
            continue;
        }
        out.push(token);
    }
    out
}

/// Drops the matching unflagged prefix and suffix (keeping one token of each), or `None` when
/// they do not match.
fn trim<'a>(g1: &'a [Token], g2: &'a [Token]) -> Option<(&'a [Token], &'a [Token])> {
    let mut l = 0;
    while let (Some(a), Some(b)) = (g1.get(l), g2.get(l)) {
        if a.flag != Flag::None || b.flag != Flag::None {
            break;
        }
        if !matches(a, b) {
            return None;
        }
        l += 1;
    }
    l = l.saturating_sub(1);
    let (mut r1, mut r2) = (g1.len() as isize - 1, g2.len() as isize - 1);
    let l_signed = l as isize;
    while r1 >= l_signed && r2 >= l_signed {
        let (Some(a), Some(b)) = (g1.get(r1 as usize), g2.get(r2 as usize)) else {
            break;
        };
        if a.flag != Flag::None || b.flag != Flag::None {
            break;
        }
        if !matches(a, b) {
            return None;
        }
        r1 -= 1;
        r2 -= 1;
    }
    if r1 < g1.len() as isize - 1 {
        r1 += 1;
        r2 += 1;
    }
    let end1 = usize::try_from(r1 + 1).unwrap_or(0);
    let end2 = usize::try_from(r2 + 1).unwrap_or(0);
    Some((
        g1.get(l..end1).unwrap_or(&[]),
        g2.get(l..end2).unwrap_or(&[]),
    ))
}

fn intersect_normal(g1: &[Token], g2: &[Token]) -> bool {
    let mut i = 0;
    while let (Some(a), Some(b)) = (g1.get(i), g2.get(i)) {
        if a.flag == Flag::None && b.flag == Flag::None {
            if !matches(a, b) {
                return false;
            }
        } else {
            return intersect_special(g1.get(i..).unwrap_or(&[]), g2.get(i..).unwrap_or(&[]));
        }
        i += 1;
    }
    i == g1.len() && i == g2.len()
}

fn intersect_special(g1: &[Token], g2: &[Token]) -> bool {
    let (Some(a), Some(b)) = (g1.first(), g2.first()) else {
        return false;
    };
    match (a.flag, b.flag) {
        (Flag::Plus, _) => intersect_plus(g1, g2),
        (Flag::Star, _) => intersect_star(g1, g2),
        (Flag::None, Flag::Plus) => intersect_plus(g2, g1),
        (Flag::None, Flag::Star) => intersect_star(g2, g1),
        (Flag::None, Flag::None) => false,
    }
}

fn intersect_plus(plussed: &[Token], other: &[Token]) -> bool {
    // The first token must match. Then either the plussed token goes on like a starred one
    // past it, or that token, when flagged, takes the whole plussed token in (`a+` against
    // `a+\.*a+`: the library version OPA uses).
    match (plussed.first(), other.first()) {
        (Some(p), Some(o)) if matches(p, o) => {
            intersect_star(plussed, other.get(1..).unwrap_or(&[]))
                || (o.flag != Flag::None
                    && intersect_normal(plussed.get(1..).unwrap_or(&[]), other))
        }
        _ => false,
    }
}

/// Lets the starred token absorb tokens of `other` until the rest matches what follows it.
fn intersect_star(starred: &[Token], other: &[Token]) -> bool {
    let Some(star) = starred.first() else {
        return false;
    };
    let next = starred.get(1);
    for (i, t) in other.iter().enumerate() {
        // Where the rest could start, try matching it all the way.
        if let Some(next) = next
            && matches(t, next)
            && intersect_normal(
                starred.get(1..).unwrap_or(&[]),
                other.get(i..).unwrap_or(&[]),
            )
        {
            return true;
        }
        if !matches(t, star) {
            return false;
        }
    }
    next.is_none()
}

fn globs_match(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "regex.globs_match";
    let (Some(Value::String(a)), Some(Value::String(b))) = (args.first(), args.get(1)) else {
        return builtin_error(format!("{name}: operands must be strings"));
    };
    let parse = |s: &str| tokenize(&s.chars().collect::<Vec<_>>()).map(simplify);
    let (g1, g2) = match (parse(a), parse(b)) {
        (Ok(g1), Ok(g2)) => (g1, g2),
        (Err(e), _) | (_, Err(e)) => return builtin_error(format!("{name}: {e}")),
    };
    let answer = trim(&g1, &g2).is_some_and(|(g1, g2)| intersect_normal(g1, g2));
    Ok(Value::from(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(a: &str, b: &str) -> Value {
        globs_match(vec![Value::from(a), Value::from(b)]).unwrap()
    }

    #[test]
    fn answers_as_opa() {
        // Values confirmed with OPA v1.20.2.
        assert_eq!(globs("a.a.[0-9]+z", ".b.b.*"), Value::from(true));
        assert_eq!(globs("[a-c]+", "[c-e]+"), Value::from(true));
        assert_eq!(globs("[a-c]", "[d-e]"), Value::from(false));
        assert_eq!(globs("a\\.b", "a.b"), Value::from(true));
        assert_eq!(globs("", ""), Value::from(true));
        assert_eq!(globs(".*", ""), Value::from(false));
        assert_eq!(globs("a*", "b*"), Value::from(false));
        assert_eq!(globs("[^a]", "a"), Value::from(true));
        assert_eq!(globs("x.*y", "x[0-9]+"), Value::from(false));
    }

    #[test]
    fn invalid_patterns_are_errors() {
        let err = |a: &str, b: &str| {
            crate::builtins::with_strict_errors(true, || {
                globs_match(vec![Value::from(a), Value::from(b)])
            })
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            err("a[", "a"),
            "regex.globs_match: input:a[, pos:2, found [ without matching ]: the input provided is invalid"
        );
        assert_eq!(
            err("a**", "a"),
            "regex.globs_match: input:a**, pos:3, flag '*' must be preceded by a non-flag: the input provided is invalid"
        );
    }
}
