//! The transports: OPA's REST Data API over HTTP (with the batch API), authzd's gRPC API and
//! Envoy's ext_authz.
//!
//! Owns: translating each wire format into a [`crate::decide::DecisionRequest`] and the
//! outcome back, with exactly one error mapper per transport. Nothing here evaluates, records
//! or counts a decision: that is [`crate::decide`]'s pipeline.

pub mod conn;
pub mod envoy;
pub mod grpc;
pub mod http;
pub mod io_nudge;
pub mod listener;
pub mod protobuf;
