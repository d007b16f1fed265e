//! `opa.runtime()`, overriding regorus' own object (`builtins`, `features`, `regorus-version`)
//! with the one an OPA server answers: `env` (the process's environment variables, as OPA
//! gives them to policies that choose a value per deployment: `opa.runtime().env.STAGE`),
//! `version` and `commit` (authzd's, from [`crate::build_info`]). OPA adds `config` only when
//! it was started with an OPA configuration file, which authzd does not read, so there is none.
//! The one secret authzd itself reads from its environment, the bundle verification key
//! (`AUTHZD_VERIFICATION_KEY`, which may be a shared HMAC secret), is left out.
//!
//! Owns: that builtin.

use regorus::Value;

use super::Builtin;

/// Variables of the environment a policy does not see.
const HIDDEN: &[&str] = &["AUTHZD_VERIFICATION_KEY"];

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "opa.runtime",
    nargs: 0,
    eval: runtime,
}];

fn runtime(_: Vec<Value>) -> anyhow::Result<Value> {
    of_environment(std::env::vars_os())
}

/// The runtime object with `vars` as its environment.
fn of_environment(
    vars: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> anyhow::Result<Value> {
    let mut env = Value::new_object();
    let fields = env.as_object_mut()?;
    // A variable whose name or value is not Unicode cannot be a Rego string; OPA's Go reads
    // bytes, and such a variable is not one a policy names.
    for (name, value) in vars {
        if let (Ok(name), Ok(value)) = (name.into_string(), value.into_string())
            && !HIDDEN.contains(&name.as_str())
        {
            fields.insert(Value::from(name), Value::from(value));
        }
    }
    let mut runtime = Value::new_object();
    let object = runtime.as_object_mut()?;
    object.insert(Value::from("env"), env);
    object.insert(
        Value::from("version"),
        Value::from(crate::build_info::VERSION),
    );
    object.insert(
        Value::from("commit"),
        Value::from(crate::build_info::COMMIT),
    );
    Ok(runtime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_version_and_commit() {
        let runtime = runtime(Vec::new()).unwrap();
        let path = std::env::var("PATH").unwrap();
        assert_eq!(runtime["env"]["PATH"], Value::from(path));
        assert_eq!(runtime["version"], Value::from(crate::build_info::VERSION));
        assert_eq!(runtime["commit"], Value::from(crate::build_info::COMMIT));
        assert_eq!(runtime["config"], Value::Undefined);
    }

    #[test]
    fn the_bundle_verification_key_is_not_shown() {
        let vars = [("STAGE", "prod"), ("AUTHZD_VERIFICATION_KEY", "s3cret")]
            .map(|(n, v)| (n.into(), v.into()));
        let runtime = of_environment(vars.into_iter()).unwrap();
        assert_eq!(runtime["env"]["STAGE"], Value::from("prod"));
        assert_eq!(runtime["env"]["AUTHZD_VERIFICATION_KEY"], Value::Undefined);
    }
}
