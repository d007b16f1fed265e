//! authzd: a policy decision sidecar.
//!
//! A service (or its Envoy) asks "may this caller do this action on this resource?" over localhost;
//! authzd answers from Rego policies evaluated by `regorus`, with OPA's REST API shapes, in
//! microseconds.
//!
//! # Layout
//!
//! - [`cli`]: the command line (`run`, `eval`, `test`, `build`, `check`, `inspect`,
//!   `replay`) and its environment variables.
//! - [`config`]: the daemon's settings as plain data, validated once; [`config_file`]: the YAML
//!   config file (bundles, bundle servers, keys); [`limits`]: every protective limit, its flag,
//!   config key and default.
//! - [`bundle`]: reading a bundle (directory or `.tar.gz`) into files, its manifest, and placing its
//!   modules and data; never evaluates anything.
//! - [`policy`]: compiling bundles into an immutable [`policy::Snapshot`] (interpreter + RVM
//!   programs) and resolving a `/v1/data` path to what evaluates it.
//! - [`builtins`]: OPA builtins regorus lacks, registered on every engine as extensions.
//! - [`analysis`]: static analysis of Rego modules for `check` and `test`: every error, strict
//!   lints, unknown functions (the rule graph and the AST walk are `policy`'s).
//! - [`decide`]: the decision pipeline, the only place that decides: one snapshot per
//!   request, identity, evaluation (RVM, interpreter or data), the decision id, the record
//!   into [`metrics`] (Prometheus) and the [`decision_log`] (OPA's audit events: drop and mask
//!   policies, console, file, HTTP sinks), and the steps after a decision ([`shadow`]).
//! - [`store`]: the atomically swapped current snapshot and the readiness latch.
//! - [`reload`]: keeping bundles current: watching files, polling bundle servers, SIGHUP,
//!   compiling off the request path and swapping; bundle status.
//! - [`api`]: the transports: HTTP (OPA's REST Data API and batch API), gRPC
//!   (`authzd.v1.Authorizer`) and Envoy ext_authz; each decodes its wire format into a
//!   decision request and maps the outcome back, with one error mapper per transport.
//! - [`app`]: binding every listener, spawning the servers, draining on shutdown.
//! - [`commands`]: the one-shot subcommands `eval`, `test`, `build`, `check`, `inspect` and
//!   `replay`.
//! - [`replay`]: re-evaluating logged decisions against a candidate bundle;
//!   [`change`]: how two answers to one decision differ (replay and shadow evaluation).
//! - [`shadow`]: shadow evaluation, a pipeline step: candidate bundles kept current like the
//!   served ones, evaluated on live traffic off the request path, never answering.
//! - [`value_json`]: JSON into regorus values (big integers exact, keys interned);
//!   [`value_yaml`]: YAML as OPA reads it (YAML 1.1 scalars, Go's keys), for data, bodies and
//!   `yaml.unmarshal`; [`go_float`]: Go's `%g` spelling of a number.
//! - [`decision_id`], [`logging`], [`shutdown`], [`backoff`], [`build_info`], [`redact`],
//!   [`threads`], [`config_error`], [`allocator`]: small shared pieces.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod allocator;
pub mod analysis;
pub mod api;
pub mod app;

pub mod backoff;
pub mod build_info;
pub mod builtins;
pub mod bundle;
pub mod change;
pub mod cli;
pub mod commands;
pub mod config;
pub mod config_error;
pub mod config_file;
pub mod decide;
pub mod decision_id;
pub mod decision_log;
pub mod go_float;

pub mod limits;
pub mod logging;
pub mod metrics;
pub mod policy;
pub mod redact;
pub mod reload;
pub mod replay;
pub mod shadow;
pub mod shutdown;
pub mod store;
pub mod threads;
pub mod value_json;
pub mod value_yaml;

/// Entry points of private modules, for the fuzz targets in `fuzz/` only; not a stable API.
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::api::http::body::{query_input, raw_input, read_body, v1_input};
    pub use crate::api::http::params::DataParams;
}
