//! `authzd test` on both evaluators: a test whose rule the RVM can run is run there too, and
//! any difference from the interpreter fails it, naming the rules that differ.
//!
//! Owns: running a test on the RVM where the RVM snapshot's routing put its rule there (the
//! routing serving uses: a rule that reaches `with`, or anything else the RVM gets wrong,
//! stays on the interpreter, with the reason), and explaining a disagreement: every rule the
//! test reaches that the RVM runs is evaluated on both, and the ones whose answers differ are
//! named.

use crate::decide::{Decider, Decision, DecisionError, DecisionRequest};
use crate::metrics::ApiKind;
use crate::policy::rule_graph::RuleGraph;
use crate::policy::{DataPath, RuleEntry, Target};

/// How a test fared on the fast path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FastPath {
    /// Not run on the RVM, and why.
    InterpreterOnly(String),
    /// Same answer on both.
    Agrees,
    /// Different answers: what each said, and the rules that differ.
    Disagrees(Vec<String>),
}

/// An outcome as a test report shows it.
pub fn show(outcome: &Result<Decision, DecisionError>) -> String {
    match outcome {
        Ok(d) if !d.is_defined() => "undefined".to_string(),
        Ok(d) => d.result.to_string(),
        Err(e) => format!("error {}: {}", e.code(), e.message()),
    }
}

/// Same value, or the same error code.
fn same(a: &Result<Decision, DecisionError>, b: &Result<Decision, DecisionError>) -> bool {
    match (a, b) {
        (Ok(a), Ok(b)) => a.result == b.result,
        (Err(a), Err(b)) => a.code() == b.code(),
        _ => false,
    }
}

fn decide(decider: &Decider, path: &str) -> Result<Decision, DecisionError> {
    let request = DecisionRequest::new(
        ApiKind::Cli,
        DataPath::Text(path),
        regorus::Value::Undefined,
    );
    decider.decide(request).outcome
}

/// The rule of `path` in `decider`'s snapshot, and why it is not on the RVM (`None`: it is).
fn rvm_refusal(decider: &Decider, path: &str) -> Option<String> {
    let session = decider.session();
    let snapshot = session.snapshot();
    let rule: Option<&RuleEntry> = match snapshot.resolve(DataPath::Text(path)) {
        Ok(Target::Rule { rule, .. }) => Some(rule),
        _ => None,
    };
    match rule {
        Some(rule) if rule.rvm_entry.is_some() => None,
        Some(rule) => Some(
            snapshot
                .interpreter_rules
                .iter()
                .find(|(p, _)| *p == rule.path)
                .map(|(_, why)| why.clone())
                .unwrap_or_else(|| "not compiled for the RVM".into()),
        ),
        None => Some("not a rule of the RVM snapshot".into()),
    }
}

/// Runs `test` (whose interpreter outcome is `interpreted`) on `rvm` where it can.
pub fn compare(
    test: &RuleEntry,
    interpreted: &Result<Decision, DecisionError>,
    interpreter: &Decider,
    rvm: &Decider,
    graph: &RuleGraph,
) -> FastPath {
    if let Some(why) = rvm_refusal(rvm, &test.path) {
        return FastPath::InterpreterOnly(why);
    }
    let on_rvm = decide(rvm, &test.path);
    if same(interpreted, &on_rvm) {
        return FastPath::Agrees;
    }
    let mut lines = vec![format!(
        "the RVM disagrees with the interpreter on {}: interpreter {}, RVM {}",
        test.path,
        show(interpreted),
        show(&on_rvm)
    )];
    let mut named = 0;
    let mut reached: Vec<&[String]> = graph
        .reach(&test.segments)
        .unwrap_or_default()
        .into_iter()
        .map(|node| node.path.as_slice())
        .filter(|path| *path != test.segments.as_slice())
        .collect();
    reached.sort();
    for reached in reached {
        let path = crate::policy::to_ref(reached);
        let is_document = {
            let session = rvm.session();
            matches!(
                session.snapshot().resolve(DataPath::Text(&path)),
                Ok(Target::Rule { rule, .. }) if !rule.is_function && rule.rvm_entry.is_some()
            )
        };
        if !is_document {
            continue;
        }
        let (a, b) = (decide(interpreter, &path), decide(rvm, &path));
        if !same(&a, &b) {
            named += 1;
            lines.push(format!(
                "  differs at {path}: interpreter {}, RVM {}",
                show(&a),
                show(&b)
            ));
        }
    }
    if named == 0 {
        lines.push(format!(
            "  no rule {} reaches differs on its own; the difference is in {} itself",
            test.path, test.path
        ));
    }
    FastPath::Disagrees(lines)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::policy::{CompileOptions, Snapshot};

    fn snapshot(rego: &str, use_rvm: bool) -> Snapshot {
        let files = crate::bundle::BundleFiles {
            files: [("p.rego".to_string(), rego.as_bytes().to_vec())].into(),
        };
        let bundle =
            crate::bundle::Bundle::from_files("b", std::path::Path::new("b"), &files).unwrap();
        Snapshot::compile(
            &[Arc::new(bundle)],
            CompileOptions {
                use_rvm,
                evaluator_slots: 1,
                ..CompileOptions::default()
            },
        )
        .unwrap()
    }

    fn graph(snapshot: &Snapshot) -> RuleGraph {
        let mut engine = snapshot.evaluators.engine().clone();
        RuleGraph::build(engine.get_modules().iter().map(|m| m.as_ref()))
    }

    const POLICY: &str = "package p\nlimit := 3\nbig if limit > 2\ntest_big if big\ntest_mocked if big with data.p.limit as 5\n";

    #[test]
    fn a_disagreement_names_the_rules_that_differ() {
        let interpreted = snapshot(POLICY, false);
        let graph = graph(&interpreted);
        let test = interpreted
            .rules()
            .iter()
            .find(|r| r.path == "data.p.test_big")
            .unwrap()
            .clone();
        let interpreter = crate::commands::decider(interpreted);
        // An RVM made to answer differently: the same rules over other data.
        let rvm =
            crate::commands::decider(snapshot(&POLICY.replace("limit := 3", "limit := 1"), true));
        let outcome = decide(&interpreter, &test.path);
        let FastPath::Disagrees(lines) = compare(&test, &outcome, &interpreter, &rvm, &graph)
        else {
            panic!("no disagreement")
        };
        let text = lines.join("\n");
        assert!(text.contains("interpreter true, RVM undefined"), "{text}");
        assert!(
            text.contains("differs at data.p.big: interpreter true, RVM undefined"),
            "{text}"
        );
        assert!(
            text.contains("differs at data.p.limit: interpreter 3, RVM 1"),
            "{text}"
        );
    }

    #[test]
    fn agreeing_and_mocking_tests() {
        let interpreted = snapshot(POLICY, false);
        let graph = graph(&interpreted);
        let rules = interpreted.rules().to_vec();
        let interpreter = crate::commands::decider(interpreted);
        let rvm = crate::commands::decider(snapshot(POLICY, true));
        let run = |path: &str| {
            let test = rules.iter().find(|r| r.path == path).unwrap();
            compare(
                test,
                &decide(&interpreter, path),
                &interpreter,
                &rvm,
                &graph,
            )
        };
        assert_eq!(run("data.p.test_big"), FastPath::Agrees);
        assert!(
            matches!(run("data.p.test_mocked"), FastPath::InterpreterOnly(why) if why.contains("with"))
        );
    }
}
