//! A load-time check of every call to an extension builtin: the number of arguments.
//!
//! OPA also accepts a builtin's result as one more argument (`io.jwt.decode(t, [h, p, s])`).
//! regorus extensions cannot take that form: such a module loads and then fails every decision
//! with `var x is unsafe`. A wrong count is known at load, so it is refused at load, naming the
//! call and the form that works.
//!
//! Owns only the walk over the modules' AST; which names are extensions is [`super::all`].

use regorus::unstable::{Expr, Module};

use crate::policy::rego_ast::{Descend, Site, walk_rule};

/// Checks every module; the error is regorus-formatted (`--> file:line:col`), like any other
/// load error.
pub fn check<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Result<(), String> {
    for module in modules {
        for rule in &module.policy {
            let mut error = None;
            walk_rule(rule, &mut |site| {
                if error.is_none()
                    && let Site::Expr(expr) = site
                {
                    error = check_call(expr).err();
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

/// A call to an extension builtin must pass exactly its arguments.
fn check_call(expr: &Expr) -> Result<(), String> {
    let Expr::Call {
        span, fcn, params, ..
    } = expr
    else {
        return Ok(());
    };
    let Ok(name) = regorus::utils::get_path_string(fcn, None) else {
        return Ok(());
    };
    let Some(builtin) = super::all().find(|b| b.name == name) else {
        return Ok(());
    };
    let want = builtin.nargs;
    if params.len() == usize::from(want) {
        return Ok(());
    }
    let message = if params.len() == usize::from(want) + 1 {
        format!(
            "{name} takes {want} argument(s); authzd's extension builtins do not take OPA's output argument: write `x := {name}(...)` instead of `{name}(..., x)`"
        )
    } else {
        format!("{name} takes {want} argument(s), not {}", params.len())
    };
    Err(span.error(&message).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rego: &str) -> Result<(), String> {
        let mut engine = regorus::Engine::new();
        super::super::register(&mut engine).unwrap();
        engine
            .add_policy("p.rego".to_string(), rego.to_string())
            .unwrap();
        check(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    #[test]
    fn output_arguments_are_refused_with_the_form_that_works() {
        let err = load("package p\nr := x if { io.jwt.decode(input.t, x) }\n").unwrap_err();
        assert!(err.contains("p.rego:2:"), "{err}");
        assert!(err.contains("write `x := io.jwt.decode(...)`"), "{err}");
        let err = load("package p\nr := [x | crypto.sha256(\"a\", \"b\", x)]\n").unwrap_err();
        assert!(
            err.contains("crypto.sha256 takes 1 argument(s), not 3"),
            "{err}"
        );
        let err = load(
            "package p\nr if { every t in input.ts { io.jwt.verify_hs256(t, \"k\", true) } }\n",
        )
        .unwrap_err();
        assert!(err.contains("io.jwt.verify_hs256"), "{err}");
    }

    #[test]
    fn the_result_form_loads() {
        load("package p\nr := [h, p] if { [h, p, _] := io.jwt.decode(input.t) }\nf(t) := crypto.md5(t)\n")
            .unwrap();
    }
}
