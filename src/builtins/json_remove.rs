//! `json.remove`, overriding regorus' where OPA answers differently: an empty path (`[]` among
//! the paths: `json.remove(o, [[]])`) removes nothing, as in OPA, where regorus answered
//! undefined.
//!
//! Owns: leaving empty paths out; the removal is regorus'.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "json.remove",
    nargs: 2,
    eval: remove,
}];

fn remove(mut args: Vec<Value>) -> anyhow::Result<Value> {
    let empty = |path: &Value| matches!(path, Value::Array(a) if a.is_empty());
    let kept = match args.get(1) {
        Some(Value::Array(paths)) if paths.iter().any(empty) => Some(Value::from(
            paths
                .iter()
                .filter(|p| !empty(p))
                .cloned()
                .collect::<Vec<_>>(),
        )),
        Some(Value::Set(paths)) if paths.iter().any(empty) => Some(Value::from(
            paths
                .iter()
                .filter(|p| !empty(p))
                .cloned()
                .collect::<std::collections::BTreeSet<_>>(),
        )),
        _ => None,
    };
    if let (Some(kept), Some(slot)) = (kept, args.get_mut(1)) {
        *slot = kept;
    }
    regorus_builtin::call("json.remove", &args)
        .or_else(|e| builtin_error(format!("json.remove: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    #[test]
    fn an_empty_path_removes_nothing() {
        let removed = |o: &str, paths: &str| remove(vec![json(o), json(paths)]).unwrap();
        assert_eq!(removed(r#"{"a": 1}"#, "[[]]"), json(r#"{"a": 1}"#));
        assert_eq!(
            removed(r#"{"a": {"b": 1}, "c": 2}"#, r#"[[], "a/b"]"#),
            json(r#"{"a": {}, "c": 2}"#)
        );
        assert_eq!(removed(r#"{"a": 1}"#, r#"["a"]"#), json("{}"));
    }
}
