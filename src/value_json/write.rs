//! Results as JSON with big integers exact.
//!
//! Owns: [`Exact`], a `Serialize` view of a regorus [`Value`] that writes an integer beyond
//! 64 bits digit for digit (OPA keeps `123456789012345678901234567890` as it is; regorus'
//! own `Serialize` rounds it through f64 to `1.2345678901234568e29`). Everything else is
//! written as regorus writes it: sets as sorted arrays, object keys sorted, a non-string key
//! as its JSON text.

use regorus::Value;
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;

/// For `#[serde(serialize_with = "exact")]` on a field holding a [`Value`] (or a reference).
pub fn exact<S: Serializer, V: std::borrow::Borrow<Value>>(
    value: &V,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Exact(value.borrow()).serialize(serializer)
}

/// Serialises the value it wraps, big integers exactly (with serde_json's serializer).
pub struct Exact<'a>(pub &'a Value);

impl Serialize for Exact<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Number(n) if n.as_u64().is_none() && n.as_i64().is_none() => {
                // Only a big integer has a big form here: an integral float that fits
                // 64 bits answered above, and other floats have none.
                match n.as_big() {
                    Some(big) => RawValue::from_string(big.to_string())
                        .map_err(S::Error::custom)?
                        .serialize(serializer),
                    None => n.serialize(serializer),
                }
            }
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&Exact(item))?;
                }
                seq.end()
            }
            Value::Set(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items.iter_sorted() {
                    seq.serialize_element(&Exact(item))?;
                }
                seq.end()
            }
            Value::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members.iter_sorted() {
                    match key {
                        Value::String(_) => map.serialize_entry(key, &Exact(value))?,
                        _ => {
                            let text =
                                serde_json::to_string(&Exact(key)).map_err(S::Error::custom)?;
                            map.serialize_entry(&text, &Exact(value))?;
                        }
                    }
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(value: &Value) -> String {
        serde_json::to_string(&Exact(value)).unwrap()
    }

    #[test]
    fn writes_what_regorus_writes_for_ordinary_values() {
        let text = r#"{"z": [3, 1.5, -2, "s", null, true], "a": {"b": 18446744073709551615}, "n": -9223372036854775808, "f": 1e30, "g": 0.1}"#;
        let value = Value::from_json_str(text).unwrap();
        assert_eq!(json(&value), serde_json::to_string(&value).unwrap());
        let set = Value::from(
            [Value::from(3u64), Value::from("a"), Value::from(1u64)]
                .into_iter()
                .collect::<std::collections::BTreeSet<_>>(),
        );
        assert_eq!(json(&set), r#"[1,3,"a"]"#);
        assert_eq!(json(&Value::Undefined), r#""<undefined>""#);
    }

    #[test]
    fn big_integers_are_written_digit_for_digit() {
        let big = Value::from_numeric_string("123456789012345678901234567890").unwrap();
        assert_eq!(json(&big), "123456789012345678901234567890");
        let negative = Value::from_numeric_string("-98765432109876543210").unwrap();
        assert_eq!(json(&negative), "-98765432109876543210");
        let mut members = std::collections::BTreeMap::new();
        members.insert(big.clone(), Value::from("a"));
        members.insert(Value::from("list"), Value::from(vec![big.clone()]));
        assert_eq!(
            json(&Value::from(members)),
            r#"{"123456789012345678901234567890":"a","list":[123456789012345678901234567890]}"#
        );
        assert_eq!(
            serde_json::to_string_pretty(&Exact(&Value::from(vec![big]))).unwrap(),
            "[\n  123456789012345678901234567890\n]"
        );
    }
}
