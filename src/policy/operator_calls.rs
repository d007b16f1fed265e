//! OPA's operators called by their names: `lt(a, b)` is `a < b`, `plus(1, 2, x)` is
//! `x = 1 + 2`.
//!
//! OPA declares each infix operator as a builtin (`plus`, `minus`, `mul`, `div`, `rem`, `and`,
//! `or`, `equal`, `neq`, `lt`, `lte`, `gt`, `gte`; its capabilities list them with their
//! `infix`), and a policy may call it by that name, with the result as one more argument when
//! the call is a statement of its own; `eq` and `assign` (`=` and `:=`) are statements only.
//! regorus knows only the operators, so such a bundle was
//! refused (`undefined function lt`) while `authzd capabilities` listed the names. Owns:
//! rewriting each such call, at load, as the operator in parentheses, on the same lines; a
//! package that defines a rule or function of that name keeps its own.

use std::collections::BTreeSet;

use regorus::unstable::{Expr, Literal, Module};

use super::rego_ast::{Descend, Site, expr_start, for_each_statement, walk_rule};
use super::splice::{Edit, statement_range};

/// Each name OPA gives an infix operator, with the operator.
const OPERATORS: [(&str, &str); 13] = [
    ("plus", "+"),
    ("minus", "-"),
    ("mul", "*"),
    ("div", "/"),
    ("rem", "%"),
    ("and", "&"),
    ("or", "|"),
    ("equal", "=="),
    ("neq", "!="),
    ("lt", "<"),
    ("lte", "<="),
    ("gt", ">"),
    ("gte", ">="),
];

/// The two that are statements, not expressions: `eq(x, 1)` is `x = 1`, `assign(x, 1)` is
/// `x := 1`.
const STATEMENTS: [(&str, &str); 2] = [("eq", "="), ("assign", ":=")];

/// A cheap look at the text before parsing it: an operator's name followed by `(`, not part
/// of a longer name or a reference (`x.lt(`).
pub fn may_apply(text: &str) -> bool {
    OPERATORS.iter().chain(&STATEMENTS).any(|(name, _)| {
        text.match_indices(name).any(|(at, _)| {
            let named = !text[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
            named && text[at + name.len()..].trim_start().starts_with('(')
        })
    })
}

/// `source` with every such call rewritten, for the tools that compile a module on their own
/// (`authzd check`); `None` when nothing changes or it does not parse.
pub fn rewrite(source: &str, rego_v0: bool, rules: &BTreeSet<String>) -> Option<String> {
    if !may_apply(source) {
        return None;
    }
    super::splice::rewrite_module(source, rego_v0, |module, source| {
        edits(module, source, rules)
    })
}

/// The edits that write each call of `module` (`source` parsed) to an operator by its name as
/// the operator; `rules` are the names the package defines.
pub fn edits(module: &Module, source: &str, rules: &BTreeSet<String>) -> Vec<Edit> {
    let operator = |fcn: &Expr| {
        let name = regorus::utils::get_path_string(fcn, None).ok()?;
        if rules.contains(&name) {
            return None;
        }
        let find = |table: &[(&str, &'static str)]| {
            table.iter().find(|(n, _)| *n == name).map(|(_, op)| *op)
        };
        find(&OPERATORS)
            .map(|op| (op, false))
            .or_else(|| find(&STATEMENTS).map(|op| (op, true)))
    };
    let mut edits = Vec::new();
    for rule in &module.policy {
        // Statements of their own may pass the result as a third argument.
        let mut statements = Vec::new();
        for_each_statement(rule, &mut |stmt| {
            if let Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } = &stmt.literal {
                statements.push(expr.span().start);
            }
        });
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::Call {
                fcn, params, span, ..
            }) = site
                && let Some((op, bare)) = operator(fcn)
            {
                let statement = statements.contains(&span.start);
                let call = if bare {
                    statement.then(|| bare_statement(source, fcn, params, op))
                } else {
                    Some(rewritten(source, fcn, params, op, statement))
                };
                if let Some(Some(call)) = call {
                    edits.extend(call);
                }
            }
            Descend::Yes
        });
    }
    edits
}

/// Where a call's parts are: its name's start, `(`, the `,` after the first argument, `)`, and
/// each argument's range.
struct Call {
    name_start: usize,
    open: usize,
    comma: usize,
    close: usize,
    args: Vec<(usize, usize)>,
}

