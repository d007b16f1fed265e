//! Envoy's external authorization API (`envoy.service.auth.v3.Authorization/Check`), so a
//! gateway or a mesh sidecar can ask authzd as it would ask opa-envoy-plugin.
//!
//! Owns: the `Check` flow: build the input ([`input`]), decide on one snapshot, answer with a
//! `CheckResponse` ([`response`]). An undefined decision or an evaluation error is a gRPC error,
//! so Envoy's `failure_mode_allow` applies; a request that cannot be read is a 400 denial.

mod convert;
pub mod input;
pub mod response;

use std::sync::Arc;
use std::time::Instant;

use envoy_types::ext_authz::v3::pb::{Authorization, CheckRequest, CheckResponse};
use regorus::Value;
use tonic::{Request, Response, Status};

use crate::audit::{Audit, Record};
use crate::config::EnvoySettings;
use crate::decide::{DecideOptions, EvalError, decide};
use crate::decision_id::DecisionId;
use crate::metrics::ApiKind;
use crate::store::PolicyStore;

const CHECK: &str = "/envoy.service.auth.v3.Authorization/Check";

/// Serves `Authorization/Check` from the policy store.
pub struct EnvoyAuthorizer {
    store: Arc<PolicyStore>,
    settings: EnvoySettings,
    audit: Audit,
}

impl EnvoyAuthorizer {
    pub fn new(store: Arc<PolicyStore>, settings: EnvoySettings, audit: Audit) -> Self {
        Self {
            store,
            settings,
            audit,
        }
    }

    /// Decides one `Check` request (`peer` is who sent it, for the decision log).
    pub fn check_request(
        &self,
        request: &CheckRequest,
        peer: Option<&Arc<str>>,
    ) -> Result<CheckResponse, Status> {
        let input = match input::build(request, !self.settings.skip_body_parse) {
            Ok(input) => input,
            Err(e) => return Ok(response::parse_error_response(&e.0)),
        };
        let snapshot = self.store.load();
        let started = Instant::now();
        let outcome = decide(
            &snapshot,
            &self.settings.path,
            &input,
            DecideOptions::default(),
        );
        let eval = started.elapsed();
        let decision_id = DecisionId::new();
        // The result must be one Envoy understands; anything else fails the decision.
        let verdict = match &outcome {
            Ok(decision) if !decision.is_defined() => Err(Status::unknown(format!(
                "undefined decision: data path {:?} has no value for this request (give the rule a default)",
                self.settings.path
            ))),
            Ok(decision) => response::check_response(
                &decision.result,
                decision_id.as_str(),
                self.settings.dry_run,
            )
            .map_err(|e| Status::unknown(e.0)),
            Err(e) => Err(Status::unknown(format!("evaluation failed: {e}"))),
        };
        let illegal;
        let recorded: Result<&Value, &EvalError> = match (&outcome, &verdict) {
            (Ok(decision), Ok(_)) => Ok(&decision.result),
            (Ok(decision), Err(_)) if !decision.is_defined() => Ok(&decision.result),
            (Ok(_), Err(status)) => {
                illegal = EvalError::Eval {
                    code: "eval_type_error",
                    message: status.message().to_string(),
                    location: None,
                };
                Err(&illegal)
            }
            (Err(e), _) => Err(e),
        };
        self.audit.record(Record {
            api: ApiKind::Envoy,
            decision_id,
            path: &self.settings.path,
            input: &input,
            outcome: recorded,
            snapshot: &snapshot,
            peer,
            eval,
        });
        verdict.map(|v| v.response)
    }
}

#[tonic::async_trait]
impl Authorization for EnvoyAuthorizer {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        let started = Instant::now();
        let peer = self
            .audit
            .log
            .as_ref()
            .and_then(|_| crate::api::listener::grpc_peer(&request));
        let result = self.check_request(request.get_ref(), peer.as_ref());
        let code = result
            .as_ref()
            .map_or_else(Status::code, |_| tonic::Code::Ok);
        self.audit
            .metrics
            .grpc_request(CHECK, code, started.elapsed());
        result.map(Response::new)
    }
}
