//! RFC 3339 timestamps in UTC, without a date library.
//!
//! Owns: formatting seconds (and nanoseconds) since the Unix epoch the way protobuf's JSON
//! mapping and OPA write them (`2026-11-23T10:00:00Z`, `...T10:00:00.123Z`).

/// Formats `secs` + `nanos` since the epoch; fractions use 3, 6 or 9 digits as needed.
pub fn format(secs: i64, nanos: u32) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let fraction = match nanos {
        0 => String::new(),
        n if n % 1_000_000 == 0 => format!(".{:03}", n / 1_000_000),
        n if n % 1_000 == 0 => format!(".{:06}", n / 1_000),
        n => format!(".{n:09}"),
    };
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{fraction}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The current time, formatted.
pub fn now() -> String {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format(elapsed.as_secs() as i64, elapsed.subsec_nanos())
}

/// Year, month, day of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(format(0, 0), "1970-01-01T00:00:00Z");
        assert_eq!(format(1_795_428_000, 0), "2026-11-23T10:00:00Z");
        assert_eq!(format(951_782_400, 123_000_000), "2000-02-29T00:00:00.123Z");
        assert_eq!(format(-1, 5), "1969-12-31T23:59:59.000000005Z");
    }
}
