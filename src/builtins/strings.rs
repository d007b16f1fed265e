//! `strings.*` builtins regorus lacks (`strings.split_n`) or answers differently from OPA
//! (`strings.replace_n`, `strings.count`), with Go's `strings` semantics, which OPA uses.
//!
//! Owns: Go's `SplitN`, `Replacer` and `Count` behaviour on Rego strings. `replace_n` and
//! `count` replace regorus' own builtins (on the interpreter; see [`super::overrides_regorus`]).

use super::args::type_name;
use regorus::Value;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "strings.split_n",
        nargs: 3,
        eval: split_n,
    },
    Builtin {
        name: "strings.replace_n",
        nargs: 2,
        eval: replace_n,
    },
    Builtin {
        name: "strings.count",
        nargs: 2,
        eval: count,
    },
];

fn string_arg<'a>(name: &str, args: &'a [Value], i: usize) -> Result<&'a str, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(format!(
            "{name}: operand {} must be string but got {}",
            i + 1,
            type_name(other)
        )),
        None => Err(format!("{name}: missing operand {}", i + 1)),
    }
}

fn answer(result: Result<Value, String>) -> anyhow::Result<Value> {
    result.or_else(builtin_error)
}

/// Go's `strings.Split` / `SplitN` with `limit` (`None`: no limit; `Some(0)`: nothing).
fn go_split<'a>(s: &'a str, sep: &str, limit: Option<usize>) -> Vec<&'a str> {
    if limit == Some(0) {
        return Vec::new();
    }
    if sep.is_empty() {
        // Go "explodes" the string into its characters; the last part keeps the rest.
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(c) = rest.chars().next() {
            if limit.is_some_and(|n| parts.len() + 1 == n) {
                break;
            }
            let (head, tail) = rest.split_at(c.len_utf8());
            parts.push(head);
            rest = tail;
        }
        if !rest.is_empty() {
            parts.push(rest);
        }
        return parts;
    }
    match limit {
        Some(n) => s.splitn(n, sep).collect(),
        None => s.split(sep).collect(),
    }
}

fn split_n(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "strings.split_n";
    answer((|| {
        let s = string_arg(name, &args, 0)?;
        let sep = string_arg(name, &args, 1)?;
        let n = match args.get(2) {
            Some(Value::Number(n)) if n.is_integer() => n
                .as_i64()
                .ok_or_else(|| format!("{name}: operand 3 must be integer number"))?,
            Some(Value::Number(_)) => {
                return Err(format!(
                    "{name}: operand 3 must be integer number but got floating-point number"
                ));
            }
            Some(other) => {
                return Err(format!(
                    "{name}: operand 3 must be number but got {}",
                    type_name(other)
                ));
            }
            None => return Err(format!("{name}: missing operand 3")),
        };
        // OPA: the first n parts of a split into at most n+1; a negative n keeps the last |n|.
        let parts: Vec<&str> = if n >= 0 {
            let limit = usize::try_from(n).ok().and_then(|n| n.checked_add(1));
            let mut parts = go_split(s, sep, limit);
            parts.truncate(usize::try_from(n).unwrap_or(usize::MAX));
            parts
        } else {
            let parts = go_split(s, sep, None);
            let keep = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
            let start = parts.len().saturating_sub(keep);
            parts.get(start..).unwrap_or(&[]).to_vec()
        };
        Ok(Value::from(
            parts.into_iter().map(Value::from).collect::<Vec<_>>(),
        ))
    })())
}

/// Go's `strings.NewReplacer(pairs...).Replace(s)`: one left-to-right pass; at each position
/// the first pair (in the given order) whose key matches wins, whatever its length; an empty
/// key matches between characters, but not twice in a row at the same place.
fn go_replace(s: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut previous_match_empty = false;
    while i <= s.len() {
        let rest = s.get(i..).unwrap_or("");
        let found = pairs
            .iter()
            .find(|(key, _)| rest.starts_with(key) && !(key.is_empty() && previous_match_empty));
        previous_match_empty = found.is_some_and(|(key, _)| key.is_empty());
        match found {
            // After an empty key, the same place is looked at again, without it.
            Some((key, value)) => {
                out.push_str(value);
                i += key.len();
            }
            None => match rest.chars().next() {
                Some(c) => {
                    out.push(c);
                    i += c.len_utf8();
                }
                None => break,
            },
        }
    }
    out
}

fn replace_n(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "strings.replace_n";
    answer((|| {
        let Some(Value::Object(patterns)) = args.first() else {
            let got = args.first().map_or("nothing", type_name);
            return Err(format!("{name}: operand 1 must be object but got {got}"));
        };
        let s = string_arg(name, &args, 1)?;
        let mut pairs = Vec::with_capacity(patterns.len());
        // Keys in Rego's order, which for strings is Go's byte order, as OPA sorts them.
        for (k, v) in patterns.iter_sorted() {
            let Value::String(k) = k else {
                return Err(format!(
                    "{name}: operand 1 non-string key found in pattern object"
                ));
            };
            let Value::String(v) = v else {
                return Err(format!(
                    "{name}: operand 1 non-string value found in pattern object"
                ));
            };
            pairs.push((k.as_ref(), v.as_ref()));
        }
        Ok(Value::from(go_replace(s, &pairs)))
    })())
}

fn count(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "strings.count";
    answer((|| {
        let s = string_arg(name, &args, 0)?;
        let sub = string_arg(name, &args, 1)?;
        // Go's strings.Count: non-overlapping; the empty string occurs between characters.
        let n = if sub.is_empty() {
            s.chars().count() + 1
        } else {
            s.matches(sub).count()
        };
        Ok(Value::from(n))
    })())
}

#[cfg(test)]
mod tests;
