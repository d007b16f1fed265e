//! The decision pipeline: the only place that decides.
//!
//! Every transport (HTTP, gRPC, Envoy, batch, the command line) translates its wire format into
//! a [`DecisionRequest`] and hands it to a [`Decider`]; it gets a [`Decided`] back and
//! translates that into its wire format. In between, for every decision and whatever the API:
//!
//! 1. admission and one snapshot for the whole request ([`Decider::admitted_session`]; a batch
//!    takes one slot and shares one snapshot);
//! 2. the steps before evaluation ([`BeforeEvaluation`]: identity verification);
//! 3. path resolution and evaluation ([`evaluate`]: RVM, interpreter or a data lookup);
//! 4. timing and the decision id;
//! 5. the result checks ([`result_check`]: size budget, non-finite numbers) and the record
//!    ([`record`]: decision metrics and the decision log);
//! 6. the steps after the decision ([`AfterDecision`]: shadow evaluation, the fast-path
//!    self-check), which must hand their work off the request thread.
//!
//! # Layout
//!
//! - [`admission`]: the evaluation slots, and refusing when none frees up in time.
//! - [`evaluate`]: evaluation on one snapshot.
//! - [`result_check`]: what a result must pass (size, finite numbers).
//! - [`error`]: [`DecisionError`] and OPA's [`ErrorCode`]s.
//! - `regorus_error`: the one adapter from regorus's error text to OPA's codes.
//! - [`record`]: metrics and decision-log events.
//! - [`input`]: preparing input documents (a batch's common input).
//! - [`identity`]: the identity step (verified credentials in `input.identity`).
//! - [`self_check`]: re-checking a sample of fast-path decisions on the interpreter.

pub mod admission;
pub mod error;
pub mod evaluate;
pub mod identity;
pub mod input;
pub mod record;
mod regorus_error;
pub mod result_check;
pub mod self_check;

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::Guard;
use regorus::Value;

pub use admission::Overloaded;
pub use error::{DecisionError, ErrorCode, EvalError, Location};
pub use evaluate::{DecideOptions, Decision, Document, Evaluator, evaluate, evaluate_path};
pub use record::Recorder;
pub use regorus_error::interpreter_known_wrong;
pub(crate) use regorus_error::split_text as split_regorus_error;

use crate::decision_id::DecisionId;
use crate::limits::ServerLimits;
use crate::metrics::{ApiKind, Metrics};
use crate::policy::{DataPath, Snapshot};
use crate::store::PolicyStore;

/// A result check a transport needs (Envoy's result must be a boolean or an object with
/// `allowed`); a failure makes the decision an `eval_type_error`.
pub type ResultCheck = fn(&Value) -> Result<(), String>;

/// One decision, as a transport decoded it.
#[derive(Debug, Clone)]
pub struct DecisionRequest<'a> {
    pub api: ApiKind,
    pub path: DataPath<'a>,
    /// `Value::Undefined` when the request had no input.
    pub input: Value,
    pub options: DecideOptions,
    /// Who asked, for the decision log (see [`Decider::wants_peer`]).
    pub peer: Option<Arc<str>>,
    /// Applied to a defined result before it is recorded.
    pub check_result: Option<ResultCheck>,
}

impl<'a> DecisionRequest<'a> {
    pub fn new(api: ApiKind, path: DataPath<'a>, input: Value) -> Self {
        Self {
            api,
            path,
            input,
            options: DecideOptions::default(),
            peer: None,
            check_result: None,
        }
    }

    /// The same request with `options`.
    pub fn with_options(mut self, options: DecideOptions) -> Self {
        self.options = options;
        self
    }
}

/// A decision as the pipeline made and recorded it.
#[derive(Debug)]
pub struct Decided {
    pub decision_id: DecisionId,
    pub outcome: Result<Decision, DecisionError>,
    /// Time spent evaluating.
    pub eval: Duration,
}

