//! Build facts: version, commit, time and host of this binary (set by `build.rs`).
//!
//! Owns: the constants that provenance, `/v1/status`, decision-log labels and the
//! `authzd_build_info` metric report.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("AUTHZD_BUILD_COMMIT");
pub const TIMESTAMP: &str = env!("AUTHZD_BUILD_TIMESTAMP");
pub const HOSTNAME: &str = env!("AUTHZD_BUILD_HOSTNAME");
