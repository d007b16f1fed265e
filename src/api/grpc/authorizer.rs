//! `authzd.v1.Authorizer`: `Decide` and `DecideBatch` over gRPC.
//!
//! Owns: decoding gRPC requests into paths and inputs, and decisions and errors into messages
//! and gRPC statuses. Evaluation is [`crate::decide`], one snapshot per call.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use regorus::Value;
use tonic::{Request, Response, Status};

use super::convert::{from_proto, to_proto};
use super::pb;
use crate::decide::{DecideOptions, Decision, EvalError, decide, decide_target};
use crate::decision_id::DecisionId;
use crate::input::merge_common;
use crate::policy::Snapshot;

/// Serves `authzd.v1.Authorizer` from the policy store.
pub struct AuthorizerService {
    store: Arc<crate::store::PolicyStore>,
}

impl AuthorizerService {
    pub fn new(store: Arc<crate::store::PolicyStore>) -> Self {
        Self { store }
    }
}

/// Why one gRPC decision failed: the Status for `Decide`, the Error message for a batch item.
struct ItemError {
    code: String,
    message: String,
    location: Option<pb::Location>,
    status: tonic::Code,
}

impl ItemError {
    fn invalid(message: String) -> Self {
        Self {
            code: "invalid_parameter".into(),
            message,
            location: None,
            status: tonic::Code::InvalidArgument,
        }
    }

    fn into_status(self) -> Status {
        let location = self
            .location
            .map(|l| format!(" ({}:{}:{})", l.file, l.row, l.col))
            .unwrap_or_default();
        Status::new(
            self.status,
            format!("{}: {}{location}", self.code, self.message),
        )
    }

    fn into_message(self) -> pb::Error {
        pb::Error {
            code: self.code,
            message: self.message,
            location: self.location,
        }
    }
}

impl From<EvalError> for ItemError {
    fn from(error: EvalError) -> Self {
        match error {
            EvalError::Path(e) => Self::invalid(e.to_string()),
            EvalError::Eval {
                code,
                message,
                location,
            } => Self {
                code: code.to_string(),
                message,
                location: location.map(|l| pb::Location {
                    file: l.file,
                    row: l.row,
                    col: l.col,
                }),
                status: tonic::Code::Internal,
            },
        }
    }
}

fn input_from(
    json: Option<&Bytes>,
    value: Option<&prost_types::Value>,
) -> Result<Value, ItemError> {
    match (json, value) {
        (Some(json), _) if !json.is_empty() => serde_json::from_slice(json)
            .map_err(|e| ItemError::invalid(format!("input_json is not valid JSON: {e}"))),
        (_, Some(value)) => Ok(from_proto(value)),
        _ => Ok(Value::Undefined),
    }
}

fn request_input(input: &Option<pb::decide_request::Input>) -> Result<Value, ItemError> {
    match input {
        Some(pb::decide_request::Input::InputJson(json)) => input_from(Some(json), None),
        Some(pb::decide_request::Input::InputValue(value)) => input_from(None, Some(value)),
        None => Ok(Value::Undefined),
    }
}

fn item_input(input: &Option<pb::decide_item::Input>) -> Result<Value, ItemError> {
    match input {
        Some(pb::decide_item::Input::InputJson(json)) => input_from(Some(json), None),
        Some(pb::decide_item::Input::InputValue(value)) => input_from(None, Some(value)),
        None => Ok(Value::Undefined),
    }
}

/// Evaluates `path` (slash form, or `data.`-prefixed dotted form) on `snapshot`.
fn decide_path(
    snapshot: &Snapshot,
    path: &str,
    input: &Value,
    options: DecideOptions,
) -> Result<Decision, ItemError> {
    let trimmed = path.trim();
    if trimmed == "data" || trimmed.starts_with("data.") || trimmed.starts_with("data[") {
        let segments = crate::bundle::parse_ref(trimmed).map_err(ItemError::invalid)?;
        let target = snapshot.resolve_segments(segments);
        return Ok(decide_target(snapshot, target, input, options)?);
    }
    Ok(decide(snapshot, trimmed, input, options)?)
}

fn revisions(snapshot: &Snapshot) -> HashMap<String, String> {
    snapshot
        .bundles
        .iter()
        .map(|b| (b.name.clone(), b.revision.clone()))
        .collect()
}

fn decision_message(
    decision: Decision,
    want_value: bool,
    revisions: HashMap<String, String>,
) -> Result<pb::DecideResponse, ItemError> {
    let defined = decision.is_defined();
    let result_json = if defined {
        Bytes::from(serde_json::to_vec(&decision.result).map_err(|e| ItemError {
            code: "internal_error".into(),
            message: format!("cannot encode the result: {e}"),
            location: None,
            status: tonic::Code::Internal,
        })?)
    } else {
        Bytes::new()
    };
    Ok(pb::DecideResponse {
        defined,
        result_json,
        result_value: (want_value && defined).then(|| to_proto(&decision.result)),
        decision_id: DecisionId::new().to_string(),
        revisions,
    })
}

#[tonic::async_trait]
impl pb::authorizer_server::Authorizer for AuthorizerService {
    async fn decide(
        &self,
        request: Request<pb::DecideRequest>,
    ) -> Result<Response<pb::DecideResponse>, Status> {
        let request = request.into_inner();
        let input = request_input(&request.input).map_err(ItemError::into_status)?;
        let options = DecideOptions {
            strict_builtin_errors: request.strict_builtin_errors,
        };
        let snapshot = self.store.load();
        let decision = decide_path(&snapshot, &request.path, &input, options)
            .map_err(ItemError::into_status)?;
        decision_message(decision, request.want_value, revisions(&snapshot))
            .map(Response::new)
            .map_err(ItemError::into_status)
    }

    async fn decide_batch(
        &self,
        request: Request<pb::DecideBatchRequest>,
    ) -> Result<Response<pb::DecideBatchResponse>, Status> {
        let request = request.into_inner();
        let common = input_from(Some(&request.common_input_json), None).map_err(|e| {
            ItemError::invalid(format!("common_input_json: {}", e.message)).into_status()
        })?;
        let options = DecideOptions {
            strict_builtin_errors: request.strict_builtin_errors,
        };
        // One snapshot for the whole batch: every item sees the same revisions.
        let snapshot = self.store.load();
        let revisions = revisions(&snapshot);
        let results = request
            .items
            .iter()
            .map(|item| {
                let outcome = item_input(&item.input)
                    .map(|input| merge_common(&common, input))
                    .and_then(|input| {
                        let path = if item.path.is_empty() {
                            &request.path
                        } else {
                            &item.path
                        };
                        decide_path(&snapshot, path, &input, options)
                    })
                    .and_then(|d| decision_message(d, request.want_value, revisions.clone()));
                pb::DecideItemResult {
                    id: item.id.clone(),
                    outcome: Some(match outcome {
                        Ok(decision) => pb::decide_item_result::Outcome::Decision(decision),
                        Err(error) => pb::decide_item_result::Outcome::Error(error.into_message()),
                    }),
                }
            })
            .collect();
        Ok(Response::new(pb::DecideBatchResponse {
            results,
            batch_decision_id: DecisionId::new().to_string(),
            revisions,
        }))
    }
}
