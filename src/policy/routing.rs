//! Which rules the RVM may be trusted with, before anything is compiled for it.
//!
//! Owns: the constructs regorus's RVM answers differently from OPA (and from regorus's own
//! interpreter), found in everything a rule reaches. A rule that reaches one stays on the
//! interpreter, with the reason; each entry here has a decision case that shows the RVM wrong
//! (`tests/cases/fast_path.yaml`):
//!
//! - `default` functions: the RVM ignores the default (`f(1)` is undefined instead of 1);
//! - ref heads with a variable before the last segment (`svc[name].allow := true`);
//! - `walk`, and `with` (which the RVM cannot compile anyway);
//! - an `else` chain with a value that may be undefined (`x := input.a if c else := 1`): the RVM
//!   answers undefined where OPA goes on to the next `else`;
//! - a read of a whole document that holds rules (`data.a` of `package a`): the RVM leaks
//!   `"<undefined>"` into it for rules that are undefined;
//! - an index into a data object whose keys look like numbers (`{"30001": [...]}`) by something
//!   that may be a number: OPA (and the interpreter) find key `"30001"` for `30001`, the RVM
//!   does not. Where the index is a ground path into the input, the rule keeps the RVM and the
//!   decision checks that path per request ([`Assessment::guards`]): a number there sends that
//!   one decision to the interpreter.

use std::collections::{BTreeMap, BTreeSet};

use regorus::Value;

use super::rule_graph::{IndexKind, RuleGraph, RuleNode};

/// The verdict on a set of candidate rules.
#[derive(Debug, Default)]
pub struct Assessment {
    /// Rules that must stay on the interpreter, with the reason.
    pub interpreter: Vec<(String, String)>,
    /// Rules that may use the RVM unless one of these input paths holds a number.
    pub guards: BTreeMap<String, Vec<Vec<String>>>,
}

/// Judges every candidate (`data.p.q`, with its path segments below `data`).
pub fn assess(graph: &RuleGraph, data: &Value, candidates: &[(String, Vec<String>)]) -> Assessment {
    let numeric = NumericKeys::of(data);
    let mut assessment = Assessment::default();
    for (name, segments) in candidates {
        let Some(reach) = graph.reach(segments) else {
            // Not in the graph (a path the graph spells differently): do not guess.
            assessment.interpreter.push((
                name.clone(),
                "its definitions could not be analysed".to_string(),
            ));
            continue;
        };
        let mut guards = BTreeSet::new();
        match unsafe_construct(graph, &numeric, segments, &reach, &mut guards) {
            Some(reason) => assessment.interpreter.push((name.clone(), reason)),
            None if guards.is_empty() => {}
            None => {
                assessment
                    .guards
                    .insert(name.clone(), guards.into_iter().collect());
            }
        }
    }
    assessment
}

fn unsafe_construct(
    graph: &RuleGraph,
    numeric: &NumericKeys,
    candidate: &[String],
    reach: &[&RuleNode],
    guards: &mut BTreeSet<Vec<String>>,
) -> Option<String> {
    for node in reach {
        let rule = super::to_ref(&node.path);
        // "it ..." for the candidate itself, "reaches data.x, which ..." for what it reaches.
        let subject = if node.path == candidate {
            "it".to_string()
        } else {
            format!("it reaches {rule}, which")
        };
        let facts = &node.facts;
        if facts.default_function {
            return Some(format!(
                "{subject} is a default function (the RVM ignores the default)"
            ));
        }
        if facts.dynamic_ref_head {
            return Some(format!(
                "{subject} has a ref head with a variable before its last segment, or in a multi-value rule's path"
            ));
        }
        if facts.with {
            return Some(format!("{subject} uses `with`"));
        }
        if facts.else_value_may_be_undefined {
            return Some(format!(
                "{subject} has an `else` chain with a value that may be undefined (the RVM stops there, OPA goes on to the next `else`)"
            ));
        }
        if facts.else_after_loop {
            return Some(format!(
                "{subject} has an `else` after a body that iterates (the RVM answers undefined where the loop finds nothing, OPA goes on to the `else`)"
            ));
        }
        if let Some(reason) = facts.rvm_wrong_answer {
            return Some(format!("{subject} {reason}"));
        }
        if facts.walk {
            return Some(format!("{subject} calls walk"));
        }
        if let Some(read) = facts.reads.iter().find(|r| graph.is_namespace(r)) {
            return Some(format!(
                "{subject} reads {}, a document that merges rules and data",
                super::to_ref(read)
            ));
        }
        for index in &facts.data_indexes {
            if !numeric.risky(&index.prefix) {
                continue;
            }
            let doc = super::to_ref(&index.prefix);
            match &index.index {
                IndexKind::Input(path) => {
                    guards.insert(path.clone());
                }
                IndexKind::Number => {
                    return Some(format!(
                        "{subject} indexes {doc}, whose keys look like numbers, with a number"
                    ));
                }
                IndexKind::Other => {
                    return Some(format!(
                        "{subject} indexes {doc}, whose keys look like numbers, with a value that may be a number"
                    ));
                }
            }
        }
    }
    None
}

