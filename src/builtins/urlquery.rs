//! `urlquery.encode`, `urlquery.encode_object`, `urlquery.decode` and
//! `urlquery.decode_object`, overriding regorus' with Go's `net/url` rules, which OPA uses:
//! only letters, digits and `-_.~` stay as they are (regorus keeps `*` and escapes `~`), a bad
//! escape (`%zz`) is an error (regorus keeps it), and a `;` in a query is an error (Go 1.17+),
//! not part of a value.
//!
//! Owns: Go's `Values.Encode` and `ParseQuery`; the escaping is [`super::uri`]'s, in Go's
//! query-component mode.

use std::collections::BTreeMap;

use regorus::Value;
use regorus::value::Object;

use super::Builtin;
use super::args::{Outcome, finish, object, string, type_name};
use super::uri::{query_escape, query_unescape};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "urlquery.encode",
        nargs: 1,
        eval: |args| {
            finish(
                "urlquery.encode",
                string(&args, 0).map(|s| Value::from(query_escape(s))),
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
            let decoded = string(&args, 0).and_then(query_unescape).map(Value::from);
            finish("urlquery.decode", decoded)
        },
    },
    Builtin {
        name: "urlquery.decode_object",
        nargs: 1,
        eval: |args| finish("urlquery.decode_object", decode_object(&args)),
    },
];

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
            pairs.push(format!("{}={}", query_escape(key), query_escape(value)));
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
        match (query_unescape(key), query_unescape(value)) {
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
            query_escape(" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~é"),
            "+%21%22%23%24%25%26%27%28%29%2A%2B%2C-.%2F%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E_%60%7B%7C%7D~%C3%A9"
        );
    }

    #[test]
    fn bad_escapes_are_errors() {
        assert_eq!(query_unescape("a+b%20c%2A~").unwrap(), "a b c*~");
        assert_eq!(
            query_unescape("%zz").unwrap_err(),
            "invalid URL escape \"%zz\""
        );
        assert_eq!(
            query_unescape("x%").unwrap_err(),
            "invalid URL escape \"%\""
        );
        assert_eq!(
            query_unescape("%4").unwrap_err(),
            "invalid URL escape \"%4\""
        );
        assert_eq!(query_unescape("%ff").unwrap(), "\u{fffd}");
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
