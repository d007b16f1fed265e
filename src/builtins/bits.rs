//! `bits.lsh` and `bits.rsh`, overriding regorus' where OPA answers differently: a shift count
//! written with a fraction of zero (`bits.lsh(100, 3.0)`) is the integer it denotes, as OPA
//! reads it (800); regorus answered undefined. A count or value with a fraction, and a
//! negative count, fail with OPA's type errors.
//!
//! Owns: that reading of the shift count; the shift is regorus'.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "bits.lsh",
        nargs: 2,
        eval: |args| shift("bits.lsh", args),
    },
    Builtin {
        name: "bits.rsh",
        nargs: 2,
        eval: |args| shift("bits.rsh", args),
    },
];

/// Counts written as floats up to this are taken as integers (beyond it no shift is useful).
const MAX_FLOAT_COUNT: f64 = 1e15;

fn shift(name: &str, mut args: Vec<Value>) -> anyhow::Result<Value> {
    for (index, arg) in args.iter().enumerate() {
        if let Value::Number(n) = arg
            && n.as_f64().is_some_and(|f| f.fract() != 0.0)
        {
            let operand = index + 1;
            return builtin_error(format!(
                "{name}: operand {operand} must be integer number but got floating-point number"
            ));
        }
    }
    if let Some(Value::Number(count)) = args.get(1) {
        if count.as_f64().is_some_and(|f| f < 0.0) {
            return builtin_error(format!(
                "{name}: operand 2 must be an unsigned integer number but got a negative integer"
            ));
        }
        if let Some(float) = count.as_f64()
            && (0.0..=MAX_FLOAT_COUNT).contains(&float)
        {
            // regorus stores `3.0` as a float, which its shift refuses; an integral f64 up to
            // 1e15 converts without loss.
            let integer = Value::from(float as u64);
            if let Some(slot) = args.get_mut(1) {
                *slot = integer;
            }
        }
    }
    regorus_builtin::call(name, &args).or_else(|e| builtin_error(format!("{name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    #[test]
    fn an_integral_float_count_is_its_integer() {
        let lsh = |a: &str, b: &str| shift("bits.lsh", vec![number(a), number(b)]).unwrap();
        let rsh = |a: &str, b: &str| shift("bits.rsh", vec![number(a), number(b)]).unwrap();
        assert_eq!(lsh("100", "3.0"), number("800"));
        assert_eq!(rsh("100", "3.0"), number("12"));
        assert_eq!(lsh("100", "3"), number("800"));
        assert_eq!(lsh("100", "3.5"), Value::Undefined);
        assert_eq!(lsh("100", "-1.0"), Value::Undefined);
    }
}
