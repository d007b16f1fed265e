//! Converting between regorus values and `google.protobuf.Value`, for every transport.
//!
//! Owns: the one integer rule (an integral double no larger than 2^53 becomes an integer, so
//! `1` from a client compares equal to `1` in a policy), non-finite numbers (refused: no JSON
//! document can hold them), and the other direction (numbers become doubles, as protobuf's
//! Value has nothing else; sets become lists). Envoy's types crate generates its own copy of
//! the well-known types: the same messages, so they convert through their wire encoding.

use std::collections::BTreeMap;

use prost::Message;
use prost_types::value::Kind;
use regorus::Value;

/// Largest integer a double represents exactly.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// A protobuf value as a regorus value. A missing kind is `null`; a non-finite number is an
/// error.
pub fn from_proto(value: &prost_types::Value) -> Result<Value, String> {
    Ok(match &value.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::from(*b),
        Some(Kind::NumberValue(n)) if !n.is_finite() => {
            return Err(format!("{n} is not a number a policy can use"));
        }
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() <= MAX_EXACT => {
            Value::from(*n as i64)
        }
        Some(Kind::NumberValue(n)) => Value::from(*n),
        Some(Kind::StringValue(s)) => Value::from(s.as_str()),
        Some(Kind::ListValue(list)) => Value::from(
            list.values
                .iter()
                .map(from_proto)
                .collect::<Result<Vec<_>, _>>()?,
        ),
        Some(Kind::StructValue(s)) => struct_to_value(s)?,
    })
}

/// A protobuf struct as a regorus object.
pub fn struct_to_value(s: &prost_types::Struct) -> Result<Value, String> {
    Ok(Value::from(
        s.fields
            .iter()
            .map(|(k, v)| Ok((Value::from(k.as_str()), from_proto(v)?)))
            .collect::<Result<BTreeMap<_, _>, String>>()?,
    ))
}

/// A regorus value as a protobuf value. Non-string object keys are written as their JSON
/// text, as in the JSON encoding.
pub fn to_proto(value: &Value) -> prost_types::Value {
    let kind = match value {
        Value::Null | Value::Undefined => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        // A double is all protobuf has: an integer beyond f64's range is rounded as Rust
        // rounds its digits (to infinity); JSON answers keep it exact.
        Value::Number(n) => Kind::NumberValue(
            n.as_f64()
                .unwrap_or_else(|| n.format_decimal().parse().unwrap_or(f64::NAN)),
        ),
        Value::String(s) => Kind::StringValue(s.to_string()),
        Value::Array(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Set(items) => Kind::ListValue(prost_types::ListValue {
            values: items.iter().map(to_proto).collect(),
        }),
        Value::Object(_) => value_to_struct(value).map_or(Kind::NullValue(0), Kind::StructValue),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A regorus object as a protobuf struct; `None` when `value` is not an object.
pub fn value_to_struct(value: &Value) -> Option<prost_types::Struct> {
    let Value::Object(fields) = value else {
        return None;
    };
    Some(prost_types::Struct {
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
    })
}

/// Re-types a protobuf message between two generated copies of the same definition.
pub fn retype<A: Message, B: Message + Default>(message: &A) -> Result<B, String> {
    B::decode(message.encode_to_vec().as_slice()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_json_shapes() {
        let v =
            Value::from_json_str(r#"{"a": [1, 2.5, "x", null, true], "b": {"c": -3}}"#).unwrap();
        assert_eq!(from_proto(&to_proto(&v)).unwrap(), v);
    }

    #[test]
    fn integral_doubles_are_integers_up_to_two_to_the_53() {
        let number = |n: f64| prost_types::Value {
            kind: Some(Kind::NumberValue(n)),
        };
        assert_eq!(from_proto(&number(42.0)).unwrap(), Value::from(42i64));
        assert_eq!(
            from_proto(&number(MAX_EXACT)).unwrap(),
            Value::from(9_007_199_254_740_992i64)
        );
        assert_eq!(
            from_proto(&number(MAX_EXACT * 2.0)).unwrap(),
            Value::from(MAX_EXACT * 2.0)
        );
        assert!(from_proto(&number(f64::INFINITY)).is_err());
        assert!(from_proto(&number(f64::NAN)).is_err());
    }

    #[test]
    fn envoys_struct_is_the_same_message() {
        let v = Value::from_json_str(r#"{"k": {"n": 3, "s": "x"}}"#).unwrap();
        let ours = value_to_struct(&v).unwrap();
        let envoys: envoy_types::pb::google::protobuf::Struct = retype(&ours).unwrap();
        let back: prost_types::Struct = retype(&envoys).unwrap();
        assert_eq!(struct_to_value(&back).unwrap(), v);
    }
}
