//! `time.format`, overriding regorus' where OPA answers differently: a fraction written with
//! nines (`.999`, and the default layout, RFC 3339 with nanoseconds) drops its trailing zeros,
//! and the dot when nothing is left (`1970-01-01T00:00:01.5Z`; regorus wrote `.500`), as Go
//! does; `MST` writes the zone's abbreviation (`CET`, `EST`, `UTC`, `+11`; regorus wrote the
//! offset); a fraction after a comma (`,000`) keeps the comma; a layout with characters
//! beyond ASCII (`2006年01月`) formats, where regorus panicked.
//!
//! Owns: those layout elements. Each is replaced by a placeholder (an ASCII control character,
//! which no layout element holds) before regorus formats the rest, and filled in after; the
//! argument checks and every other element are regorus'.

use chrono::{DateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::{OffsetName, Tz};
use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "time.format",
    nargs: 1,
    eval: format,
}];

/// Go's RFC 3339 with nanoseconds, the layout when none is given.
const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";

/// The placeholders: ASCII control characters but the tab, line feed and carriage return
/// (`time.parse_ns` uses them too).
pub(super) fn is_placeholder(c: char) -> bool {
    c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r' | '\0' | '\x7f')
}

pub(super) fn placeholders() -> impl Iterator<Item = char> {
    ('\x01'..='\x1f').filter(|c| is_placeholder(*c))
}

fn format(args: Vec<Value>) -> anyhow::Result<Value> {
    let delegate =
        |args: &[Value]| regorus_builtin::call("time.format", args).or_else(builtin_error);
    let Some(arg) = args.first() else {
        return delegate(&args);
    };
    let (ns, zone, layout) = match arg {
        Value::Number(n) => (n.as_i64(), "UTC".to_string(), None),
        Value::Array(items) => match items.as_slice() {
            [Value::Number(n)] => (n.as_i64(), "UTC".to_string(), None),
            [Value::Number(n), Value::String(tz)] => (n.as_i64(), tz.to_string(), None),
            [Value::Number(n), Value::String(tz), Value::String(layout)] => {
                (n.as_i64(), tz.to_string(), Some(layout.to_string()))
            }
            _ => return delegate(&args),
        },
        _ => return delegate(&args),
    };
    let Some(ns) = ns else {
        return delegate(&args);
    };
    let layout = layout
        .as_deref()
        .map_or(RFC3339_NANO, named_layout)
        .to_string();
    if layout.chars().any(is_placeholder) {
        return delegate(&args);
    }
    let instant = DateTime::from_timestamp_nanos(ns);
    let zone_name = abbreviation(&zone, instant);
    let Some((layout, fills)) = with_placeholders(&layout, instant.nanosecond(), zone_name) else {
        return builtin_error("time.format: the layout has too many elements beyond ASCII");
    };
    let call = Value::from(vec![
        Value::from(ns),
        Value::from(zone),
        Value::from(layout),
    ]);
    let formatted = delegate(&[call])?;
    let Value::String(text) = &formatted else {
        return Ok(formatted);
    };
    let mut text = text.to_string();
    for (placeholder, fill) in fills {
        text = text.replace(placeholder, &fill);
    }
    Ok(Value::from(text))
}

/// The layouts OPA names (Go's constants it accepts by name).
fn named_layout(layout: &str) -> &str {
    match layout {
        "ANSIC" => "Mon Jan _2 15:04:05 2006",
        "UnixDate" => "Mon Jan _2 15:04:05 MST 2006",
        "RubyDate" => "Mon Jan 02 15:04:05 -0700 2006",
        "RFC822" => "02 Jan 06 15:04 MST",
        "RFC822Z" => "02 Jan 06 15:04 -0700",
        "RFC850" => "Monday, 02-Jan-06 15:04:05 MST",
        "RFC1123" => "Mon, 02 Jan 2006 15:04:05 MST",
        "RFC1123Z" => "Mon, 02 Jan 2006 15:04:05 -0700",
        "RFC3339" => "2006-01-02T15:04:05Z07:00",
        "RFC3339Nano" => RFC3339_NANO,
        other => other,
    }
}

/// The abbreviation Go writes for `MST` in the zone named `zone` at `instant`, where known.
fn abbreviation(zone: &str, instant: DateTime<Utc>) -> Option<String> {
    match zone {
        "" | "UTC" => Some("UTC".to_string()),
        // The daemon's own zone: Go's name for it is the system's, which chrono does not give.
        "Local" => (chrono::Local
            .offset_from_utc_datetime(&instant.naive_utc())
            .fix()
            == Utc.fix())
        .then(|| "UTC".to_string()),
        name => {
            let tz: Tz = name.parse().ok()?;
            let offset = tz.offset_from_utc_datetime(&instant.naive_utc());
            // A zone with no letters in the time zone database is named by its offset there
            // (`-03`, `+0530`), and so by Go.
            Some(offset.abbreviation().map_or_else(
                || numeric_name(offset.fix().local_minus_utc()),
                str::to_string,
            ))
        }
    }
}

