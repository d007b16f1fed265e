//! `GET /v1/status`: OPA's status shape, with each bundle's active revision, last activation,
//! last download and last error, and the decision log's sink state.
//!
//! Owns: presenting [`crate::reload::StatusTable`] over HTTP, with each bundle's rules and the
//! evaluator each one runs on (`bundles.NAME.rules`). Read-only; not on the decision path.

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
    bundles: BTreeMap<&'a str, BundleWithRules<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision_logs: Option<crate::decision_log::SinkState>,
    plugins: BTreeMap<&'static str, PluginState>,
}

/// A bundle's status, and where each of its rules runs.
#[derive(Serialize)]
struct BundleWithRules<'a> {
    #[serde(flatten)]
    status: BundleStatusView<'a>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    rules: BTreeMap<&'a str, RuleView<'a>>,
}

#[derive(Serialize)]
struct RuleView<'a> {
    evaluator: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
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
    let snapshot = api.decider.store().load();
    let mut rules: BTreeMap<&str, BTreeMap<&str, RuleView<'_>>> = BTreeMap::new();
    for rule in snapshot.rule_evaluators() {
        if let Some(bundle) = rule.bundle {
            rules.entry(bundle).or_default().insert(
                rule.rule,
                RuleView {
                    evaluator: rule.evaluator,
                    reason: rule.reason,
                },
            );
        }
    }
    let body = StatusResponse {
        result: StatusResult {
            labels: BTreeMap::from([
                ("id", crate::decision_id::instance_id()),
                ("version", build::VERSION),
            ]),
            bundles: statuses
                .iter()
                .map(|s| {
                    let view = BundleWithRules {
                        status: s.view(),
                        rules: rules.remove(s.name.as_str()).unwrap_or_default(),
                    };
                    (s.name.as_str(), view)
                })
                .collect(),
            decision_logs: api.decision_log.as_ref().map(|d| d.snapshot()),
            plugins: BTreeMap::from([("bundle", bundle_plugin_state(&statuses))]),
        },
    };
    json_response(StatusCode::OK, &body, params.pretty)
}
