//! `array.flatten`, which regorus lacks: one level of nesting removed, as OPA does
//! (`array.flatten([1, [2, [3]]])` is `[1, 2, [3]]`).

use regorus::Value;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "array.flatten",
    nargs: 1,
    eval: flatten,
}];

fn flatten(args: Vec<Value>) -> anyhow::Result<Value> {
    let Some(Value::Array(items)) = args.first() else {
        return builtin_error("array.flatten: operand 1 must be array");
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items.iter() {
        match item {
            Value::Array(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_one_level() {
        let v = |j: serde_json::Value| Value::from(j);
        let got = flatten(vec![v(
            serde_json::json!([1, [2, [3, [4]]], [], "a", {"b": [5]}]),
        )]);
        assert_eq!(
            got.unwrap(),
            v(serde_json::json!([1, 2, [3, [4]], "a", {"b": [5]}]))
        );
        assert_eq!(flatten(vec![Value::from("x")]).unwrap(), Value::Undefined);
    }
}
