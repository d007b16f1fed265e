//! Evaluating one decision against one snapshot: the product's hot path.
//!
//! Owns: choosing the evaluator for a resolved path (RVM, interpreter, or a plain data lookup),
//! the per-thread evaluators (rebuilt only when the snapshot changes), the limits, and turning
//! regorus errors into [`EvalError`]. Knows nothing of HTTP or gRPC.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};

use regorus::rvm::vm::{RegoVM, VmError};
use regorus::{Engine, Value};

use crate::policy::{PathError, Snapshot, Target, timer_config, to_ref, walk};

/// Per-request evaluation switches (OPA query parameters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecideOptions {
    /// Builtin errors fail the decision instead of making the expression undefined. The RVM
    /// swallows builtin errors inside rule bodies, so such requests use the interpreter.
    pub strict_builtin_errors: bool,
}

/// Which evaluator produced a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evaluator {
    Rvm,
    Interpreter,
    /// A plain data lookup, no policy evaluated.
    Data,
}

/// The outcome of one decision. `result` is `Value::Undefined` when the document is undefined.
#[derive(Debug, Clone)]
pub struct Decision {
    pub result: Value,
    pub evaluator: Evaluator,
}

impl Decision {
    pub fn is_defined(&self) -> bool {
        self.result != Value::Undefined
    }
}

/// Where in a policy an evaluation error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub row: u32,
    pub col: u32,
}

/// Why a decision could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EvalError {
    /// The request path cannot name a document.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The policy failed while evaluating (OPA's topdown error codes: `eval_conflict_error`,
    /// `eval_builtin_error`, `eval_cancel_error`, ...).
    #[error("{}{message}", location.as_ref().map(|l| format!("{}:{}: ", l.file, l.row)).unwrap_or_default())]
    Eval {
        code: &'static str,
        message: String,
        location: Option<Location>,
    },
}

thread_local! {
    static RVM: RefCell<Option<(u64, RegoVM)>> = const { RefCell::new(None) };
    static INTERPRETER: RefCell<Option<(u64, Engine)>> = const { RefCell::new(None) };
}

/// Evaluates the document at `raw_path` (below `/v1/data`, percent-encoded) for `input`
/// (`Value::Undefined` when the request had none), on the calling thread.
pub fn decide(
    snapshot: &Snapshot,
    raw_path: &str,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, EvalError> {
    let target = snapshot.resolve(raw_path)?;
    decide_target(snapshot, target, input, options)
}

/// Evaluates an already resolved target.
pub fn decide_target(
    snapshot: &Snapshot,
    target: Target<'_>,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, EvalError> {
    // regorus is not expected to panic, but a panic must cost one request, not a worker.
    catch_unwind(AssertUnwindSafe(|| {
        evaluate(snapshot, target, input, options)
    }))
    .unwrap_or_else(|_| {
        RVM.with(|cell| cell.replace(None));
        INTERPRETER.with(|cell| cell.replace(None));
        Err(EvalError::Eval {
            code: "eval_internal_error",
            message: "the policy engine panicked while evaluating this decision".into(),
            location: None,
        })
    })
}

fn evaluate(
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
                });
            }
            let (value, evaluator) = match rule.rvm_entry {
                Some(entry) if !options.strict_builtin_errors => {
                    (run_rvm(snapshot, entry, input)?, Evaluator::Rvm)
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
            Ok(Decision { result, evaluator })
        }
        Target::Namespace { segments } => {
            let query = to_ref(&segments);
            let mut value = with_interpreter(snapshot, input, options, |engine| {
                let results = engine.eval_query(query, false)?;
                Ok(results
                    .result
                    .into_iter()
                    .next()
                    .and_then(|r| r.expressions.into_iter().next())
                    .map(|e| e.value)
                    .unwrap_or(Value::Undefined))
            })?;
            if segments.is_empty() {
                // Like OPA, the whole-`data` document hides the `system` namespace.
                if let Ok(map) = value.as_object_mut() {
                    map.remove(&Value::from("system"));
                }
            }
            Ok(Decision {
                result: value,
                evaluator: Evaluator::Interpreter,
            })
        }
        Target::Data { segments } => Ok(Decision {
            result: walk(snapshot.data.clone(), &segments),
            evaluator: Evaluator::Data,
        }),
    }
}

