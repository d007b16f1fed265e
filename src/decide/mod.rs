//! The decision pipeline: the only place that decides.
//!
//! Every transport (HTTP, gRPC, Envoy, batch, the command line) translates its wire format into
//! a [`DecisionRequest`] and hands it to a [`Decider`]; it gets a [`Decided`] back and
//! translates that into its wire format. In between, for every decision and whatever the API:
//!
//! 1. one snapshot for the whole request ([`Decider::session`]; a batch shares it);
//! 2. the steps before evaluation ([`BeforeEvaluation`]: identity verification);
//! 3. path resolution and evaluation ([`evaluate`]: RVM, interpreter or a data lookup);
//! 4. timing and the decision id;
//! 5. the record ([`record`]: decision metrics and the decision log);
//! 6. the steps after the decision ([`AfterDecision`]: shadow evaluation, the fast-path
//!    self-check), which must hand their work off the request thread.
//!
//! # Layout
//!
//! - [`evaluate`]: evaluation on one snapshot.
//! - [`error`]: [`DecisionError`] and OPA's [`ErrorCode`]s.
//! - `regorus_error`: the one adapter from regorus's error text to OPA's codes.
//! - [`record`]: metrics and decision-log events.
//! - [`input`]: preparing input documents (a batch's common input).
//! - [`identity`]: the identity step (verified credentials in `input.identity`).
//! - [`self_check`]: re-checking a sample of fast-path decisions on the interpreter.

pub mod error;
pub mod evaluate;
pub mod identity;
pub mod input;
pub mod record;
mod regorus_error;
pub mod self_check;

use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::Guard;
use regorus::Value;

pub use error::{DecisionError, ErrorCode, EvalError, Location};
pub use evaluate::{DecideOptions, Decision, Document, Evaluator, evaluate, evaluate_path};
pub use record::Recorder;

use crate::decision_id::DecisionId;
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
}

impl Decider {
    pub fn new(store: Arc<PolicyStore>, recorder: Recorder) -> Self {
        Self {
            store,
            recorder,
            before: Vec::new(),
            after: Vec::new(),
        }
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

    /// One snapshot for a request (a batch decides all its items in one session).
    pub fn session(&self) -> Session<'_> {
        Session {
            decider: self,
            snapshot: self.store.load(),
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
        let outcome = evaluate_path(
            &self.snapshot,
            request.path,
            &request.input,
            request.options,
        )
        .and_then(|decision| match request.check_result {
            Some(check) if decision.is_defined() => match check(&decision.result) {
                Ok(()) => Ok(decision),
                Err(message) => Err(EvalError::new(ErrorCode::EvalType, message).into()),
            },
            _ => Ok(decision),
        });
        let decided = Decided {
            decision_id: DecisionId::new(),
            outcome,
            eval: started.elapsed(),
        };
        decider.recorder.record(&self.snapshot, &request, &decided);
        for step in &decider.after {
            step.after(&self.snapshot, &request, &decided);
        }
        decided
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
