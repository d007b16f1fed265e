//! `json.marshal` and `json.marshal_with_options`, overriding regorus' where OPA answers
//! differently: Go's JSON encoder escapes `<`, `>` and `&` (as `\u003c`, `\u003e`, `\u0026`)
//! and the line and paragraph separators U+2028 and U+2029, where regorus wrote them as they
//! are; `crypto.sha256(json.marshal(x))` of a value holding a URL with a query differed.
//!
//! Owns: those escapes, inside the text's strings (a `prefix` or `indent` option stays as
//! given). The text is regorus'.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "json.marshal",
        nargs: 1,
        eval: |args| marshal("json.marshal", args),
    },
    Builtin {
        name: "json.marshal_with_options",
        nargs: 2,
        eval: |args| marshal("json.marshal_with_options", args),
    },
];

fn marshal(name: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    // The prefix and indent of `json.marshal_with_options` stand outside strings as given.
    let option = |key: &str| match args.get(1) {
        Some(Value::Object(options)) => match options.get(&Value::from(key)) {
            Some(Value::String(s)) => s.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let (prefix, indent) = (option("prefix"), option("indent"));
    match regorus_builtin::call(name, &args) {
        Ok(Value::String(text)) => Ok(Value::from(go_escaped(&text, &prefix, &indent))),
        Ok(other) => Ok(other),
        Err(e) => builtin_error(e),
    }
}

/// `text` (JSON, each line opened by `prefix` and repeated `indent`) with the characters Go's
/// encoder escapes in strings escaped there.
fn go_escaped(text: &str, prefix: &str, indent: &str) -> String {
    if !text.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    let mut in_string = false;
    let mut line_start = true;
    while !rest.is_empty() {
        if line_start {
            line_start = false;
            for piece in std::iter::once(prefix).chain(std::iter::repeat(indent)) {
                match rest.strip_prefix(piece) {
                    Some(after) if !piece.is_empty() => {
                        out.push_str(piece);
                        rest = after;
                    }
                    _ => break,
                }
            }
            continue;
        }
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' if in_string => {
                out.push(c);
                if let Some(escaped) = rest.chars().next() {
                    out.push(escaped);
                    rest = &rest[escaped.len_utf8()..];
                }
            }
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            '\n' if !in_string => {
                out.push(c);
                line_start = true;
            }
            '<' if in_string => out.push_str("\\u003c"),
            '>' if in_string => out.push_str("\\u003e"),
            '&' if in_string => out.push_str("\\u0026"),
            '\u{2028}' if in_string => out.push_str("\\u2028"),
            '\u{2029}' if in_string => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_characters_and_separators_are_escaped_as_go_escapes_them() {
        let marshalled = marshal(
            "json.marshal",
            vec![Value::from_json_str(r#"{"u": "a?b=1&c=<2>", "s": "x\u2028y"}"#).unwrap()],
        )
        .unwrap();
        assert_eq!(
            marshalled,
            Value::from(r#"{"s":"x\u2028y","u":"a?b=1\u0026c=\u003c2\u003e"}"#)
        );
        assert_eq!(go_escaped("plain", "", ""), "plain");
        assert_eq!(
            go_escaped("> {\n> <>\"a\": \"<\\\"&\"\n> }", "> ", "<>"),
            "> {\n> <>\"a\": \"\\u003c\\\"\\u0026\"\n> }"
        );
    }
}
