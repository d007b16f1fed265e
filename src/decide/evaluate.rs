//! Evaluating one resolved document against one snapshot: the product's hot path.
//!
//! Owns: choosing the evaluator for a target (RVM, interpreter, or a plain data lookup) and
//! containing a panic inside regorus to the one decision it hit. The evaluators themselves are
//! the snapshot's, ready before it was swapped in ([`crate::policy::Evaluators`]).
//! Knows nothing of transports, recording or metrics: that is the pipeline ([`super`]).

use std::panic::{AssertUnwindSafe, catch_unwind};

use regorus::{Engine, Value};

use super::error::{DecisionError, ErrorCode, EvalError};
use super::regorus_error;
use crate::policy::{DataPath, Snapshot, Target, to_ref, walk};

/// Per-request evaluation switches (OPA query parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecideOptions {
    /// Builtin errors fail the decision instead of making the expression undefined. The RVM
    /// swallows builtin errors inside rule bodies, so such requests use the interpreter.
    pub strict_builtin_errors: bool,
    /// Evaluate on the interpreter whatever the rule's plan (the fast-path self-check).
    pub interpreter_only: bool,
}

/// Which evaluator produced a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    Rvm,
    Interpreter,
    /// A plain data lookup, no policy evaluated.
    Data,
}

/// What the request path named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A rule (or a value inside one, or a function, which is undefined as a document).
    Rule,
    /// A package or an ancestor of packages: its rules and data merged.
    Namespace,
    /// Plain data, no rule at or above it.
    Data,
}

/// The outcome of one evaluation. `result` is `Value::Undefined` when the document is
/// undefined.
#[derive(Debug, Clone)]
pub struct Decision {
    pub result: Value,
    pub evaluator: Evaluator,
    pub document: Document,
    /// The rule that was evaluated (its index in the snapshot's rules), for a rule target.
    pub rule: Option<usize>,
}

impl Decision {
    pub fn is_defined(&self) -> bool {
        self.result != Value::Undefined
    }
}

/// Resolves `path` on `snapshot` and evaluates it for `input` (`Value::Undefined` when the
/// request had none), on the calling thread.
pub fn evaluate_path(
    snapshot: &Snapshot,
    path: DataPath<'_>,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, DecisionError> {
    let target = snapshot.resolve(path)?;
    Ok(evaluate(snapshot, target, input, options)?)
}

/// Evaluates an already resolved target.
pub fn evaluate(
    snapshot: &Snapshot,
    target: Target<'_>,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, EvalError> {
    // regorus is not expected to panic, but a panic must cost one decision, not a worker.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        evaluate_target(snapshot, target, input, options)
    }))
    .unwrap_or_else(|_| {
        snapshot.evaluators.reset_after_panic();
        Err(EvalError::new(
            ErrorCode::EvalInternal,
            "the policy engine panicked while evaluating this decision",
        ))
    });
    if let Err(e) = &outcome
        && e.code == ErrorCode::EvalCancel
    {
        // The memory a cancelled evaluation used goes back to the system now.
        crate::allocator::give_back();
    }
    outcome
}

fn evaluate_target(
    snapshot: &Snapshot,
    target: Target<'_>,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, EvalError> {
    match target {
        Target::Rule { rule, rest } => {
            if rule.is_function {
                return Ok(Decision {
                    result: Value::Undefined,
                    evaluator: Evaluator::Data,
                    document: Document::Rule,
                    rule: Some(rule.index),
                });
            }
            let (value, evaluator) = match rule.rvm_entry {
                Some(entry)
                    if !options.strict_builtin_errors
                        && !options.interpreter_only
                        && !snapshot.is_demoted(rule.index)
                        && (rule.rvm_guard.is_empty()
                            || !crate::policy::routing::trips(&rule.rvm_guard, input)) =>
                {
                    let value = run_rvm(snapshot, entry, input)?;
                    (fault::inject(&rule.path, value), Evaluator::Rvm)
                }
                _ => (
                    with_interpreter(snapshot, input, options, |engine| {
                        engine.eval_rule(rule.path.clone())
                    })?,
                    Evaluator::Interpreter,
                ),
            };
            let result = if rest.is_empty() {
                value
            } else {
                walk(value, &rest)
            };
            Ok(Decision {
                result,
                evaluator,
                document: Document::Rule,
                rule: Some(rule.index),
            })
        }
        Target::Namespace { segments } if !snapshot.is_package_prefix(&segments) => Ok(Decision {
            result: rule_tree(snapshot, &segments, input, options)?,
            evaluator: Evaluator::Interpreter,
            document: Document::Namespace,
            rule: None,
        }),
        Target::Namespace { segments } => {
            let mut value = query(snapshot, &segments, input, options)?;
            if value == Value::Undefined {
                // A package of functions only (or of none) is `{}` in OPA; regorus' query of
                // it is undefined.
                value = match walk(snapshot.data.clone(), &segments) {
                    Value::Undefined => Value::new_object(),
                    data => data,
                };
            }
            make_ways(snapshot, &segments, &mut value);
            if segments.is_empty() {
                // Like OPA, the whole-`data` document hides the `system` namespace.
                if let Ok(map) = value.as_object_mut() {
                    map.remove(&Value::from("system"));
                }
            }
            Ok(Decision {
                result: value,
                evaluator: Evaluator::Interpreter,
                document: Document::Namespace,
                rule: None,
            })
        }
        Target::Reference { segments, .. } => Ok(Decision {
            result: query(snapshot, &segments, input, options)?,
            evaluator: Evaluator::Interpreter,
            document: Document::Rule,
            rule: None,
        }),
        Target::Data { segments } => Ok(Decision {
            result: walk(snapshot.data.clone(), &segments),
            evaluator: Evaluator::Data,
            document: Document::Data,
            rule: None,
        }),
    }
}

