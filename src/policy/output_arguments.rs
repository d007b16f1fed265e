//! OPA's output argument for authzd's extension builtins: `glob.match(p, [":"], s, x)` is
//! `x = glob.match(p, [":"], s)`.
//!
//! OPA takes a builtin's result as one more argument, unified with the result, in any call
//! that is a statement of its own (its conformance cases are written that way). regorus does it
//! for its own builtins but not for extensions, which would fail every decision with `var x is
//! unsafe`. Owns: finding, in a module, each statement that calls an extension with one
//! argument too many, and rewriting it to the unification OPA evaluates, on the same lines. A
//! call inside an expression is left alone: OPA refuses it too, and [`super::calls`] says why.
//!
//! The reverse form too, for `walk`, the one builtin OPA evaluates as a relation:
//! `[path, value] := walk(x)` iterates as `walk(x, [path, value])` does (regorus answers it
//! undefined). The variables become unified rather than declared: a variable of the same name
//! bound outside a comprehension is compared, not shadowed.

use regorus::unstable::{Expr, Literal, Module};

use super::rego_ast::for_each_statement;
use super::splice::{Edit, statement_range};

/// A cheap test: `text` may call an extension builtin.
pub fn may_apply(text: &str) -> bool {
    text.contains("walk(") || crate::builtins::all().any(|b| text.contains(b.name))
}

/// `source` with every such call rewritten, for the tools that compile a module on their own
/// (`authzd check`); `None` when nothing changes or it does not parse.
pub fn rewrite(source: &str, rego_v0: bool) -> Option<String> {
    if !may_apply(source) {
        return None;
    }
    super::splice::rewrite_module(source, rego_v0, edits)
}

/// The edits that turn every statement `f(args..., out)` of `module` (`source` parsed), `f` an
/// extension builtin, into `out = f(args...)`.
pub fn edits(module: &Module, source: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    for rule in &module.policy {
        for_each_statement(rule, &mut |stmt| {
            if let Literal::Expr { expr, .. } | Literal::NotExpr { expr, .. } = &stmt.literal
                && let Some(edit) = unification(expr, source).or_else(|| relation(expr, source))
            {
                edits.push(edit);
            }
        });
    }
    edits
}

/// `out = f(args...)` in place of the call `f(args..., out)`, with the call's line breaks kept
/// after it so that the lines below keep their numbers.
fn unification(expr: &Expr, source: &str) -> Option<Edit> {
    let Expr::Call {
        span, fcn, params, ..
    } = expr
    else {
        return None;
    };
    let name = regorus::utils::get_path_string(fcn, None).ok()?;
    let builtin = crate::builtins::all().find(|b| b.name == name)?;
    if params.len() != usize::from(builtin.nargs) + 1 {
        return None;
    }
    let out = params.last()?;
    let start = span.start as usize;
    let (out_start, out_end) = statement_range(source, out.span());
    let mut end = (span.end as usize).max(out_end);
    // The call's span may end before or after its `)`; a trailing comma may stand before it.
    let after = source.get(out_end..)?;
    let close = out_end + after.find(')')?;
    let between = source.get(out_end..close)?.trim();
    if !between.is_empty() && between != "," {
        return None;
    }
    end = end.max(close + 1);
    // What stands before the output argument: `f(a, b,` or `f(`.
    let before = source.get(start..out_start)?.trim_end();
    let head = before.strip_suffix(',').unwrap_or(before);
    if !head.ends_with('(') && before.len() == head.len() {
        return None;
    }
    let out_text = source.get(out_start..out_end)?;
    let mut text = format!("{out_text} = {})", head.trim_end());
    let lines = |s: &str| s.matches('\n').count();
    let dropped = lines(source.get(start..end)?).saturating_sub(lines(head) + lines(out_text));
    text.push_str(&"\n".repeat(dropped));
    Some(Edit { start, end, text })
}

