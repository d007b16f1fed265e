//! `time.add_date`, overriding regorus' where OPA answers differently: Go's `AddDate`
//! normalizes a date past the end of its month (January 31 plus one month is March 2 in a
//! leap year, February 29 plus one year is March 1), where regorus clamped it to the month's
//! last day or answered undefined.
//!
//! Owns: that arithmetic, in UTC as OPA computes it, and OPA's type error for an operand with
//! a fraction. Other arguments that are no integers are regorus' to judge.

use chrono::{DateTime, Datelike, Days, NaiveDate, Timelike};
use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "time.add_date",
    nargs: 4,
    eval: add_date,
}];

fn add_date(args: Vec<Value>) -> anyhow::Result<Value> {
    let int = |i: usize| match args.get(i) {
        Some(Value::Number(n)) if n.is_integer() => n.as_i64(),
        _ => None,
    };
    for (index, arg) in args.iter().enumerate() {
        if let Value::Number(n) = arg
            && !n.is_integer()
        {
            let operand = index + 1;
            return builtin_error(format!(
                "time.add_date: operand {operand} must be integer number but got floating-point number"
            ));
        }
    }
    let (Some(ns), Some(years), Some(months), Some(days)) = (int(0), int(1), int(2), int(3)) else {
        return regorus_builtin::call("time.add_date", &args).or_else(builtin_error);
    };
    match go_add_date(ns, years, months, days) {
        Some(ns) => Ok(Value::from(ns)),
        None => builtin_error("time.add_date: time outside of valid range"),
    }
}

/// Go's `time.Unix(0, ns).UTC().AddDate(years, months, days).UnixNano()`: the month
/// normalized into the year, then the day counted from the month's first.
fn go_add_date(ns: i64, years: i64, months: i64, days: i64) -> Option<i64> {
    let t = DateTime::from_timestamp_nanos(ns);
    let month0 = i64::from(t.month0()).checked_add(months)?;
    let year = i64::from(t.year())
        .checked_add(years)?
        .checked_add(month0.div_euclid(12))?;
    let month = u32::try_from(month0.rem_euclid(12)).ok()? + 1;
    let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, 1)?;
    let offset = i64::from(t.day0()).checked_add(days)?;
    let date = if offset >= 0 {
        first.checked_add_days(Days::new(u64::try_from(offset).ok()?))?
    } else {
        first.checked_sub_days(Days::new(offset.unsigned_abs()))?
    };
    let time = t.time();
    date.and_hms_nano_opt(time.hour(), time.minute(), time.second(), time.nanosecond())?
        .and_utc()
        .timestamp_nanos_opt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_nanos_opt()
            .unwrap()
    }

    #[test]
    fn dates_past_a_months_end_roll_over_as_in_go() {
        let add = |t: &str, y, m, d| go_add_date(ns(t), y, m, d).unwrap();
        assert_eq!(
            add("2024-01-31T00:00:00Z", 0, 1, 0),
            ns("2024-03-02T00:00:00Z")
        );
        assert_eq!(
            add("2024-02-29T10:00:00Z", 1, 0, 0),
            ns("2025-03-01T10:00:00Z")
        );
        assert_eq!(
            add("2024-03-31T00:00:00Z", 0, -1, 0),
            ns("2024-03-02T00:00:00Z")
        );
        assert_eq!(
            add("2024-01-31T00:00:00Z", 0, 13, 0),
            ns("2025-03-03T00:00:00Z")
        );
        assert_eq!(
            add("2024-01-01T00:00:00Z", 0, 0, -1),
            ns("2023-12-31T00:00:00Z")
        );
        assert_eq!(
            add("2024-01-31T00:00:00Z", 0, -25, 40),
            ns("2022-02-09T00:00:00Z")
        );
        assert_eq!(go_add_date(-1, 0, 0, 0), Some(-1));
    }

    #[test]
    fn beyond_nanoseconds_range_is_none() {
        assert_eq!(go_add_date(0, 300, 0, 0), None);
        assert_eq!(go_add_date(0, i64::MAX, 0, 0), None);
    }
}