/// True when an input path holds a number: then a guarded rule is decided on the interpreter.
pub fn trips(guards: &[Vec<String>], input: &Value) -> bool {
    guards.iter().any(|path| {
        let mut value = input;
        for segment in path {
            match value {
                Value::Object(fields) => match fields.get(&Value::from(segment.as_str())) {
                    Some(next) => value = next,
                    None => return false,
                },
                _ => return false,
            }
        }
        matches!(value, Value::Number(_))
    })
}

/// Where in the data objects with number-like keys are: each such object's path and every
/// path above it. Below such an object nothing is recorded, and everything counts as risky.
struct NumericKeys {
    marked: BTreeSet<Vec<String>>,
    above: BTreeSet<Vec<String>>,
}

impl NumericKeys {
    fn of(data: &Value) -> Self {
        let mut marked = BTreeSet::new();
        Self::walk(data, &mut Vec::new(), &mut marked);
        let mut above = BTreeSet::new();
        for path in &marked {
            for end in 0..path.len() {
                above.insert(path[..end].to_vec());
            }
        }
        Self { marked, above }
    }

    /// One pass over the data's objects, depth first, the path kept on one stack (a path is
    /// copied only for an object it marks): this runs on every activation, over all the data.
    fn walk<'v>(value: &'v Value, path: &mut Vec<&'v str>, marked: &mut BTreeSet<Vec<String>>) {
        let Value::Object(fields) = value else {
            return;
        };
        if fields.keys().any(looks_like_a_number) {
            marked.insert(path.iter().map(|s| s.to_string()).collect());
            return;
        }
        for (key, child) in fields.iter() {
            if let (Value::String(key), Value::Object(_)) = (key, child) {
                path.push(key);
                Self::walk(child, path, marked);
                path.pop();
            }
        }
    }

    /// True when indexing the document at `prefix` (or anything below it) may hit a number-like
    /// key.
    fn risky(&self, prefix: &[String]) -> bool {
        self.above.contains(prefix)
            || (0..=prefix.len()).any(|end| self.marked.contains(&prefix[..end]))
    }
}

fn looks_like_a_number(key: &Value) -> bool {
    match key {
        // A finite number's text starts with a digit, a sign or a point: most keys are
        // refused by their first byte, without a parse.
        Value::String(s) => {
            s.as_bytes()
                .first()
                .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'))
                && s.parse::<f64>().is_ok_and(f64::is_finite)
        }
        // A number key is a number already; the RVM compares it as one.
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    fn p(path: &str) -> Vec<String> {
        path.split('.').map(str::to_string).collect()
    }

    #[test]
    fn number_like_keys_are_found_and_everything_below_them_is_risky() {
        let keys = NumericKeys::of(&v(
            r#"{"rbac": {"bindings": {"30001": ["admin"]}}, "users": {"alice": {"n": 1}}}"#,
        ));
        assert!(keys.risky(&p("rbac.bindings")));
        assert!(keys.risky(&p("rbac")));
        assert!(keys.risky(&p("rbac.bindings.30001")));
        assert!(!keys.risky(&p("users")));
        assert!(!keys.risky(&p("other")));
    }

    #[test]
    fn guards_trip_on_numbers_only() {
        let guards = vec![p("subject.id")];
        assert!(trips(&guards, &v(r#"{"subject": {"id": 30001}}"#)));
        assert!(!trips(&guards, &v(r#"{"subject": {"id": "30001"}}"#)));
        assert!(!trips(&guards, &v(r#"{"subject": {}}"#)));
        assert!(!trips(&guards, &Value::Undefined));
    }
}
