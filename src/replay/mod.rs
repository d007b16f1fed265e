//! Replaying logged decisions against a candidate bundle: what would the new policy have
//! answered to yesterday's traffic?
//!
//! Owns: the replay itself. One thread reads the logs into chunks of whole lines
//! ([`read`]); the replay threads each take chunks, decode their events, decide each one
//! through the decision pipeline on the candidate snapshot (each thread on its own
//! evaluator) and count what changed ([`tally`]); the tallies are merged at the end.
//! Rendering the report is [`report`]'s; the command line is [`crate::commands::replay`].

pub mod read;
pub mod report;
pub mod tally;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regorus::Value;

use crate::change::{Answer, Verdict, classify};
use crate::decide::{Decider, DecisionRequest};
use crate::metrics::ApiKind;
use crate::policy::DataPath;
pub use read::ReadError;
use read::{Chunk, Chunks, Line, LoggedDecision};
use tally::{NotReplayable, Position, Tally};

/// What to replay and how.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub logs: Vec<PathBuf>,
    /// Replay threads (each with its own evaluator).
    pub threads: usize,
    /// Example decision ids kept per group of changes.
    pub max_examples: usize,
}

/// A finished replay.
#[derive(Debug)]
pub struct Replayed {
    pub tally: Tally,
    pub elapsed: Duration,
    pub threads: usize,
}

/// Replays every decision of `options.logs` through `decider` (the candidate's pipeline).
pub fn replay(decider: &Decider, options: &ReplayOptions) -> Result<Replayed, ReadError> {
    let started = Instant::now();
    let threads = options.threads.max(1);
    let (tx, rx) = sync_channel::<Chunk>(threads * 2);
    let rx = Arc::new(Mutex::new(rx));
    let (read, tallies) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let work = move || worker(decider, &rx, options.max_examples);
                // A thread with the evaluation stack; the default one if that cannot be had.
                let spare = work.clone();
                std::thread::Builder::new()
                    .stack_size(crate::threads::EVAL_STACK_BYTES)
                    .spawn_scoped(scope, work)
                    .unwrap_or_else(|_| scope.spawn(spare))
            })
            .collect();
        let read = read_all(&options.logs, |chunk| tx.send(chunk).is_ok());
        drop(tx);
        let tallies: Vec<Tally> = workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Tally::new(0)))
            .collect();
        (read, tallies)
    });
    read?;
    let mut tally = Tally::new(options.max_examples);
    for t in tallies {
        tally.merge(t);
    }
    Ok(Replayed {
        tally,
        elapsed: started.elapsed(),
        threads,
    })
}

/// Reads every file in order, numbering the chunks; stops early if `send` refuses.
fn read_all(logs: &[PathBuf], mut send: impl FnMut(Chunk) -> bool) -> Result<(), ReadError> {
    let mut index = 0u64;
    for (file, path) in logs.iter().enumerate() {
        let mut chunks = Chunks::open(path, file)?;
        while let Some(mut chunk) = chunks.next_chunk()? {
            chunk.index = index;
            index += 1;
            if !send(chunk) {
                return Ok(());
            }
        }
    }
    Ok(())
}

fn worker(decider: &Decider, rx: &Mutex<Receiver<Chunk>>, max_examples: usize) -> Tally {
    let mut tally = Tally::new(max_examples);
    loop {
        let next = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => break,
        };
        let Ok(chunk) = next else { break };
        for (n, line) in read::events(&chunk).into_iter().enumerate() {
            match line {
                Line::Decision(decision) => {
                    replay_one(decider, *decision, (chunk.index, n as u64), &mut tally)
                }
                Line::Unreadable(line, message) => tally.unreadable(chunk.file, line, message),
            }
        }
    }
    tally
}

