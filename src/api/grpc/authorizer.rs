//! `authzd.v1.Authorizer`: `Decide` and `DecideBatch` over gRPC.
//!
//! Owns: decoding gRPC requests into decision requests and encoding decisions into messages.
//! Deciding is the pipeline's; errors become statuses in [`super::error`].

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use regorus::Value;
use tonic::{Request, Response, Status};

use super::error::GrpcError;
use super::pb;
use crate::api::listener::grpc_peer;
use crate::api::protobuf::{from_proto, to_proto};
use crate::decide::input::merge_common;
use crate::decide::{DecideOptions, Decided, Decider, DecisionError, DecisionRequest, Session};
use crate::decision_id::DecisionId;
use crate::metrics::ApiKind;
use crate::policy::{DataPath, Snapshot};
use crate::value_json::{self, Exact};

/// Serves `authzd.v1.Authorizer` through the decision pipeline.
pub struct AuthorizerService {
    decider: Arc<Decider>,
}

impl AuthorizerService {
    pub fn new(decider: Arc<Decider>) -> Self {
        Self { decider }
    }

    fn peer<T>(&self, request: &Request<T>) -> Option<Arc<str>> {
        self.decider
            .wants_peer()
            .then(|| grpc_peer(request))
            .flatten()
    }
}

/// An input given as JSON text or as a protobuf value; neither is an undefined input.
fn input_from(
    json: Option<&Bytes>,
    value: Option<&prost_types::Value>,
) -> Result<Value, GrpcError> {
    match (json, value) {
        (Some(json), _) if !json.is_empty() => value_json::parse(json)
            .map_err(|e| GrpcError::Decode(format!("input_json is not valid JSON: {e}"))),
        (_, Some(value)) => {
            from_proto(value).map_err(|e| GrpcError::Decode(format!("input_value: {e}")))
        }
        _ => Ok(Value::Undefined),
    }
}

fn request_input(input: &Option<pb::decide_request::Input>) -> Result<Value, GrpcError> {
    match input {
        Some(pb::decide_request::Input::InputJson(json)) => input_from(Some(json), None),
        Some(pb::decide_request::Input::InputValue(value)) => input_from(None, Some(value)),
        None => Ok(Value::Undefined),
    }
}

fn item_input(input: &Option<pb::decide_item::Input>) -> Result<Value, GrpcError> {
    match input {
        Some(pb::decide_item::Input::InputJson(json)) => input_from(Some(json), None),
        Some(pb::decide_item::Input::InputValue(value)) => input_from(None, Some(value)),
        None => Ok(Value::Undefined),
    }
}

fn revisions(snapshot: &Snapshot) -> HashMap<String, String> {
    snapshot
        .bundles
        .iter()
        .map(|b| (b.name.clone(), b.revision.clone()))
        .collect()
}

/// Decides one item on `session` (paths in slash form or as `data.`-refs).
fn decide(
    session: &Session<'_>,
    path: &str,
    input: Value,
    options: DecideOptions,
    peer: Option<Arc<str>>,
) -> Decided {
    let mut request =
        DecisionRequest::new(ApiKind::Grpc, DataPath::Text(path), input).with_options(options);
    request.peer = peer;
    session.decide(request)
}

fn decision_message(
    decided: Decided,
    want_value: bool,
    revisions: HashMap<String, String>,
) -> Result<pb::DecideResponse, GrpcError> {
    let decision = decided.outcome?;
    let defined = decision.is_defined();
    let result_json = if defined {
        Bytes::from(
            serde_json::to_vec(&Exact(&decision.result))
                .map_err(|e| GrpcError::Encode(e.to_string()))?,
        )
    } else {
        Bytes::new()
    };
    Ok(pb::DecideResponse {
        defined,
        result_json,
        result_value: (want_value && defined).then(|| to_proto(&decision.result)),
        decision_id: decided.decision_id.to_string(),
        revisions,
    })
}

#[tonic::async_trait]
impl pb::authorizer_server::Authorizer for AuthorizerService {
    async fn decide(
        &self,
        request: Request<pb::DecideRequest>,
    ) -> Result<Response<pb::DecideResponse>, Status> {
        let peer = self.peer(&request);
        let request = request.into_inner();
        let input = request_input(&request.input).map_err(GrpcError::into_status)?;
        let options = DecideOptions {
            strict_builtin_errors: request.strict_builtin_errors,
            ..DecideOptions::default()
        };
        let session = self
            .decider
            .admitted_session(ApiKind::Grpc)
            .await
            .map_err(|e| GrpcError::from(DecisionError::from(e)).into_status())?;
        let decided = decide(&session, &request.path, input, options, peer);
        decision_message(decided, request.want_value, revisions(session.snapshot()))
            .map(Response::new)
            .map_err(GrpcError::into_status)
    }

    async fn decide_batch(
        &self,
        request: Request<pb::DecideBatchRequest>,
    ) -> Result<Response<pb::DecideBatchResponse>, Status> {
        let peer = self.peer(&request);
        let request = request.into_inner();
        let common = input_from(Some(&request.common_input_json), None)
            .map_err(|e| GrpcError::Decode(format!("common_input_json: {e}")).into_status())?;
        let options = DecideOptions {
            strict_builtin_errors: request.strict_builtin_errors,
            ..DecideOptions::default()
        };
        // One session for the whole batch: every item sees the same revisions, and the batch
        // takes one evaluation slot and one time and result budget.
        let session = self
            .decider
            .admitted_session(ApiKind::Grpc)
            .await
            .map_err(|e| GrpcError::from(DecisionError::from(e)).into_status())?;
        let revisions = revisions(session.snapshot());
        let results = request
            .items
            .iter()
            .map(|item| {
                let path = if item.path.is_empty() {
                    &request.path
                } else {
                    &item.path
                };
                let outcome = item_input(&item.input).and_then(|input| {
                    let input = merge_common(&common, input);
                    let decided = decide(&session, path, input, options, peer.clone());
                    decision_message(decided, request.want_value, revisions.clone())
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
        Ok(Response::new(pb::DecideBatchResponse {
            results,
            batch_decision_id: DecisionId::new().to_string(),
            revisions,
        }))
    }
}
