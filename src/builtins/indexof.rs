//! `indexof` and `indexof_n`, overriding regorus' where OPA answers differently: an empty
//! search string is an error in OPA (`empty search character`), where regorus answered `0`
//! (and every index for `indexof_n`).
//!
//! Owns: that refusal; the search is regorus'.

use regorus::Value;

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "indexof",
        nargs: 2,
        eval: |args| search("indexof", args),
    },
    Builtin {
        name: "indexof_n",
        nargs: 2,
        eval: |args| search("indexof_n", args),
    },
];

fn search(name: &str, args: Vec<Value>) -> anyhow::Result<Value> {
    if let [Value::String(_), Value::String(needle)] = args.as_slice()
        && needle.is_empty()
    {
        return builtin_error(format!("{name}: empty search character"));
    }
    regorus_builtin::call(name, &args).or_else(builtin_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_search_is_an_error_and_the_rest_is_regorus() {
        let strict = |name: &str, a: &str, b: &str| {
            super::super::with_strict_errors(true, || {
                search(name, vec![Value::from(a), Value::from(b)])
            })
        };
        assert!(strict("indexof", "abc", "").is_err());
        assert!(strict("indexof_n", "abc", "").is_err());
        assert_eq!(strict("indexof", "a😀b", "b").unwrap(), Value::from(2));
        assert_eq!(strict("indexof", "", "a").unwrap(), Value::from(-1));
    }
}
