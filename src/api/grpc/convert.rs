//! Converting between regorus values and `google.protobuf.Value`.
//!
//! Owns: the typed-message alternative to JSON text in the gRPC API. Numbers become doubles on
//! the way out (as protobuf's Value has only doubles); integral doubles become integers on the
//! way in, so `1` from a client compares equal to `1` in a policy.

use std::collections::BTreeMap;

use prost_types::value::Kind;
use regorus::Value;

/// Largest integer a double represents exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A protobuf value as a regorus value. A missing kind is `null`.
pub fn from_proto(value: &prost_types::Value) -> Value {
    match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::from(*b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() <= MAX_EXACT {
                Value::from(*n as i64)
            } else {
                Value::from(*n)
            }
        }
        Some(Kind::StringValue(s)) => Value::from(s.as_str()),
        Some(Kind::ListValue(list)) => {
            Value::from(list.values.iter().map(from_proto).collect::<Vec<_>>())
        }
        Some(Kind::StructValue(s)) => Value::from(
            s.fields
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_proto(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// A regorus value as a protobuf value. Sets become lists; non-string object keys are written
/// as their JSON text, as in the JSON encoding.
pub fn to_proto(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null | Value::Undefined => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Kind::StringValue(s.to_string()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Set(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Object(fields) => Kind::StructValue(prost_types::Struct {
            fields: fields
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.to_string(),
                        other => other.to_string(),
                    };
                    (key, to_proto(v))
                })
                .collect(),
        }),
    };
    prost_types::Value { kind: Some(kind) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json_shapes() {
        let v =
            Value::from_json_str(r#"{"a": [1, 2.5, "x", null, true], "b": {"c": -3}}"#).unwrap();
        assert_eq!(from_proto(&to_proto(&v)), v);
    }

    #[test]
    fn integral_doubles_are_integers() {
        let p = prost_types::Value {
            kind: Some(Kind::NumberValue(42.0)),
        };
        assert_eq!(from_proto(&p), Value::from(42i64));
    }
}