fn touches(pointers: &[String], document: &str) -> bool {
    pointers.iter().any(|p| {
        p == document
            || p.strip_prefix(document)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

fn replay_one(decider: &Decider, logged: LoggedDecision, at: Position, tally: &mut Tally) {
    if logged.shadow.is_some() {
        tally.skipped_shadow += 1;
        return;
    }
    if touches(&logged.erased, "/input") || touches(&logged.masked, "/input") {
        return tally.not_replayable(NotReplayable::InputMasked);
    }
    if touches(&logged.erased, "/result") || touches(&logged.masked, "/result") {
        return tally.not_replayable(NotReplayable::ResultMasked);
    }
    let Some(path) = logged.path.as_deref() else {
        return tally.not_replayable(NotReplayable::NoPath);
    };
    let before = match &logged.error {
        Some(error) => Answer::Error(&error.code),
        None => Answer::Value(Verdict::of_json(logged.result.as_ref())),
    };
    let request = DecisionRequest::new(ApiKind::Cli, DataPath::Text(path), logged.input);
    let decided = decider.decide(request);
    let change = match &decided.outcome {
        Ok(decision) => classify(
            before,
            Answer::Value(Verdict::of_value(&decision.result)),
            || same(logged.result.as_ref(), &decision.result),
        ),
        Err(e) => classify(before, Answer::Error(e.code().as_str()), || false),
    };
    tally.record(path, change, at, &logged.decision_id);
}

/// A logged result (JSON, `None` when undefined) against a candidate's value. Compared as
/// JSON, as the log wrote it: a set is logged as an array.
fn same(logged: Option<&serde_json::Value>, candidate: &Value) -> bool {
    match (logged, candidate) {
        (None, Value::Undefined) => true,
        (None, _) | (Some(_), Value::Undefined) => false,
        (Some(logged), candidate) => serde_json::to_value(candidate).is_ok_and(|c| &c == logged),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::Change;

    fn decider(rego: &str) -> Decider {
        let files = crate::bundle::BundleFiles {
            files: [("p.rego".to_string(), rego.as_bytes().to_vec())].into(),
        };
        let bundle =
            crate::bundle::Bundle::from_files("b", std::path::Path::new("b"), &files).unwrap();
        let snapshot = crate::policy::Snapshot::compile(
            &[Arc::new(bundle)],
            crate::policy::CompileOptions::default(),
        )
        .unwrap();
        crate::commands::decider(snapshot)
    }

    #[test]
    fn classifies_every_kind_and_skips_what_cannot_be_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log.jsonl");
        let lines = [
            r#"{"decision_id": "same", "path": "p/allow", "input": {"u": "a"}, "result": true}"#,
            r#"{"decision_id": "flip", "path": "p/allow", "input": {"u": "b"}, "result": true}"#,
            r#"{"decision_id": "new-allow", "path": "p/allow", "input": {"u": "c"}, "result": false}"#,
            r#"{"decision_id": "set", "path": "p/names", "input": {}, "result": ["x", "y"]}"#,
            r#"{"decision_id": "changed", "path": "p/names", "input": {}, "result": ["x"]}"#,
            r#"{"decision_id": "error", "path": "p/boom", "input": {}, "result": 1}"#,
            r#"{"decision_id": "masked", "path": "p/allow", "erased": ["/input/u"], "result": true}"#,
            r#"{"decision_id": "shadow", "path": "p/allow", "input": {}, "result": true, "shadow": {}}"#,
            r#"{"decision_id": "undefined", "path": "p/nothing", "input": {}}"#,
        ];
        std::fs::write(&log, lines.join("\n")).unwrap();
        let decider = decider(concat!(
            "package p\n",
            "allow if input.u in {\"a\", \"c\"}\n",
            "names contains \"x\"\nnames contains \"y\"\n",
            "boom := 1\nboom := 2\n",
        ));
        for threads in [1, 3] {
            let replayed = replay(
                &decider,
                &ReplayOptions {
                    logs: vec![log.clone()],
                    threads,
                    max_examples: 5,
                },
            )
            .unwrap();
            let t = &replayed.tally;
            assert_eq!((t.replayed, t.unchanged), (7, 3), "{t:?}");
            let ids = |path: &str, kind| {
                t.changes[&(path.to_string(), kind)]
                    .examples
                    .iter()
                    .map(|(_, id)| id.clone())
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids("p/allow", Change::AllowToDeny), ["flip"]);
            assert_eq!(ids("p/allow", Change::DenyToAllow), ["new-allow"]);
            assert_eq!(ids("p/names", Change::ValueChanged), ["changed"]);
            assert_eq!(ids("p/boom", Change::NowAnError), ["error"]);
            assert_eq!(t.not_replayable[&NotReplayable::InputMasked], 1);
            assert_eq!(t.skipped_shadow, 1);
        }
    }
}