/// A step before evaluation, on the request thread: it may rewrite the request (the identity
/// step verifies credentials and puts verified facts into the input).
pub trait BeforeEvaluation: Send + Sync {
    fn before(&self, request: &mut DecisionRequest<'_>);
}

/// A step after a decision was made and recorded. It runs on the request thread, so it must
/// only hand its work elsewhere (a bounded queue) and never block.
pub trait AfterDecision: Send + Sync {
    fn after(&self, snapshot: &Arc<Snapshot>, request: &DecisionRequest<'_>, decided: &Decided);
}

/// The pipeline. Shared by every transport.
pub struct Decider {
    store: Arc<PolicyStore>,
    recorder: Recorder,
    before: Vec<Arc<dyn BeforeEvaluation>>,
    after: Vec<Arc<dyn AfterDecision>>,
    admission: admission::Admission,
    max_result_bytes: usize,
}

impl Decider {
    /// A pipeline without admission or result limits (see [`Decider::with_limits`]).
    pub fn new(store: Arc<PolicyStore>, recorder: Recorder) -> Self {
        let limits = ServerLimits::unlimited();
        Self {
            store,
            recorder,
            before: Vec::new(),
            after: Vec::new(),
            admission: admission::Admission::new(
                limits.max_concurrent_decisions,
                limits.admission_wait,
            ),
            max_result_bytes: limits.max_result_bytes,
        }
    }

    /// Applies the admission and result-size limits.
    pub fn with_limits(mut self, limits: &ServerLimits) -> Self {
        self.admission =
            admission::Admission::new(limits.max_concurrent_decisions, limits.admission_wait);
        self.max_result_bytes = limits.max_result_bytes;
        self
    }

    /// Adds a step before evaluation (they run in the order added).
    pub fn with_before(mut self, step: Arc<dyn BeforeEvaluation>) -> Self {
        self.before.push(step);
        self
    }

    /// Adds a step after the decision (they run in the order added).
    pub fn with_after(mut self, step: Arc<dyn AfterDecision>) -> Self {
        self.after.push(step);
        self
    }

    /// An evaluation slot and one snapshot for a request (a batch decides all its items in
    /// one session), or [`Overloaded`] when no slot frees up within the admission wait. Every
    /// API's requests come through here.
    pub async fn admitted_session(&self, api: ApiKind) -> Result<Session<'_>, Overloaded> {
        match self.admission.admit().await {
            Ok(slot) => Ok(self.session_in(slot)),
            Err(overloaded) => {
                self.recorder.metrics.rejected(api);
                Err(overloaded)
            }
        }
    }

    /// True while an admitted request is evaluating.
    pub fn evaluating(&self) -> bool {
        self.admission.busy()
    }

    /// One snapshot, without admission: for the command line and for embedding, which bound
    /// their own concurrency.
    pub fn session(&self) -> Session<'_> {
        self.session_in(admission::Slot::none())
    }

    fn session_in<'d>(&'d self, slot: admission::Slot<'d>) -> Session<'d> {
        Session {
            decider: self,
            snapshot: self.store.load(),
            _slot: slot,
            started: Instant::now(),
            decided: Cell::new(0),
            result_bytes: Cell::new(0),
        }
    }

    /// Decides one request on the current snapshot.
    pub fn decide(&self, request: DecisionRequest<'_>) -> Decided {
        self.session().decide(request)
    }

    /// True when the decision log records who asked: only then need a transport name the
    /// peer.
    pub fn wants_peer(&self) -> bool {
        self.recorder.log.is_some()
    }

    /// The metrics the pipeline records into (transports add their request metrics).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.recorder.metrics
    }

    /// The policy store, for readiness.
    pub fn store(&self) -> &Arc<PolicyStore> {
        &self.store
    }
}

/// One snapshot, held for the synchronous part of one request.
pub struct Session<'d> {
    decider: &'d Decider,
    snapshot: Guard<Arc<Snapshot>>,
    _slot: admission::Slot<'d>,
    /// A batch's items share one time budget and one result budget.
    started: Instant,
    decided: Cell<usize>,
    result_bytes: Cell<usize>,
}

