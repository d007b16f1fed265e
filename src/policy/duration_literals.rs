//! Durations written in a policy with the units OPA adds to Go's (`d`, `w`, `y`).
//!
//! OPA's `time.parse_duration_ns` takes days, weeks and years (`"1d"`, `"2w"`, `"1y"`: 24, 168
//! and 8,760 hours); regorus' takes only Go's units and answers undefined. Owns: writing each
//! call whose duration is a string literal with such a unit as the number it denotes, at
//! load, on its line (`time.parse_duration_ns("1d")` becomes `(86400000000000)`), so both
//! evaluators, the RVM included, answer as OPA does and the rule keeps its evaluator. A
//! duration from data, input or a variable is not rewritten; a literal Go's grammar refuses
//! is left for regorus to refuse.

use regorus::Value;
use regorus::unstable::{Expr, Module};

use super::rego_ast::{Descend, Site, walk_rule};
use super::splice::Edit;
use crate::builtins::go_duration;

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
                && go_duration::uses_opa_units(text)
                && let Ok(ns) = go_duration::parse(text)
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
    fn gos_own_units_and_other_arguments_stay() {
        for source in [
            "package t\nx := time.parse_duration_ns(\"1h\")\n",
            "package t\nx := time.parse_duration_ns(input.d)\n",
            "package t\nx := time.parse_duration_ns(\"1D\")\n",
            "package t\nx := time.parse_duration_ns(\"300y\")\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
