//! YAML read as OPA reads it: a bundle's `data.yaml`, a YAML request body, `yaml.unmarshal`.
//!
//! OPA reads YAML with Go's `sigs.k8s.io/yaml` over `yaml.v2`, which resolves plain scalars by
//! YAML 1.1's rules and then converts the tree to JSON. `yaml_serde` (YAML 1.2's core schema)
//! reads the same text differently: `yes`, `on`, `y` are `true` in OPA (and `no`, `off`, `n`
//! are `false`), `010` is 8, `1_000` is 1000, `<<` merges a mapping, a key that is a number or
//! a boolean becomes its Go spelling (`1.0` is `"1"`, `yes` is `"true"`), a `null` or
//! collection key is an error, and only the first document of a stream counts.
//!
//! Owns: that reading. `yaml_serde` parses; each plain scalar it hands over as a string (a
//! slice of the text not opened by a quote) is resolved again by Go's rules. Explicit tags
//! (`!!bool yes`) keep `yaml_serde`'s reading.

use std::collections::BTreeMap;
use std::fmt;

use regorus::Value;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// The first document of `text` (`null` for none), as OPA reads it.
pub fn parse(text: &str) -> Result<Value, String> {
    if holds_no_node(text) {
        return Ok(Value::Null);
    }
    let Some(document) = yaml_serde::Deserializer::from_str(text).next() else {
        return Ok(Value::Null);
    };
    document
        .deserialize_any(Node { text })
        .map(Parsed::into_value)
        .map_err(|e| e.to_string())
}

/// A float as OPA holds it: the number its shortest digits spell (`2^64` read as a float is
/// 18446744073709552000 in OPA, whose numbers are decimal), exactly where that is an integer
/// beyond f64's exact ones.
fn exact_float(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() >= 9_007_199_254_740_992.0 {
        let digits = format!("{f}");
        if let Ok(exact) = crate::value_json::parse(digits.as_bytes()) {
            return exact;
        }
    }
    Value::from(f)
}

/// True when `text` is only blank lines, comments and document markers (`yaml_serde` fails
/// to read a value from it; Go reads `null`).
fn holds_no_node(text: &str) -> bool {
    text.lines().all(|line| {
        let line = line.trim();
        line.is_empty() || line.starts_with('#') || line == "---" || line == "..."
    })
}

/// What one node read as: a value, a float (kept apart: a float key is spelled as Go spells
/// floats), or the merge key `<<` (plain).
enum Parsed {
    Value(Value),
    Float(f64),
    Merge,
}

impl Parsed {
    fn into_value(self) -> Value {
        match self {
            Parsed::Value(v) => v,
            Parsed::Float(f) => exact_float(f),
            Parsed::Merge => Value::from("<<"),
        }
    }
}

/// Reads one node of `text`.
#[derive(Clone, Copy)]
struct Node<'t> {
    text: &'t str,
}