impl Session<'_> {
    /// The snapshot every decision of this session sees (provenance, revisions).
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// Runs the pipeline for one request.
    pub fn decide(&self, mut request: DecisionRequest<'_>) -> Decided {
        let decider = self.decider;
        for step in &decider.before {
            step.before(&mut request);
        }
        let started = Instant::now();
        let outcome = self
            .within_batch_budget()
            .and_then(|()| {
                evaluate_path(
                    &self.snapshot,
                    request.path,
                    &request.input,
                    request.options,
                )
            })
            .and_then(|decision| self.check(&request, decision));
        self.decided.set(self.decided.get() + 1);
        let eval = started.elapsed();
        let decided = Decided {
            decision_id: DecisionId::new(),
            outcome: outcome.and_then(|decision| self.in_time(eval, decision)),
            eval,
        };
        decider.recorder.record(&self.snapshot, &request, &decided);
        for step in &decider.after {
            step.after(&self.snapshot, &request, &decided);
        }
        decided
    }

    /// A batch is one request: once its items have used the evaluation time limit, the rest
    /// fail without being evaluated.
    fn within_batch_budget(&self) -> Result<(), DecisionError> {
        let budget = self.snapshot.limits.timeout;
        if self.decided.get() > 0 && self.started.elapsed() > budget {
            return Err(EvalError::new(
                ErrorCode::EvalCancel,
                format!(
                    "the batch exceeded the time limit of {budget:?} (--eval-timeout-ms) for the whole request; this item was not evaluated"
                ),
            )
            .into());
        }
        Ok(())
    }

    /// A long builtin (`numbers.range` over millions) runs past the timer, which only checks
    /// between steps: its late answer is still a cancel, so no answer ever exceeds the limit.
    fn in_time(&self, eval: Duration, decision: Decision) -> Result<Decision, DecisionError> {
        let limit = self.snapshot.limits.timeout;
        if eval > limit {
            return Err(EvalError::new(
                ErrorCode::EvalCancel,
                format!(
                    "evaluation exceeded the time limit of {limit:?} (took {eval:?}); raise --eval-timeout-ms if the policy needs more"
                ),
            )
            .into());
        }
        Ok(decision)
    }

    /// The transport's result check, then the size budget and finite numbers.
    fn check(
        &self,
        request: &DecisionRequest<'_>,
        decision: Decision,
    ) -> Result<Decision, DecisionError> {
        if !decision.is_defined() {
            return Ok(decision);
        }
        if let Some(check) = request.check_result {
            check(&decision.result).map_err(|m| EvalError::new(ErrorCode::EvalType, m))?;
        }
        let left = self
            .decider
            .max_result_bytes
            .saturating_sub(self.result_bytes.get());
        let used = result_check::check(&decision.result, left)?;
        self.result_bytes.set(self.result_bytes.get() + used);
        Ok(decision)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::bundle::{Bundle, BundleFiles};
    use crate::policy::CompileOptions;

    fn snapshot(rego: &str) -> Snapshot {
        let files = BundleFiles {
            files: [
                ("p.rego".to_string(), rego.as_bytes().to_vec()),
                (
                    "data.json".to_string(),
                    br#"{"users": {"u1": {}}}"#.to_vec(),
                ),
            ]
            .into(),
        };
        let bundle = Bundle::from_files("b", std::path::Path::new("b"), &files).unwrap();
        Snapshot::compile(&[Arc::new(bundle)], CompileOptions::default()).unwrap()
    }

    fn decider(store: &Arc<PolicyStore>) -> Arc<Decider> {
        let recorder = Recorder {
            metrics: Metrics::new(),
            log: None,
        };
        Arc::new(Decider::new(store.clone(), recorder))
    }

    fn x(decider: &Decider) -> Value {
        let request = DecisionRequest::new(ApiKind::Http, DataPath::Url("p/x"), Value::Undefined);
        decider.decide(request).outcome.unwrap().result
    }

    #[test]
    fn a_superseded_snapshot_is_freed_once_no_request_holds_it() {
        let store = Arc::new(PolicyStore::new(snapshot("package p\nx := 1\n")));
        let decider = decider(&store);
        let old = Arc::downgrade(&store.load_full());
        // The data is shared by the snapshot's evaluators: they must go with it.
        let old_data = match &store.load().data {
            Value::Object(map) => Arc::downgrade(map),
            other => panic!("data is {other}"),
        };

        // A worker that decided once and then sits idle must not keep the snapshot alive.
        let (done, idle) = mpsc::channel();
        let (release, wait) = mpsc::channel::<()>();
        let worker = {
            let decider = decider.clone();
            std::thread::spawn(move || {
                done.send(x(&decider)).unwrap();
                wait.recv().unwrap();
            })
        };
        assert_eq!(idle.recv().unwrap(), Value::from(1));

        // An in-flight request holds its session's snapshot across the swap.
        let in_flight = decider.session();
        store.store(snapshot("package p\nx := 2\n"));
        assert_eq!(x(&decider), Value::from(2));
        assert!(
            old.upgrade().is_some(),
            "the in-flight request still holds it"
        );
        drop(in_flight);
        assert!(
            old.upgrade().is_none() && old_data.upgrade().is_none(),
            "nothing but in-flight requests may keep an old snapshot alive"
        );
        release.send(()).unwrap();
        worker.join().unwrap();
    }
}
