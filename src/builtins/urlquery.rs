//! `urlquery.encode`, `urlquery.encode_object`, `urlquery.decode` and
//! `urlquery.decode_object`, overriding regorus' with Go's `net/url` rules, which OPA uses:
//! only letters, digits and `-_.~` stay as they are (regorus keeps `*` and escapes `~`), a bad
//! escape (`%zz`) is an error (regorus keeps it), and a `;` in a query is an error (Go 1.17+),
//! not part of a value.
//!
//! Owns: Go's `QueryEscape`, `QueryUnescape`, `Values.Encode` and `ParseQuery`.

use std::collections::BTreeMap;

use regorus::Value;
use regorus::value::Object;

use super::Builtin;
use super::args::{Outcome, finish, object, string, type_name};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "urlquery.encode",
        nargs: 1,
        eval: |args| {
            finish(
                "urlquery.encode",
                string(&args, 0).map(|s| Value::from(escape(s))),
            )
        },
    },
    Builtin {
        name: "urlquery.encode_object",
        nargs: 1,
        eval: |args| finish("urlquery.encode_object", encode_object(&args)),
    },
    Builtin {
        name: "urlquery.decode",
        nargs: 1,
        eval: |args| {
            let decoded = string(&args, 0).and_then(unescape).map(Value::from);
            finish("urlquery.decode", decoded)
        },
    },
    Builtin {
        name: "urlquery.decode_object",
        nargs: 1,
        eval: |args| finish("urlquery.decode_object", decode_object(&args)),
    },
];

/// Go's `url.QueryEscape`.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Go's `url.QueryUnescape`: `+` is a space, `%XX` a byte; bytes that are not UTF-8 become
/// U+FFFD, as OPA's answer writes them.
fn unescape(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|b| (*b as char).to_digit(16));
                let (Some(high), Some(low)) = (hex(i + 1), hex(i + 2)) else {
                    let bad: String = text[i..].chars().take(3).collect();
                    return Err(format!("invalid URL escape \"{bad}\""));
                };
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Go's `url.Values{...}.Encode()`: keys sorted, each value in order, `key=value` joined by `&`.
fn encode_object(args: &[Value]) -> Outcome {
    let mut pairs = Vec::new();
    for (key, value) in object(args, 0)?.iter() {
        let Value::String(key) = key else {
            return Err(format!(
                "object key must be string but got {}",
                type_name(key)
            ));
        };
        let values: Vec<&Value> = match value {
            Value::String(_) => vec![value],
            Value::Array(items) => items.iter().collect(),
            Value::Set(items) => items.iter().collect(),
            other => {
                return Err(format!(
                    "object value must be string, array or set but got {}",
                    type_name(other)
                ));
            }
        };
        for value in values {
            let Value::String(value) = value else {
                return Err(format!("value must be string but got {}", type_name(value)));
            };
            pairs.push(format!("{}={}", escape(key), escape(value)));
        }
    }
    Ok(Value::from(pairs.join("&")))
}

/// Go's `url.ParseQuery`: the first error wins; keys map to their values in order.
fn decode_object(args: &[Value]) -> Outcome {
    let mut query: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut first_error = None;
    for part in string(args, 0)?.split('&') {
        if part.is_empty() {
            continue;
        }
        if part.contains(';') {
            first_error.get_or_insert_with(|| "invalid semicolon separator in query".to_string());
            continue;
        }
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        match (unescape(key), unescape(value)) {
            (Ok(key), Ok(value)) => query.entry(key).or_default().push(Value::from(value)),
            (Err(e), _) | (_, Err(e)) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    let mut out = Object::new();
    for (key, values) in query {
        out.insert(Value::from(key), Value::from(values));
    }
    Ok(out.into_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_is_gos() {
        assert_eq!(
            escape(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é"),
            "+%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~%C3%A9"
        );
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert_eq!(unescape("a+b%20c%2A~").unwrap(), "a b c*~");
        assert_eq!(unescape("%zz").unwrap_err(), "invalid URL escape \"%zz\"");
        assert_eq!(unescape("x%").unwrap_err(), "invalid URL escape \"%\"");
        assert_eq!(unescape("%4").unwrap_err(), "invalid URL escape \"%4\"");
        assert_eq!(unescape("%ff").unwrap(), "\u{fffd}");
    }

    #[test]
    fn objects_encode_sorted_and_decode_in_order() {
        let object = Value::from_json_str(r#"{"a b*": ["x*y", "~"], "f": "g!", "c": []}"#).unwrap();
        let encoded = (BUILTINS[1].eval)(vec![object]).unwrap();
        assert_eq!(encoded, Value::from("a+b%2A=x%2Ay&a+b%2A=~&f=g%21"));
        let decoded = (BUILTINS[3].eval)(vec![Value::from("a&b=&=c&b=2")]).unwrap();
        assert_eq!(
            decoded,
            Value::from_json_str(r#"{"": ["c"], "a": [""], "b": ["", "2"]}"#).unwrap()
        );
        for bad in ["a=1;b=2", "a=1&b=%zz"] {
            let strict = crate::builtins::with_strict_errors(true, || {
                (BUILTINS[3].eval)(vec![Value::from(bad)])
            });
            assert!(strict.is_err(), "{bad}");
        }
    }
}
