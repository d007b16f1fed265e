//! `units.parse` and `units.parse_bytes`, overriding regorus' to refuse what OPA refuses: an
//! exponent of more than six digits (`"1e1000000"`) is OPA's `exponent too large` error, not a
//! number (computing it would take unbounded time and memory). Everything else is regorus'
//! own answer.
//!
//! OPA v1.20.2 (the oracle) predates this check; it is OPA's current `extractNumAndUnit`.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "units.parse",
        nargs: 1,
        eval: parse,
    },
    Builtin {
        name: "units.parse_bytes",
        nargs: 1,
        eval: parse_bytes,
    },
];

/// OPA's limit on the digits of a scientific-notation exponent.
const MAX_EXPONENT_DIGITS: usize = 6;

/// True when the number part of `s` (before the unit) has an exponent with too many
/// digits, found the way OPA splits a number from its unit.
fn exponent_too_large(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let numeric = b.is_ascii_digit() || matches!(b, b'.' | b'+' | b'-');
        if !numeric && b != b'e' && b != b'E' {
            return false;
        }
        if b == b'e' || b == b'E' {
            match bytes.get(i + 1) {
                Some(n) if n.is_ascii_digit() => {}
                Some(b'+' | b'-') => i += 1,
                _ => return false,
            }
            let digits = bytes
                .get(i + 1..)
                .unwrap_or(&[])
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits > MAX_EXPONENT_DIGITS {
                return true;
            }
        }
        i += 1;
    }
    false
}

fn checked(name: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    if let Some(Value::String(s)) = args.first()
        && exponent_too_large(&s.replace('"', ""))
    {
        return builtin_error(format!("{name}: exponent too large"));
    }
    regorus_builtin::call(name, &args).or_else(|e| builtin_error(format!("{name}: {e}")))
}

fn parse(args: Vec<Value>) -> anyhow::Result<Value> {
    checked("units.parse", args)
}

fn parse_bytes(args: Vec<Value>) -> anyhow::Result<Value> {
    checked("units.parse_bytes", args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_exponents_are_errors() {
        assert!(exponent_too_large("1e1000000"));
        assert!(exponent_too_large("1E+1000000KB"));
        assert!(!exponent_too_large("1e999999"));
        assert!(!exponent_too_large("1e3"));
        assert!(!exponent_too_large("10Ki"));
        assert!(!exponent_too_large("1e"));
        let strict = crate::builtins::with_strict_errors(true, || {
            parse_bytes(vec![Value::from("1e1000000")])
        });
        assert_eq!(
            strict.unwrap_err().to_string(),
            "units.parse_bytes: exponent too large"
        );
        assert_eq!(
            parse(vec![Value::from("1e1000000")]).unwrap(),
            Value::Undefined
        );
    }

    #[test]
    fn other_amounts_are_regorus_answers() {
        assert_eq!(parse(vec![Value::from("1Ki")]).unwrap(), Value::from(1024));
        assert_eq!(parse(vec![Value::from("100m")]).unwrap(), Value::from(0.1));
        assert_eq!(
            parse_bytes(vec![Value::from("1.5MB")]).unwrap(),
            Value::from(1_500_000)
        );
    }
}
