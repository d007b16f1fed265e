//! The fast path's self-check: a sampled fraction of the decisions the RVM made is evaluated
//! again on the interpreter, with the same snapshot and input, off the request path.
//!
//! Owns: sampling (`--verify-fast-path-rate`), the bounded queue to its worker thread (a full
//! queue drops the check and counts it; a decision never waits), the comparison (an error on one
//! side and a value on the other is a disagreement, except an interpreter error that is a known
//! regorus bug, counted as unverifiable), and what a disagreement does: it is counted
//! in `authzd_fast_path_mismatches_total{rule}`, logged once per rule with the decision id and
//! both answers, and the rule is demoted to the interpreter for the rest of the snapshot's life
//! (and, through [`Demotions`], for any reload of the same rule text). The answer already sent
//! stays the RVM's.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use regorus::Value;
use tracing::warn;

use super::{
    AfterDecision, DecideOptions, Decided, DecisionError, DecisionRequest, Evaluator, evaluate_path,
};
use crate::decision_id::DecisionId;
use crate::metrics::{FastPathCheck as CheckResult, Metrics};
use crate::policy::{Demotions, OwnedDataPath, Snapshot, Target};

/// Checks queued at most; beyond, a check is dropped and counted.
const QUEUE: usize = 1024;

/// The pipeline step that samples decisions for the self-check.
pub struct FastPathCheck {
    rate: f64,
    queue: SyncSender<Job>,
    metrics: Arc<Metrics>,
}

/// One decision to check again.
struct Job {
    snapshot: Arc<Snapshot>,
    path: OwnedDataPath,
    input: Value,
    options: DecideOptions,
    fast: Result<Value, DecisionError>,
    decision_id: DecisionId,
}

impl FastPathCheck {
    /// Starts the worker; `rate` is the fraction of fast-path decisions checked, in (0, 1].
    pub fn start(rate: f64, metrics: Arc<Metrics>, demotions: Arc<Demotions>) -> Self {
        let (queue, jobs) = sync_channel(QUEUE);
        let worker_metrics = metrics.clone();
        let spawned = std::thread::Builder::new()
            .name("authzd-self-check".into())
            .stack_size(crate::threads::EVAL_STACK_BYTES)
            .spawn(move || work(jobs, &worker_metrics, &demotions));
        if let Err(e) = spawned {
            warn!(error = %e, "cannot start the fast-path self-check; decisions are not re-checked");
        }
        Self {
            rate,
            queue,
            metrics,
        }
    }
}

impl AfterDecision for FastPathCheck {
    fn after(&self, snapshot: &Arc<Snapshot>, request: &DecisionRequest<'_>, decided: &Decided) {
        if self.rate < 1.0 && rand::random::<f64>() >= self.rate {
            return;
        }
        let fast = match &decided.outcome {
            Ok(decision) if decision.evaluator == Evaluator::Rvm => Ok(decision.result.clone()),
            Ok(_) => return,
            // An error: check it again only if the RVM made it.
            Err(e) if on_rvm(snapshot, request) => Err(e.clone()),
            Err(_) => return,
        };
        let job = Job {
            snapshot: snapshot.clone(),
            path: OwnedDataPath::of(request.path),
            input: request.input.clone(),
            options: request.options,
            fast,
            decision_id: decided.decision_id,
        };
        if let Err(TrySendError::Full(_)) = self.queue.try_send(job) {
            self.metrics.fast_path_check(CheckResult::Dropped);
        }
    }
}

/// True when this request's rule would be decided on the RVM.
fn on_rvm(snapshot: &Snapshot, request: &DecisionRequest<'_>) -> bool {
    match snapshot.resolve(request.path) {
        Ok(Target::Rule { rule, .. }) => {
            rule.rvm_entry.is_some()
                && !request.options.strict_builtin_errors
                && !snapshot.is_demoted(rule.index)
                && (rule.rvm_guard.is_empty()
                    || !crate::policy::routing::trips(&rule.rvm_guard, &request.input))
        }
        _ => false,
    }
}

fn work(jobs: Receiver<Job>, metrics: &Metrics, demotions: &Demotions) {
    let mut logged: HashSet<(String, u64)> = HashSet::new();
    while let Ok(job) = jobs.recv() {
        let options = DecideOptions {
            interpreter_only: true,
            ..job.options
        };
        let slow = evaluate_path(&job.snapshot, job.path.as_path(), &job.input, options);
        let rule = match &slow {
            Ok(decision) => decision.rule,
            Err(_) => match job.snapshot.resolve(job.path.as_path()) {
                Ok(Target::Rule { rule, .. }) => Some(rule.index),
                _ => None,
            },
        };
        let Some(rule) = rule.and_then(|i| job.snapshot.rules().get(i)) else {
            continue;
        };
        let slow = slow.map(|d| d.result);
        if let (Ok(_), Err(DecisionError::Eval(e))) = (&job.fast, &slow)
            && super::interpreter_known_wrong(e)
        {
            metrics.fast_path_check(CheckResult::Unverifiable);
            continue;
        }
        let same = match (&job.fast, &slow) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a.code() == b.code(),
            _ => false,
        };
        if same {
            metrics.fast_path_check(CheckResult::Same);
            continue;
        }
        metrics.fast_path_check(CheckResult::Mismatch);
        metrics.fast_path_mismatch(&rule.path);
        if job.snapshot.demote(rule.index) {
            metrics.rules(&job.snapshot.rule_counts());
        }
        demotions.record(rule);
        if logged.insert((rule.path.clone(), rule.fingerprint)) {
            warn!(
                rule = %rule.path,
                decision_id = %job.decision_id,
                fast_path = %answer(&job.fast),
                interpreter = %answer(&slow),
                "the fast path answered differently from the interpreter: the rule is demoted to the interpreter"
            );
        }
    }
}

fn answer(outcome: &Result<Value, DecisionError>) -> String {
    match outcome {
        Ok(Value::Undefined) => "undefined".to_string(),
        Ok(value) => value.to_string(),
        Err(e) => format!("error: {e}"),
    }
}
