//! `trace`, overriding regorus': OPA's `trace(note)` is `true` (the note goes to the query's
//! tracer, for `explain`), where regorus answered the note itself, so `x := trace("hello")` was
//! `"hello"`.
//!
//! Owns: that answer, and OPA's type error for a note that is no string. authzd has no
//! tracer (`explain` is not implemented), so the note goes nowhere.

use regorus::Value;

use super::Builtin;
use super::args::{finish, string};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "trace",
    nargs: 1,
    eval: |args| finish("trace", string(&args, 0).map(|_| Value::from(true))),
}];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_is_true_and_its_note_a_string() {
        let trace = BUILTINS[0].eval;
        assert_eq!(
            trace(vec![Value::from("hello")]).unwrap(),
            Value::from(true)
        );
        let strict = super::super::with_strict_errors(true, || trace(vec![Value::from(1)]));
        assert!(
            strict
                .unwrap_err()
                .to_string()
                .contains("operand 1 must be string but got number")
        );
    }
}
