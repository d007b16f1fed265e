//! Durations written in a policy as string literals (`time.parse_duration_ns("1h")`).
//!
//! authzd overrides `time.parse_duration_ns` (OPA's units `d`, `w`, `y`, which regorus lacks,
//! and no panic on a unit beyond ASCII: `crate::builtins`), and a rule that calls an override
//! runs on the interpreter. Owns: writing each call whose duration is a string literal as the
//! number it denotes, at load, on its line (`time.parse_duration_ns("1d")` becomes
//! `(86400000000000)`), so a rule that checks a token's age against a written duration keeps
//! the RVM, and both evaluators answer as OPA does. A duration from data, input or a variable
//! goes to the override; a literal Go's grammar refuses is left to it too (its error).

use regorus::Value;
use regorus::unstable::{Expr, Module};

use super::rego_ast::{Descend, Site, walk_rule};
use super::splice::Edit;
use crate::builtins::parse_go_duration;

const BUILTIN: &str = "time.parse_duration_ns";

/// A cheap look at the text before parsing it.
pub fn may_apply(text: &str) -> bool {
    text.contains(BUILTIN)
}

/// The edits that write each such call of `module` (`source` parsed) as its number.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::Call {
                span, fcn, params, ..
            }) = site
                && regorus::utils::get_path_string(fcn, None).is_ok_and(|n| n == BUILTIN)
                && let [argument] = params.as_slice()
                && let Expr::String {
                    value: Value::String(text),
                    ..
                }
                | Expr::RawString {
                    value: Value::String(text),
                    ..
                } = &**argument
                && let Ok(ns) = parse_go_duration(text)
                && let Some(call) = source.get(span.start as usize..span.end as usize)
                && call.starts_with(BUILTIN)
                && call.ends_with(')')
            {
                edits.push(Edit {
                    start: span.start as usize,
                    end: span.end as usize,
                    text: format!("({ns})"),
                });
                return Descend::No;
            }
            Descend::Yes
        });
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn days_weeks_and_years_are_written_as_their_numbers() {
        assert_eq!(
            rewritten(
                "package t\nfresh if time.now_ns() - input.iat < time.parse_duration_ns(\"1d\")\n\
                 x := [time.parse_duration_ns(`2w`), time.parse_duration_ns(\"-1.5d\")]\n"
            )
            .unwrap(),
            "package t\nfresh if time.now_ns() - input.iat < (86400000000000)\n\
             x := [(1209600000000000), (-129600000000000)]\n"
        );
    }

    #[test]
    fn other_arguments_and_invalid_durations_stay() {
        assert_eq!(
            rewritten("package t\nx := time.parse_duration_ns(\"1h30m\")\n").unwrap(),
            "package t\nx := (5400000000000)\n"
        );
        for source in [
            "package t\nx := time.parse_duration_ns(input.d)\n",
            "package t\nx := time.parse_duration_ns(\"1D\")\n",
            "package t\nx := time.parse_duration_ns(\"300y\")\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
