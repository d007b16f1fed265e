//! Envoy's external authorization API (`envoy.service.auth.v3.Authorization/Check`), so a
//! gateway or a mesh sidecar can ask authzd as it would ask opa-envoy-plugin.
//!
//! Owns: the `Check` flow: build the input ([`input`]), decide on one snapshot, answer with a
//! `CheckResponse` ([`response`]). An undefined decision or an evaluation error is a gRPC error,
//! so Envoy's `failure_mode_allow` applies; a request that cannot be read is a 400 denial.

pub mod input;
pub mod response;

use std::sync::Arc;

use envoy_types::ext_authz::v3::pb::{Authorization, CheckRequest, CheckResponse};
use regorus::Value;
use tonic::{Request, Response, Status};

use crate::config::EnvoySettings;
use crate::decide::{Decider, DecisionError, DecisionRequest, Session};
use crate::metrics::ApiKind;
use crate::policy::DataPath;

/// Serves `Authorization/Check` through the decision pipeline.
pub struct EnvoyAuthorizer {
    decider: Arc<Decider>,
    settings: EnvoySettings,
}

impl EnvoyAuthorizer {
    pub fn new(decider: Arc<Decider>, settings: EnvoySettings) -> Self {
        Self { decider, settings }
    }

    /// Decides one `Check` request (`peer` is who sent it, for the decision log), without
    /// admission (see [`Authorization::check`]).
    pub fn check_request(
        &self,
        request: &CheckRequest,
        peer: Option<Arc<str>>,
    ) -> Result<CheckResponse, Status> {
        self.check_in(&self.decider.session(), request, peer)
    }

    fn check_in(
        &self,
        session: &Session<'_>,
        request: &CheckRequest,
        peer: Option<Arc<str>>,
    ) -> Result<CheckResponse, Status> {
        let input = match input::build(request, !self.settings.skip_body_parse) {
            Ok(input) => input,
            Err(e) => return Ok(response::parse_error_response(&e.0)),
        };
        let mut decision =
            DecisionRequest::new(ApiKind::Envoy, DataPath::Text(&self.settings.path), input);
        decision.peer = peer;
        decision.check_result = Some(understood_by_envoy);
        let decided = session.decide(decision);
        match decided.outcome {
            Err(e) => Err(error_status(&e)),
            Ok(decision) if !decision.is_defined() => Err(Status::unknown(format!(
                "undefined decision: data path {:?} has no value for this request (give the rule a default)",
                self.settings.path
            ))),
            Ok(decision) => response::check_response(
                &decision.result,
                decided.decision_id.as_str(),
                self.settings.dry_run,
            )
            .map(|verdict| verdict.response)
            .map_err(|e| Status::unknown(e.0)),
        }
    }
}

/// The pipeline's result check: a result Envoy cannot act on fails the decision (recorded as
/// an `eval_type_error`) instead of passing as an allow or a deny.
fn understood_by_envoy(result: &Value) -> Result<(), String> {
    response::check_response(result, "", false)
        .map(|_| ())
        .map_err(|e| e.0)
}

/// The one mapper from the pipeline's errors to Envoy: a gRPC error, so that Envoy's
/// `failure_mode_allow` decides (`UNAVAILABLE` when admission refused the request).
fn error_status(error: &DecisionError) -> Status {
    match error {
        DecisionError::Overloaded(e) => Status::unavailable(format!("{}: {e}", error.code())),
        _ => Status::unknown(format!("evaluation failed: {error}")),
    }
}

#[tonic::async_trait]
impl Authorization for EnvoyAuthorizer {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let peer = self
            .decider
            .wants_peer()
            .then(|| crate::api::listener::grpc_peer(&request))
            .flatten();
        let session = self
            .decider
            .admitted_session(ApiKind::Envoy)
            .await
            .map_err(|e| error_status(&DecisionError::from(e)))?;
        self.check_in(&session, request.get_ref(), peer)
            .map(Response::new)
    }
}
