//! Unary minus over a reference, a variable or a call, as OPA reads it.
//!
//! In OPA, `-` before a term negates that term: `-input.n + 1` is `(-input.n) + 1`. regorus
//! takes everything after the `-` as its operand (`-(input.n + 1)`), and then refuses any
//! operand that is not a number literal (`unary - can only be used with numeric literals`, on
//! both evaluators), so `d := -input.n`, `abs(-x)` and `2 * -input.n` failed every decision
//! that reached them. Owns: rewriting each unary minus, at load, as the subtraction OPA
//! computes, around the term only: `(0 - input.n) + 1`, on the same line; and refusing at load
//! a minus OPA does not parse (`-(1 + 2)`), which regorus would load and fail at every decision.

use regorus::unstable::{Expr, Module};

use super::rego_ast::{Descend, Site, expr_start, walk_rule};
use super::splice::Edit;

/// A cheap look at the text before parsing it: false when no `-` stands where an operand
/// starts (after an operator, a bracket, a comma or `:=`) before a name, or a number after a
/// space.
pub fn may_apply(text: &str) -> bool {
    text.match_indices('-').any(|(at, _)| {
        let before = text[..at].trim_end();
        let after = text[at + 1..].trim_start();
        let operand_starts = before.is_empty()
            || before.ends_with([
                '=', '(', '[', '{', ',', ':', '|', '+', '*', '/', '<', '>', '%',
            ])
            || before.ends_with(" if")
            || before.ends_with(';');
        // A name, or a number after a space (`- 2`; `-2` is a number literal).
        let spaced = after.len() < text.len() - at - 1;
        let term = after
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_' || (spaced && c.is_ascii_digit()));
        operand_starts && term && !text[at + 1..].starts_with('-')
    })
}

/// The edits that write every unary minus of `module` (`source` parsed) as `(0 - term)`.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::UnaryExpr { span, expr, .. }) = site {
                // OPA's operand: the first term of what regorus took (`input.n` of
                // `input.n + 1`).
                let mut term = &**expr;
                while let Expr::ArithExpr { lhs, .. }
                | Expr::BinExpr { lhs, .. }
                | Expr::BoolExpr { lhs, .. } = term
                {
                    term = lhs;
                }
                let (minus, start, end) = (
                    span.start as usize,
                    expr_start(term, source),
                    term.span().end as usize,
                );
                if source.get(minus..minus + 1) == Some("-") && minus < start {
                    edits.push(Edit {
                        start: minus,
                        end: start,
                        text: "(0 - ".into(),
                    });
                    edits.push(Edit::insert(end, ")".into()));
                }
            }
            Descend::Yes
        });
    }
    edits
}

/// The first unary minus left in `modules` (after [`edits`]) over anything but a number:
/// OPA's parser takes a `-` before a number or a term only, and refuses `-(1 + 2)`.
pub fn check<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Result<(), String> {
    for module in modules {
        for rule in &module.policy {
            let mut error = None;
            walk_rule(rule, &mut |site| {
                if error.is_none()
                    && let Site::Expr(Expr::UnaryExpr { span, expr, .. }) = site
                    && !matches!(&**expr, Expr::Number { .. })
                {
                    error = Some(span.error(NOT_A_TERM).to_string());
                }
                Descend::Yes
            });
            if let Some(error) = error {
                return Err(error);
            }
        }
    }
    Ok(())
}

const NOT_A_TERM: &str = "rego_parse_error: a unary minus takes a number or a term, as in OPA; write `0 - (...)` to negate an expression";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::rego_ast::parsed;

    fn rewritten(source: &str) -> Option<String> {
        super::super::splice::apply(source, edits(&parsed(source), source))
    }

    #[test]
    fn a_unary_minus_negates_the_term_after_it() {
        assert_eq!(
            rewritten("package t\nc := -input.n + 1\n").unwrap(),
            "package t\nc := (0 - input.n) + 1\n"
        );
        assert_eq!(
            rewritten("package t\ni := 2 * -input.n\nk := abs(- x) if x := 1\n").unwrap(),
            "package t\ni := 2 * (0 - input.n)\nk := abs((0 - x)) if x := 1\n"
        );
        assert_eq!(
            rewritten("package t\nf := - 2 * 3\n").unwrap(),
            "package t\nf := (0 - 2) * 3\n"
        );
    }

    #[test]
    fn a_minus_over_a_parenthesis_is_refused_as_opa_refuses_it() {
        let refused = parsed("package t\nx := 1\ny := [2, -(1 + 2)]\n");
        let message = check([&*refused]).unwrap_err();
        assert!(message.contains("t.rego:3:10"), "{message}");
        assert!(message.contains("write `0 - (...)`"), "{message}");
        let rewritten_source = rewritten("package t\nx := -input.n + -1\n").unwrap();
        assert_eq!(check([&*parsed(&rewritten_source)]), Ok(()));
    }

    #[test]
    fn the_cheap_look() {
        assert!(may_apply("d := -input.n"));
        assert!(may_apply("x if { y := 2 * - z }"));
        assert!(may_apply("e := [1, - 2]"));
        assert!(!may_apply("s := \"order-service\"\nn := 3 - 1\nm := -1"));
    }
}
