//! `authzd replay --bundle CANDIDATE --decision-logs FILE...`: what a candidate bundle would
//! have answered to logged traffic.
//!
//! Owns: the command line: compiling the candidate as `run` would, the thread count, the
//! report format, and the exit code (`--fail-on`: 1 when a decision changed in a listed way;
//! 2 when the bundle or a log cannot be read). The replay is [`crate::replay`].

use std::process::ExitCode;

use crate::change::Change;
use crate::cli::{FailOn, OutputFormat, ReplayArgs};
use crate::policy::{CompileOptions, SourceLimits};
use crate::replay::tally::Tally;
use crate::replay::{ReplayOptions, replay, report};

pub fn run(args: ReplayArgs) -> ExitCode {
    let threads = args
        .threads
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let snapshot = match super::compile(
        &args.bundles,
        CompileOptions {
            limits: args.eval.limits(),
            sources: SourceLimits::default(),
            use_rvm: !args.eval.no_rvm,
            // One evaluator per replay thread, and one for the reading thread's neighbour.
            evaluator_slots: threads + 1,
        },
    ) {
        Ok(snapshot) => snapshot,
        Err(message) => {
            eprintln!("authzd replay: {message}");
            return ExitCode::from(2);
        }
    };
    let bundles = snapshot.bundles.clone();
    let decider = super::decider(snapshot);
    let options = ReplayOptions {
        logs: args.decision_logs.clone(),
        threads,
        max_examples: args.examples,
    };
    let replayed = match replay(&decider, &options) {
        Ok(replayed) => replayed,
        Err(e) => {
            eprintln!("authzd replay: {e}");
            return ExitCode::from(2);
        }
    };
    let context = report::Context {
        logs: &args.decision_logs,
        bundles: &bundles,
    };
    match args.format {
        OutputFormat::Text => print!("{}", report::text(&replayed, &context)),
        OutputFormat::Json => println!("{}", report::json(&replayed, &context)),
    }
    let tally = &replayed.tally;
    if tally.replayed == 0 && tally.not_replayable.is_empty() {
        eprintln!("authzd replay: no decision-log events in the given files");
        return ExitCode::from(2);
    }
    if fails(tally, &args.fail_on) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// True when a change of a kind in `fail_on` happened.
fn fails(tally: &Tally, fail_on: &[FailOn]) -> bool {
    fail_on.iter().any(|kind| match kind {
        FailOn::Any => tally.changed() > 0,
        FailOn::DenyToAllow => tally.changed_by(Change::DenyToAllow) > 0,
        FailOn::AllowToDeny => tally.changed_by(Change::AllowToDeny) > 0,
        FailOn::ValueChanged => tally.changed_by(Change::ValueChanged) > 0,
        FailOn::NowAnError => tally.changed_by(Change::NowAnError) > 0,
    })
}
