//! HTTP observability: `GET /metrics`, the request-duration histogram, optional request logs.
//!
//! Owns: the middleware around every HTTP request (labels are route templates, never paths)
//! and rendering the Prometheus text.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Api;
use crate::metrics::HttpHandler;

/// Times every request into `http_request_duration_seconds{code,handler,method}`.
pub async fn track(State(api): State<Arc<Api>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let handler = HttpHandler::of(request.uri().path());
    let method = request.method().clone();
    let path = api.log_requests.then(|| request.uri().path().to_string());
    let response = next.run(request).await;
    let took = started.elapsed();
    let code = response.status().as_u16();
    if handler != HttpHandler::Metrics {
        api.decider
            .metrics()
            .http_request(handler, &method, code, took);
    }
    if let Some(path) = path {
        tracing::info!(
            method = %method,
            path = %path,
            status = code,
            duration_us = took.as_micros() as u64,
            "request"
        );
    }
    response
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(api): State<Arc<Api>>) -> Response {
    let Some(handle) = &api.prometheus else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are not enabled in this process\n",
        )
            .into_response();
    };
    let mut response = Response::new(Body::from(handle.render()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
