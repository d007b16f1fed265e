//! OPA builtins that regorus lacks or answers differently, registered on every engine as
//! regorus extensions.
//!
//! Owns: the table of extension builtins (one file per family), registering them on an
//! [`Engine`], and the one rule for their errors: a builtin error makes the expression undefined,
//! unless the decision asked for strict builtin errors ([`with_strict_errors`]), as in OPA.
//! Does not own routing: a rule that reaches an extension cannot run on the RVM (its compiler
//! knows only regorus' own builtins), so [`crate::policy`] keeps it on the interpreter, and a
//! rule that reaches a builtin overridden here ([`overrides_regorus`]) too.
//!
//! The token verification of `io.jwt.decode_verify` is also the identity step's
//! ([`TokenKeys`], [`verify_signatures`]), so that authzd verifies JWTs one way.

mod add_date;
mod arrays;
mod aws;
mod bits;
#[cfg(test)]
mod compare;
mod glob;
mod go_duration;
mod go_text;
mod graphql;
mod indexof;
mod json;
mod json_marshal;
mod json_remove;
mod net;
mod numbers;
mod objects;
mod parse_module;
mod parse_ns;
mod private_keys;
mod re2_syntax;
mod regex;
mod regex_split;
mod regorus_builtin;
mod runtime;
mod semver;
mod sprintf;
mod strings;
mod template;
mod template_string;
mod time_format;
mod trace;
mod units;
mod uri;
mod urlquery;
mod uuid;
mod validity;
mod x509;

use std::cell::Cell;

use regorus::{Engine, Value};

mod args;
pub mod capabilities;
mod crypto;
mod encoding;
mod jws;
mod jwt;
mod keys;

/// Go's `time.ParseDuration` with OPA's units, for durations written in a policy.
pub(crate) use go_duration::parse as parse_go_duration;
pub use jwt::{Signatures, TokenKeys, verify_signatures};
pub use re2_syntax::to_rust as go_regex_to_rust;
pub use template_string::{TEMPLATE_STRING, rego_text};

/// One extension builtin: its Rego name, its arity and its implementation.
#[derive(Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub nargs: u8,
    pub eval: fn(Vec<Value>) -> anyhow::Result<Value>,
}

/// Every extension builtin, family by family.
pub fn all() -> impl Iterator<Item = &'static Builtin> {
    let families: [&'static [Builtin]; 35] = [
        jwt::BUILTINS,
        crypto::BUILTINS,
        template::BUILTINS,
        template_string::BUILTINS,
        arrays::BUILTINS,
        regex::BUILTINS,
        net::BUILTINS,
        json::BUILTINS,
        glob::BUILTINS,
        graphql::BUILTINS,
        aws::BUILTINS,
        strings::BUILTINS,
        numbers::BUILTINS,
        units::BUILTINS,
        uri::BUILTINS,
        private_keys::BUILTINS,
        x509::BUILTINS,
        parse_module::BUILTINS,
        uuid::BUILTINS,
        sprintf::BUILTINS,
        objects::BUILTINS,
        semver::BUILTINS,
        urlquery::BUILTINS,
        regex_split::BUILTINS,
        runtime::BUILTINS,
        bits::BUILTINS,
        json_remove::BUILTINS,
        validity::BUILTINS,
        add_date::BUILTINS,
        time_format::BUILTINS,
        indexof::BUILTINS,
        json_marshal::BUILTINS,
        trace::BUILTINS,
        go_duration::BUILTINS,
        parse_ns::BUILTINS,
    ];
    families.into_iter().flatten()
}

/// Registers every extension builtin on `engine`.
pub fn register(engine: &mut Engine) -> anyhow::Result<()> {
    for builtin in all() {
        engine.add_extension(
            builtin.name.to_string(),
            builtin.nargs,
            Box::new(builtin.eval),
        )?;
    }
    Ok(())
}

/// True when `name` is an extension here.
pub fn is_extension(name: &str) -> bool {
    all().any(|b| b.name == name)
}

/// True when an extension here replaces a builtin regorus has (its RVM would call its own).
pub fn overrides_regorus(name: &str) -> bool {
    is_extension(name) && regorus::unstable::BUILTINS.contains_key(name)
}

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` (one evaluation on this thread) with OPA's `strict-builtin-errors` set as given.
pub fn with_strict_errors<R>(strict: bool, f: impl FnOnce() -> R) -> R {
    let previous = STRICT.with(|s| s.replace(strict));
    let result = f();
    STRICT.with(|s| s.set(previous));
    result
}

/// What a builtin returns when it fails the way OPA's builtin errors do: undefined, or an
/// error under strict builtin errors.
pub fn builtin_error(message: impl Into<String>) -> anyhow::Result<Value> {
    if STRICT.with(Cell::get) {
        Err(anyhow::anyhow!(message.into()))
    } else {
        Ok(Value::Undefined)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_register() {
        let mut names: Vec<_> = all().map(|b| b.name).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a builtin is listed twice");
        register(&mut Engine::new()).unwrap();
    }

    #[test]
    fn builtin_errors_are_undefined_unless_strict() {
        assert_eq!(builtin_error("x").unwrap(), Value::Undefined);
        assert!(with_strict_errors(true, || builtin_error("x")).is_err());
        assert_eq!(builtin_error("x").unwrap(), Value::Undefined);
    }
}
