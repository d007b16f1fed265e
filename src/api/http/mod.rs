//! HTTP: OPA's REST Data API (`/v1/data`, `/v0/data`, `POST /`), the batch API, health,
//! status and metrics.
//!
//! Owns: the routes and the state they share. Decoding, responses and the one error mapper
//! live in the submodules.

mod batch;
pub(crate) mod body;
mod data;
pub mod error;
mod health;
mod observe;
pub(crate) mod params;
pub mod response;
mod status;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::decide::Decider;
use crate::decision_log::SinkStatus;

/// What every HTTP handler shares.
pub struct Api {
    /// The decision pipeline (and through it the store and the metrics).
    pub decider: Arc<Decider>,
    /// Bundle status, for `/v1/status` and `/health`.
    pub status: crate::reload::StatusTable,
    /// Path evaluated by `POST /`, slash form (`/system/main`).
    pub default_decision: String,
    pub max_request_bytes: usize,
    /// Renders `/metrics`; `None` when another recorder owns the process (embedding).
    pub prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The decision log's sink state, for `/v1/status`.
    pub decision_log: Option<SinkStatus>,
    /// Shadow evaluation's bundles and counters, for `/v1/status`.
    pub shadow: Option<crate::shadow::ShadowView>,
    /// One log line per HTTP request (off by default).
    pub log_requests: bool,
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
