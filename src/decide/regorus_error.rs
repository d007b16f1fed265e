//! The one adapter from regorus's errors to OPA's error model.
//!
//! Owns: reading regorus's error text (`--> file:row:col` ... `error: message`) and its RVM
//! errors, and classifying them into [`ErrorCode`]s. regorus reports errors as text, so this
//! file is where a regorus upgrade that rewords a message shows up: its tests provoke each
//! recognised error from a real engine and check the code.

use regorus::rvm::vm::VmError;

use super::error::{ErrorCode, EvalError, Location};

const CONFLICT_RULES: &str = "complete rules must not produce multiple outputs";
const CONFLICT_FUNCTIONS: &str = "functions must not produce multiple outputs for same inputs";
const CONFLICT_KEYS: &str = "object keys must be unique";
/// The interpreter's failure on `some x in v` where `v` is not a collection; OPA and the RVM
/// iterate nothing (docs/upstream/interpreter-some-in-non-collection.md).
const SOME_IN_NON_COLLECTION: &str = "`some .. in collection` expects array/set/object";

/// True when `error`, the interpreter's, is one it makes where OPA and the RVM answer a value
/// (a regorus bug, listed in the README's known differences): the self-check takes it as no
/// evidence against the fast path, so one malformed input cannot demote a right rule.
pub fn interpreter_known_wrong(error: &EvalError) -> bool {
    error.message.contains(SOME_IN_NON_COLLECTION)
}

/// An interpreter error. `strict` is the request's `strict-builtin-errors`: then an error that
/// is not a conflict or a limit is a builtin's.
pub fn from_interpreter(error: &anyhow::Error, strict: bool) -> EvalError {
    if let Some(regorus::LimitError::MemoryLimitExceeded { usage, limit }) = error
        .chain()
        .find_map(|e| e.downcast_ref::<regorus::LimitError>())
    {
        return memory_limit(*usage, *limit);
    }
    classify_text(&error.to_string(), strict)
}

/// OPA's `eval_cancel_error` for the memory limit, naming it.
pub fn memory_limit(usage: u64, limit: u64) -> EvalError {
    EvalError::new(
        ErrorCode::EvalCancel,
        format!(
            "evaluation exceeded the memory limit of {limit} bytes (in use: {usage}); raise --max-memory-bytes if the policy needs more"
        ),
    )
}

/// An RVM error.
pub fn from_vm(error: VmError) -> EvalError {
    match error {
        VmError::InstructionLimitExceeded { limit, .. } => EvalError::new(
            ErrorCode::EvalCancel,
            format!(
                "evaluation exceeded the limit of {limit} instructions; raise --max-instructions if the policy needs more"
            ),
        ),
        VmError::TimeLimitExceeded { limit, .. } => EvalError::new(
            ErrorCode::EvalCancel,
            format!(
                "evaluation exceeded the time limit of {limit:?}; raise --eval-timeout-ms if the policy needs more"
            ),
        ),
        VmError::MemoryLimitExceeded { usage, limit, .. } => memory_limit(usage, limit),
        VmError::MemoryBudgetExceeded { usage, budget, .. } => memory_limit(usage, budget),
        other => EvalError::new(ErrorCode::EvalInternal, other.to_string()),
    }
}

/// Splits regorus's error text into its location (`--> file:row:col`) and its message (the
/// `error: ` line, or the whole text when there is none). Also used by `authzd check`.
pub fn split_text(text: &str) -> (Option<Location>, String) {
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
    (location, detail)
}

fn classify_text(text: &str, strict: bool) -> EvalError {
    let (location, detail) = split_text(text);
    let lower = detail.to_ascii_lowercase();
    let (code, message) = if lower.contains("conflict")
        || lower.contains("multiple outputs")
        || lower.contains("generated multiple times")
    {
        let what = if lower.contains("generated multiple times") {
            // An object comprehension or partial object giving one key two values.
            CONFLICT_KEYS
        } else if lower.contains("function") {
            CONFLICT_FUNCTIONS
        } else {
            CONFLICT_RULES
        };
        let message = if detail.contains(what) {
            detail
        } else {
            format!("{what} ({detail})")
        };
        (ErrorCode::EvalConflict, message)
    } else if lower.contains("memory limit") {
        (
            ErrorCode::EvalCancel,
            format!("{detail}; raise --max-memory-bytes if the policy needs more"),
        )
    } else if lower.contains("execution exceeded") || lower.contains("time limit") {
        (
            ErrorCode::EvalCancel,
            format!("{detail}; raise --eval-timeout-ms if the policy needs more"),
        )
    } else if strict && is_operand_type_error(&detail) {
        (ErrorCode::EvalType, detail)
    } else if strict {
        (ErrorCode::EvalBuiltin, detail)
    } else {
        (ErrorCode::EvalInternal, detail)
    };
    EvalError {
        code,
        message,
        location,
    }
}

