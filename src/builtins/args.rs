//! Operand checks shared by the extension builtins, failing with OPA's messages
//! (`io.jwt.decode: operand 1 must be string but got number`), and the one place a builtin's
//! failure becomes [`super::builtin_error`] with the builtin's name in front.

use regorus::Value;
use regorus::value::Object;

/// What one builtin body returns: a value, or OPA's message without the builtin's name.
pub(super) type Outcome = Result<Value, String>;

/// Turns `outcome` into the extension's answer, prefixing failures with `name` as OPA does.
pub(super) fn finish(name: &str, outcome: Outcome) -> anyhow::Result<Value> {
    match outcome {
        Ok(value) => Ok(value),
        Err(message) => super::builtin_error(format!("{name}: {message}")),
    }
}

/// OPA's name for a value's type.
pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Set(_) => "set",
        Value::Object(_) => "object",
        Value::Undefined => "undefined",
    }
}

fn operand(args: &[Value], index: usize) -> Result<&Value, String> {
    args.get(index)
        .ok_or_else(|| format!("operand {} is missing", index + 1))
}

/// Operand `index` (0-based) as a string.
pub(super) fn string(args: &[Value], index: usize) -> Result<&str, String> {
    match operand(args, index)? {
        Value::String(s) => Ok(s),
        other => Err(mismatch(index, "string", other)),
    }
}

/// Operand `index` (0-based) as an object.
pub(super) fn object(args: &[Value], index: usize) -> Result<&Object, String> {
    match operand(args, index)? {
        Value::Object(o) => Ok(o),
        other => Err(mismatch(index, "object", other)),
    }
}

/// Operand `index` (0-based), whatever its type.
pub(super) fn any(args: &[Value], index: usize) -> Result<&Value, String> {
    operand(args, index)
}

fn mismatch(index: usize, want: &str, got: &Value) -> String {
    format!(
        "operand {} must be {want} but got {}",
        index + 1,
        type_name(got)
    )
}