impl<'de> DeserializeSeed<'de> for Node<'de> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'de> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Parsed, E> {
        Ok(Parsed::Value(Value::from(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Parsed, E> {
        Ok(Parsed::Value(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Parsed, E> {
        Ok(Parsed::Value(Value::from(v)))
    }

    // Go reads an integer beyond 64 bits as a float.
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Parsed, E> {
        float(v as f64)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Parsed, E> {
        float(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Parsed, E> {
        float(v)
    }

    fn visit_unit<E>(self) -> Result<Parsed, E> {
        Ok(Parsed::Value(Value::Null))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Parsed, E> {
        // A quoted scalar's slice starts after its quote; a plain one's cannot.
        let offset = (v.as_ptr() as usize).wrapping_sub(self.text.as_ptr() as usize);
        let quoted = offset > 0
            && offset <= self.text.len()
            && matches!(self.text.as_bytes().get(offset - 1), Some(b'"' | b'\''));
        if quoted || tagged(self.text, offset) {
            return Ok(Parsed::Value(Value::from(v)));
        }
        if v == "<<" {
            return Ok(Parsed::Merge);
        }
        plain(v)
    }

    // Escaped, folded, literal or multi-line: a string in Go too.
    fn visit_str<E>(self, v: &str) -> Result<Parsed, E> {
        Ok(Parsed::Value(Value::from(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item.into_value());
        }
        Ok(Parsed::Value(Value::from(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut members: BTreeMap<Value, Value> = BTreeMap::new();
        while let Some(key) = map.next_key_seed(self)? {
            let value = map.next_value_seed(self)?.into_value();
            let Parsed::Merge = key else {
                let key = key_string(key).map_err(de::Error::custom)?;
                members.insert(Value::from(key), value);
                continue;
            };
            // yaml.v2 merges at the key's place: later keys win, a list's first map wins.
            let sources: Vec<&Value> = match &value {
                Value::Array(maps) => maps.iter().rev().collect(),
                one => vec![one],
            };
            for source in sources {
                let Value::Object(from) = source else {
                    return Err(de::Error::custom(
                        "map merge requires map or sequence of maps as the value",
                    ));
                };
                members.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        Ok(Parsed::Value(Value::from(members)))
    }
}

/// True when the scalar at `offset` of `text` follows a tag (`!!str yes`, `!t x`): its tag, not
/// the plain-scalar rules, says what it is.
fn tagged(text: &str, offset: usize) -> bool {
    let before = text
        .get(..offset)
        .unwrap_or("")
        .trim_end_matches([' ', '\t']);
    let token = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '[' | '{' | ',' | ':'))
        .next()
        .unwrap_or("");
    token.starts_with('!')
}

/// A float as JSON can hold it (Go's JSON encoder refuses infinities and NaN).
fn float<E: de::Error>(v: f64) -> Result<Parsed, E> {
    if v.is_finite() {
        Ok(Parsed::Float(v))
    } else {
        let shown = if v.is_nan() {
            "NaN"
        } else if v > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        Err(E::custom(format!("json: unsupported value: {shown}")))
    }
}

/// A plain scalar by yaml.v2's rules, where `yaml_serde` left it a string.
fn plain<E: de::Error>(s: &str) -> Result<Parsed, E> {
    let value = |v: Value| Ok(Parsed::Value(v));
    match s {
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return value(Value::from(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return value(Value::from(false));
        }
        "" | "~" | "null" | "Null" | "NULL" => return value(Value::Null),
        _ => {}
    }
    if !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
        return value(Value::from(s));
    }
    let digits = s.replace('_', "");
    if let Some(n) = go_integer(&digits) {
        return value(n);
    }
    if is_yaml_float(&digits)
        && let Ok(f) = digits.parse::<f64>()
        && f.is_finite()
    {
        return float(f);
    }
    value(Value::from(s))
}

/// Go's `strconv.ParseInt(s, 0, 64)`, then `ParseUint`: a sign, then `0x`, `0o`, `0b` or a
/// leading `0` (octal) or decimal digits.
fn go_integer(s: &str) -> Option<Value> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if !negative {
        return Some(match i64::try_from(magnitude) {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(magnitude),
        });
    }
    let n = 0i64.checked_sub_unsigned(magnitude)?;
    Some(Value::from(n))
}

/// yaml.v2's float syntax: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", fraction)) => digits(fraction),
        Some((whole, fraction)) => digits(whole) && (fraction.is_empty() || digits(fraction)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// A map key as `sigs.k8s.io/yaml` writes it in JSON: a number in Go's spelling (a float with
/// float32 precision), a boolean as `true`/`false`; anything else is refused, as Go refuses it.
fn key_string(key: Parsed) -> Result<String, String> {
    match key {
        Parsed::Merge => Ok("<<".to_string()),
        Parsed::Float(f) => Ok(go_float32_g(f)),
        Parsed::Value(Value::String(s)) => Ok(s.to_string()),
        Parsed::Value(Value::Bool(b)) => Ok(b.to_string()),
        Parsed::Value(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Ok(i.to_string()),
            (_, Some(u)) => Ok(u.to_string()),
            _ => Err("unsupported map key".to_string()),
        },
        Parsed::Value(Value::Null) => {
            Err("unsupported map key of type: %!s(<nil>), key: <nil>".to_string())
        }
        Parsed::Value(other) => Err(format!("unsupported map key: {other}")),
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)`: the shortest digits that read back as the same
/// float32, with an exponent (`1.2345679e+08`) when it is below -4 or at least 6.
fn go_float32_g(f: f64) -> String {
    let single = f as f32;
    if single == 0.0 || !single.is_finite() {
        return format!("{single}");
    }
    // Rust's `{:e}` writes the shortest digits that read back as the same f32.
    let magnitude = crate::go_float::g_from_scientific(&format!("{:e}", single.abs()), 'e', None);
    if single < 0.0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        crate::value_json::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn plain_scalars_resolve_by_yaml_1_1() {
        let read = |t: &str| parse(t).unwrap();
        assert_eq!(
            read("[yes, No, on, OFF, y, n, 'yes', \"on\", yEs, !!str yes]"),
            json(r#"[true, false, true, false, true, false, "yes", "on", "yEs", "yes"]"#)
        );
        assert_eq!(
            read("[010, -010, 08, 0x1F, 0o17, 0b11, -0b11, 1_000, 1_0.5, 007.5, 00, +1, 0x]"),
            json(r#"[8, -8, 8, 31, 15, 3, -3, 1000, 10.5, 7.5, 0, 1, "0x"]"#)
        );
        assert_eq!(
            read("[9223372036854775808, 18446744073709551616, 1e400, 2001-12-14, 1:20]"),
            json(r#"[9223372036854775808, 18446744073709552000, "1e400", "2001-12-14", "1:20"]"#)
        );
        assert_eq!(
            read("- |\n  yes\n- >\n  on\n"),
            json(r#"["yes\n", "on\n"]"#)
        );
    }

    #[test]
    fn keys_are_spelled_as_go_spells_them() {
        assert_eq!(
            parse("{y: 1, 010: 2, 1.5: 3, 123456789.123: 4, 1e20: 5, 0.00001: 6, -2: 7}").unwrap(),
            json(
                r#"{"true": 1, "8": 2, "1.5": 3, "1.2345679e+08": 4, "1e+20": 5, "1e-05": 6, "-2": 7}"#
            )
        );
        assert!(parse("{~: 1}").is_err());
        assert!(parse("{[1]: 1}").is_err());
    }

    #[test]
    fn merges_the_first_document_and_nothing() {
        assert_eq!(
            parse("base: &b {a: 1, b: 1}\nx:\n  <<: *b\n  b: 2\n").unwrap(),
            json(r#"{"base": {"a": 1, "b": 1}, "x": {"a": 1, "b": 2}}"#)
        );
        assert_eq!(parse("a: 1\n---\nb: 2\n").unwrap(), json(r#"{"a": 1}"#));
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# a comment\n").unwrap(), Value::Null);
        assert!(
            parse(".inf")
                .unwrap_err()
                .contains("unsupported value: +Inf")
        );
        assert!(parse("a: [1").is_err());
    }
}
