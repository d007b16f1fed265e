//! What happens after every decision, whichever API made it: the metrics and the decision log.
//!
//! Owns: one place that turns a decision into its outcome counter, its evaluation-time sample
//! and (when decision logging is on) its audit event, so HTTP, gRPC and Envoy cannot drift
//! apart.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use regorus::Value;

use crate::decide::EvalError;
use crate::decision_id::DecisionId;
use crate::decision_log::{DecisionEvent, DecisionLogger};
use crate::metrics::{ApiKind, Metrics, Outcome};
use crate::policy::Snapshot;

/// Shared by every API.
#[derive(Clone)]
pub struct Audit {
    pub metrics: Arc<Metrics>,
    /// `None` when decision logging is off: then recording costs two atomic increments.
    pub log: Option<DecisionLogger>,
}

/// One decision, as the API saw it.
pub struct Record<'a> {
    pub api: ApiKind,
    pub decision_id: DecisionId,
    /// The data path, slash form.
    pub path: &'a str,
    pub input: &'a Value,
    pub outcome: Result<&'a Value, &'a EvalError>,
    pub snapshot: &'a Snapshot,
    pub peer: Option<&'a Arc<str>>,
    pub eval: Duration,
}

impl Audit {
    pub fn record(&self, record: Record<'_>) {
        let outcome = match record.outcome {
            Ok(result) => Outcome::of(result),
            Err(_) => Outcome::Error,
        };
        self.metrics.decision(record.api, outcome, record.eval);
        let Some(log) = &self.log else {
            return;
        };
        let (result, error) = match record.outcome {
            Ok(result) => (result.clone(), None),
            Err(EvalError::Eval { code, message, .. }) => {
                (Value::Undefined, Some((*code, message.clone())))
            }
            Err(e @ EvalError::Path(_)) => {
                (Value::Undefined, Some(("invalid_parameter", e.to_string())))
            }
        };
        log.log(DecisionEvent {
            decision_id: record.decision_id,
            timestamp: SystemTime::now(),
            api: record.api,
            path: record.path.trim_start_matches('/').to_string(),
            input: record.input.clone(),
            result,
            error,
            bundles: record.snapshot.bundles.clone(),
            requested_by: record.peer.cloned(),
            eval_ns: record.eval.as_nanos() as u64,
        });
    }
}
