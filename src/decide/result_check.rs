//! The checks every defined result passes before it leaves the pipeline.
//!
//! Owns: the result-size budget (an estimate of the JSON size, stopping as soon as the budget
//! is spent, so a huge result costs no more than the budget to reject) and non-finite numbers
//! (a policy constant that overflowed to infinity has no JSON form: it is an evaluation
//! error, never an answer). A scalar result, the common case, costs one match.

use regorus::Value;

use super::error::{ErrorCode, EvalError};

/// Checks `value` against `budget` bytes; returns the estimated size on success.
pub fn check(value: &Value, budget: usize) -> Result<usize, EvalError> {
    let mut used = 0usize;
    walk(value, budget, &mut used)?;
    Ok(used)
}

/// Digits, sign, point and exponent only: `inf` and `NaN` are not JSON.
fn is_json_number(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
}

fn walk(value: &Value, budget: usize, used: &mut usize) -> Result<(), EvalError> {
    let size = match value {
        Value::Null | Value::Bool(_) | Value::Undefined => 5,
        Value::Number(n) => {
            // Only a non-finite float has no JSON form: an integer beyond f64's range is
            // written exactly. The text check runs only for numbers beyond 2^53, which are rare.
            if n.as_f64().is_none() && !is_json_number(&n.format_decimal()) {
                return Err(EvalError::new(
                    ErrorCode::EvalInternal,
                    "the result contains a non-finite number (a value overflowed to infinity or is NaN), which has no JSON form",
                ));
            }
            8
        }
        Value::String(s) => s.len() + 2,
        Value::Array(items) => {
            charge(used, 2 + items.len(), budget)?;
            for item in items.iter() {
                walk(item, budget, used)?;
            }
            return Ok(());
        }
        Value::Set(items) => {
            charge(used, 2 + items.len(), budget)?;
            for item in items.iter() {
                walk(item, budget, used)?;
            }
            return Ok(());
        }
        Value::Object(fields) => {
            charge(used, 2 + 2 * fields.len(), budget)?;
            for (key, item) in fields.iter() {
                walk(key, budget, used)?;
                walk(item, budget, used)?;
            }
            return Ok(());
        }
    };
    charge(used, size, budget)
}

fn charge(used: &mut usize, bytes: usize, budget: usize) -> Result<(), EvalError> {
    *used = used.saturating_add(bytes);
    if *used > budget {
        Err(EvalError::new(
            ErrorCode::EvalCancel,
            format!(
                "the result exceeds the limit of {budget} bytes (--max-result-bytes); ask for a smaller document"
            ),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_non_finite_numbers() {
        let small = Value::from_json_str(r#"{"allow": true, "roles": ["a", "b"]}"#).unwrap();
        assert!(check(&small, 1000).unwrap() < 100);
        let big = Value::from(vec![Value::from("x".repeat(100)); 100]);
        let e = check(&big, 1000).unwrap_err();
        assert_eq!(e.code, ErrorCode::EvalCancel);
        assert!(e.message.contains("--max-result-bytes"), "{}", e.message);
        // What `1e308 * 10` evaluates to: an integer beyond any f64, written exactly, as
        // OPA answers it.
        let huge = Value::from_numeric_string(&format!("1{}", "0".repeat(400))).unwrap();
        assert!(check(&Value::from(vec![huge]), 1000).is_ok());
        // regorus refuses float overflow itself (`numeric overflow in multiplication`) and
        // has no public way to build `inf`: the guard reads the number's text.
        assert!(!is_json_number("inf") && !is_json_number("NaN"));
        assert!(is_json_number("-1.5e300") && is_json_number(&"9".repeat(400)));
    }
}
