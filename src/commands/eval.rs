//! `authzd eval`: one decision from the command line, printed as the HTTP API would return it.
//!
//! Owns: reading the input file (or standard input) and printing `{"result": ...}`.

use std::io::Read;
use std::process::ExitCode;

use regorus::Value;

use crate::cli::EvalArgs;
use crate::decide::DecisionRequest;
use crate::metrics::ApiKind;
use crate::policy::{CompileOptions, DataPath};

pub fn run(args: EvalArgs) -> ExitCode {
    match eval(&args) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("authzd eval: {message}");
            ExitCode::FAILURE
        }
    }
}

fn eval(args: &EvalArgs) -> Result<String, String> {
    // The daemon's default memory ceiling: a runaway policy fails instead of exhausting memory.
    crate::allocator::set_memory_limit(Some(crate::limits::default_memory_limit()));
    let snapshot = super::compile(
        &args.bundles,
        CompileOptions {
            limits: args.eval.limits(),
            sources: args.sources.limits(),
            use_rvm: !args.eval.no_rvm,
            evaluator_slots: 1,
        },
    )?;
    let input = match &args.input {
        None => Value::Undefined,
        Some(path) => {
            let mut text = String::new();
            if path.as_os_str() == "-" {
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| format!("cannot read standard input: {e}"))?;
            } else {
                text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            crate::value_json::parse(text.as_bytes())
                .map_err(|e| format!("{}: invalid JSON input: {e}", path.display()))?
        }
    };
    let decider = super::decider(snapshot);
    let options = crate::decide::DecideOptions {
        strict_builtin_errors: args.strict_builtin_errors,
        ..Default::default()
    };
    let request = DecisionRequest::new(ApiKind::Cli, DataPath::Text(&args.query_path), input)
        .with_options(options);
    let decision = decider.decide(request).outcome.map_err(|e| e.to_string())?;
    if !decision.is_defined() {
        return Ok("{}".to_string());
    }
    #[derive(serde::Serialize)]
    struct Output<'a> {
        #[serde(serialize_with = "crate::value_json::exact")]
        result: &'a Value,
    }
    serde_json::to_string_pretty(&Output {
        result: &decision.result,
    })
    .map_err(|e| format!("cannot encode the result: {e}"))
}
