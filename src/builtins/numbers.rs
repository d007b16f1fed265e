//! `numbers.range` and `numbers.range_step`, overriding regorus' where it fails:
//!
//! - a range too large for the memory limit is refused before anything is allocated: regorus
//!   reserves the whole array up front, and a reservation the system cannot give
//!   (`numbers.range(1, 1e13)`, 240 TB) aborts the process, every decision of the pod with it;
//! - a step larger than the range (regorus cannot count the elements of
//!   `numbers.range_step(1, 10, 1e300)`; OPA, on big integers, answers `[1]`).
//!
//! Everything else is regorus' own answer.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "numbers.range",
        nargs: 2,
        eval: range,
    },
    Builtin {
        name: "numbers.range_step",
        nargs: 3,
        eval: range_step,
    },
];

/// What one element of the array costs at least (regorus reserves this much per element).
const ELEMENT_BYTES: u64 = std::mem::size_of::<Value>() as u64;

/// A number as an f64, integers beyond 2^53 included (rounded; `as_f64` gives none for them).
fn approximate(n: &regorus::Value) -> Option<f64> {
    let Value::Number(number) = n else {
        return None;
    };
    number
        .as_f64()
        .or_else(|| number.format_decimal().parse().ok())
        .filter(|f: &f64| f.is_finite())
}

fn range(args: Vec<Value>) -> anyhow::Result<Value> {
    if let [a @ Value::Number(_), b @ Value::Number(_)] = args.as_slice()
        && let (Some(a64), Some(b64)) = (approximate(a), approximate(b))
    {
        within_memory_limit("numbers.range", (b64 - a64).abs() + 1.0)?;
    }
    regorus_builtin::call("numbers.range", &args)
        .or_else(|e| builtin_error(format!("numbers.range: {e}")))
}

fn range_step(args: Vec<Value>) -> anyhow::Result<Value> {
    if let [
        start @ Value::Number(a),
        Value::Number(b),
        Value::Number(step),
    ] = args.as_slice()
        && a.is_integer()
        && b.is_integer()
        && step.is_integer()
        && let (Some(a64), Some(b64)) = (approximate(&args[0]), approximate(&args[1]))
        && let Some(step64) = approximate(&args[2])
        && step64 > 0.0
    {
        if step64 > (b64 - a64).abs() {
            // Only the start fits in the range.
            return Ok(Value::from(vec![start.clone()]));
        }
        within_memory_limit("numbers.range_step", (b64 - a64).abs() / step64 + 1.0)?;
    }
    regorus_builtin::call("numbers.range_step", &args)
        .or_else(|e| builtin_error(format!("numbers.range_step: {e}")))
}

/// An error (never undefined: it is the memory limit, as for any other evaluation) when an
/// array of `elements` would not fit in the memory limit.
fn within_memory_limit(name: &str, elements: f64) -> anyhow::Result<()> {
    let limit = crate::allocator::memory_ceiling();
    let bytes = elements * ELEMENT_BYTES as f64;
    if bytes > limit as f64 {
        anyhow::bail!(
            "{name} would make {elements:.0} elements ({bytes:.0} bytes), beyond the memory limit of {limit} bytes"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(a: f64, b: f64, step: f64) -> Value {
        range_step(vec![Value::from(a), Value::from(b), Value::from(step)]).unwrap()
    }

    #[test]
    fn a_step_beyond_the_range_gives_the_start() {
        assert_eq!(range(1.0, 10.0, 1e300), Value::from(vec![Value::from(1.0)]));
        assert_eq!(range(10.0, 1.0, 20.0), Value::from(vec![Value::from(10.0)]));
        // An integer literal beyond 2^53 is a big integer, with no exact f64.
        let big = Value::from_numeric_string("100000000000000000000").unwrap();
        let got = range_step(vec![Value::from(10u64), Value::from(1u64), big]).unwrap();
        assert_eq!(got, Value::from(vec![Value::from(10u64)]));
    }

    #[test]
    fn a_range_beyond_the_memory_limit_is_refused_before_it_is_allocated() {
        // 1e13 elements would be a 240 TB reservation, which aborts the process.
        for args in [
            vec![Value::from(1.0), Value::from(1e13)],
            vec![Value::from(1e13), Value::from(1.0)],
            vec![Value::from(1.0), Value::from(1e300)],
        ] {
            let err = super::range(args).unwrap_err().to_string();
            assert!(err.contains("beyond the memory limit"), "{err}");
        }
        let big = Value::from_numeric_string("100000000000000000000").unwrap();
        let err = super::range(vec![Value::from(1u64), big])
            .unwrap_err()
            .to_string();
        assert!(err.contains("beyond the memory limit"), "{err}");
        let err = range_step(vec![Value::from(1.0), Value::from(1e15), Value::from(10.0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("beyond the memory limit"), "{err}");
        let want: Vec<Value> = [3.0, 2.0, 1.0].into_iter().map(Value::from).collect();
        assert_eq!(
            super::range(vec![Value::from(3.0), Value::from(1.0)]).unwrap(),
            Value::from(want)
        );
    }

    #[test]
    fn other_ranges_are_regorus_answers() {
        let want: Vec<Value> = [1.0, 4.0, 7.0, 10.0].into_iter().map(Value::from).collect();
        assert_eq!(range(1.0, 10.0, 3.0), Value::from(want));
        assert_eq!(range(1.0, 3.0, 0.0), Value::Undefined);
    }
}
