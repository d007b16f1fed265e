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

use envoy_types::ext_authz::v3::pb::{Authorization, CheckRequest, CheckResponse};
use tonic::{Request, Response, Status};

use crate::decide::{DecideOptions, decide};
use crate::decision_id::DecisionId;
use crate::store::PolicyStore;

/// opa-envoy-plugin's default decision path.
pub const DEFAULT_PATH: &str = "envoy/authz/allow";

/// How `Check` decides.
#[derive(Debug, Clone)]
pub struct EnvoySettings {
    /// Data path of the decision (slash form).
    pub path: String,
    /// Answer OK even when the policy denies (the decision is still logged as a denial).
    pub dry_run: bool,
    /// Leave `parsed_body` and `truncated_body` out of the input.
    pub skip_body_parse: bool,
}

impl Default for EnvoySettings {
    fn default() -> Self {
        Self {
            path: DEFAULT_PATH.to_string(),
            dry_run: false,
            skip_body_parse: false,
        }
    }
}

/// Serves `Authorization/Check` from the policy store.
pub struct EnvoyAuthorizer {
    store: Arc<PolicyStore>,
    settings: EnvoySettings,
}

impl EnvoyAuthorizer {
    pub fn new(store: Arc<PolicyStore>, settings: EnvoySettings) -> Self {
        Self { store, settings }
    }

    /// Decides one `Check` request.
    pub fn check_request(&self, request: &CheckRequest) -> Result<CheckResponse, Status> {
        let input = match input::build(request, !self.settings.skip_body_parse) {
            Ok(input) => input,
            Err(e) => return Ok(response::parse_error_response(&e.0)),
        };
        let snapshot = self.store.load();
        let decision = decide(
            &snapshot,
            &self.settings.path,
            &input,
            DecideOptions::default(),
        )
        .map_err(|e| Status::unknown(format!("evaluation failed: {e}")))?;
        if !decision.is_defined() {
            return Err(Status::unknown(format!(
                "undefined decision: data path {:?} has no value for this request (give the rule a default)",
                self.settings.path
            )));
        }
        let decision_id = DecisionId::new();
        let verdict = response::check_response(
            &decision.result,
            decision_id.as_str(),
            self.settings.dry_run,
        )
        .map_err(|e| Status::unknown(e.0))?;
        Ok(verdict.response)
    }
}

#[tonic::async_trait]
impl Authorization for EnvoyAuthorizer {
    async fn check(
        &self,
        request: Request<CheckRequest>,
    ) -> Result<Response<CheckResponse>, Status> {
        self.check_request(request.get_ref()).map(Response::new)
    }
}
