//! `time.parse_duration_ns`, overriding regorus': Go's `time.ParseDuration` with the units OPA
//! adds (`d`, `w`, `y`: 24, 168 and 8,760 hours), where regorus knew only Go's units (`"1d"`
//! was undefined) and panicked on a unit beyond ASCII (`"1時間"` from a request's input failed
//! the decision with a 500; OPA answers undefined).
//!
//! Owns: that grammar (`[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0`), its integer arithmetic
//! (a fraction is exact to the nanosecond, as in Go) and its errors. A literal duration never
//! reaches it: `crate::policy`'s `duration_literals` writes it as its number at load, so the
//! rule keeps the RVM; this answers the others (from the input, data or a variable).

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "time.parse_duration_ns",
    nargs: 1,
    eval: parse_duration_ns,
}];

fn parse_duration_ns(args: Vec<Value>) -> anyhow::Result<Value> {
    let Some(Value::String(text)) = args.first() else {
        return regorus_builtin::call("time.parse_duration_ns", &args).or_else(builtin_error);
    };
    match parse(text) {
        Ok(ns) => Ok(Value::from(ns)),
        Err(e) => builtin_error(format!("time.parse_duration_ns: {e}")),
    }
}

/// Nanoseconds per unit.
const UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
    ("d", 86_400_000_000_000),
    ("w", 604_800_000_000_000),
    ("y", 31_536_000_000_000_000),
];

const LIMIT: u64 = 1 << 63;

/// The duration `text` spells, in nanoseconds, or Go's error.
pub fn parse(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {text:?}");
    let (negative, mut s) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut value: u64 = 0;
        for b in s[..digits].bytes() {
            value = value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
                .filter(|v| *v <= LIMIT)
                .ok_or_else(invalid)?;
        }
        s = &s[digits..];
        let (mut fraction, mut scale, mut fraction_digits) = (0u64, 1f64, 0);
        if let Some(rest) = s.strip_prefix('.') {
            fraction_digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..fraction_digits].bytes() {
                if overflow || fraction > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let next = fraction * 10 + u64::from(b - b'0');
                if next > LIMIT {
                    overflow = true;
                    continue;
                }
                fraction = next;
                scale *= 10.0;
            }
            s = &rest[fraction_digits..];
        }
        if digits == 0 && fraction_digits == 0 {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {text:?}"));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let Some(&(_, unit)) = UNITS.iter().find(|(name, _)| *name == unit_name) else {
            return Err(format!(
                "time: unknown unit {unit_name:?} in duration {text:?}"
            ));
        };
        if value > LIMIT / unit {
            return Err(invalid());
        }
        value *= unit;
        if fraction > 0 {
            // As Go computes it: in f64, exact to the nanosecond for the largest units' fractions.
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(value)
            .filter(|t| *t <= LIMIT)
            .ok_or_else(invalid)?;
    }
    if negative {
        return Ok(0i64.checked_sub_unsigned(total).unwrap_or(i64::MIN));
    }
    i64::try_from(total).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_and_opa_read_them() {
        let h = 3_600_000_000_000i64;
        assert_eq!(parse("1h"), Ok(h));
        assert_eq!(parse("1d"), Ok(24 * h));
        assert_eq!(parse("1w"), Ok(168 * h));
        assert_eq!(parse("1y"), Ok(8_760 * h));
        assert_eq!(parse("2d3h"), Ok(51 * h));
        assert_eq!(parse("1.5d"), Ok(36 * h));
        assert_eq!(parse("-1d"), Ok(-24 * h));
        assert_eq!(parse("1d1d"), Ok(48 * h));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("0d"), Ok(0));
        assert_eq!(parse("1.5h"), Ok(h * 3 / 2));
        assert_eq!(parse(".5s"), Ok(500_000_000));
        assert_eq!(parse("1µs"), Ok(1_000));
        assert_eq!(parse("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn errors_are_gos() {
        assert_eq!(
            parse("1D"),
            Err("time: unknown unit \"D\" in duration \"1D\"".into())
        );
        assert_eq!(
            parse("100"),
            Err("time: missing unit in duration \"100\"".into())
        );
        assert_eq!(parse(""), Err("time: invalid duration \"\"".into()));
        assert_eq!(parse("."), Err("time: invalid duration \".\"".into()));
        assert_eq!(parse("300y"), Err("time: invalid duration \"300y\"".into()));
        assert_eq!(
            parse("9223372036854775808ns"),
            Err("time: invalid duration \"9223372036854775808ns\"".into())
        );
        assert_eq!(
            parse("1時間"),
            Err("time: unknown unit \"時間\" in duration \"1時間\"".into())
        );
    }

    #[test]
    fn the_builtin_answers_a_duration_from_the_input() {
        let call = |d: &str| parse_duration_ns(vec![Value::from(d)]).unwrap();
        assert_eq!(call("1d"), Value::from(86_400_000_000_000i64));
        assert_eq!(call("1時間"), Value::Undefined);
    }
}
