//! `regex.split` and `regex.template_match`, overriding regorus' where OPA (Go's `regexp`)
//! answers differently: Go's `Split` drops the empty pieces an empty match makes at either end
//! (`regex.split("", "aaa")` is `["a", "a", "a"]`, regorus: `["", "a", "a", "a", ""]`) and skips
//! an empty match right after a match, and `template_match` fails unless each delimiter is one
//! byte long, as OPA checks (regorus: `false`).
//!
//! Owns: Go's `FindAllStringIndex` and `Split` over a Rust regex; the delimiter check. A
//! `regex.split` pattern is read with Go's syntax ([`super::go_regex_to_rust`]); the patterns
//! inside a `template_match` template are regorus' (Rust's syntax, see the README's known
//! differences).

use regex::Regex;
use regorus::Value;

use super::args::{Outcome, finish, string};
use super::{Builtin, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "regex.split",
        nargs: 2,
        eval: |args| finish("regex.split", split_builtin(&args)),
    },
    Builtin {
        name: "regex.template_match",
        nargs: 4,
        eval: |args| finish("regex.template_match", template_match(&args)),
    },
];

fn split_builtin(args: &[Value]) -> Outcome {
    let (pattern, text) = (string(args, 0)?, string(args, 1)?);
    // Go's syntax, as OPA reads the pattern (`\d` is ASCII, `{a}` a literal).
    let regex = Regex::new(&super::go_regex_to_rust(pattern))
        .map_err(|e| format!("error parsing regexp: {e}"))?;
    let pieces = split(&regex, pattern, text);
    Ok(Value::from(
        pieces.into_iter().map(Value::from).collect::<Vec<_>>(),
    ))
}

/// Go's `FindAllStringIndex(text, -1)`: after an empty match the search moves on one
/// character, and an empty match where the previous match ended is not reported.
fn find_all(regex: &Regex, text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut pos, mut previous_end) = (0usize, None);
    while pos <= text.len() {
        let Some(found) = regex.find_at(text, pos) else {
            break;
        };
        let (start, end) = (found.start(), found.end());
        let mut accept = true;
        if end == pos {
            if Some(start) == previous_end {
                accept = false;
            }
            pos += text[pos..].chars().next().map_or(1, char::len_utf8);
        } else {
            pos = end;
        }
        previous_end = Some(end);
        if accept {
            out.push((start, end));
        }
    }
    out
}

/// Go's `Split(text, -1)`.
fn split<'a>(regex: &Regex, pattern: &str, text: &'a str) -> Vec<&'a str> {
    if !pattern.is_empty() && text.is_empty() {
        return vec![""];
    }
    let mut pieces = Vec::new();
    let (mut begin, mut end) = (0usize, 0usize);
    for (start, stop) in find_all(regex, text) {
        end = start;
        if stop != 0 {
            pieces.push(&text[begin..end]);
        }
        begin = stop;
    }
    if end != text.len() {
        pieces.push(&text[begin..]);
    }
    pieces
}

fn template_match(args: &[Value]) -> Outcome {
    for (index, which) in [(2, "start"), (3, "end")] {
        let delimiter = string(args, index)?;
        if delimiter.len() != 1 {
            return Err(format!(
                "{which} delimiter has to be exactly one character long but is {} long",
                delimiter.len()
            ));
        }
    }
    regorus_builtin::call("regex.template_match", args).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go_split(pattern: &str, text: &str) -> Vec<String> {
        let regex = Regex::new(pattern).unwrap();
        split(&regex, pattern, text)
            .into_iter()
            .map(String::from)
            .collect()
    }

    #[test]
    fn split_is_gos() {
        assert_eq!(go_split("", "aaa"), ["a", "a", "a"]);
        assert_eq!(go_split("", ""), Vec::<String>::new());
        assert_eq!(go_split("a", ""), [""]);
        assert_eq!(go_split(",", "a,b,,c,"), ["a", "b", "", "c", ""]);
        assert_eq!(go_split("x*", "axbxxc"), ["a", "b", "c"]);
        assert_eq!(go_split("a*", "baaab"), ["b", "b"]);
        assert_eq!(go_split("", "日本"), ["日", "本"]);
    }

    #[test]
    fn delimiters_are_one_byte() {
        let call = |start: &str, end: &str| {
            crate::builtins::with_strict_errors(true, || {
                (BUILTINS[1].eval)(vec![
                    Value::from("urn:foo:{.*}"),
                    Value::from("urn:foo:bar"),
                    Value::from(start),
                    Value::from(end),
                ])
            })
        };
        assert_eq!(call("{", "}").unwrap(), Value::from(true));
        assert_eq!(
            call("<<", "}").unwrap_err().to_string(),
            "regex.template_match: start delimiter has to be exactly one character long but is 2 long"
        );
        assert_eq!(
            call("{", "").unwrap_err().to_string(),
            "regex.template_match: end delimiter has to be exactly one character long but is 0 long"
        );
    }
}
