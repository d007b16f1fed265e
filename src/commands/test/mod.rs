//! `authzd test`: runs the `test_*` rules of the given bundles, like `opa test`, on both
//! evaluators.
//!
//! Owns: finding the tests (`--run REGEX` filters them), running each on the interpreter (a
//! test passes when its rule is `true`), reporting, and the exit code. A failing test shows
//! the statement that failed and the values it compared ([`explain`]). Every test the RVM can
//! run is run there too, on a second snapshot compiled with the RVM on and routed as
//! serving routes it; a different answer
//! fails the test and names the rules that differ ([`fast_path`]). `--coverage` adds per-file
//! line coverage ([`coverage`]). `--format json` prints one JSON document instead of text.

mod coverage;
mod explain;
mod fast_path;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use regorus::Value;
use serde_json::json;

use crate::cli::{OutputFormat, TestArgs};
use crate::decide::{Decider, DecisionRequest};
use crate::metrics::ApiKind;
use crate::policy::rule_graph::RuleGraph;
use crate::policy::{CompileOptions, DataPath, RuleEntry, Snapshot};
use fast_path::FastPath;

/// One test's result.
struct Ran {
    rule: String,
    elapsed: Duration,
    /// `None` when it passed.
    failure: Option<String>,
    details: Vec<String>,
    fast_path: FastPath,
}

pub fn run(args: TestArgs) -> ExitCode {
    match run_tests(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("authzd test: {message}");
            ExitCode::from(2)
        }
    }
}

fn run_tests(args: &TestArgs) -> Result<ExitCode, String> {
    let filter = args
        .run
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("--run: {e}"))?;
    let bundles = super::load(&args.bundles)?;
    let compile = |use_rvm| {
        Snapshot::compile(
            &bundles,
            CompileOptions {
                use_rvm,
                sources: args.sources.limits(),
                evaluator_slots: 1,
                ..CompileOptions::default()
            },
        )
        .map_err(|e| e.to_string())
    };
    let interpreted = compile(false)?;
    let fast = compile(true)?;
    let mut engine = interpreted.evaluators.engine().clone();
    let graph = RuleGraph::build(engine.get_modules().iter().map(|m| m.as_ref()));
    let tests: Vec<RuleEntry> = interpreted
        .rules()
        .iter()
        .filter(|r| !r.is_function)
        .filter(|r| r.segments.last().is_some_and(|s| s.starts_with("test_")))
        .filter(|r| filter.as_ref().is_none_or(|f| f.is_match(&r.path)))
        .cloned()
        .collect();
    if tests.is_empty() {
        eprintln!("authzd test: no test_* rules found");
        return Ok(ExitCode::from(2));
    }
    let interpreter = super::decider(interpreted);
    let rvm = super::decider(fast);
    let ran: Vec<Ran> = tests
        .iter()
        .map(|test| run_one(test, &interpreter, &rvm, &graph, &engine))
        .collect();
    let paths: Vec<String> = tests.iter().map(|t| t.path.clone()).collect();
    let covered = if args.coverage {
        Some(coverage::collect(&engine, &paths)?)
    } else {
        None
    };
    let failed = ran.iter().filter(|r| r.failure.is_some()).count();
    match args.format {
        OutputFormat::Text => print_text(&ran, args.verbose, covered.as_deref()),
        OutputFormat::Json => print_json(&ran, covered.as_deref()),
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_one(
    test: &RuleEntry,
    interpreter: &Decider,
    rvm: &Decider,
    graph: &RuleGraph,
    engine: &regorus::Engine,
) -> Ran {
    let started = Instant::now();
    let request = DecisionRequest::new(ApiKind::Cli, DataPath::Text(&test.path), Value::Undefined);
    let outcome = interpreter.decide(request).outcome;
    let elapsed = started.elapsed();
    let mut failure = match &outcome {
        Ok(d) if d.result == Value::from(true) => None,
        Ok(d) if !d.is_defined() => Some("FAIL (undefined)".to_string()),
        Ok(d) => Some(format!("FAIL (result {})", d.result)),
        Err(e) => Some(format!("ERROR: {e}")),
    };
    let mut details = if failure.is_some() && outcome.is_ok() {
        explain::explain(engine, &test.segments)
    } else {
        Vec::new()
    };
    let fast_path = fast_path::compare(test, &outcome, interpreter, rvm, graph);
    if let FastPath::Disagrees(lines) = &fast_path {
        failure.get_or_insert_with(|| "FAIL (the RVM disagrees with the interpreter)".into());
        details.extend(lines.iter().cloned());
    }
    Ran {
        rule: test.path.clone(),
        elapsed,
        failure,
        details,
        fast_path,
    }
}

fn print_text(ran: &[Ran], verbose: bool, covered: Option<&[coverage::FileCoverage]>) {
    for r in ran {
        match &r.failure {
            None if verbose => {
                let on = match &r.fast_path {
                    FastPath::Agrees => "interpreter and RVM".to_string(),
                    FastPath::InterpreterOnly(why) => format!("interpreter only: {why}"),
                    FastPath::Disagrees(_) => "interpreter".to_string(),
                };
                println!("{}: PASS ({:?}; {on})", r.rule, r.elapsed);
            }
            None => {}
            Some(reason) => {
                println!("{}: {reason}", r.rule);
                for line in &r.details {
                    println!("  {line}");
                }
            }
        }
    }
    println!("{}", "-".repeat(80));
    let failed = ran.iter().filter(|r| r.failure.is_some()).count();
    let on_rvm = ran
        .iter()
        .filter(|r| !matches!(r.fast_path, FastPath::InterpreterOnly(_)))
        .count();
    let both = format!("{on_rvm} also on the RVM");
    if failed == 0 {
        println!("PASS: {}/{} ({both})", ran.len(), ran.len());
    } else {
        println!("FAIL: {failed}/{} ({both})", ran.len());
    }
    if let Some(files) = covered {
        print!("{}", coverage::text(files));
    }
}

fn print_json(ran: &[Ran], covered: Option<&[coverage::FileCoverage]>) {
    let tests: Vec<serde_json::Value> = ran
        .iter()
        .map(|r| {
            let (evaluators, why) = match &r.fast_path {
                FastPath::Agrees => (json!(["interpreter", "rvm"]), None),
                FastPath::Disagrees(_) => (json!(["interpreter", "rvm"]), None),
                FastPath::InterpreterOnly(why) => (json!(["interpreter"]), Some(why.clone())),
            };
            json!({
                "name": r.rule,
                "pass": r.failure.is_none(),
                "failure": r.failure,
                "details": r.details,
                "duration_ns": r.elapsed.as_nanos() as u64,
                "evaluators": evaluators,
                "interpreter_only_because": why,
            })
        })
        .collect();
    let failed = ran.iter().filter(|r| r.failure.is_some()).count();
    let mut out = json!({
        "tests": tests,
        "passed": ran.len() - failed,
        "failed": failed,
    });
    if let (Some(files), Some(map)) = (covered, out.as_object_mut()) {
        map.insert("coverage".into(), coverage::json(files));
    }
    println!("{out}");
}
