//! `GET /v1/status`: OPA's status shape, with each bundle's active revision, last activation,
//! last download and last error, the decision log's sink state, and shadow evaluation.
//!
//! Owns: presenting [`crate::reload::StatusTable`] over HTTP. Read-only; not on the decision
//! path.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde::Serialize;

use super::Api;
use super::params::DataParams;
use super::response::json_response;
use crate::build_info as build;
use crate::reload::{BundleStatus, status::BundleStatusView};

#[derive(Serialize)]
struct StatusResponse<'a> {
    result: StatusResult<'a>,
}

#[derive(Serialize)]
struct StatusResult<'a> {
    labels: BTreeMap<&'static str, &'static str>,
    bundles: BTreeMap<&'a str, BundleStatusView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision_logs: Option<crate::decision_log::SinkState>,
    /// The shadow bundles' status and how their answers compared (authzd's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<serde_json::Value>,
    plugins: BTreeMap<&'static str, PluginState>,
}

#[derive(Serialize)]
pub struct PluginState {
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// OPA's plugin state for the bundles: `NOT_READY` until each has activated once, `ERROR` while
/// any last attempt failed, `OK` otherwise.
pub fn bundle_plugin_state(statuses: &[BundleStatus]) -> PluginState {
    if !statuses.iter().all(BundleStatus::is_active) {
        return PluginState {
            state: "NOT_READY",
            message: statuses
                .iter()
                .find_map(|s| s.error.clone())
                .or_else(|| Some("waiting for every bundle to activate".into())),
        };
    }
    match statuses
        .iter()
        .find_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.name)))
    {
        Some(message) => PluginState {
            state: "ERROR",
            message: Some(message),
        },
        None => PluginState {
            state: "OK",
            message: None,
        },
    }
}

/// `GET /v1/status[?pretty]`
pub async fn status(State(api): State<Arc<Api>>, uri: Uri) -> Response {
    let params = DataParams::parse(uri.query());
    let statuses = api.status.snapshot();
    let body = StatusResponse {
        result: StatusResult {
            labels: BTreeMap::from([
                ("id", crate::decision_id::instance_id()),
                ("version", build::VERSION),
            ]),
            bundles: statuses
                .iter()
                .map(|s| (s.name.as_str(), s.view()))
                .collect(),
            decision_logs: api.decision_log.as_ref().map(|d| d.snapshot()),
            shadow: api.shadow.as_ref().map(|s| s.json()),
            plugins: BTreeMap::from([("bundle", bundle_plugin_state(&statuses))]),
        },
    };
    json_response(StatusCode::OK, &body, params.pretty)
}
