//! HTTP: OPA's REST Data API (`/v1/data`, `/v0/data`, `POST /`), the batch API, health,
//! status and metrics.
//!
//! Owns: the routes and the state they share. Decoding, responses and the one error mapper
//! live in the submodules.

mod batch;
mod body;
mod data;
pub mod error;
mod health;
mod params;
pub mod response;
mod status;

mod observe;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::audit::Audit;
use crate::decision_log::SinkStatus;
use crate::store::PolicyStore;

/// What every HTTP handler shares.
pub struct Api {
    pub store: Arc<PolicyStore>,
    /// Bundle status, for `/v1/status` and `/health`.
    pub status: crate::reload::StatusTable,
    /// Path evaluated by `POST /`, slash form (`/system/main`).
    pub default_decision: String,
    pub max_request_bytes: usize,
    /// Metrics and decision log, after every decision.
    pub audit: Audit,
    /// Renders `/metrics`; `None` when another recorder owns the process (embedding).
    pub prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The decision log's sink state, for `/v1/status`.
    pub decision_log: Option<SinkStatus>,
    /// One log line per HTTP request (off by default).
    pub log_requests: bool,
}

/// A decision an HTTP handler made, with what was recorded about it.
pub(crate) struct Decided {
    pub id: crate::decision_id::DecisionId,
    pub eval: std::time::Duration,
    pub outcome: Result<crate::decide::Decision, crate::decide::EvalError>,
}

impl Api {
    /// Runs `evaluate`, timing it, and records the decision (metrics, decision log).
    pub(crate) fn decide_and_record(
        &self,
        snapshot: &crate::policy::Snapshot,
        path: &str,
        input: &regorus::Value,
        peer: Option<&Arc<str>>,
        evaluate: impl FnOnce() -> Result<crate::decide::Decision, crate::decide::EvalError>,
    ) -> Decided {
        let started = std::time::Instant::now();
        let outcome = evaluate();
        let eval = started.elapsed();
        let id = crate::decision_id::DecisionId::new();
        self.audit.record(crate::audit::Record {
            api: crate::metrics::ApiKind::Http,
            decision_id: id,
            path,
            input,
            outcome: outcome.as_ref().map(|d| &d.result),
            snapshot,
            peer,
            eval,
        });
        Decided { id, eval, outcome }
    }
}

/// The diagnostic routes only (`--diagnostic-addr`): `/health` and `/metrics`.
pub fn diagnostic_router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(observe::metrics))
        .fallback(health::not_found)
        .with_state(api)
}

/// The HTTP routes. Wrong methods on a known route get OPA's bare 405.
pub fn router(api: Arc<Api>) -> Router {
    Router::new()
        .route("/v1/data", get(data::v1_get).post(data::v1_post))
        .route("/v1/data/{*path}", get(data::v1_get).post(data::v1_post))
        .route("/v1/batch/data", post(batch::batch_post))
        .route("/v1/batch/data/{*path}", post(batch::batch_post))
        .route("/v0/data", post(data::v0_post))
        .route("/v0/data/{*path}", post(data::v0_post))
        .route("/", post(data::default_decision_post))
        .route("/health", get(health::health))
        .route("/v1/status", get(status::status))
        .route("/metrics", get(observe::metrics))
        .fallback(health::not_found)
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            observe::track,
        ))
        .with_state(api)
}
