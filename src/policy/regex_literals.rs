//! Regular expressions written in a policy, read with Go's syntax as OPA reads them.
//!
//! regorus compiles the patterns of `regex.match` and its siblings with Rust's `regex`, whose
//! syntax differs from Go's (RE2's) in places: `\d` matches `١` in Rust and not in Go, `x{,3}`
//! is an error in Rust and a literal in Go ([`crate::builtins::go_regex_to_rust`] lists
//! them). Owns: rewriting each pattern that is a string literal in the call, at load, to the
//! Rust pattern that means what Go's does (`regex.match("^\\d+$", x)` becomes
//! `regex.match("^[0-9]+$", x)`), so that both evaluators, the RVM included, match as OPA
//! does. Only the literal changes, on its own line. A pattern from data, input or a variable
//! is not rewritten. The builtins authzd overrides (`regex.split`, `regex.template_match`)
//! translate their patterns themselves.

use regorus::Value;
use regorus::unstable::{Expr, Module};

use super::rego_ast::{Descend, Site, walk_rule};
use super::splice::{Edit, statement_range};

/// regorus' builtins that take a pattern, and the argument that holds it.
const PATTERN_ARGUMENT: &[(&str, usize)] = &[
    ("regex.match", 0),
    ("regex.is_valid", 0),
    ("regex.find_n", 0),
    ("regex.find_all_string_submatch_n", 0),
    ("regex.replace", 1),
];

/// A cheap look at the text before parsing it: false when it calls none of them.
pub fn may_apply(text: &str) -> bool {
    text.contains("regex.")
}

/// The edits that rewrite every literal pattern of `module` (`source` parsed) whose meaning
/// differs between Go and Rust.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::Call { fcn, params, .. }) = site
                && let Ok(name) = regorus::utils::get_path_string(fcn, None)
                && let Some(&(_, index)) = PATTERN_ARGUMENT.iter().find(|(n, _)| *n == name)
                && let Some(pattern) = params.get(index)
            {
                edits.extend(rewrite(pattern, source));
            }
            Descend::Yes
        });
    }
    edits
}

/// The edit that writes `pattern` (a call's argument) as a Rust pattern, when it is a string
/// literal that needs one.
fn rewrite(pattern: &Expr, source: &str) -> Option<Edit> {
    let (Expr::String { span, value, .. } | Expr::RawString { span, value, .. }) = pattern else {
        return None;
    };
    let Value::String(go) = value else {
        return None;
    };
    let rust = crate::builtins::go_regex_to_rust(go);
    if *rust == **go {
        return None;
    }
    let (start, end) = statement_range(source, span);
    // A JSON string is a Rego string literal.
    let text = serde_json::to_string(&*rust).ok()?;
    Some(Edit { start, end, text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn literal_patterns_are_written_in_rusts_syntax() {
        assert_eq!(
            rewritten("package t\nx if regex.match(\"^\\\\d+$\", input.id)\n").unwrap(),
            "package t\nx if regex.match(\"^[0-9]+$\", input.id)\n"
        );
        assert_eq!(
            rewritten("package t\nx := regex.replace(input.s, `{\\w}`, \"-\")\n").unwrap(),
            "package t\nx := regex.replace(input.s, \"\\\\{[0-9A-Za-z_]}\", \"-\")\n"
        );
        assert_eq!(
            rewritten("package t\nx := [m | m := regex.find_n(`\\bx`, input.s, -1)]\n").unwrap(),
            "package t\nx := [m | m := regex.find_n(\"(?-u:\\\\b)x\", input.s, -1)]\n"
        );
    }

    #[test]
    fn patterns_that_read_the_same_and_other_arguments_stay() {
        for source in [
            "package t\nx if regex.match(\"^[a-z]+$\", input.id)\n",
            "package t\nx if regex.match(input.pattern, \"\\\\d\")\n",
            "package t\nx := regex.split(\"\\\\d\", input.s)\n",
            "package t\nx := regex.replace(`\\d`, \"a\", \"b\")\n",
        ] {
            assert_eq!(rewritten(source), None, "{source}");
        }
    }
}
