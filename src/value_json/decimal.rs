//! The integer a decimal number literal denotes, digit for digit.
//!
//! OPA keeps numbers as their decimal text, so `1e400` and `15e399` are integers beyond f64's
//! range that compare, add and print exactly. Owns: reading such a literal (JSON's grammar,
//! which Rego's number literals share) into the digits of its integer, when it is one.

/// The digits (with a leading `-` when negative) of the integer that `text` denotes:
/// `"1.5e3"` is `"1500"`, `"-2e2"` is `"-200"`. `None` when `text` is not a number literal,
/// when its value has a fraction (`"1.5"`, `"1e-3"`), or when the integer would have more
/// than `max_digits` digits (converting decimal digits to binary costs quadratic time).
pub fn integer_digits(text: &str, max_digits: usize) -> Option<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], &unsigned[at + 1..]),
        None => (unsigned, "0"),
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    // An exponent of more than 9 digits can only be refused.
    if exponent.trim_start_matches('-').len() > 9 {
        return None;
    }
    let exponent: i64 = exponent.parse().ok()?;
    let (int, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let point = mantissa.contains('.');
    if int.is_empty() || !all_digits(int) || !all_digits(fraction) || point && fraction.is_empty() {
        return None;
    }
    let significant = format!("{int}{fraction}");
    let significant = significant.trim_start_matches('0');
    let shift = exponent - fraction.len() as i64;
    let digits = if significant.is_empty() {
        "0".to_string()
    } else if shift >= 0 {
        let len = significant.len() as i64 + shift;
        if len > max_digits as i64 {
            return None;
        }
        format!("{significant}{}", "0".repeat(shift as usize))
    } else {
        // A fraction unless the digits it would drop are zeros.
        let keep = significant.len() as i64 + shift;
        let dropped = significant.get(keep.max(0) as usize..)?;
        if keep <= 0 || dropped.bytes().any(|b| b != b'0') {
            return None;
        }
        significant[..keep as usize].to_string()
    };
    Some(if negative && digits != "0" {
        format!("-{digits}")
    } else {
        digits
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_written_with_exponents_and_fractions_are_their_digits() {
        let cases = [
            ("1e400", Some(format!("1{}", "0".repeat(400)))),
            ("1.5e3", Some("1500".to_string())),
            ("-2E+2", Some("-200".to_string())),
            ("150e-1", Some("15".to_string())),
            ("0.0e5", Some("0".to_string())),
            ("-0", Some("0".to_string())),
            ("42", Some("42".to_string())),
            ("1.5", None),
            ("1e-3", None),
            ("15e-2", None),
            ("1e1001", None),
            ("1e9999999999", None),
            ("x", None),
            ("1.e3", None),
        ];
        for (text, want) in cases {
            assert_eq!(integer_digits(text, 1_000), want, "{text}");
        }
    }
}
