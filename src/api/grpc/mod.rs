//! The gRPC listener: authzd's own `authzd.v1.Authorizer`, Envoy's `Authorization/Check`,
//! `grpc.health.v1` and server reflection, all on one tonic server.
//!
//! Owns: assembling those services with their message size limits, and keeping the health
//! status in step with the policy store's readiness latch and lame-duck state.

mod authorizer;
mod error;
mod metrics_layer;

use std::sync::Arc;

use tonic::service::Routes;
use tonic_health::ServingStatus;

use crate::api::envoy::EnvoyAuthorizer;
use crate::config::GrpcSettings;
use crate::decide::Decider;

/// Generated from `proto/authzd/v1/authzd.proto`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("authzd.v1");
}

pub use authorizer::AuthorizerService;
pub use error::GrpcError;
pub use metrics_layer::MetricsLayer;

/// Every file descriptor served by reflection (authzd's API and Envoy's ext_authz).
pub const REFLECTION_DESCRIPTORS: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/reflection_descriptor.bin"));

/// The names health reports on, besides the whole server ("").
const SERVICE_NAMES: [&str; 2] = [
    "authzd.v1.Authorizer",
    "envoy.service.auth.v3.Authorization",
];

/// Builds every gRPC service. Health says NOT_SERVING until the store is ready (a bundle is
/// active), then SERVING until shutdown begins (lame duck), then NOT_SERVING again; the
/// returned task keeps that in step.
pub fn routes(
    decider: Arc<Decider>,
    settings: &GrpcSettings,
) -> Result<(Routes, tokio::task::JoinHandle<()>), tonic_reflection::server::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    let mut ready = decider.store().ready_watch();
    let mut lame_duck = decider.store().lame_duck_watch();
    let health_task = tokio::spawn(async move {
        set_all(&reporter, ServingStatus::NotServing).await;
        tokio::select! {
            ready = ready.wait_for(|ready| *ready) => {
                if ready.is_err() {
                    return;
                }
            }
            _ = lame_duck.wait_for(|lame| *lame) => return,
        }
        set_all(&reporter, ServingStatus::Serving).await;
        if lame_duck.wait_for(|lame| *lame).await.is_ok() {
            set_all(&reporter, ServingStatus::NotServing).await;
        }
    });

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(REFLECTION_DESCRIPTORS)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(REFLECTION_DESCRIPTORS)
        .build_v1alpha()?;

    let authorizer =
        pb::authorizer_server::AuthorizerServer::new(AuthorizerService::new(decider.clone()))
            .max_decoding_message_size(settings.max_recv_bytes)
            .max_encoding_message_size(settings.max_send_bytes);
    let envoy = envoy_types::ext_authz::v3::pb::AuthorizationServer::new(EnvoyAuthorizer::new(
        decider,
        settings.envoy.clone(),
    ))
    .max_decoding_message_size(settings.max_recv_bytes)
    .max_encoding_message_size(settings.max_send_bytes);

    let routes = Routes::new(authorizer)
        .add_service(envoy)
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    Ok((routes, health_task))
}

async fn set_all(reporter: &tonic_health::server::HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    for name in SERVICE_NAMES {
        reporter.set_service_status(name, status).await;
    }
}
