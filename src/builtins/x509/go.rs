//! Go's `encoding/json` shapes for the certificate builtins' answers: structs as objects,
//! nil slices as `null`, `[]byte` as base64, `big.Int` as an exact number, OIDs as arrays
//! of arcs, `net.IP` in its text form.

use std::net::{Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use regorus::Value;
use regorus::value::Object;

/// A struct: its fields by name.
pub(super) fn fields(members: Vec<(&str, Value)>) -> Value {
    let mut object = Object::new();
    for (name, value) in members {
        object.insert(Value::from(name), value);
    }
    object.into_value()
}

/// An `asn1.ObjectIdentifier` (`[]int`).
pub(super) fn oid_value(arcs: &[u64]) -> Value {
    Value::from(arcs.iter().map(|a| Value::from(*a)).collect::<Vec<_>>())
}

/// A slice: `null` when empty, as Go writes a nil slice.
pub(super) fn list_or_null(items: Vec<Value>) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        Value::from(items)
    }
}

/// A `[]string`, `null` when empty.
pub(super) fn strings_or_null(items: Vec<String>) -> Value {
    list_or_null(items.into_iter().map(Value::from).collect())
}

/// A `[]byte`: base64, `null` when absent.
pub(super) fn bytes(bytes: Option<&[u8]>) -> Value {
    match bytes {
        Some(bytes) => Value::from(STANDARD.encode(bytes)),
        None => Value::Null,
    }
}

/// A `*big.Int` (or any integer) from its decimal digits, exact.
pub(super) fn big_int(decimal: &str) -> Value {
    Value::from_numeric_string(decimal).unwrap_or(Value::Null)
}

/// A `net.IP` of 4 or 16 bytes as `String()` writes it: an IPv4-mapped IPv6 address in
/// dotted form, as Go does.
pub(super) fn ip(bytes: &[u8]) -> Option<String> {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        return Some(Ipv4Addr::from(v4).to_string());
    }
    let v6 = Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    })
}
