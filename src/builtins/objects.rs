//! `object.subset`, overriding regorus' (which panics on an empty array as the subset,
//! `object.subset([1], [])`, and takes a set inside an object for a subset of an array there)
//! with OPA's rules: objects by key, each value a subset of the other's where both are
//! objects, sets or arrays and equal otherwise; sets by membership; an array by a contiguous
//! run of the other array (`[1, 2, 1, 3]` holds `[1, 3]`, `[1, 2, 3]` does not); a set in an
//! array by membership. Any other pair of types is OPA's type error.
//!
//! Owns: that comparison.

use regorus::Value;

use super::Builtin;
use super::args::{Outcome, any, finish};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "object.subset",
    nargs: 2,
    eval: |args| finish("object.subset", subset_builtin(&args)),
}];

fn subset_builtin(args: &[Value]) -> Outcome {
    let (whole, part) = (any(args, 0)?, any(args, 1)?);
    match (whole, part) {
        (Value::Object(_), Value::Object(_))
        | (Value::Set(_), Value::Set(_))
        | (Value::Array(_), Value::Array(_)) => Ok(Value::from(subset(whole, part))),
        (Value::Array(whole), Value::Set(part)) => {
            Ok(Value::from(part.iter().all(|v| whole.contains(v))))
        }
        _ => Err(
            "both arguments object.subset must be of the same type or array and set".to_string(),
        ),
    }
}

/// Whether `part` is a subset of `whole`; values of other kinds (a set and an array too) must
/// be equal.
fn subset(whole: &Value, part: &Value) -> bool {
    match (whole, part) {
        (Value::Object(whole), Value::Object(part)) => part.iter().all(|(key, value)| {
            whole
                .get(key)
                .is_some_and(|superset| subset(superset, value))
        }),
        (Value::Set(whole), Value::Set(part)) => part.iter().all(|v| whole.contains(v)),
        (Value::Array(whole), Value::Array(part)) => {
            let (n, m) = (whole.len(), part.len());
            m == 0
                || (m <= n
                    && (0..=n - m).any(|start| (0..m).all(|i| whole.get(start + i) == part.get(i))))
        }
        _ => whole == part,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    fn set(items: &[i64]) -> Value {
        Value::from(
            items
                .iter()
                .map(|&i| Value::from(i))
                .collect::<std::collections::BTreeSet<_>>(),
        )
    }

    fn check(whole: Value, part: Value) -> Value {
        (BUILTINS[0].eval)(vec![whole, part]).unwrap()
    }

    #[test]
    fn an_empty_array_is_a_subset_of_any_array() {
        assert_eq!(check(json("[1, 2]"), json("[]")), Value::from(true));
        assert_eq!(check(json("[]"), json("[]")), Value::from(true));
        assert_eq!(check(json("[]"), json("[1]")), Value::from(false));
    }

    #[test]
    fn arrays_are_contiguous_runs() {
        assert_eq!(check(json("[1, 2, 3]"), json("[2, 3]")), Value::from(true));
        assert_eq!(check(json("[1, 2, 3]"), json("[1, 3]")), Value::from(false));
        assert_eq!(
            check(json("[1, 2, 1, 3]"), json("[1, 3]")),
            Value::from(true)
        );
        assert_eq!(check(json("[[1, 2]]"), json("[[1]]")), Value::from(false));
    }

    #[test]
    fn objects_recurse_into_objects_sets_and_arrays_only() {
        let whole = json(r#"{"a": {"b": 1, "c": 2}, "l": [1, 2, 3]}"#);
        assert_eq!(
            check(whole.clone(), json(r#"{"a": {"b": 1}, "l": [3]}"#)),
            Value::from(true)
        );
        assert_eq!(check(whole, json(r#"{"z": 1}"#)), Value::from(false));
        let mut with_set = regorus::value::Object::new();
        with_set.insert(Value::from("a"), set(&[1]));
        let with_set = with_set.into_value();
        // A set is no subset of an array inside an object (only at the top).
        assert_eq!(
            check(json(r#"{"a": [1, 2]}"#), with_set),
            Value::from(false)
        );
        assert_eq!(check(json("[1, 2]"), set(&[2])), Value::from(true));
        assert_eq!(check(set(&[1, 2]), set(&[1])), Value::from(true));
    }

    #[test]
    fn other_pairs_are_type_errors() {
        assert_eq!(check(json("{}"), json("[]")), Value::Undefined);
        let strict = crate::builtins::with_strict_errors(true, || {
            (BUILTINS[0].eval)(vec![set(&[1]), json("[1]")])
        });
        assert_eq!(
            strict.unwrap_err().to_string(),
            "object.subset: both arguments object.subset must be of the same type or array and set"
        );
    }
}