fn run_rvm(snapshot: &Snapshot, entry: usize, input: &Value) -> Result<Value, EvalError> {
    let Some(program) = &snapshot.program else {
        return Err(internal("RVM entry without a program"));
    };
    RVM.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = !matches!(&*slot, Some((id, _)) if *id == snapshot.id());
        if stale {
            let mut vm = RegoVM::new();
            vm.load_program(program.clone());
            vm.set_data(snapshot.data.clone()).map_err(vm_error)?;
            vm.set_max_instructions(snapshot.limits.max_instructions);
            vm.set_execution_timer_config(Some(timer_config(snapshot.limits)));
            *slot = Some((snapshot.id(), vm));
        }
        let Some((_, vm)) = slot.as_mut() else {
            return Err(internal("thread-local RVM missing"));
        };
        vm.set_input(input.clone());
        vm.execute_entry_point_by_index(entry).map_err(vm_error)
    })
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
    INTERPRETER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let stale = !matches!(&*slot, Some((id, _)) if *id == snapshot.id());
        if stale {
            // The snapshot's engine is prepared (analysed) once; cloning it per thread keeps
            // that work, and reusing the clone across requests saves the clone.
            *slot = Some((snapshot.id(), snapshot.engine.clone()));
        }
        let Some((_, engine)) = slot.as_mut() else {
            return Err(internal("thread-local interpreter missing"));
        };
        engine.set_input(input.clone());
        engine.set_strict_builtin_errors(options.strict_builtin_errors);
        crate::builtins::with_strict_errors(options.strict_builtin_errors, || eval(engine))
            .map_err(|e| interpreter_error(&e.to_string(), options))
    })
}

fn internal(message: &str) -> EvalError {
    EvalError::Eval {
        code: "eval_internal_error",
        message: message.to_string(),
        location: None,
    }
}

fn vm_error(error: VmError) -> EvalError {
    match error {
        VmError::InstructionLimitExceeded { limit, .. } => EvalError::Eval {
            code: "eval_cancel_error",
            message: format!(
                "evaluation exceeded the limit of {limit} instructions; raise --max-instructions if the policy needs more"
            ),
            location: None,
        },
        VmError::TimeLimitExceeded { limit, .. } => EvalError::Eval {
            code: "eval_cancel_error",
            message: format!(
                "evaluation exceeded the time limit of {limit:?}; raise --eval-timeout if the policy needs more"
            ),
            location: None,
        },
        other => EvalError::Eval {
            code: "eval_internal_error",
            message: other.to_string(),
            location: None,
        },
    }
}

/// Maps regorus' error text (`--> file:row:col` ... `error: message`) to OPA's error model.
fn interpreter_error(text: &str, options: DecideOptions) -> EvalError {
    let location = text.lines().find_map(|line| {
        let spec = line.trim().strip_prefix("--> ")?;
        let mut parts = spec.rsplitn(3, ':');
        let col = parts.next()?.trim().parse().ok()?;
        let row = parts.next()?.trim().parse().ok()?;
        let file = parts.next()?.to_string();
        Some(Location { file, row, col })
    });
    let detail = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .unwrap_or_else(|| text.trim())
        .to_string();
    let lower = detail.to_ascii_lowercase();
    let (code, message) = if lower.contains("conflict") || lower.contains("multiple outputs") {
        let what = if lower.contains("function") {
            "functions must not produce multiple outputs for same inputs"
        } else {
            "complete rules must not produce multiple outputs"
        };
        let message = if detail.contains(what) {
            detail
        } else {
            format!("{what} ({detail})")
        };
        ("eval_conflict_error", message)
    } else if lower.contains("time limit") || lower.contains("exceeded") {
        (
            "eval_cancel_error",
            format!("{detail}; raise --eval-timeout if the policy needs more"),
        )
    } else if options.strict_builtin_errors && is_operand_type_error(&detail) {
        ("eval_type_error", detail)
    } else if options.strict_builtin_errors {
        ("eval_builtin_error", detail)
    } else {
        ("eval_internal_error", detail)
    };
    EvalError::Eval {
        code,
        message,
        location,
    }
}

/// OPA reports a builtin's operand of the wrong type as `eval_type_error`; authzd's extension
/// builtins word it as OPA does (`name: operand 2 must be string but got number`).
fn is_operand_type_error(detail: &str) -> bool {
    detail
        .split_once(": operand ")
        .is_some_and(|(_, rest)| rest.contains(" must be ") && rest.contains(" but got "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regorus_conflict_text_maps_to_opa_conflict() {
        let text = "\n--> policies/a.rego:8:1\n  |\n8 | x := 2 if input.c\n  | ^\nerror: rule conflicts with rule at policies/a.rego:7:1";
        let EvalError::Eval {
            code,
            message,
            location,
        } = interpreter_error(text, DecideOptions::default())
        else {
            panic!("not an eval error");
        };
        assert_eq!(code, "eval_conflict_error");
        assert!(message.starts_with("complete rules must not produce multiple outputs"));
        assert_eq!(
            location,
            Some(Location {
                file: "policies/a.rego".into(),
                row: 8,
                col: 1
            })
        );
    }

    #[test]
    fn operand_type_errors_map_to_opa_type_error() {
        let strict = DecideOptions {
            strict_builtin_errors: true,
        };
        let text =
            "\n--> p.rego:2:6\n  |\nerror: crypto.sha256: operand 1 must be string but got number";
        let EvalError::Eval { code, .. } = interpreter_error(text, strict) else {
            panic!("not an eval error");
        };
        assert_eq!(code, "eval_type_error");
        let text = "error: io.jwt.decode: encoded JWT had no period separators";
        let EvalError::Eval { code, .. } = interpreter_error(text, strict) else {
            panic!("not an eval error");
        };
        assert_eq!(code, "eval_builtin_error");
    }
}
