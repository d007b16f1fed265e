//! `time.parse_ns`, overriding regorus' for a layout with characters beyond ASCII
//! (`time.parse_ns("2006年01月02日", s)`): regorus' layout reader panicked on it, failing every
//! decision that reached the call; OPA parses. An ASCII layout is regorus' to parse, as before.
//!
//! Owns: writing each run of characters beyond ASCII, in the layout and in the value alike, as
//! a placeholder (an ASCII control character, which no layout element holds) before regorus
//! parses; a value whose characters beyond ASCII are not the layout's cannot match it.

use regorus::Value;

use super::time_format::{is_placeholder, placeholders};
use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "time.parse_ns",
    nargs: 2,
    eval: parse_ns,
}];

fn parse_ns(args: Vec<Value>) -> anyhow::Result<Value> {
    let delegate =
        |args: &[Value]| regorus_builtin::call("time.parse_ns", args).or_else(builtin_error);
    let [Value::String(layout), Value::String(value)] = args.as_slice() else {
        return delegate(&args);
    };
    if layout.is_ascii() {
        return delegate(&args);
    }
    let cannot = || {
        builtin_error(format!(
            "time.parse_ns: parsing time {value:?} as {layout:?}: cannot parse"
        ))
    };
    let Some((layout_ascii, runs)) = placeheld(layout) else {
        return cannot();
    };
    let mut value_ascii = value.to_string();
    if value_ascii.chars().any(is_placeholder) {
        return cannot();
    }
    // Longest first, so that a run is not taken for a shorter one inside it.
    let mut by_length = runs.clone();
    by_length.sort_by_key(|(run, _)| std::cmp::Reverse(run.len()));
    for (run, placeholder) in &by_length {
        value_ascii = value_ascii.replace(run.as_str(), &placeholder.to_string());
    }
    if !value_ascii.is_ascii() {
        return cannot();
    }
    delegate(&[Value::from(layout_ascii), Value::from(value_ascii)])
}

/// `layout` with each distinct run of characters beyond ASCII written as its own placeholder,
/// and the runs; `None` when the layout holds a placeholder already or too many runs.
fn placeheld(layout: &str) -> Option<(String, Vec<(String, char)>)> {
    if layout.chars().any(is_placeholder) {
        return None;
    }
    let mut free = placeholders();
    let mut runs: Vec<(String, char)> = Vec::new();
    let mut out = String::with_capacity(layout.len());
    let mut chars = layout.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let mut run = String::from(c);
        while let Some(next) = chars.next_if(|n| !n.is_ascii()) {
            run.push(next);
        }
        let placeholder = match runs.iter().find(|(r, _)| *r == run) {
            Some((_, p)) => *p,
            None => {
                let p = free.next()?;
                runs.push((run, p));
                p
            }
        };
        out.push(placeholder);
    }
    Some((out, runs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(layout: &str, value: &str) -> Value {
        parse_ns(vec![Value::from(layout), Value::from(value)]).unwrap()
    }

    #[test]
    fn a_layout_beyond_ascii_parses() {
        assert_eq!(
            parsed("2006年01月02日", "2024年05月06日"),
            Value::from(1_714_953_600_000_000_000i64)
        );
        assert_eq!(
            parsed("02/01/2006 — 15:04", "06/05/2024 — 07:08"),
            Value::from(1_714_979_280_000_000_000i64)
        );
        assert_eq!(parsed("2006年", "2024月"), Value::Undefined);
        assert_eq!(parsed("2006年01月02日", "2024年05月06"), Value::Undefined);
        assert_eq!(
            parsed("2006-01-02", "2024-05-06"),
            Value::from(1_714_953_600_000_000_000i64)
        );
    }
}
