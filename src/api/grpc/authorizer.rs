//! `authzd.v1.Authorizer`: `Decide` and `DecideBatch` over gRPC.
//!
//! Owns: decoding gRPC requests into paths and inputs, and decisions and errors into messages
//! and gRPC statuses. Evaluation is [`crate::decide`], one snapshot per call.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use regorus::Value;
use tonic::{Request, Response, Status};

use super::convert::{from_proto, to_proto};
use super::pb;
use crate::api::listener::grpc_peer as peer;
use crate::audit::{Audit, Record};
use crate::decide::{DecideOptions, Decision, EvalError, decide, decide_target};
use crate::decision_id::DecisionId;
use crate::input::merge_common;
use crate::metrics::ApiKind;
use crate::policy::Snapshot;

const DECIDE: &str = "/authzd.v1.Authorizer/Decide";
const DECIDE_BATCH: &str = "/authzd.v1.Authorizer/DecideBatch";

/// Serves `authzd.v1.Authorizer` from the policy store.
pub struct AuthorizerService {
    store: Arc<crate::store::PolicyStore>,
    audit: Audit,
}

impl AuthorizerService {
    pub fn new(store: Arc<crate::store::PolicyStore>, audit: Audit) -> Self {
        Self { store, audit }
    }

    /// Decides one item on `snapshot` and records it.
    fn decide_one(
        &self,
        snapshot: &Snapshot,
        path: &str,
        input: &Value,
        options: DecideOptions,
        peer: Option<&Arc<str>>,
    ) -> (DecisionId, Result<Decision, ItemError>) {
        let started = Instant::now();
        let outcome = decide_path(snapshot, path, input, options);
        let decision_id = DecisionId::new();
        let recorded = match &outcome {
            Ok(d) => Some(Ok(&d.result)),
            Err(ItemError { eval: Some(e), .. }) => Some(Err(e.as_ref())),
            Err(_) => None,
        };
        if let Some(recorded) = recorded {
            self.audit.record(Record {
                api: ApiKind::Grpc,
                decision_id,
                path,
                input,
                outcome: recorded,
                snapshot,
                peer,
                eval: started.elapsed(),
            });
        }
        (decision_id, outcome)
    }
}

/// Why one gRPC decision failed: the Status for `Decide`, the Error message for a batch item.
struct ItemError {
    code: String,
    message: String,
    location: Option<pb::Location>,
    status: tonic::Code,
    /// The evaluation error behind it, for the decision log.
    eval: Option<Box<EvalError>>,
}

impl ItemError {
    fn invalid(message: String) -> Self {
        Self {
            code: "invalid_parameter".into(),
            message,
            location: None,
            status: tonic::Code::InvalidArgument,
            eval: None,
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
        match &error {
            EvalError::Path(e) => Self {
                eval: Some(Box::new(error.clone())),
                ..Self::invalid(e.to_string())
            },
            EvalError::Eval {
                code,
                message,
                location,
            } => Self {
                code: code.to_string(),
                message: message.clone(),
                location: location.as_ref().map(|l| pb::Location {
                    file: l.file.clone(),
                    row: l.row,
                    col: l.col,
                }),
                status: tonic::Code::Internal,
                eval: Some(Box::new(error)),
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
    decision_id: DecisionId,
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
            eval: None,
        })?)
    } else {
        Bytes::new()
    };
    Ok(pb::DecideResponse {
        defined,
        result_json,
        result_value: (want_value && defined).then(|| to_proto(&decision.result)),
        decision_id: decision_id.to_string(),
        revisions,
    })
}

#[tonic::async_trait]
impl pb::authorizer_server::Authorizer for AuthorizerService {
    async fn decide(
        &self,
        request: Request<pb::DecideRequest>,
    ) -> Result<Response<pb::DecideResponse>, Status> {
        let started = Instant::now();
        let peer = self.audit.log.as_ref().and_then(|_| peer(&request));
        let request = request.into_inner();
        let result = (|| {
            let input = request_input(&request.input)?;
            let options = DecideOptions {
                strict_builtin_errors: request.strict_builtin_errors,
            };
            let snapshot = self.store.load();
            let (decision_id, decision) =
                self.decide_one(&snapshot, &request.path, &input, options, peer.as_ref());
            decision_message(
                decision_id,
                decision?,
                request.want_value,
                revisions(&snapshot),
            )
        })()
        .map(Response::new)
        .map_err(ItemError::into_status);
        let code = result
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        self.audit
            .metrics
            .grpc_request(DECIDE, code, started.elapsed());
        result
    }

    async fn decide_batch(
        &self,
        request: Request<pb::DecideBatchRequest>,
    ) -> Result<Response<pb::DecideBatchResponse>, Status> {
        let started = Instant::now();
        let peer = self.audit.log.as_ref().and_then(|_| peer(&request));
        let request = request.into_inner();
        let result = self.batch(&request, peer.as_ref());
        let code = result
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        self.audit
            .metrics
            .grpc_request(DECIDE_BATCH, code, started.elapsed());
        result.map(Response::new)
    }
}

impl AuthorizerService {
    fn batch(
        &self,
        request: &pb::DecideBatchRequest,
        peer: Option<&Arc<str>>,
    ) -> Result<pb::DecideBatchResponse, Status> {
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
                let path = if item.path.is_empty() {
                    &request.path
                } else {
                    &item.path
                };
                let outcome = item_input(&item.input)
                    .map(|input| merge_common(&common, input))
                    .and_then(|input| {
                        let (id, decision) =
                            self.decide_one(&snapshot, path, &input, options, peer);
                        decision.and_then(|d| {
                            decision_message(id, d, request.want_value, revisions.clone())
                        })
                    });
                pb::DecideItemResult {
                    id: item.id.clone(),
                    outcome: Some(match outcome {
                        Ok(decision) => pb::decide_item_result::Outcome::Decision(decision),
                        Err(error) => pb::decide_item_result::Outcome::Error(error.into_message()),
                    }),
                }
            })
            .collect();
        Ok(pb::DecideBatchResponse {
            results,
            batch_decision_id: DecisionId::new().to_string(),
            revisions,
        })
    }
}
