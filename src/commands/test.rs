//! `authzd test`: runs every `test_*` rule of the given bundles, like `opa test`.
//!
//! Owns: finding test rules and reporting pass/fail. A test passes when its rule evaluates to
//! `true` with no input; it uses the interpreter, since tests mock with `with`.

use std::process::ExitCode;
use std::time::Instant;

use regorus::Value;

use crate::cli::TestArgs;
use crate::decide::DecisionRequest;
use crate::metrics::ApiKind;
use crate::policy::{CompileOptions, DataPath};

pub fn run(args: TestArgs) -> ExitCode {
    let snapshot = match super::compile(
        &args.bundles,
        CompileOptions {
            use_rvm: false,
            ..CompileOptions::default()
        },
    ) {
        Ok(snapshot) => snapshot,
        Err(message) => {
            eprintln!("authzd test: {message}");
            return ExitCode::FAILURE;
        }
    };
    let tests: Vec<String> = snapshot
        .rules()
        .iter()
        .filter(|r| !r.is_function)
        .filter(|r| r.segments.last().is_some_and(|s| s.starts_with("test_")))
        .map(|r| r.path.clone())
        .collect();
    let decider = super::decider(snapshot);
    if tests.is_empty() {
        eprintln!("authzd test: no test_* rules found");
        return ExitCode::from(2);
    }
    let mut failed = 0usize;
    for rule in &tests {
        let started = Instant::now();
        let request = DecisionRequest::new(ApiKind::Cli, DataPath::Text(rule), Value::Undefined);
        let outcome = decider.decide(request).outcome;
        let elapsed = started.elapsed();
        let verdict = match &outcome {
            Ok(d) if d.result == Value::from(true) => None,
            Ok(d) if !d.is_defined() => Some("FAIL (undefined)".to_string()),
            Ok(d) => Some(format!("FAIL (result {})", d.result)),
            Err(e) => Some(format!("ERROR: {e}")),
        };
        match verdict {
            None if args.verbose => println!("{rule}: PASS ({elapsed:?})"),
            None => {}
            Some(reason) => {
                failed += 1;
                println!("{rule}: {reason}");
            }
        }
    }
    println!("{}", "-".repeat(80));
    if failed == 0 {
        println!("PASS: {}/{}", tests.len(), tests.len());
        ExitCode::SUCCESS
    } else {
        println!("FAIL: {failed}/{}", tests.len());
        ExitCode::FAILURE
    }
}
