//! What authzd can evaluate, in the shape of OPA's capabilities file, so that OPA's tooling
//! (`opa check --capabilities`, `opa build --capabilities`, Regal) can verify a policy against
//! authzd before it ships.
//!
//! Owns: the set of function names an engine accepts (regorus's builtins, authzd's
//! extensions, `print`, and the operators), and their declarations. The declarations are OPA's
//! own (`opa_declarations.json`, the builtin table of OPA's capabilities file, one entry per
//! line); a name regorus accepts that OPA does not declare gets arguments of type `any`. OPA
//! builtins that neither regorus nor an extension provides are left out: that is the point.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// OPA's declaration of each builtin and operator, keyed by name.
const OPA_DECLARATIONS: &str = include_str!("opa_declarations.json");

/// Keywords an `import future.keywords.*` may name (Rego v0 modules); in v1 they are keywords.
const FUTURE_KEYWORDS: [&str; 5] = ["contains", "every", "if", "in", "not"];

/// Language features authzd reads: v1 syntax, rule heads that are references (`a.b.c := 1`,
/// `p[x].q := y`), and template strings (`$"user {input.user}"`, rewritten at load).
const FEATURES: [&str; 4] = [
    "rego_v1",
    "rule_head_ref_string_prefixes",
    "rule_head_refs",
    "template_strings",
];

/// The operators and internal calls OPA's compiler rewrites syntax into (`x := 1` is
/// `assign`, `x in xs` is `internal.member_2`, `print` is `internal.print`). A capabilities file
/// without them refuses the syntax itself.
const SYNTAX: [&str; 20] = [
    "and",
    "assign",
    "div",
    "eq",
    "equal",
    "gt",
    "gte",
    "internal.member_2",
    "internal.member_3",
    "internal.print",
    "lt",
    "lte",
    "minus",
    "mul",
    "neq",
    "or",
    "plus",
    "rem",
    "print",
    "internal.test_case",
];

/// Names regorus registers that do not do what OPA's do: `http.send` is a stub that answers
/// undefined (a sidecar on the request path makes no outbound calls).
pub const NOT_PROVIDED: [&str; 1] = ["http.send"];

/// Every function name a policy may call, with its arity.
pub fn callable() -> BTreeMap<String, Option<u8>> {
    let mut names: BTreeMap<String, Option<u8>> = regorus::unstable::BUILTINS
        .iter()
        // `__builtin_sets.*` are regorus's own names for `&` and `|`: not callable by name.
        .filter(|(name, _)| !name.starts_with("__") && !NOT_PROVIDED.contains(name))
        .map(|(name, (_, nargs))| (name.to_string(), Some(*nargs)))
        .collect();
    for builtin in super::all() {
        names.insert(builtin.name.to_string(), Some(builtin.nargs));
    }
    // Answered at load, from the bundle's METADATA blocks (crate::policy::metadata).
    for name in crate::policy::metadata::NAMES {
        names.insert(name.to_string(), Some(0));
    }
    names
}

/// OPA's capabilities document for exactly what authzd evaluates.
pub fn document() -> Value {
    let declared: BTreeMap<String, Value> = serde_json::from_str::<Vec<Value>>(OPA_DECLARATIONS)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|b| Some((b.get("name")?.as_str()?.to_string(), b)))
        .collect();
    let mut builtins: BTreeMap<String, Value> = BTreeMap::new();
    for name in SYNTAX {
        if let Some(decl) = declared.get(name) {
            builtins.insert(name.to_string(), decl.clone());
        }
    }
    for (name, nargs) in callable() {
        let entry = match declared.get(&name) {
            Some(decl) => decl.clone(),
            None => undeclared(&name, nargs.unwrap_or(0)),
        };
        builtins.insert(name, entry);
    }
    json!({
        "builtins": builtins.into_values().collect::<Vec<_>>(),
        "future_keywords": FUTURE_KEYWORDS,
        "wasm_abi_versions": [],
        "features": FEATURES,
    })
}

/// A declaration for a function OPA does not know: every argument and the result `any`.
fn undeclared(name: &str, nargs: u8) -> Value {
    json!({
        "name": name,
        "decl": {
            "type": "function",
            "args": vec![json!({"type": "any"}); nargs as usize],
            "result": {"type": "any"},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed() -> Vec<Value> {
        document()["builtins"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn the_declarations_parse_and_every_entry_has_oppas_shape() {
        let all: Vec<Value> = serde_json::from_str(OPA_DECLARATIONS).unwrap();
        assert!(all.len() > 150, "{}", all.len());
        for b in listed() {
            let name = b["name"].as_str().unwrap();
            assert_eq!(b["decl"]["type"], "function", "{name}");
            let args = &b["decl"]["args"];
            assert!(args.is_array() || args.is_null(), "{name}");
            assert!(
                b["decl"]["result"].is_object() || SYNTAX.contains(&name),
                "{name}"
            );
        }
    }

    #[test]
    fn every_function_the_engine_accepts_is_listed() {
        let names: Vec<String> = listed()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_string())
            .collect();
        for name in callable().keys() {
            assert!(names.contains(name), "{name} is accepted but not listed");
        }
        for name in SYNTAX {
            assert!(names.iter().any(|n| n == name), "{name}");
        }
    }

    #[test]
    fn what_authzd_lacks_is_not_listed() {
        let names: Vec<String> = listed()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_string())
            .collect();
        assert!(!names.iter().any(|n| n == "http.send"));
    }

    /// An argument of the declared type, so that a call reaches the builtin itself.
    fn argument(decl: &Value) -> String {
        match decl["type"].as_str().unwrap_or("any") {
            "number" => "1".into(),
            "string" => "\"localhost\"".into(),
            "boolean" => "true".into(),
            "array" => "[]".into(),
            "object" => "{}".into(),
            "set" => "set()".into(),
            "null" => "null".into(),
            _ => "\"localhost\"".into(),
        }
    }

    /// Every listed builtin is found when evaluated, on the engine authzd serves with: the call
    /// may fail on its made-up arguments, never with "could not find function".
    #[test]
    fn every_listed_builtin_evaluates() {
        let mut missing = Vec::new();
        for b in listed() {
            let name = b["name"].as_str().unwrap();
            // The metadata calls become constants at load (tests/cases/metadata.yaml).
            if SYNTAX.contains(&name) || crate::policy::metadata::NAMES.contains(&name) {
                continue;
            }
            let args: Vec<String> = b["decl"]["args"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(argument)
                .collect();
            let policy = format!(
                "package t\nimport rego.v1\nr := x if {{ x := {name}({}) }}\n",
                args.join(", ")
            );
            let mut engine = regorus::Engine::new();
            crate::builtins::register(&mut engine).unwrap();
            if let Err(e) = engine.add_policy("t.rego".into(), policy.clone()) {
                missing.push(format!("{name}: does not load: {e}"));
                continue;
            }
            if let Err(e) = engine.eval_rule("data.t.r".into()) {
                let text = e.to_string();
                if text.contains("could not find function") || text.contains("unknown function") {
                    missing.push(format!("{name}: {text}"));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }
}
