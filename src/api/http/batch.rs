//! `POST /v1/batch/data/{path}`: many inputs for one path, OPA's batch API (as OPA's TypeScript
//! SDK `evaluateBatch` calls it).
//!
//! Owns: the batch request and response shapes: `inputs` keyed by id, `common_input` merged
//! into each, `responses` keyed by id, and 200 (all succeeded) / 207 (mixed, each item with
//! `http_status_code`) / 500 (all failed). Every item is decided on one snapshot.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use regorus::Value;
use serde::Serialize;

use super::Api;
use super::body::{document, is_yaml, read_body};
use super::error::ApiError;
use super::params::DataParams;
use super::response::json_response;
use crate::decide::input::merge_common;
use crate::decide::{DecideOptions, DecisionError, ErrorCode, Session};
use crate::decision_id::DecisionId;
use crate::metrics::ApiKind;
use crate::policy::DataPath;
use crate::value_json::exact;

/// `{"inputs": {ID: input, ...}, "common_input": input}`; a missing or null member is `None`.
struct BatchRequest {
    inputs: Option<BTreeMap<String, Value>>,
    common_input: Option<Value>,
}

impl BatchRequest {
    fn from_document(document: Value) -> Result<Self, String> {
        let members = match document {
            Value::Null => {
                return Ok(Self {
                    inputs: None,
                    common_input: None,
                });
            }
            Value::Object(members) => members,
            _ => return Err("the body must be an object with an \"inputs\" key".into()),
        };
        let member = |name: &str| {
            members
                .get(&Value::from(name))
                .filter(|v| **v != Value::Null)
                .cloned()
        };
        let inputs = match member("inputs") {
            None => None,
            Some(Value::Object(items)) => Some(
                items
                    .iter()
                    .map(|(id, input)| match id {
                        Value::String(id) => Ok((id.to_string(), input.clone())),
                        _ => Err("\"inputs\" keys must be strings".to_string()),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(_) => return Err("\"inputs\" must be an object of inputs by id".into()),
        };
        Ok(Self {
            inputs,
            common_input: member("common_input"),
        })
    }
}

#[derive(Serialize)]
struct Warning {
    code: &'static str,
    message: &'static str,
}

const INPUTS_MISSING: Warning = Warning {
    code: "api_usage_warning",
    message: "'inputs' key missing from the request",
};

#[derive(Serialize)]
struct BatchResponse<'a> {
    batch_decision_id: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    responses: BTreeMap<String, Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'a Warning>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Item {
    Decided {
        #[serde(skip_serializing_if = "is_undefined", serialize_with = "exact")]
        result: Value,
        decision_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        http_status_code: Option<&'static str>,
    },
    Failed {
        decision_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        http_status_code: Option<&'static str>,
        code: ErrorCode,
        message: String,
    },
}

fn is_undefined(value: &Value) -> bool {
    *value == Value::Undefined
}

/// `POST /v1/batch/data[/{path}]`
pub async fn batch_post(State(api): State<Arc<Api>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let params = DataParams::parse(parts.uri.query());
    let raw_path = parts
        .uri
        .path()
        .strip_prefix("/v1/batch/data")
        .unwrap_or("")
        .to_string();
    let result = async {
        let bytes = read_body(&parts, body, api.max_request_bytes).await?;
        let request: BatchRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
            BatchRequest {
                inputs: None,
                common_input: None,
            }
        } else {
            document(&bytes, is_yaml(&parts.headers))
                .and_then(BatchRequest::from_document)
                .map_err(|e| malformed(&e))?
        };
        // The whole batch takes one evaluation slot.
        let session = api
            .decider
            .admitted_session(ApiKind::Http)
            .await
            .map_err(DecisionError::from)?;
        respond(&api, &session, &parts, &raw_path, request, &params)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

fn malformed(error: &str) -> ApiError {
    ApiError::InvalidParameter(format!("body contains malformed input document: {error}"))
}

fn respond(
    api: &Api,
    session: &Session<'_>,
    parts: &axum::http::request::Parts,
    raw_path: &str,
    request: BatchRequest,
    params: &DataParams,
) -> Result<Response, ApiError> {
    let batch_id = DecisionId::new();
    if request.inputs.is_none() && request.common_input.is_none() {
        let body = BatchResponse {
            batch_decision_id: batch_id.as_str(),
            responses: BTreeMap::new(),
            warning: Some(&INPUTS_MISSING),
        };
        return Ok(json_response(StatusCode::OK, &body, params.pretty));
    }
    let inputs = request.inputs.unwrap_or_default();
    if inputs.is_empty() {
        // No item to report it on: a bad path still fails the request.
        DataPath::Url(raw_path)
            .segments()
            .map_err(DecisionError::from)?;
    }
    let common = request.common_input.unwrap_or(Value::Undefined);
    let options = DecideOptions {
        strict_builtin_errors: params.strict_builtin_errors,
        ..DecideOptions::default()
    };
    // One session for the whole batch: every item sees the same revisions, and the items share
    // one time budget and one result budget.
    let mut outcomes = Vec::with_capacity(inputs.len());
    for (id, input) in inputs {
        let input = merge_common(&common, input);
        let request =
            super::data::decision_request(api, parts, raw_path, input).with_options(options);
        let decided = session.decide(request);
        outcomes.push((id, decided.decision_id, decided.outcome));
    }
    // The path is the batch's: when it names nothing, every item failed on it.
    if let Some((_, _, Err(e @ DecisionError::InvalidPath(_)))) = outcomes.first() {
        return Err(ApiError::from(e.clone()));
    }
    let failed = outcomes.iter().filter(|(_, _, o)| o.is_err()).count();
    let (status, mark) = match failed {
        0 => (StatusCode::OK, false),
        n if n == outcomes.len() => (StatusCode::INTERNAL_SERVER_ERROR, false),
        _ => (StatusCode::MULTI_STATUS, true),
    };
    let responses = outcomes
        .into_iter()
        .map(|(id, decision_id, outcome)| {
            let decision_id = decision_id.to_string();
            let item = match outcome {
                Ok(decision) => Item::Decided {
                    result: decision.result,
                    decision_id,
                    http_status_code: mark.then_some("200"),
                },
                Err(error) => {
                    let error = ApiError::from(error);
                    Item::Failed {
                        decision_id,
                        http_status_code: mark.then_some("500"),
                        code: error.code(),
                        message: error.flat_message(),
                    }
                }
            };
            (id, item)
        })
        .collect();
    let body = BatchResponse {
        batch_decision_id: batch_id.as_str(),
        responses,
        warning: None,
    };
    Ok(json_response(status, &body, params.pretty))
}
