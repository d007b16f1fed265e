//! Converting between regorus values and the `google.protobuf.Struct` types that `envoy-types`
//! generates (its own well-known types, not `prost_types`).
//!
//! Owns: metadata in (filter metadata into the input) and out (`dynamic_metadata`).

use std::collections::BTreeMap;

use envoy_types::pb::google::protobuf::{ListValue, Struct, Value as PbValue, value::Kind};
use regorus::Value;

/// A protobuf struct as a regorus object.
pub fn struct_to_value(s: &Struct) -> Value {
    Value::from(
        s.fields
            .iter()
            .map(|(k, v)| (Value::from(k.as_str()), to_value(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

fn to_value(v: &PbValue) -> Value {
    match &v.kind {
        None | Some(Kind::NullValue(_)) => Value::Null,
        Some(Kind::BoolValue(b)) => Value::from(*b),
        Some(Kind::NumberValue(n)) if n.fract() == 0.0 && n.abs() < 9.0e15 => {
            Value::from(*n as i64)
        }
        Some(Kind::NumberValue(n)) => Value::from(*n),
        Some(Kind::StringValue(s)) => Value::from(s.as_str()),
        Some(Kind::ListValue(l)) => Value::from(l.values.iter().map(to_value).collect::<Vec<_>>()),
        Some(Kind::StructValue(s)) => struct_to_value(s),
    }
}

/// A regorus object as a protobuf struct; `None` when `value` is not an object.
pub fn value_to_struct(value: &Value) -> Option<Struct> {
    let Value::Object(fields) = value else {
        return None;
    };
    Some(Struct {
        fields: fields
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    Value::String(s) => s.to_string(),
                    other => other.to_string(),
                };
                (key, from_value(v))
            })
            .collect(),
    })
}

fn from_value(value: &Value) -> PbValue {
    let kind = match value {
        Value::Null | Value::Undefined => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Kind::StringValue(s.to_string()),
        Value::Array(items) => Kind::ListValue(ListValue {
            values: items.iter().map(from_value).collect(),
        }),
        Value::Set(items) => Kind::ListValue(ListValue {
            values: items.iter().map(from_value).collect(),
        }),
        Value::Object(_) => value_to_struct(value).map_or(Kind::NullValue(0), Kind::StructValue),
    };
    PbValue { kind: Some(kind) }
}

/// A string field of protobuf's Value, for `decision_id`.
pub fn string_value(s: &str) -> PbValue {
    PbValue {
        kind: Some(Kind::StringValue(s.to_string())),
    }
}
