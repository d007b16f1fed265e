//! `internal.template_string`, the call a template string (`$"user {input.user}"`) compiles
//! into, in OPA and here ([`crate::bundle`] rewrites the syntax into it).
//!
//! Owns: rendering the parts as OPA does. A string part is literal text. A set part holds an
//! expression's values: none is written `<undefined>`, one is written as its value (a string as
//! it is, anything else as OPA prints a term: `[1, "a"]`, `{"k": "v"}`, `{1, 2}`, `set()`,
//! strings inside quoted as Go does), two or more are a conflict. A number, boolean or null part
//! is written as it is.

use std::cmp::Ordering;

use regorus::Value;

use super::Builtin;
use super::go_text::quote;

/// The builtin's name: the call the load writes for each template string.
pub const TEMPLATE_STRING: &str = "internal.template_string";

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: TEMPLATE_STRING,
    nargs: 1,
    eval: template_string,
}];

fn template_string(args: Vec<Value>) -> anyhow::Result<Value> {
    let Some(Value::Array(parts)) = args.first() else {
        anyhow::bail!("internal.template_string: operand 1 must be array");
    };
    let mut out = String::new();
    for part in parts.iter() {
        match part {
            Value::String(text) => out.push_str(text),
            Value::Set(values) => {
                let mut values = values.iter();
                match (values.next(), values.next()) {
                    (None, _) => out.push_str("<undefined>"),
                    (Some(Value::String(text)), None) => out.push_str(text),
                    (Some(value), None) => write_term(&mut out, value),
                    (Some(_), Some(_)) => anyhow::bail!(
                        "eval_conflict_error: template-strings must not produce multiple outputs"
                    ),
                }
            }
            Value::Number(_) | Value::Bool(_) | Value::Null => write_term(&mut out, part),
            other => anyhow::bail!(
                "internal.template_string: illegal argument type: {}",
                super::args::type_name(other)
            ),
        }
    }
    Ok(Value::from(out))
}

/// `value` as OPA's `Term.String()` writes it (`[1, "a"]`, `{"k": "v"}`, `{1, 2}`, `set()`).
pub fn rego_text(value: &Value) -> String {
    let mut out = String::new();
    write_term(&mut out, value);
    out
}

/// [`rego_text`], appended to `out`.
pub(super) fn write_term(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(_) => {
            let text = serde_json::to_string(&crate::value_json::Exact(value));
            out.push_str(text.as_deref().unwrap_or("<number>"));
        }
        Value::String(s) => out.push_str(&quote(s)),
        Value::Array(items) => {
            out.push('[');
            write_list(out, items.iter());
            out.push(']');
        }
        Value::Set(items) if items.is_empty() => out.push_str("set()"),
        Value::Set(items) => {
            let mut sorted: Vec<&Value> = items.iter().collect();
            sorted.sort_by(|a, b| opa_order(a, b));
            out.push('{');
            write_list(out, sorted.into_iter());
            out.push('}');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&Value, &Value)> = members.iter().collect();
            sorted.sort_by(|a, b| opa_order(a.0, b.0));
            out.push('{');
            for (i, (key, value)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_term(out, key);
                out.push_str(": ");
                write_term(out, value);
            }
            out.push('}');
        }
        Value::Undefined => out.push_str("<undefined>"),
    }
}

fn write_list<'v>(out: &mut String, items: impl Iterator<Item = &'v Value>) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_term(out, item);
    }
}

