//! `uuid.parse`, overriding regorus' where OPA answers differently: the variant of a UUID
//! whose variant bits are `0xx` (the nil UUID among them) is `"Reserved"`, as Go's
//! `google/uuid` names it (regorus: `"NCS"`), and only versions 1 and 2 carry the time fields
//! (regorus adds a `time` to versions 6 and 7; OPA v1.20 does not).
//!
//! Owns: that builtin; the parsing is regorus'.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "uuid.parse",
    nargs: 1,
    eval: parse,
}];

fn parse(args: Vec<Value>) -> anyhow::Result<Value> {
    let mut parsed = match regorus_builtin::call("uuid.parse", &args) {
        Ok(parsed) => parsed,
        Err(message) => return builtin_error(message),
    };
    let Ok(fields) = parsed.as_object_mut() else {
        return Ok(parsed);
    };
    let variant = Value::from("variant");
    if fields.get(&variant) == Some(&Value::from("NCS")) {
        fields.insert(variant, Value::from("Reserved"));
    }
    let version = fields
        .get(&Value::from("version"))
        .and_then(|v| v.as_u64().ok());
    if !matches!(version, Some(1 | 2)) {
        fields.remove(&Value::from("time"));
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> serde_json::Value {
        let value = parse(vec![Value::from(text)]).unwrap();
        serde_json::to_value(&value).unwrap()
    }

    #[test]
    fn answers_as_opa() {
        // Expected values are OPA v1.20's.
        assert_eq!(
            parsed("00000000-0000-0000-0000-000000000000"),
            serde_json::json!({"variant": "Reserved", "version": 0})
        );
        assert_eq!(
            parsed("01890a5d-ac96-774b-bcce-b302099a8057"),
            serde_json::json!({"variant": "RFC4122", "version": 7})
        );
        let v1 = parsed("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assert_eq!(v1["version"], 1);
        assert!(v1.get("time").is_some(), "{v1}");
        assert_eq!(parse(vec![Value::from("x")]).unwrap(), Value::Undefined);
    }
}
