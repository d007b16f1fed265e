//! The one error of reading the configuration (flags, environment, config file): a message
//! that names the setting. Its own module so that the settings' owners (`config_file`,
//! `limits`) can return it without importing each other.

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