/// The value of the reference `data.<segments>`, evaluated as a Rego query on the interpreter.
fn query(
    snapshot: &Snapshot,
    segments: &[String],
    input: &Value,
    options: DecideOptions,
) -> Result<Value, EvalError> {
    let query = to_ref(segments);
    with_interpreter(snapshot, input, options, |engine| {
        let results = engine.eval_query(query, false)?;
        Ok(results
            .result
            .into_iter()
            .next()
            .and_then(|r| r.expressions.into_iter().next())
            .map(|e| e.value)
            .unwrap_or(Value::Undefined))
    })
}

/// The document at `segments` inside rules' ref heads (`data.t.w` of `w.a := 1` and
/// `w.b.c := 2`), as OPA builds it: the data there, each rule below in its place (an undefined
/// one left out, the objects on its way kept). regorus' query of such a path fails with `not a
/// valid rule path`.
fn rule_tree(
    snapshot: &Snapshot,
    segments: &[String],
    input: &Value,
    options: DecideOptions,
) -> Result<Value, EvalError> {
    let mut document = match walk(snapshot.data.clone(), segments) {
        Value::Undefined => Value::new_object(),
        data => data,
    };
    for rule in snapshot.rules() {
        let Some(below) = rule.segments.strip_prefix(segments) else {
            continue;
        };
        if below.is_empty() {
            continue;
        }
        if rule.is_function {
            place(&mut document, below, Value::Undefined);
            continue;
        }
        let target = Target::Rule {
            rule,
            rest: Vec::new(),
        };
        let value = evaluate_target(snapshot, target, input, options)?.result;
        place(&mut document, below, value);
    }
    Ok(document)
}

/// Makes the objects on the way to every function below `segments`, as OPA's package document
/// has them (`{"a": {"b": {}}}` for a function `a.b.f(x)`); regorus leaves out the way to a
/// function, and a package of functions altogether. The way to a rule is regorus' own (a
/// rule's segments may name a variable of its ref head, `svc[name].allow`, which is no key).
fn make_ways(snapshot: &Snapshot, segments: &[String], document: &mut Value) {
    for rule in snapshot.rules().iter().filter(|r| r.is_function) {
        if let Some(below) = rule.segments.strip_prefix(segments) {
            place(document, below, Value::Undefined);
        }
    }
}

/// Puts `value` at `path` inside `document`, making the objects on the way; an undefined
/// value only makes the way.
fn place(document: &mut Value, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = document;
    for key in parents {
        let Ok(map) = node.as_object_mut() else {
            return;
        };
        let key = Value::from(key.as_str());
        if !map.contains_key(&key) {
            map.insert(key.clone(), Value::new_object());
        }
        match map.get_mut(&key) {
            Some(child) => node = child,
            None => return,
        }
    }
    if value != Value::Undefined
        && let Ok(map) = node.as_object_mut()
    {
        map.insert(Value::from(last.as_str()), value);
    }
}

fn run_rvm(snapshot: &Snapshot, entry: usize, input: &Value) -> Result<Value, EvalError> {
    let ran = snapshot.evaluators.with_rvm(|vm| {
        vm.set_input(input.clone());
        vm.execute_entry_point_by_index(entry)
    });
    match ran {
        None => Err(internal("RVM entry without a program")),
        Some(Err(e)) | Some(Ok(Err(e))) => Err(regorus_error::from_vm(e)),
        Some(Ok(Ok(value))) => Ok(value),
    }
}

fn with_interpreter<F>(
    snapshot: &Snapshot,
    input: &Value,
    options: DecideOptions,
    eval: F,
) -> Result<Value, EvalError>
where
    F: FnOnce(&mut Engine) -> anyhow::Result<Value>,
{
    snapshot.evaluators.with_interpreter(|engine| {
        engine.set_input(input.clone());
        engine.set_strict_builtin_errors(options.strict_builtin_errors);
        crate::builtins::with_strict_errors(options.strict_builtin_errors, || eval(engine))
            .map_err(|e| regorus_error::from_interpreter(&e, options.strict_builtin_errors))
    })
}

/// A test-only hook that makes the fast path answer wrongly for one rule, so tests can show
/// the self-check catching it. Only debug builds read `AUTHZD_TEST_FAST_PATH_FAULT` (a rule
/// path, `data.p.allow`); release builds compile it away.
mod fault {
    use regorus::Value;

    #[cfg(debug_assertions)]
    pub fn inject(rule: &str, value: Value) -> Value {
        static FAULTY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
        let faulty = FAULTY.get_or_init(|| std::env::var("AUTHZD_TEST_FAST_PATH_FAULT").ok());
        match (faulty, &value) {
            (Some(faulty), Value::Bool(b)) if faulty == rule => Value::from(!b),
            (Some(faulty), _) if faulty == rule => Value::from("a wrong answer"),
            _ => value,
        }
    }

    #[cfg(not(debug_assertions))]
    pub fn inject(_rule: &str, value: Value) -> Value {
        value
    }
}

fn internal(message: &str) -> EvalError {
    EvalError::new(ErrorCode::EvalInternal, message)
}
