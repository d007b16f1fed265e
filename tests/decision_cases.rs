//! Decision semantics as data: every case in `tests/cases/*.yaml` is evaluated twice, once with
//! the RVM fast path and once on the interpreter alone, and both must give the expected answer.
//!
//! A case: `{note, modules: [rego...] | bundle: dir, data, input, path, strict, max_instructions,
//! want_result | want_undefined | want_error, want_rvm, want_interpreter, overrides}`.
//! `want_rvm: true` also requires that the RVM (not the fallback) answered, so the fast path is
//! really exercised. `want_interpreter: true` requires the opposite with the RVM enabled: the
//! case reaches what the RVM cannot run (authzd's extension builtins), so the fallback must take
//! it; `overrides: true` marks a policy that calls a builtin authzd replaces, which is routed to
//! the interpreter for the same reason. Such cases do not count against the share of cases the
//! RVM answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use authzd::bundle::{Bundle, BundleFiles};
use authzd::decide::{DecideOptions, Evaluator, evaluate_path};
use authzd::policy::DataPath;
use authzd::policy::{CompileOptions, EvalLimits, Snapshot};
use authzd::value_json::Exact;
use regorus::Value;
use serde::Deserialize;

#[derive(Deserialize)]
struct CaseFile {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    note: String,
    #[serde(default)]
    modules: Vec<String>,
    /// A bundle directory relative to the repository root, instead of `modules`.
    #[serde(default)]
    bundle: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    input: Option<serde_json::Value>,
    path: String,
    #[serde(default)]
    strict: bool,
    #[serde(default)]
    max_instructions: Option<usize>,
    #[serde(default)]
    eval_timeout_ms: Option<u64>,
    /// Read straight into a regorus value, so integers beyond 64 bits stay exact.
    #[serde(default)]
    want_result: Option<Value>,
    #[serde(default)]
    want_undefined: bool,
    #[serde(default)]
    want_error: Option<String>,
    #[serde(default)]
    want_rvm: bool,
    #[serde(default)]
    want_interpreter: bool,
    /// The policy calls a builtin authzd overrides (regorus's own answers differently): the RVM
    /// would call regorus's, so the rule must be routed to the interpreter.
    #[serde(default)]
    overrides: bool,
}

fn case_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

fn bundle_for(case: &Case) -> Bundle {
    if let Some(dir) = &case.bundle {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        return Bundle::load("case", &path, 1 << 26).unwrap();
    }
    let mut files = BTreeMap::new();
    for (i, module) in case.modules.iter().enumerate() {
        files.insert(format!("case_{i}.rego"), module.as_bytes().to_vec());
    }
    if let Some(data) = &case.data {
        files.insert("data.json".to_string(), serde_json::to_vec(data).unwrap());
    }
    Bundle::from_files("case", Path::new("case"), &BundleFiles { files }).unwrap()
}

/// Runs one case on one evaluator configuration; returns a failure description.
fn run(case: &Case, use_rvm: bool) -> Result<Evaluator, String> {
    let limits = EvalLimits {
        max_instructions: case.max_instructions.unwrap_or(1_000_000),
        timeout: std::time::Duration::from_millis(case.eval_timeout_ms.unwrap_or(500)),
    };
    let bundle = Arc::new(bundle_for(case));
    let snapshot = Snapshot::compile(
        &[bundle],
        CompileOptions {
            limits,
            use_rvm,
            ..CompileOptions::default()
        },
    )
    .map_err(|e| format!("compile failed: {e}"))?;
    let input = match &case.input {
        Some(json) => Value::deserialize(json.clone()).unwrap(),
        None => Value::Undefined,
    };
    let options = DecideOptions {
        strict_builtin_errors: case.strict,
        ..DecideOptions::default()
    };
    // Twice on the same thread: the second run reuses the thread-local evaluator.
    let mut evaluator = Evaluator::Data;
    for _ in 0..2 {
        let outcome = evaluate_path(&snapshot, DataPath::Url(&case.path), &input, options);
        match (&outcome, &case.want_error) {
            (Err(e), Some(want)) if e.code().as_str() == want => {}
            (Err(e), _) => return Err(format!("error {e:?}")),
            (Ok(d), Some(want)) => return Err(format!("want error {want}, got {}", d.result)),
            (Ok(d), None) => {
                evaluator = d.evaluator;
                if case.want_undefined {
                    if d.is_defined() {
                        return Err(format!("want undefined, got {}", d.result));
                    }
                } else {
                    let want = case.want_result.as_ref().ok_or("case has no expectation")?;
                    // Compared as the JSON authzd answers (keys sorted, big integers exact).
                    let text = |v: &Value| serde_json::to_string(&Exact(v)).unwrap();
                    if !d.is_defined() || text(&d.result) != text(want) {
                        return Err(format!("want {want}, got {}", d.result));
                    }
                }
            }
        }
    }
    Ok(evaluator)
}

#[test]
fn rvm_and_interpreter_agree_on_every_case() {
    let mut failures = Vec::new();
    let (mut counted, mut on_rvm) = (0, 0);
    for file in case_files() {
        let parsed: CaseFile =
            yaml_serde::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        // Extension builtins (`builtins_*.yaml`) run on the interpreter by design: they do not
        // count towards the RVM's share.
        let extensions = file
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("builtins_"));
        for case in &parsed.cases {
            let name = format!(
                "{}: {}",
                file.file_name().unwrap().to_string_lossy(),
                case.note
            );
            let interpreter_by_design = case.want_interpreter || case.overrides;
            match run(case, true) {
                Ok(evaluator) => {
                    if interpreter_by_design && evaluator == Evaluator::Rvm {
                        failures.push(format!("{name} [rvm]: answered by the RVM"));
                    }
                    if case.want_rvm && evaluator != Evaluator::Rvm {
                        failures.push(format!(
                            "{name} [rvm]: answered by {evaluator:?}, not the RVM"
                        ));
                    }
                    if !extensions && !interpreter_by_design {
                        counted += 1;
                        on_rvm += usize::from(evaluator == Evaluator::Rvm);
                    }
                }
                Err(e) => failures.push(format!("{name} [rvm]: {e}")),
            }
            match run(case, false) {
                Ok(Evaluator::Rvm) => failures.push(format!("{name} [interpreter]: RVM used")),
                Ok(_) => {}
                Err(e) => failures.push(format!("{name} [interpreter]: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        on_rvm * 2 >= counted,
        "only {on_rvm} of {counted} cases ran on the RVM"
    );
}
