//! `base64.is_valid` and `net.cidr_is_valid`, overriding regorus' where OPA answers
//! differently: a value that is not a string is not valid (`false`), where regorus failed the
//! call (undefined, or an error under strict builtin errors).
//!
//! Owns: that answer for a non-string; a string is regorus' to judge.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "base64.is_valid",
        nargs: 1,
        eval: |args| valid("base64.is_valid", args),
    },
    Builtin {
        name: "net.cidr_is_valid",
        nargs: 1,
        eval: |args| valid("net.cidr_is_valid", args),
    },
];

fn valid(name: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    match args.first() {
        Some(Value::String(_)) => {
            regorus_builtin::call(name, &args).or_else(|e| builtin_error(format!("{name}: {e}")))
        }
        _ => Ok(Value::from(false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_string_is_not_valid() {
        for name in ["base64.is_valid", "net.cidr_is_valid"] {
            assert_eq!(
                valid(name, vec![Value::from(1u64)]).unwrap(),
                Value::from(false)
            );
        }
        let valid_base64 = valid("base64.is_valid", vec![Value::from("YQ==")]).unwrap();
        assert_eq!(valid_base64, Value::from(true));
        let cidr = valid("net.cidr_is_valid", vec![Value::from("10.0.0.0/8")]).unwrap();
        assert_eq!(cidr, Value::from(true));
        let not_cidr = valid("net.cidr_is_valid", vec![Value::from("10.0.0.0")]).unwrap();
        assert_eq!(not_cidr, Value::from(false));
    }
}