/// `walk(x, pair)` in place of `pair := walk(x)` (or `=`, either side).
fn relation(expr: &Expr, source: &str) -> Option<Edit> {
    let Expr::AssignExpr { lhs, rhs, .. } = expr else {
        return None;
    };
    let walked = |e: &Expr| match e {
        Expr::Call { fcn, params, .. }
            if params.len() == 1
                && regorus::utils::get_path_string(fcn, None).is_ok_and(|n| n == "walk") =>
        {
            params.first().cloned()
        }
        _ => None,
    };
    let (argument, pair) = match (walked(lhs), walked(rhs)) {
        (None, Some(argument)) => (argument, lhs),
        (Some(argument), None) => (argument, rhs),
        _ => return None,
    };
    let text_of = |e: &Expr| {
        let (start, end) = statement_range(source, e.span());
        source.get(start..end)
    };
    let (start, end) = statement_range(source, expr.span());
    let (argument, pair) = (text_of(&argument)?, text_of(pair)?);
    let mut text = format!("walk({argument}, {pair})");
    let lines = |s: &str| s.matches('\n').count();
    let dropped = lines(source.get(start..end)?).saturating_sub(lines(argument) + lines(pair));
    text.push_str(&"\n".repeat(dropped));
    Some(Edit { start, end, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(rego: &str) -> String {
        rewrite(rego, false).unwrap_or_else(|| rego.to_string())
    }

    #[test]
    fn the_last_argument_becomes_the_left_side() {
        assert_eq!(
            rewritten("package p\nx if glob.match(\"*.a\", [\".\"], input.s, true)\n"),
            "package p\nx if true = glob.match(\"*.a\", [\".\"], input.s)\n"
        );
        assert_eq!(
            rewritten("package p\nx := y if { strings.split_n(\"a,b\", \",\", 1, y) }\n"),
            "package p\nx := y if { y = strings.split_n(\"a,b\", \",\", 1) }\n"
        );
        assert_eq!(
            rewritten("package p\nx := y if { numbers.range(1, 2, \"z\") }\n"),
            "package p\nx := y if { \"z\" = numbers.range(1, 2) }\n"
        );
    }

    #[test]
    fn a_call_over_several_lines_keeps_the_line_count() {
        let rego = "package p\nx := y if {\n  array.flatten(\n    [[1]],\n    y\n  )\n  y\n}\n";
        let out = rewritten(rego);
        assert_eq!(out.lines().count(), rego.lines().count(), "{out}");
        assert!(out.contains("y = array.flatten(\n    [[1]])"), "{out}");
        // A trailing comma after the output argument, as OPA's formatter writes long calls.
        let rego = "package p\nx := y if {\n  array.flatten(\n    [[1]],\n    y,\n  )\n}\n";
        let out = rewritten(rego);
        assert_eq!(out.lines().count(), rego.lines().count(), "{out}");
        assert!(out.contains("y = array.flatten(\n    [[1]])"), "{out}");
    }

    #[test]
    fn negated_calls_and_comprehensions_are_rewritten_too() {
        let out = rewritten(
            "package p\nx if not glob.match(\"a\", [], input.s, true)\ny := [z | glob.match(\"a\", [], \"a\", z)]\n",
        );
        assert!(
            out.contains("not true = glob.match(\"a\", [], input.s)"),
            "{out}"
        );
        assert!(
            out.contains("[z | z = glob.match(\"a\", [], \"a\")]"),
            "{out}"
        );
    }

    #[test]
    fn walk_as_a_relation_becomes_its_output_form() {
        assert_eq!(
            rewritten("package p\nx := [p | [p, v] := walk(input); is_string(v)]\n"),
            "package p\nx := [p | walk(input, [p, v]); is_string(v)]\n"
        );
        assert_eq!(
            rewritten("package p\nx if { walk(input) = [[\"a\"], 1] }\n"),
            "package p\nx if { walk(input, [[\"a\"], 1]) }\n"
        );
    }

    #[test]
    fn calls_with_their_own_arguments_and_regorus_builtins_are_left_alone() {
        for rego in [
            "package p\nx := glob.match(\"a\", [], \"a\")\n",
            "package p\nx if { count([1], n); n == 1 }\n",
            "package p\nx := y if { y := glob.match(\"a\", [], \"a\", 1) }\n",
        ] {
            assert_eq!(rewritten(rego), rego);
        }
    }
}
