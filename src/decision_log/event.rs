//! One decision-log event: captured cheaply on the decision path, rendered as OPA's event JSON
//! on the log worker.
//!
//! Owns: what an event holds (the decision id, path, input and result, the error, the bundle
//! revisions, who asked, when, how long it took, and on a shadow event what the shadow
//! bundles answered) and its JSON shape.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use regorus::Value;
use serde_json::{Map, Value as Json, json};

use crate::decision_id::DecisionId;
use crate::metrics::ApiKind;
use crate::policy::BundleRevision;

/// A decision as the decision path hands it over. Every field is cheap to fill: values are
/// reference-counted, the revisions are the snapshot's shared list.
#[derive(Debug, Clone)]
pub struct DecisionEvent {
    pub decision_id: DecisionId,
    pub timestamp: SystemTime,
    pub api: ApiKind,
    /// The data path, slash-separated, without a leading slash (`orders/allow`).
    pub path: String,
    /// `Value::Undefined` when the request had no input.
    pub input: Value,
    /// `Value::Undefined` when the document was undefined.
    pub result: Value,
    /// OPA's error code and message, when the decision failed.
    pub error: Option<(crate::decide::ErrorCode, String)>,
    pub bundles: Arc<[BundleRevision]>,
    /// The peer: `127.0.0.1:41234`, or `unix:pid=..,uid=..`.
    pub requested_by: Option<Arc<str>>,
    pub eval_ns: u64,
    /// Set on the event shadow evaluation adds for a decision the shadow bundles answered
    /// differently (same decision id; `None` on every decision's own event).
    pub shadow: Option<ShadowAnswer>,
}

/// What the shadow bundles answered to a decision.
#[derive(Debug, Clone)]
pub struct ShadowAnswer {
    pub bundles: Arc<[BundleRevision]>,
    /// `Value::Undefined` when undefined or failed.
    pub result: Value,
    pub error: Option<(crate::decide::ErrorCode, String)>,
}

impl ShadowAnswer {
    /// `"shadow": {"revision", "bundles", "result" | "error"}`; `revision` is the shadow
    /// bundle's (comma-separated `name=revision` when there are several).
    fn json(&self) -> Json {
        let mut out = Map::new();
        let revision = match self.bundles.as_ref() {
            [one] => one.revision.clone(),
            many => many
                .iter()
                .map(|b| format!("{}={}", b.name, b.revision))
                .collect::<Vec<_>>()
                .join(","),
        };
        out.insert("revision".into(), Json::String(revision));
        let bundles: Map<String, Json> = self
            .bundles
            .iter()
            .map(|b| (b.name.clone(), json!({ "revision": b.revision })))
            .collect();
        out.insert("bundles".into(), Json::Object(bundles));
        if self.result != Value::Undefined
            && let Ok(result) = serde_json::to_value(&self.result)
        {
            out.insert("result".into(), result);
        }
        if let Some((code, message)) = &self.error {
            out.insert("error".into(), json!({ "code": code, "message": message }));
        }
        Json::Object(out)
    }
}

impl DecisionEvent {
    /// The event without `metrics` and `error`: what the drop and mask policies see (as in
    /// OPA).
    pub fn base_json(&self, labels: &BTreeMap<String, String>) -> Map<String, Json> {
        let mut event = Map::new();
        event.insert("labels".into(), json!(labels));
        event.insert(
            "decision_id".into(),
            Json::String(self.decision_id.to_string()),
        );
        let bundles: Map<String, Json> = self
            .bundles
            .iter()
            .map(|b| (b.name.clone(), json!({ "revision": b.revision })))
            .collect();
        if !bundles.is_empty() {
            event.insert("bundles".into(), Json::Object(bundles));
        }
        event.insert("path".into(), Json::String(self.path.clone()));
        if self.input != Value::Undefined
            && let Ok(input) = serde_json::to_value(&self.input)
        {
            event.insert("input".into(), input);
        }
        if self.result != Value::Undefined
            && let Ok(result) = serde_json::to_value(&self.result)
        {
            event.insert("result".into(), result);
        }
        if let Some(peer) = &self.requested_by {
            event.insert("requested_by".into(), Json::String(peer.to_string()));
        }
        let timestamp = chrono::DateTime::<chrono::Utc>::from(self.timestamp);
        event.insert(
            "timestamp".into(),
            Json::String(timestamp.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
        );
        event.insert("api".into(), Json::String(self.api.as_str().into()));
        event
    }

    /// Adds what the policies do not see: the error, the metrics and the shadow answer.
    pub fn finish(&self, event: &mut Map<String, Json>) {
        if let Some((code, message)) = &self.error {
            event.insert("error".into(), json!({ "code": code, "message": message }));
        }
        if let Some(shadow) = &self.shadow {
            event.insert("shadow".into(), shadow.json());
        }
        event.insert(
            "metrics".into(),
            json!({ "timer_rego_query_eval_ns": self.eval_ns }),
        );
    }
}
