//! Load-time checks of every call: it names a function that exists, and an extension builtin
//! gets exactly its arguments.
//!
//! regorus looks a function up only when a call is evaluated: a misspelt builtin loads fine and
//! fails every decision that reaches it (HTTP 500, `could not find function`). OPA refuses such a
//! policy at compile time with `rego_type_error: undefined function NAME`, and so does authzd.
//! A call is resolved as regorus resolves it: through the module's imports, then the policy
//! set's functions (`data.` paths, then the package's own), then authzd's extensions, `print`
//! and regorus's builtins.
//!
//! OPA also accepts a builtin's result as one more argument (`io.jwt.decode(t, [h, p, s])`) in
//! a statement of its own; [`super::output_arguments`] rewrites such a statement for an
//! extension, which regorus would otherwise fail at every decision (`var x is unsafe`). Any
//! other wrong count is refused at load, as OPA refuses it, naming the call and the form that
//! works.
//!
//! Owns the resolution of calls; which names are extensions is [`crate::builtins::all`], the
//! functions of the policy set are the [`RuleGraph`]'s.

use std::collections::BTreeMap;

use regorus::unstable::{Expr, Module, Span};

use super::rego_ast::{Descend, Site, span_position, static_ref, walk_rule};
use super::rule_graph::{ImportTarget, RuleGraph, imports, package_path};

/// OPA's error code for a call to a function that does not exist.
pub const UNDEFINED_FUNCTION: &str = "rego_type_error";

/// A call to a function that does not exist.
#[derive(Debug, Clone)]
pub struct UnknownCall {
    /// The function as written (`strings.render_templat`, `lib.nope`).
    pub name: String,
    pub file: String,
    /// 1-based line and character column of the call.
    pub line: u32,
    pub col: u32,
}

impl UnknownCall {
    /// OPA's message, without the position: `undefined function NAME`.
    pub fn message(&self) -> String {
        format!("undefined function {}", self.name)
    }
}

impl std::fmt::Display for UnknownCall {
    /// `file:line:col: rego_type_error: undefined function NAME`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {UNDEFINED_FUNCTION}: {}",
            self.file,
            self.line,
            self.col,
            self.message()
        )
    }
}

/// Every call in `modules` that names no function, in module and source order. `graph` is
/// the graph of the same modules.
pub fn unknown_functions<'m>(
    modules: impl IntoIterator<Item = &'m Module>,
    graph: &RuleGraph,
) -> Vec<UnknownCall> {
    let mut found = Vec::new();
    for module in modules {
        let Some(package) = package_path(module) else {
            continue;
        };
        let resolver = Resolver {
            package,
            imports: imports(module),
            graph,
        };
        for rule in &module.policy {
            walk_rule(rule, &mut |site| {
                if let Site::Expr(Expr::Call { span, fcn, .. }) = site
                    && let Some((root, fields)) = static_ref(fcn)
                    && !resolver.known(&root, &fields)
                {
                    found.push(unknown(span, &root, &fields));
                }
                Descend::Yes
            });
        }
    }
    found
}

fn unknown(span: &Span, root: &str, fields: &[String]) -> UnknownCall {
    let name = std::iter::once(root)
        .chain(fields.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(".");
    let (line, col) = span_position(span);
    UnknownCall {
        name,
        file: span.source.file().to_string(),
        line,
        col,
    }
}

/// How one module's calls resolve.
struct Resolver<'g> {
    package: Vec<String>,
    imports: BTreeMap<String, ImportTarget>,
    graph: &'g RuleGraph,
}

impl Resolver<'_> {
    fn known(&self, root: &str, fields: &[String]) -> bool {
        match self.imports.get(root) {
            Some(Some(target)) => {
                let path: Vec<String> = target.iter().chain(fields).cloned().collect();
                return self.graph.is_function(&path);
            }
            // Nothing under `input` is a function.
            Some(None) => return false,
            None => {}
        }
        if root == "data" {
            return self.graph.is_function(fields);
        }
        let mut local = self.package.clone();
        local.push(root.to_string());
        local.extend(fields.iter().cloned());
        if self.graph.is_function(&local) {
            return true;
        }
        let name = std::iter::once(root.to_string())
            .chain(fields.iter().cloned())
            .collect::<Vec<_>>()
            .join(".");
        name == "print"
            || super::metadata::NAMES.contains(&name.as_str())
            || crate::builtins::is_extension(&name)
            || (regorus::unstable::BUILTINS.contains_key(name.as_str())
                && !crate::builtins::capabilities::NOT_PROVIDED.contains(&name.as_str()))
    }
}

