//! Preparing an input document before a decision.
//!
//! Owns: what happens to an input between decoding and `decide`: merging a batch's common input
//! into each item's input (OPA's batch API semantics). Verified identities are added by the
//! pipeline's identity step ([`super::identity`]), for every API alike.

use regorus::Value;

/// Deep-merges `common` into `item` when both are objects; `item`'s keys win. Otherwise `item`
/// is used as is; an undefined `item` takes `common`.
pub fn merge_common(common: &Value, item: Value) -> Value {
    match (common, item) {
        (Value::Undefined, item) => item,
        (common, Value::Undefined) => common.clone(),
        (Value::Object(base), Value::Object(over)) => {
            let mut merged = base.as_ref().clone();
            for (key, value) in over.iter() {
                let value = match merged.get(key) {
                    Some(existing) => merge_common(existing, value.clone()),
                    None => value.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Value::Object(regorus::Rc::new(merged))
        }
        (_, item) => item,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn item_keys_win_and_objects_merge_deeply() {
        let common = v(r#"{"caller": {"service": "gw", "zone": "a"}, "action": "read"}"#);
        let item = v(r#"{"caller": {"service": "orders"}, "resource": {"id": 1}}"#);
        assert_eq!(
            merge_common(&common, item),
            v(
                r#"{"caller": {"service": "orders", "zone": "a"}, "action": "read", "resource": {"id": 1}}"#
            )
        );
    }

    #[test]
    fn non_objects_are_not_merged() {
        assert_eq!(merge_common(&v("{\"a\": 1}"), v("[1]")), v("[1]"));
        assert_eq!(
            merge_common(&v("{\"a\": 1}"), Value::Undefined),
            v("{\"a\": 1}")
        );
        assert_eq!(merge_common(&Value::Undefined, v("2")), v("2"));
    }
}
