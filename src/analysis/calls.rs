//! `authzd check`'s view of calls to functions that do not exist.
//!
//! The resolution is the load's ([`crate::policy::calls`]), so `check` reports exactly what the
//! daemon refuses, with OPA's message. A call to one of OPA's deprecated builtins, which
//! authzd does not provide, also says what replaces it.

use regorus::unstable::{Module, Ref};

use super::Diagnostic;
use super::strict::deprecated;
use crate::policy::calls::{UNDEFINED_FUNCTION, unknown_functions as resolve};
use crate::policy::rule_graph::RuleGraph;

/// Every call in `modules` that names no function.
pub fn unknown_functions(modules: &[Ref<Module>]) -> Vec<Diagnostic> {
    let modules = || modules.iter().map(|m| m.as_ref());
    let graph = RuleGraph::build(modules());
    resolve(modules(), &graph)
        .into_iter()
        .map(|call| {
            let mut message = format!("{UNDEFINED_FUNCTION}: {}", call.message());
            if let Some(instead) = deprecated(&call.name) {
                message.push_str(&format!(
                    " (a builtin OPA deprecated, which authzd does not provide: {instead})"
                ));
            }
            Diagnostic {
                file: call.file,
                line: call.line,
                col: call.col,
                message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deprecated_builtins_say_what_replaces_them() {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(
                "p.rego".into(),
                "package p\ni := any([true])\nj := nope(1)\n".into(),
            )
            .unwrap();
        let found: Vec<String> = unknown_functions(engine.get_modules())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            found,
            vec![
                "p.rego:2:6: rego_type_error: undefined function any (a builtin OPA deprecated, which authzd does not provide: use `some x in xs` or a comprehension)",
                "p.rego:3:6: rego_type_error: undefined function nope",
            ]
        );
    }
}
