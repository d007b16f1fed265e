//! `GET /health` (OPA's shape) and the not-found fallback.
//!
//! Owns: liveness (`200 {}` while serving, shutdown included) and readiness (`?bundles`: 200
//! only once every configured bundle has been activated; a latch, it never flaps back, until
//! shutdown begins: then 503, while decisions are still served).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Api;
use super::response::json_response;
use crate::reload::status::BundleStatusView;

#[derive(Serialize, Default)]
struct HealthBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    /// When unhealthy: each bundle's status, so the cause is one request away.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    bundles: BTreeMap<&'a str, BundleStatusView<'a>>,
}

/// `GET /health[?bundles][&plugins]`
pub async fn health(State(api): State<Arc<Api>>, uri: Uri) -> Response {
    let wants_bundles = uri.query().is_some_and(|q| {
        form_urlencoded::parse(q.as_bytes()).any(|(k, v)| {
            (k == "bundles" || k == "bundle") && (v.is_empty() || v.eq_ignore_ascii_case("true"))
        })
    });
    if wants_bundles && api.decider.store().is_lame_duck() {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &HealthBody {
                error: Some("shutting down"),
                ..HealthBody::default()
            },
            false,
        );
    }
    if wants_bundles && !api.decider.store().is_ready() {
        let statuses = api.status.snapshot();
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &HealthBody {
                error: Some("one or more bundles are not activated"),
                bundles: statuses
                    .iter()
                    .map(|s| (s.name.as_str(), s.view()))
                    .collect(),
            },
            false,
        );
    }
    json_response(StatusCode::OK, &HealthBody::default(), false)
}

/// Unknown routes: OPA's plain-text 404; a path with a trailing slash redirects without it.
pub async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    if path.len() > 1 && path.ends_with('/') {
        let target = path.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        if let Ok(location) = HeaderValue::from_str(target) {
            let mut response = StatusCode::MOVED_PERMANENTLY.into_response();
            response.headers_mut().insert(header::LOCATION, location);
            return response;
        }
    }
    let mut response = (StatusCode::NOT_FOUND, "404 page not found\n").into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
