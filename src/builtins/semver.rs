//! `semver.is_valid` and `semver.compare`, overriding regorus' with the reading of OPA's own
//! semver package: a leading `v` is dropped, and anything that is not a string is not valid
//! (regorus: an error). SemVer 2.0's rules hold as OPA's conformance cases pin them
//! (`semverisvalid/test-semverisvalid-strict.yaml`, newer than OPA v1.20, which took them):
//! no leading zero in the three numbers (`01.2.3`) or in a numeric pre-release identifier
//! (`1.2.3-01`), and no empty pre-release or build part (`1.2.3-`, `1.2.3+`); build metadata
//! may have leading zeros (`1.2.3+01`).
//!
//! Owns: that parser and OPA's precedence: the three numbers, then no pre-release above any
//! pre-release, then its dot-separated identifiers left to right (all-digit ones by value and
//! below the others, the rest by bytes), the longer list above when one is a prefix of the
//! other. Build metadata does not count.

use std::cmp::Ordering;

use regorus::Value;

use super::Builtin;
use super::args::{Outcome, finish, string};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "semver.is_valid",
        nargs: 1,
        eval: |args| {
            let valid =
                matches!(args.first(), Some(Value::String(s)) if Version::parse(s).is_some());
            Ok(Value::from(valid))
        },
    },
    Builtin {
        name: "semver.compare",
        nargs: 2,
        eval: |args| finish("semver.compare", compare_builtin(&args)),
    },
];

fn compare_builtin(args: &[Value]) -> Outcome {
    let parse = |index: usize| {
        let text = string(args, index)?;
        Version::parse(text).ok_or_else(|| {
            format!(
                "operand {}: string \"{text}\" is not a valid SemVer",
                index + 1
            )
        })
    };
    let (a, b) = (parse(0)?, parse(1)?);
    Ok(Value::from(match a.cmp_precedence(&b) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

/// A version as OPA's package reads it.
#[derive(Debug, PartialEq)]
struct Version<'a> {
    numbers: [i64; 3],
    pre_release: &'a str,
}

/// Dot-separated identifiers of letters, digits and `-`.
fn valid_identifiers(text: &str) -> bool {
    text.split('.')
        .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Digits without a leading zero (`0` itself is one).
fn canonical_number(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

impl<'a> Version<'a> {
    fn parse(text: &'a str) -> Option<Self> {
        let text = text.strip_prefix('v').unwrap_or(text);
        let (text, build) = match text.split_once('+') {
            Some((text, build)) => (text, Some(build)),
            None => (text, None),
        };
        let (core, pre_release) = match text.split_once('-') {
            Some((core, pre_release)) => (core, Some(pre_release)),
            None => (text, None),
        };
        if build.is_some_and(|b| !valid_identifiers(b)) {
            return None;
        }
        let pre_release = match pre_release {
            Some(p) if !valid_identifiers(p) => return None,
            Some(p)
                if p.split('.')
                    .any(|id| is_numeric(id) && !canonical_number(id)) =>
            {
                return None;
            }
            Some(p) => p,
            None => "",
        };
        let mut parts = core.splitn(3, '.');
        let mut numbers = [0i64; 3];
        for number in &mut numbers {
            let part = parts.next()?;
            if !canonical_number(part) {
                return None;
            }
            // Within 64 bits, as Go's ParseInt.
            *number = part.parse().ok()?;
        }
        Some(Version {
            numbers,
            pre_release,
        })
    }

    fn cmp_precedence(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.pre_release.is_empty(), other.pre_release.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    let (mut a, mut b) =
                        (self.pre_release.split('.'), other.pre_release.split('.'));
                    loop {
                        match (a.next(), b.next()) {
                            (None, None) => return Ordering::Equal,
                            (None, Some(_)) => return Ordering::Less,
                            (Some(_), None) => return Ordering::Greater,
                            (Some(x), Some(y)) => match cmp_identifier(x, y) {
                                Ordering::Equal => {}
                                unequal => return unequal,
                            },
                        }
                    }
                }
            }
        })
    }
}

fn is_numeric(id: &str) -> bool {
    id.bytes().all(|c| c.is_ascii_digit())
}

/// All-digit identifiers by value (they have no leading zero: the longer is the larger) and
/// below the others; the rest by bytes.
fn cmp_identifier(a: &str, b: &str) -> Ordering {
    match (is_numeric(a), is_numeric(b)) {
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (true, true) => (a.len(), a).cmp(&(b.len(), b)),
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(text: &str) -> bool {
        (BUILTINS[0].eval)(vec![Value::from(text)]).unwrap() == Value::from(true)
    }

    fn compare(a: &str, b: &str) -> Value {
        (BUILTINS[1].eval)(vec![Value::from(a), Value::from(b)]).unwrap()
    }

    #[test]
    fn validity_is_semver_2_as_opa_reads_it() {
        for ok in [
            "1.2.3",
            "v1.2.3",
            "0.0.0",
            "1.2.3-0",
            "1.2.3-0a",
            "1.2.3-a.-1",
            "1.2.3+01",
            "10.20.30-rc.10+build.007",
        ] {
            assert!(valid(ok), "{ok}");
        }
        for bad in [
            "V1.2.3",
            "vv1.2.3",
            " 1.2.3",
            "1.2.3 ",
            "1.2",
            "1.2.3-a..b",
            "1.2.3-a_b",
            "1.2.3-ä",
            "99999999999999999999.0.0",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-01",
            "1.2.3-alpha.01",
            "1.2.3-",
            "1.2.3+",
            "+1.2.3",
            "1.2.3-a+",
        ] {
            assert!(!valid(bad), "{bad}");
        }
        assert_eq!(
            (BUILTINS[0].eval)(vec![Value::from(1)]).unwrap(),
            Value::from(false)
        );
    }

    #[test]
    fn precedence_is_opas() {
        let cases = [
            ("1.2.3", "1.2.3-alpha", 1),
            ("v1.2.3", "1.2.3", 0),
            ("1.2.3+a", "1.2.3+b", 0),
            ("1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
            ("1.0.0-1", "1.0.0-a", -1),
            ("1.0.0-a.1", "1.0.0-a", 1),
            ("1.0.0-9", "1.0.0-10", -1),
            ("1.0.0-x.1", "1.0.0-x.-1", -1),
            ("1.2.3-alpha", "1.2.3-Alpha", 1),
            ("1.2.3-0", "1.2.3-1", -1),
            ("1.2.3+01", "1.2.3+2", 0),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), Value::from(want), "{a} vs {b}");
        }
    }

    #[test]
    fn an_invalid_version_is_an_error() {
        assert_eq!(compare("1.0.0", "x"), Value::Undefined);
        assert_eq!(compare("1.02.3", "1.2.3"), Value::Undefined);
        let strict = crate::builtins::with_strict_errors(true, || {
            (BUILTINS[1].eval)(vec![Value::from("1.0.0"), Value::from("x")])
        });
        assert_eq!(
            strict.unwrap_err().to_string(),
            "semver.compare: operand 2: string \"x\" is not a valid SemVer"
        );
    }
}
