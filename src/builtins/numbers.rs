//! `numbers.range_step`, overriding regorus' where it fails: a step larger than the range
//! (regorus cannot count the elements of `numbers.range_step(1, 10, 1e300)`; OPA, on big
//! integers, answers `[1]`). Everything else is regorus' own answer.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "numbers.range_step",
    nargs: 3,
    eval: range_step,
}];

fn range_step(args: Vec<Value>) -> anyhow::Result<Value> {
    if let [Value::Number(a), Value::Number(b), Value::Number(step)] = args.as_slice()
        && a.is_integer()
        && b.is_integer()
        && step.is_integer()
        && let (Some(a64), Some(b64)) = (a.as_f64(), b.as_f64())
        && let Some(step64) = step.as_f64()
        && step64 > 0.0
        && step64 > (b64 - a64).abs()
    {
        // Only the start fits in the range.
        return Ok(Value::from(vec![Value::Number(a.clone())]));
    }
    regorus_builtin::call("numbers.range_step", &args)
        .or_else(|e| builtin_error(format!("numbers.range_step: {e}")))
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
    }

    #[test]
    fn other_ranges_are_regorus_answers() {
        let want: Vec<Value> = [1.0, 4.0, 7.0, 10.0].into_iter().map(Value::from).collect();
        assert_eq!(range(1.0, 10.0, 3.0), Value::from(want));
        assert_eq!(range(1.0, 3.0, 0.0), Value::Undefined);
    }
}
