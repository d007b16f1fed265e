//! How two answers to the same decision differ: the one given (served, or logged) and a
//! candidate bundle's. Shared by `authzd replay` and shadow evaluation, so both name a change
//! the same way.
//!
//! Owns: the kinds of change and the classification. An answer is an allow or a deny when it
//! is a boolean or an object with a boolean `allow`/`allowed` (as the decision metrics count
//! them); an undefined answer counts as a deny only next to an allow, so an undefined data
//! lookup that becomes defined is a changed value, not a new allow.

use std::fmt;

/// What a decision's document says, as far as allowing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    Deny,
    Undefined,
    /// Defined, but not an allow/deny answer (a number, a list, an object without `allow`).
    Other,
}

impl Verdict {
    /// The verdict of a regorus value.
    pub fn of_value(value: &regorus::Value) -> Self {
        use regorus::Value;
        match value {
            Value::Undefined => Self::Undefined,
            Value::Bool(true) => Self::Allow,
            Value::Bool(false) => Self::Deny,
            Value::Object(fields) => {
                match fields
                    .get(&Value::from("allow"))
                    .or_else(|| fields.get(&Value::from("allowed")))
                {
                    Some(Value::Bool(true)) => Self::Allow,
                    Some(Value::Bool(false)) => Self::Deny,
                    _ => Self::Other,
                }
            }
            _ => Self::Other,
        }
    }

    /// The verdict of a JSON value (`None`: undefined, no `result` in the event).
    pub fn of_json(value: Option<&serde_json::Value>) -> Self {
        use serde_json::Value;
        match value {
            None => Self::Undefined,
            Some(Value::Bool(true)) => Self::Allow,
            Some(Value::Bool(false)) => Self::Deny,
            Some(Value::Object(fields)) => {
                match fields.get("allow").or_else(|| fields.get("allowed")) {
                    Some(Value::Bool(true)) => Self::Allow,
                    Some(Value::Bool(false)) => Self::Deny,
                    _ => Self::Other,
                }
            }
            Some(_) => Self::Other,
        }
    }
}

/// One side of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    Value(Verdict),
    /// Failed, with OPA's error code.
    Error(&'a str),
}

/// How a decision changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Change {
    Unchanged,
    AllowToDeny,
    DenyToAllow,
    /// Any other difference, an error that now answers included.
    ValueChanged,
    /// It answered, and now fails.
    NowAnError,
}

impl Change {
    pub const CHANGES: [Change; 4] = [
        Change::AllowToDeny,
        Change::DenyToAllow,
        Change::ValueChanged,
        Change::NowAnError,
    ];

    /// The spelling of reports and `--fail-on`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::AllowToDeny => "allow-to-deny",
            Self::DenyToAllow => "deny-to-allow",
            Self::ValueChanged => "value-changed",
            Self::NowAnError => "now-an-error",
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Classifies `after` against `before`; `same_value` says whether two values are equal (it is
/// not asked for errors).
pub fn classify(
    before: Answer<'_>,
    after: Answer<'_>,
    same_value: impl FnOnce() -> bool,
) -> Change {
    match (before, after) {
        (Answer::Error(a), Answer::Error(b)) if a == b => Change::Unchanged,
        (Answer::Error(_), _) => Change::ValueChanged,
        (Answer::Value(_), Answer::Error(_)) => Change::NowAnError,
        (Answer::Value(old), Answer::Value(new)) => {
            if same_value() {
                return Change::Unchanged;
            }
            match (old, new) {
                (Verdict::Allow, Verdict::Deny | Verdict::Undefined) => Change::AllowToDeny,
                (Verdict::Deny | Verdict::Undefined, Verdict::Allow) => Change::DenyToAllow,
                _ => Change::ValueChanged,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    fn value(v: Option<&str>) -> Answer<'static> {
        Answer::Value(Verdict::of_json(v.map(json).as_ref()))
    }

    #[test]
    fn flips_and_other_changes() {
        let c = |a, b| classify(value(a), value(b), || a == b);
        assert_eq!(c(Some("true"), Some("true")), Change::Unchanged);
        assert_eq!(c(Some("true"), Some("false")), Change::AllowToDeny);
        assert_eq!(c(Some("true"), None), Change::AllowToDeny);
        assert_eq!(c(None, Some("true")), Change::DenyToAllow);
        assert_eq!(
            c(Some(r#"{"allow": false}"#), Some(r#"{"allow": true}"#)),
            Change::DenyToAllow
        );
        assert_eq!(
            c(
                Some(r#"{"allow": false, "reasons": ["a"]}"#),
                Some(r#"{"allow": false, "reasons": ["b"]}"#)
            ),
            Change::ValueChanged
        );
        // An undefined lookup that becomes defined is no new allow.
        assert_eq!(c(None, Some("[1]")), Change::ValueChanged);
        assert_eq!(c(Some("false"), None), Change::ValueChanged);
    }

    #[test]
    fn errors() {
        let never = || unreachable!("values of errors are not compared");
        assert_eq!(
            classify(
                value(Some("true")),
                Answer::Error("eval_conflict_error"),
                never
            ),
            Change::NowAnError
        );
        assert_eq!(
            classify(Answer::Error("x"), Answer::Error("x"), never),
            Change::Unchanged
        );
        assert_eq!(
            classify(Answer::Error("x"), value(Some("true")), never),
            Change::ValueChanged
        );
    }

    #[test]
    fn verdicts_of_regorus_values() {
        let v = |s: &str| regorus::Value::from_json_str(s).unwrap();
        assert_eq!(Verdict::of_value(&v("true")), Verdict::Allow);
        assert_eq!(
            Verdict::of_value(&v(r#"{"allowed": false}"#)),
            Verdict::Deny
        );
        assert_eq!(
            Verdict::of_value(&regorus::Value::Undefined),
            Verdict::Undefined
        );
        assert_eq!(Verdict::of_value(&v("3")), Verdict::Other);
    }
}