/// OPA's order of values: null, booleans, numbers, strings, arrays, objects, sets (regorus
/// puts sets before objects); the same kinds as regorus orders them.
pub(super) fn opa_order(a: &Value, b: &Value) -> Ordering {
    let rank = |v: &Value| match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
        Value::Set(_) => 6,
        Value::Undefined => 7,
    };
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => list_order(x.iter(), y.iter()),
        (Value::Set(x), Value::Set(y)) => {
            let mut x: Vec<&Value> = x.iter().collect();
            let mut y: Vec<&Value> = y.iter().collect();
            x.sort_by(|a, b| opa_order(a, b));
            y.sort_by(|a, b| opa_order(a, b));
            list_order(x.into_iter(), y.into_iter())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut x: Vec<(&Value, &Value)> = x.iter().collect();
            let mut y: Vec<(&Value, &Value)> = y.iter().collect();
            x.sort_by(|a, b| opa_order(a.0, b.0));
            y.sort_by(|a, b| opa_order(a.0, b.0));
            for ((xk, xv), (yk, yv)) in x.iter().zip(&y) {
                let by = opa_order(xk, yk).then_with(|| opa_order(xv, yv));
                if by != Ordering::Equal {
                    return by;
                }
            }
            x.len().cmp(&y.len())
        }
        _ if rank(a) == rank(b) => a.cmp(b),
        _ => rank(a).cmp(&rank(b)),
    }
}

fn list_order<'v>(
    mut x: impl Iterator<Item = &'v Value>,
    mut y: impl Iterator<Item = &'v Value>,
) -> Ordering {
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => {
                let by = opa_order(a, b);
                if by != Ordering::Equal {
                    return by;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn render(parts: &str) -> String {
        let parts = crate::value_json::parse(parts.as_bytes()).unwrap();
        let mut parts = match parts {
            Value::Array(a) => a.to_vec(),
            _ => unreachable!(),
        };
        // JSON has no sets: a part written as {"set": [...]} stands for one.
        for part in &mut parts {
            if let Value::Object(o) = part
                && let Some(Value::Array(items)) = o.get(&Value::from("set"))
            {
                *part = Value::from(items.iter().cloned().collect::<BTreeSet<Value>>());
            }
        }
        match template_string(vec![Value::from(parts)]).unwrap() {
            Value::String(s) => s.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parts_render_as_opa_writes_them() {
        // Expected values are OPA v1.20's for the same template strings.
        assert_eq!(render(r#"["a ", {"set": []}, " b"]"#), "a <undefined> b");
        assert_eq!(
            render(r#"["a ", {"set": ["s"]}, 1, true, null]"#),
            "a s1truenull"
        );
        assert_eq!(
            render(r#"[{"set": [[1, "a"]]}, " ", {"set": [{"k": "v", "a": [1]}]}]"#),
            r#"[1, "a"] {"a": [1], "k": "v"}"#
        );
        assert_eq!(
            render(r#"[{"set": [["q\"uote\n", 123456789012345678901234567890]]}]"#),
            r#"["q\"uote\n", 123456789012345678901234567890]"#
        );
        assert_eq!(render("[]"), "");
    }

    #[test]
    fn sets_and_keys_in_opas_order() {
        let mixed = Value::from(BTreeSet::from([
            Value::from(BTreeSet::from([Value::from(1)])),
            crate::value_json::parse(br#"{"a": 1}"#).unwrap(),
            crate::value_json::parse(b"[1]").unwrap(),
            Value::from("a"),
            Value::from(1),
            Value::Bool(true),
            Value::Null,
        ]));
        let mut out = String::new();
        write_term(&mut out, &mixed);
        assert_eq!(out, r#"{null, true, 1, "a", [1], {"a": 1}, {1}}"#);
        let mut empty = String::new();
        write_term(&mut empty, &Value::new_set());
        assert_eq!(empty, "set()");
    }

    #[test]
    fn several_values_conflict_and_arrays_are_refused() {
        let two = Value::from(BTreeSet::from([Value::from(1), Value::from(2)]));
        let error = template_string(vec![Value::from(vec![two])]).unwrap_err();
        assert!(error.to_string().contains("multiple outputs"), "{error}");
        let array = Value::from(vec![Value::from(vec![Value::from(1)])]);
        assert!(template_string(vec![array]).is_err());
    }
}