/// The time zone database's name for an offset without letters: `-03`, `+0530`.
fn numeric_name(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let minutes = seconds.unsigned_abs() / 60;
    match minutes % 60 {
        0 => format!("{sign}{:02}", minutes / 60),
        m => format!("{sign}{:02}{m:02}", minutes / 60),
    }
}

/// `layout` with `MST` (when `zone` is known), each fraction element and each run of
/// characters beyond ASCII replaced by a placeholder, and what each placeholder stands for;
/// `None` when there are more of them than placeholders.
fn with_placeholders(
    layout: &str,
    nanosecond: u32,
    zone: Option<String>,
) -> Option<(String, Vec<(char, String)>)> {
    let mut placeholders = placeholders();
    let mut fills = Vec::new();
    let mut out = String::with_capacity(layout.len());
    let bytes = layout.as_bytes();
    let mut at = 0;
    while let Some(rest) = layout.get(at..).filter(|r| !r.is_empty()) {
        let (fill, len) = if let (Some(zone), true) = (&zone, rest.starts_with("MST")) {
            (zone.clone(), 3)
        } else if let [separator @ (b'.' | b','), digit @ (b'0' | b'9'), ..] = rest.as_bytes()
            && let run = rest[1..].bytes().take_while(|b| b == digit).count()
            && !bytes.get(at + 1 + run).is_some_and(u8::is_ascii_digit)
        {
            let fill = fraction(nanosecond, run, char::from(*separator), *digit == b'9');
            (fill, 1 + run)
        } else if !rest.starts_with(|c: char| c.is_ascii()) {
            let run: usize = rest
                .chars()
                .take_while(|c| !c.is_ascii())
                .map(char::len_utf8)
                .sum();
            (rest[..run].to_string(), run)
        } else {
            out.push(char::from(bytes[at]));
            at += 1;
            continue;
        };
        let placeholder = placeholders.next()?;
        out.push(placeholder);
        fills.push((placeholder, fill));
        at += len;
    }
    Some((out, fills))
}

/// Go's fractional second: `digits` digits of `nanosecond` (at most nine, truncated), after
/// `separator`; with nines, trailing zeros dropped, and the separator too when none is left.
fn fraction(nanosecond: u32, digits: usize, separator: char, trim: bool) -> String {
    let all = format!("{:09}", nanosecond % 1_000_000_000);
    let mut kept = &all[..digits.min(9)];
    if trim {
        kept = kept.trim_end_matches('0');
        if kept.is_empty() {
            return String::new();
        }
    }
    format!("{separator}{kept}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn formatted(arg: &str) -> Value {
        format(vec![Value::from_json_str(arg).unwrap()]).unwrap()
    }

    #[test]
    fn fractions_with_nines_drop_trailing_zeros() {
        assert_eq!(
            formatted("1500000000"),
            Value::from("1970-01-01T00:00:01.5Z")
        );
        assert_eq!(
            formatted("-1500000000"),
            Value::from("1969-12-31T23:59:58.5Z")
        );
        assert_eq!(
            formatted("1000000001"),
            Value::from("1970-01-01T00:00:01.000000001Z")
        );
        assert_eq!(
            formatted("60000000000"),
            Value::from("1970-01-01T00:01:00Z")
        );
        assert_eq!(
            formatted(r#"[1700000000100000000, "UTC", "15:04:05.999 15:04:05.000000 ,000"]"#),
            Value::from("22:13:20.1 22:13:20.100000 ,100")
        );
    }

    #[test]
    fn mst_is_the_zones_abbreviation() {
        assert_eq!(
            formatted(r#"[1700000000000000000, "America/New_York", "UnixDate"]"#),
            Value::from("Tue Nov 14 17:13:20 EST 2023")
        );
        assert_eq!(
            formatted(r#"[1700000000000000000, "UTC", "RFC822"]"#),
            Value::from("14 Nov 23 22:13 UTC")
        );
        assert_eq!(
            formatted(r#"[1700000000000000000, "Asia/Kolkata", "MST -0700"]"#),
            Value::from("IST +0530")
        );
    }

    #[test]
    fn a_layout_beyond_ascii_formats() {
        assert_eq!(
            formatted(r#"[0, "UTC", "2006年01月02日 MST"]"#),
            Value::from("1970年01月01日 UTC")
        );
        let many = "é1".repeat(40);
        assert!(
            format(vec![Value::from(vec![
                Value::from(0),
                Value::from("UTC"),
                Value::from(many)
            ])])
            .is_ok()
        );
    }

    #[test]
    fn other_arguments_are_regorus_to_judge() {
        assert_eq!(
            format(vec![Value::from("x")]).unwrap(),
            regorus_builtin::call("time.format", &[Value::from("x")])
                .map_or(Value::Undefined, |v| v)
        );
    }
}