impl Call {
    /// `None` for a shape the rewrite does not take (a parenthesized argument, a trailing
    /// comma), which stays as written and is refused.
    fn locate(source: &str, fcn: &Expr, params: &[regorus::unstable::Ref<Expr>]) -> Option<Self> {
        let range = |e: &Expr| {
            let (start, end) = statement_range(source, e.span());
            (start.min(expr_start(e, source)), end)
        };
        let args: Vec<(usize, usize)> = params.iter().map(|p| range(p)).collect();
        let (first, second) = (*args.first()?, *args.get(1)?);
        let name_start = expr_start(fcn, source);
        let open = name_start + source.get(name_start..first.0)?.find('(')?;
        if !source.get(open + 1..first.0)?.trim().is_empty() {
            return None;
        }
        for pair in args.windows(2) {
            if source.get(pair[0].1..pair[1].0)?.trim() != "," {
                return None;
            }
        }
        let comma = first.1 + source.get(first.1..second.0)?.find(',')?;
        let last_end = args.last()?.1;
        let close = last_end + source.get(last_end..)?.find(')')?;
        if !source.get(last_end..close)?.trim().is_empty() {
            return None;
        }
        Some(Self {
            name_start,
            open,
            comma,
            close,
            args,
        })
    }
}

/// The edits for the statement `eq(a, b)` (`assign(a, b)`): `a = b` (`a := b`).
fn bare_statement(
    source: &str,
    fcn: &Expr,
    params: &[regorus::unstable::Ref<Expr>],
    op: &str,
) -> Option<Vec<Edit>> {
    if params.len() != 2 {
        return None;
    }
    let call = Call::locate(source, fcn, params)?;
    Some(vec![
        Edit {
            start: call.name_start,
            end: call.open + 1,
            text: String::new(),
        },
        Edit {
            start: call.comma,
            end: call.comma + 1,
            text: format!(" {op}"),
        },
        Edit {
            start: call.close,
            end: call.close + 1,
            text: String::new(),
        },
    ])
}

/// The edits for one call `name(a, b)` (`name(a, b, out)` when `statement`): `(a op b)`
/// (`out = (a op b)`), keeping every line break where it was.
fn rewritten(
    source: &str,
    fcn: &Expr,
    params: &[regorus::unstable::Ref<Expr>],
    op: &str,
    statement: bool,
) -> Option<Vec<Edit>> {
    match params.len() {
        2 => {}
        3 if statement => {}
        _ => return None,
    }
    let Call {
        name_start,
        open,
        comma,
        close,
        args,
    } = Call::locate(source, fcn, params)?;
    let (second, out) = (*args.get(1)?, args.get(2).copied());
    let mut edits = Vec::new();
    let opening = match out {
        Some((start, end)) => format!("{} = (", source.get(start..end)?),
        None => "(".into(),
    };
    edits.push(Edit {
        start: name_start,
        end: open + 1,
        text: opening,
    });
    edits.push(Edit {
        start: comma,
        end: comma + 1,
        text: format!(" {op}"),
    });
    if out.is_some() {
        // `, out` goes; its line breaks stay.
        let kept = source.get(second.1..close)?.matches('\n').count();
        edits.push(Edit {
            start: second.1,
            end: close,
            text: "\n".repeat(kept),
        });
    }
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        rewrite(source, false, &BTreeSet::new()).unwrap_or_else(|| source.to_string())
    }

    #[test]
    fn a_call_by_name_becomes_the_operator() {
        assert_eq!(
            rewritten("package t\nx := lt(1, 2)\ny := plus(plus(1, 2), input.n)\n"),
            "package t\nx := (1 < 2)\ny := ((1 + 2) + input.n)\n"
        );
        assert_eq!(
            rewritten("package t\nz := and({1, 2}, {\"a\": 1, \"b\": [3]}[\"b\"])\n"),
            "package t\nz := ({1, 2} & {\"a\": 1, \"b\": [3]}[\"b\"])\n"
        );
        assert_eq!(
            rewritten("package t\ns if equal(\"a\", input.s)\n"),
            "package t\ns if (\"a\" == input.s)\n"
        );
    }

    #[test]
    fn a_third_argument_of_a_statement_takes_the_result() {
        assert_eq!(
            rewritten("package t\nx := r if rem(7, 3, r)\n"),
            "package t\nx := r if r = (7 % 3)\n"
        );
        assert_eq!(
            rewritten("package t\nx if {\n  gte(input.n,\n    2, true)\n  true\n}\n"),
            "package t\nx if {\n  true = (input.n >=\n    2)\n  true\n}\n"
        );
    }

    #[test]
    fn eq_and_assign_are_statements() {
        assert_eq!(
            rewritten(
                "package t\nx := y if { assign(y, [1]); eq(z, y) }\np if not eq(input.a, 1)\n"
            ),
            "package t\nx := y if { y := [1]; z = y }\np if not input.a = 1\n"
        );
        let expression = "package t\nx := [eq(1, 1)]\n";
        assert_eq!(rewritten(expression), expression);
    }

    #[test]
    fn a_rule_of_the_same_name_is_the_packages_own() {
        let source = "package t\nlt(a, b) := a > b\nx := lt(1, 2)\n";
        let rules = BTreeSet::from(["lt".to_string()]);
        assert_eq!(rewrite(source, false, &rules), None);
    }

    #[test]
    fn the_cheap_look() {
        assert!(may_apply("x := lt(1, 2)"));
        assert!(may_apply("x if plus (1, 2, y)"));
        assert!(!may_apply("x := salt(1)\ny := a.lt(2)\nz := plus"));
    }
}