/// Checks the argument count of every call to an extension builtin; the error is
/// regorus-formatted (`--> file:line:col`), like any other load error.
pub fn check_arity<'m>(modules: impl IntoIterator<Item = &'m Module>) -> Result<(), String> {
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
    let Some(builtin) = crate::builtins::all().find(|b| b.name == name) else {
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

    fn engine(modules: &[(&str, &str)]) -> regorus::Engine {
        let mut engine = regorus::Engine::new();
        crate::builtins::register(&mut engine).unwrap();
        for (name, text) in modules {
            engine
                .add_policy(name.to_string(), text.to_string())
                .unwrap();
        }
        engine
    }

    fn load(rego: &str) -> Result<(), String> {
        let mut engine = engine(&[("p.rego", rego)]);
        check_arity(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    fn unknown(modules: &[(&str, &str)]) -> Vec<String> {
        let parsed = engine(modules).get_modules().clone();
        let modules = || parsed.iter().map(|m| m.as_ref());
        let graph = RuleGraph::build(modules());
        unknown_functions(modules(), &graph)
            .iter()
            .map(ToString::to_string)
            .collect()
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

    #[test]
    fn calls_resolve_like_regorus() {
        let found = unknown(&[
            ("lib.rego", "package lib\nf(x) := x\ndefault d(_) := 1\n"),
            (
                "p.rego",
                concat!(
                    "package p\n",
                    "import data.lib\n",
                    "import input.req\n",
                    "g(x) := x\n",
                    "a := lib.f(1)\n",
                    "b := data.lib.f(1)\n",
                    "c := g(count([1]))\n",
                    "d := crypto.sha256(\"x\")\n",
                    "e := lib.nope(1)\n",
                    "h if {\n\tprint(1)\n\tnot_a_builtin(2)\n}\n",
                    "i := lib.d(io.jwt.decode(\"t\"))\n",
                    "j := req.f(1)\n",
                    "k := [x | x := strings.render_templat(\"\", {})]\n",
                    // regorus's http.send is a stub that answers undefined: not provided.
                    "l := http.send({})\n",
                ),
            ),
        ]);
        assert_eq!(
            found,
            vec![
                "p.rego:9:6: rego_type_error: undefined function lib.nope",
                "p.rego:12:2: rego_type_error: undefined function not_a_builtin",
                "p.rego:15:6: rego_type_error: undefined function req.f",
                "p.rego:16:16: rego_type_error: undefined function strings.render_templat",
                "p.rego:17:6: rego_type_error: undefined function http.send",
            ]
        );
    }

    #[test]
    fn a_bundle_calling_an_unknown_function_is_refused_by_name() {
        let rego = concat!(
            "package p\n",
            "ok := 1\n",
            "token if { io.jwt.decode_verifyy(input.t, {}, out); out[0] }\n",
            "page := strings.render_templat(\"{{.x}}\", {\"x\": 1})\n",
        );
        let files = crate::bundle::BundleFiles {
            files: [("p.rego".to_string(), rego.as_bytes().to_vec())].into(),
        };
        let bundle =
            crate::bundle::Bundle::from_files("b", std::path::Path::new("b"), &files).unwrap();
        let options = crate::policy::CompileOptions {
            evaluator_slots: 1,
            ..crate::policy::CompileOptions::default()
        };
        let err = crate::policy::Snapshot::compile(&[std::sync::Arc::new(bundle)], options)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "b:p.rego:3:12: rego_type_error: undefined function io.jwt.decode_verifyy\n\
             b:p.rego:4:9: rego_type_error: undefined function strings.render_templat"
        );
    }
}
