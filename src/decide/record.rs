//! The record step: what follows every decision, whichever API made it.
//!
//! Owns: turning one decision into its outcome counter, its evaluation-time sample and (when
//! decision logging is on) its audit event. It never blocks: the event goes to a bounded
//! queue, and a full queue drops and counts it.

use std::sync::Arc;
use std::time::SystemTime;

use regorus::Value;

use super::{Decided, DecisionRequest};
use crate::decision_log::{DecisionEvent, DecisionLogger};
use crate::metrics::{Metrics, Outcome};
use crate::policy::Snapshot;

/// Where decisions are recorded.
#[derive(Clone)]
pub struct Recorder {
    pub metrics: Arc<Metrics>,
    /// `None` when decision logging is off: then recording costs two atomic increments.
    pub log: Option<DecisionLogger>,
}

impl Recorder {
    /// Counts `decided` and, when decision logging is on, queues its event.
    pub fn record(&self, snapshot: &Snapshot, request: &DecisionRequest<'_>, decided: &Decided) {
        let outcome = match &decided.outcome {
            Ok(decision) => Outcome::of(&decision.result),
            Err(_) => Outcome::Error,
        };
        self.metrics.decision(request.api, outcome, decided.eval);
        let Some(log) = &self.log else {
            return;
        };
        let (result, error) = match &decided.outcome {
            Ok(decision) => (decision.result.clone(), None),
            Err(e) => (Value::Undefined, Some((e.code(), e.message()))),
        };
        log.log(DecisionEvent {
            decision_id: decided.decision_id,
            timestamp: SystemTime::now(),
            api: request.api,
            path: request.path.display().to_string(),
            input: request.input.clone(),
            result,
            error,
            bundles: snapshot.bundles.clone(),
            requested_by: request.peer.clone(),
            eval_ns: decided.eval.as_nanos() as u64,
            shadow: None,
        });
    }
}
