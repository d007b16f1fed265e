//! OPA's Data API handlers: `GET`/`POST /v1/data/{path}`, `POST /v0/data/{path}`, `POST /`.
//!
//! Owns: the request flow of a decision over HTTP: read and parse the body once, hand one
//! decision request to the pipeline, write the response once.

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
use crate::decide::{DecideOptions, DecisionError, DecisionRequest, Document, Session};
use crate::metrics::ApiKind;
use crate::policy::{DataPath, to_ref};

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
    let parse_ns = parsed.as_nanos() as u64;
    let session = match api.decider.admitted_session(ApiKind::Http).await {
        Ok(session) => session,
        Err(e) => return ApiError::from(DecisionError::from(e)).into_response(),
    };
    respond_v1(
        &api, &session, &parts, input, &params, started, parse_ns, false,
    )
}

/// `POST /v1/data/{path}` with `{"input": ...}`.
pub async fn v1_post(State(api): State<Arc<Api>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let params = DataParams::parse(parts.uri.query());
    let bytes = match read_body(&parts, body, api.max_request_bytes).await {
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
    let session = match api.decider.admitted_session(ApiKind::Http).await {
        Ok(session) => session,
        Err(e) => return ApiError::from(DecisionError::from(e)).into_response(),
    };
    respond_v1(
        &api, &session, &parts, input, &params, started, parse_ns, warn,
    )
}

#[allow(clippy::too_many_arguments)]
fn respond_v1(
    api: &Api,
    session: &Session<'_>,
    parts: &Parts,
    input: Option<Value>,
    params: &DataParams,
    started: Instant,
    parse_ns: u64,
    warn_missing_input: bool,
) -> Response {
    let raw_path = parts.uri.path().strip_prefix("/v1/data").unwrap_or("");
    let request = decision_request(api, parts, raw_path, input.unwrap_or(Value::Undefined))
        .with_options(DecideOptions {
            strict_builtin_errors: params.strict_builtin_errors,
            ..DecideOptions::default()
        });
    let decided = session.decide(request);
    let decision = match decided.outcome {
        Ok(decision) => decision,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let body = DataResponse {
        provenance: params
            .provenance
            .then(|| Provenance::of(session.snapshot())),
        metrics: params.metrics.then(|| Timers {
            timer_rego_input_parse_ns: parse_ns,
            timer_rego_query_eval_ns: decided.eval.as_nanos() as u64,
            timer_server_handler_ns: started.elapsed().as_nanos() as u64,
        }),
        result: &decision.result,
        warning: warn_missing_input.then_some(&Warning::INPUT_MISSING),
        decision_id: decided.decision_id.as_str(),
    };
    json_ok(&body, params.pretty)
}

/// A decision request for the document at `raw_path` (below `/v1/data` or `/v0/data`).
pub(super) fn decision_request<'a>(
    api: &Api,
    parts: &Parts,
    raw_path: &'a str,
    input: Value,
) -> DecisionRequest<'a> {
    let mut request = DecisionRequest::new(ApiKind::Http, DataPath::Url(raw_path), input);
    if api.decider.wants_peer() {
        request.peer = peer(parts);
    }
    request
}

/// The peer of the connection a request came on: its TCP address, or its Unix credentials.
fn peer(parts: &Parts) -> Option<Arc<str>> {
    use axum::extract::ConnectInfo;
    if let Some(ConnectInfo(Peer(peer))) = parts.extensions.get::<ConnectInfo<Peer>>() {
        return Some(peer.clone());
    }
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ConnectInfo(addr)| Arc::from(addr.to_string()))
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
        let bytes = read_body(&parts, body, api.max_request_bytes).await?;
        let input = raw_input(&bytes, is_yaml(&parts.headers))?;
        let session = api
            .decider
            .admitted_session(ApiKind::Http)
            .await
            .map_err(DecisionError::from)?;
        let decision = session
            .decide(decision_request(api, &parts, raw_path, input))
            .outcome?;
        if !decision.is_defined() {
            let kind = match decision.document {
                Document::Rule => "document undefined",
                Document::Namespace | Document::Data => "document missing",
            };
            let segments = DataPath::Url(raw_path).segments().unwrap_or_default();
            return Err(ApiError::UndefinedDocument(format!(
                "{kind}: {}",
                to_ref(&segments)
            )));
        }
        Ok(json_ok(
            &crate::value_json::Exact(&decision.result),
            params.pretty,
        ))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
