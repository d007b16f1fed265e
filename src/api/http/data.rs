//! OPA's Data API handlers: `GET`/`POST /v1/data/{path}`, `POST /v0/data/{path}`, `POST /`.
//!
//! Owns: the request flow of a decision over HTTP: read and parse the body once, take one
//! snapshot, decide on this worker thread, write the response once.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use regorus::Value;

use super::Api;
use super::body::{is_yaml, query_input, raw_input, read_body, v1_input};
use super::error::ApiError;
use super::params::DataParams;
use super::response::{DataResponse, Provenance, Timers, Warning, json_ok};
use crate::api::listener::Peer;
use crate::decide::{DecideOptions, decide};
use crate::policy::{split_path, to_ref};

/// `GET /v1/data/{path}?input=...`
pub async fn v1_get(State(api): State<Arc<Api>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, _) = request.into_parts();
    let params = DataParams::parse(parts.uri.query());
    let input = match params.input.as_deref().map(query_input).transpose() {
        Ok(input) => input,
        Err(e) => return e.into_response(),
    };
    let parsed = started.elapsed();
    respond_v1(
        &api,
        &parts,
        input,
        &params,
        started,
        parsed.as_nanos() as u64,
        false,
    )
}

/// `POST /v1/data/{path}` with `{"input": ...}`.
pub async fn v1_post(State(api): State<Arc<Api>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let params = DataParams::parse(parts.uri.query());
    let bytes = match read_body(&parts.headers, body, api.max_request_bytes).await {
        Ok(bytes) => bytes,
        Err(e) => return e.into_response(),
    };
    let parse_started = Instant::now();
    let input = match v1_input(&bytes, is_yaml(&parts.headers)) {
        Ok(input) => input,
        Err(e) => return e.into_response(),
    };
    let parse_ns = parse_started.elapsed().as_nanos() as u64;
    let warn = input.is_none();
    respond_v1(&api, &parts, input, &params, started, parse_ns, warn)
}

fn respond_v1(
    api: &Api,
    parts: &Parts,
    input: Option<Value>,
    params: &DataParams,
    started: Instant,
    parse_ns: u64,
    warn_missing_input: bool,
) -> Response {
    let raw_path = parts.uri.path().strip_prefix("/v1/data").unwrap_or("");
    let input = input.unwrap_or(Value::Undefined);
    let snapshot = api.store.load();
    tracing::trace!(path = raw_path, "evaluating");
    let options = DecideOptions {
        strict_builtin_errors: params.strict_builtin_errors,
    };
    let decided = api.decide_and_record(&snapshot, raw_path, &input, peer(parts).as_ref(), || {
        decide(&snapshot, raw_path, &input, options)
    });
    let (decision_id, eval) = (decided.id, decided.eval);
    let decision = match decided.outcome {
        Ok(decision) => decision,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = DataResponse {
        provenance: params.provenance.then(|| Provenance::of(&snapshot)),
        metrics: params.metrics.then(|| Timers {
            timer_rego_input_parse_ns: parse_ns,
            timer_rego_query_eval_ns: eval.as_nanos() as u64,
            timer_server_handler_ns: started.elapsed().as_nanos() as u64,
        }),
        result: &decision.result,
        warning: warn_missing_input.then_some(&Warning::INPUT_MISSING),
        decision_id: decision_id.as_str(),
    };
    json_ok(&body, params.pretty)
}

/// The peer of the connection a request came on: its TCP address, or its Unix credentials.
pub(super) fn peer(parts: &Parts) -> Option<std::sync::Arc<str>> {
    use axum::extract::ConnectInfo;
    if let Some(ConnectInfo(Peer(peer))) = parts.extensions.get::<ConnectInfo<Peer>>() {
        return Some(peer.clone());
    }
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| std::sync::Arc::from(addr.to_string()))
}

/// `POST /v0/data/{path}`: the body is the input, the reply is the bare value.
pub async fn v0_post(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let raw_path = parts
        .uri
        .path()
        .strip_prefix("/v0/data")
        .unwrap_or("")
        .to_string();
    v0(&api, parts, body, &raw_path).await
}

/// `POST /`: the default decision (`--default-decision`, OPA's `/system/main`), v0 semantics.
pub async fn default_decision_post(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = api.default_decision.clone();
    v0(&api, parts, body, &path).await
}

async fn v0(api: &Api, parts: Parts, body: axum::body::Body, raw_path: &str) -> Response {
    let params = DataParams::parse(parts.uri.query());
    let result = async {
        let bytes = read_body(&parts.headers, body, api.max_request_bytes).await?;
        let input = raw_input(&bytes, is_yaml(&parts.headers))?;
        let snapshot = api.store.load();
        let decision = api
            .decide_and_record(&snapshot, raw_path, &input, peer(&parts).as_ref(), || {
                decide(&snapshot, raw_path, &input, DecideOptions::default())
            })
            .outcome?;
        if !decision.is_defined() {
            let segments = split_path(raw_path).map_err(crate::decide::EvalError::from)?;
            let kind = if snapshot.has_rules_for(&segments) {
                "document undefined"
            } else {
                "document missing"
            };
            return Err(ApiError::UndefinedDocument(format!(
                "{kind}: {}",
                to_ref(&segments)
            )));
        }
        Ok(json_ok(&decision.result, params.pretty))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
