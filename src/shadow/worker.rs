//! The shadow worker: evaluates queued decisions against the shadow snapshot and records how
//! its answers compare with the served ones.
//!
//! Owns: one thread (at idle priority, draining the queue in batches), the shadow evaluation (the served decision's path, input and options,
//! on the shadow store's current snapshot), the comparison ([`crate::change`]), the
//! `authzd_shadow_decisions_total{path, outcome}` counters and, for a decision answered
//! differently, its shadow event in the decision log. `path` is the rule path the served
//! snapshot resolved (a rule or package of the bundle, `(data)` for plain data, `(invalid)`
//! for a malformed path): never anything taken from the request as it came.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant, SystemTime};

use metrics::Counter;
use regorus::Value;

use super::Job;
use super::status::{ShadowOutcome, ShadowStatus};
use crate::change::{Answer, Change, Verdict, classify};
use crate::decide::{Decision, DecisionError, ErrorCode, EvalError, evaluate_path};
use crate::decision_log::{DecisionEvent, DecisionLogger, ShadowAnswer};
use crate::policy::{DataPath, Snapshot, Target, to_ref};
use crate::store::PolicyStore;

pub(super) struct Worker {
    pub store: Arc<PolicyStore>,
    pub status: ShadowStatus,
    pub log: Option<DecisionLogger>,
    pub stop: Arc<AtomicBool>,
    pub counters: HashMap<(String, ShadowOutcome), Counter>,
}

/// How long the worker sleeps after finding the queue empty, and after draining it.
const IDLE_NAP: Duration = Duration::from_millis(20);
const BUSY_NAP: Duration = Duration::from_millis(2);

impl Worker {
    /// Drains the queue in batches, napping in between. It never blocks on the queue: a
    /// receiver parked in the channel would make every decision's hand-off a wake-up (a system
    /// call on the request thread, a context switch on a busy core).
    pub fn run(mut self, rx: Receiver<Job>) {
        idle_priority();
        loop {
            let mut handled = false;
            loop {
                match rx.try_recv() {
                    Ok(job) => {
                        self.handle(job);
                        handled = true;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            std::thread::sleep(if handled { BUSY_NAP } else { IDLE_NAP });
        }
    }

    fn handle(&mut self, job: Job) {
        if !self.store.is_ready() {
            self.status.not_ready();
            return;
        }
        let shadow = self.store.load_full();
        let path = job.path.as_path();
        let label = label(&job.live, path);
        let started = Instant::now();
        let answered = evaluate_path(&shadow, path, &job.input, job.options).and_then(|decision| {
            match job.check_result {
                Some(check) if decision.is_defined() => match check(&decision.result) {
                    Ok(()) => Ok(decision),
                    Err(message) => Err(EvalError::new(ErrorCode::EvalType, message).into()),
                },
                _ => Ok(decision),
            }
        });
        let took = started.elapsed();
        let change = compare(&job.served, &answered);
        let outcome = match change {
            Change::Unchanged => ShadowOutcome::Same,
            Change::NowAnError => ShadowOutcome::Error,
            _ => ShadowOutcome::Changed,
        };
        self.counter(&label, outcome).increment(1);
        self.status.record(&label, outcome);
        if outcome != ShadowOutcome::Same
            && let Some(log) = &self.log
        {
            log.log_unsampled(event(job, &shadow, answered, took));
        }
    }

    fn counter(&mut self, path: &str, outcome: ShadowOutcome) -> &Counter {
        self.counters
            .entry((path.to_string(), outcome))
            .or_insert_with(|| {
                metrics::counter!(
                    "authzd_shadow_decisions_total",
                    "path" => path.to_string(),
                    "outcome" => outcome.as_str()
                )
            })
    }
}

/// Runs this thread at idle priority (Linux `SCHED_IDLE`): shadow evaluation gets the CPU no
/// decision wants. Under saturation it falls behind, and the queue drops and counts what it
/// cannot hold, rather than taking cores from the requests.
fn idle_priority() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid sched_param for the call's duration; pid 0 is this thread.
        #[allow(unsafe_code)]
        let failed = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } != 0;
        if failed {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "cannot lower the shadow worker's priority; it competes with decisions for CPU"
            );
        }
    }
}

/// The bounded label of a request path: what the served snapshot resolved it to.
fn label(live: &Snapshot, path: DataPath<'_>) -> String {
    match live.resolve(path) {
        Ok(Target::Rule { rule, .. }) => rule.path.clone(),
        // Only packages of the bundle resolve to a namespace.
        Ok(Target::Namespace { segments }) => to_ref(&segments),
        // The part of the path after a ref head's variable is the request's own.
        Ok(Target::Reference { segments, known }) if known < segments.len() => {
            format!("{}[...]", to_ref(&segments[..known]))
        }
        Ok(Target::Reference { segments, .. }) => to_ref(&segments),
        Ok(Target::Data { .. }) => "(data)".into(),
        Err(_) => "(invalid)".into(),
    }
}

fn compare(
    served: &Result<Value, (ErrorCode, String)>,
    shadow: &Result<Decision, DecisionError>,
) -> Change {
    let before = match served {
        Ok(value) => Answer::Value(Verdict::of_value(value)),
        Err((code, _)) => Answer::Error(code.as_str()),
    };
    match (served, shadow) {
        (_, Err(e)) => classify(before, Answer::Error(e.code().as_str()), || false),
        (Ok(value), Ok(decision)) => classify(
            before,
            Answer::Value(Verdict::of_value(&decision.result)),
            || *value == decision.result,
        ),
        (Err(_), Ok(decision)) => classify(
            before,
            Answer::Value(Verdict::of_value(&decision.result)),
            || false,
        ),
    }
}

/// The decision's event again, with what the shadow bundles answered.
fn event(
    job: Job,
    shadow: &Snapshot,
    answered: Result<Decision, DecisionError>,
    took: Duration,
) -> DecisionEvent {
    let (result, error) = match job.served {
        Ok(value) => (value, None),
        Err(error) => (Value::Undefined, Some(error)),
    };
    let answer = match answered {
        Ok(decision) => ShadowAnswer {
            bundles: shadow.bundles.clone(),
            result: decision.result,
            error: None,
        },
        Err(e) => ShadowAnswer {
            bundles: shadow.bundles.clone(),
            result: Value::Undefined,
            error: Some((e.code(), e.message())),
        },
    };
    DecisionEvent {
        decision_id: job.decision_id,
        timestamp: SystemTime::now(),
        api: job.api,
        path: job.path.as_path().display().to_string(),
        input: job.input,
        result,
        error,
        bundles: job.live.bundles.clone(),
        requested_by: job.peer,
        eval_ns: took.as_nanos() as u64,
        shadow: Some(answer),
    }
}