/// OPA reports any error about one operand of a builtin as `eval_type_error` (its
/// `builtins.ErrOperand`): a wrong type, and also a value the operand cannot hold
/// (`providers.aws.sign_req: operand 3 could not convert time_ns value into a unix timestamp`).
/// authzd's extension builtins word them as OPA does (`name: operand 2 ...`).
fn is_operand_type_error(detail: &str) -> bool {
    let numbered = |n: &str| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit());
    let ours = detail
        .split_once(": operand ")
        .is_some_and(|(_, rest)| rest.split_once(' ').is_some_and(|(n, _)| numbered(n)));
    // regorus' own: "`array.concat` expects array argument. Got `{...}` instead" (but not its
    // argument count, "`count` expects 1 argument"), "`json.remove` requires set/array
    // argument", and two of graph.reachable and object.union_n.
    let regorus = detail.starts_with('`')
        && detail.split_once("` expects ").is_some_and(|(_, rest)| {
            rest.contains("argument") && !rest.split(' ').next().is_some_and(numbered)
        });
    let requires = detail.starts_with('`') && detail.contains("` requires ");
    let named = detail.contains("initial vertices must be array/set")
        || detail.contains("both arguments object.subset must be of the same type")
        || (detail.starts_with("item at index ") && detail.ends_with(" is not an object"));
    ours || regorus || requires || named
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use regorus::{Engine, Value};

    use super::*;

    /// Evaluates `rule` of `policy` on a fresh interpreter and returns its error.
    fn interpreter_error(policy: &str, rule: &str, strict: bool) -> EvalError {
        let mut engine = Engine::new();
        crate::builtins::register(&mut engine).unwrap();
        engine
            .add_policy("policy.rego".into(), policy.into())
            .unwrap();
        engine.set_strict_builtin_errors(strict);
        let error = crate::builtins::with_strict_errors(strict, || engine.eval_rule(rule.into()))
            .unwrap_err();
        from_interpreter(&error, strict)
    }

    #[test]
    fn some_in_over_a_non_collection_is_known_wrong() {
        let mut engine = Engine::new();
        engine
            .add_policy(
                "policy.rego".into(),
                "package p\nx if { some r in input.roles; r == 1 }\n".into(),
            )
            .unwrap();
        engine.set_input(Value::from_json_str(r#"{"roles": "admin"}"#).unwrap());
        let error = engine.eval_rule("data.p.x".into()).unwrap_err();
        let e = from_interpreter(&error, false);
        assert!(interpreter_known_wrong(&e), "{e:?}");
        let other = interpreter_error("package p\nx := 1\nx := 2\n", "data.p.x", false);
        assert!(!interpreter_known_wrong(&other), "{other:?}");
    }

    #[test]
    fn conflicting_complete_rules() {
        let e = interpreter_error("package p\nx := 1\nx := 2\n", "data.p.x", false);
        assert_eq!(e.code, ErrorCode::EvalConflict, "{e:?}");
        assert!(e.message.starts_with(CONFLICT_RULES), "{e:?}");
        let location = e.location.unwrap();
        assert_eq!(location.file, "policy.rego");
        assert!(location.row == 2 || location.row == 3, "{location:?}");
    }

    #[test]
    fn an_operand_of_the_wrong_type_to_a_regorus_builtin_is_a_type_error() {
        // OPA: eval_type_error (array.concat: operand 1 must be array but got object).
        let e = interpreter_error(
            "package p\nx := array.concat({\"a\": 1}, [])\n",
            "data.p.x",
            true,
        );
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
        let e = interpreter_error("package p\nx := bits.and(7.2, 1)\n", "data.p.x", true);
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
        assert!(!is_operand_type_error("`count` expects 1 argument"));
        let e = interpreter_error(
            "package p\nx := object.filter(\"a\", [\"k\"])\n",
            "data.p.x",
            true,
        );
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
        let e = interpreter_error(
            "package p\nx := object.union_n([{}, 1])\n",
            "data.p.x",
            true,
        );
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
    }

    #[test]
    fn an_object_key_with_two_values_is_a_conflict() {
        let e = interpreter_error(
            "package p\nx := {\"k\": v | some v in [1, 2]}\n",
            "data.p.x",
            false,
        );
        assert_eq!(e.code, ErrorCode::EvalConflict, "{e:?}");
        assert!(e.message.starts_with(CONFLICT_KEYS), "{e:?}");
    }

    #[test]
    fn conflicting_functions() {
        let e = interpreter_error(
            "package p\nf(_) := 1\nf(_) := 2\nx := f(0)\n",
            "data.p.x",
            false,
        );
        assert_eq!(e.code, ErrorCode::EvalConflict, "{e:?}");
        assert!(e.message.starts_with(CONFLICT_FUNCTIONS), "{e:?}");
    }

    #[test]
    fn builtin_errors_under_strict_mode() {
        let e = interpreter_error("package p\nx := 1 / 0\n", "data.p.x", true);
        assert_eq!(e.code, ErrorCode::EvalBuiltin, "{e:?}");
        assert!(e.message.contains("divide by zero"), "{e:?}");
    }

    #[test]
    fn the_interpreter_time_limit_is_a_cancel() {
        let mut engine = Engine::new();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: Duration::from_millis(1),
            check_interval: std::num::NonZeroU32::MIN,
        });
        engine
            .add_policy(
                "policy.rego".into(),
                "package p\nx := count([y | some y in numbers.range(1, 10000000)])\n".into(),
            )
            .unwrap();
        let error = engine.eval_rule("data.p.x".into()).unwrap_err();
        let e = from_interpreter(&error, false);
        assert_eq!(e.code, ErrorCode::EvalCancel, "{error}");
    }

    #[test]
    fn rvm_limits_are_cancels() {
        let mut engine = Engine::new();
        engine
            .add_policy(
                "policy.rego".into(),
                "package p\nx := count([y | some y in numbers.range(1, 100000)])\n".into(),
            )
            .unwrap();
        let policy = engine.compile_with_entrypoint(&"data.p.x".into()).unwrap();
        let program = regorus::languages::rego::compiler::Compiler::compile_from_policy(
            &policy,
            &["data.p.x"],
        )
        .unwrap();
        let mut vm = regorus::rvm::vm::RegoVM::new();
        vm.load_program(program);
        vm.set_data(Value::new_object()).unwrap();
        vm.set_max_instructions(100);
        let error = vm.execute_entry_point_by_index(0).unwrap_err();
        let e = from_vm(error);
        assert_eq!(e.code, ErrorCode::EvalCancel, "{e:?}");
        assert!(e.message.contains("100 instructions"), "{e:?}");
    }

    #[test]
    fn operand_type_errors_under_strict_mode() {
        let e = interpreter_error("package p\nx := crypto.sha256(1)\n", "data.p.x", true);
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
        let e = interpreter_error(
            "package p\nx := io.jwt.decode(\"no-periods\")\n",
            "data.p.x",
            true,
        );
        assert_eq!(e.code, ErrorCode::EvalBuiltin, "{e:?}");
        // Not a type, but still about one operand: OPA's ErrOperand, a type error.
        let e = interpreter_error(
            "package p\nx := strings.replace_n({\"a\": 1}, \"a\")\n",
            "data.p.x",
            true,
        );
        assert_eq!(e.code, ErrorCode::EvalType, "{e:?}");
    }

    #[test]
    fn anything_else_is_internal() {
        let e = classify_text("\n--> a.rego:3:5\n |\nerror: something new\n", false);
        assert_eq!(e.code, ErrorCode::EvalInternal);
        assert_eq!(e.message, "something new");
        assert_eq!(
            e.location,
            Some(Location {
                file: "a.rego".into(),
                row: 3,
                col: 5
            })
        );
    }
}
