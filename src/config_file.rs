//! The YAML config file (`--config-file`): bundles, bundle servers (services), verification keys,
//! persistence and watching, decision logs, shadow bundles, everything that does not fit
//! flags. Modelled on OPA's config.
//!
//! Owns: the file's schema (unknown fields are errors, so a typo is not silently ignored) and
//! turning it into [`crate::config`] types. Reading bundle key files happens here, once, at
//! start-up; identity secrets are read (and re-read on change) by the identity step.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::bundle::sign::{Verification, VerificationKey};
use crate::config::{
    Bearer, BundleLocation, BundleSpec, DecisionLogSettings, IdentitySettings, JwtKeySource,
    JwtSettings, Polling, RemoteSpec, Secret, SecretSource, ServiceTokenSettings, ShadowSettings,
    UploadSettings, UserContextSettings,
};

pub use crate::config_error::ConfigError;

/// A number of seconds from a flag or the config file, as a duration. NaN, infinities,
/// negative and absurdly large values are refused with the setting's name (a `Duration` would
/// panic on them).
pub fn seconds(setting: &str, value: f64) -> Result<Duration, ConfigError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| d.as_secs() <= 10 * 365 * 24 * 3600)
        .ok_or_else(|| {
            ConfigError(format!(
                "{setting}: {value} is not a usable number of seconds (use a finite, non-negative value)"
            ))
        })
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub bundles: BTreeMap<String, FileBundle>,
    #[serde(default)]
    pub services: BTreeMap<String, FileService>,
    #[serde(default)]
    pub keys: BTreeMap<String, FileKey>,
    #[serde(default)]
    pub persistence_directory: Option<PathBuf>,
    #[serde(default)]
    pub watch: Option<FileWatch>,
    #[serde(default)]
    pub decision_logs: Option<FileDecisionLogs>,
    #[serde(default)]
    pub shadow: Option<FileShadow>,
    /// Admission, memory, result-size, connection and stream limits ([`crate::limits`]).
    #[serde(default)]
    pub limits: Option<crate::limits::FileLimits>,
    /// Caps on each policy file (`--max-policy-*`).
    #[serde(default)]
    pub max_policy_line_bytes: Option<u32>,
    #[serde(default)]
    pub max_policy_file_bytes: Option<usize>,
    #[serde(default)]
    pub max_policy_lines: Option<usize>,
    /// `--max-policy-nesting`, `--max-rule-depth`.
    #[serde(default)]
    pub max_policy_nesting: Option<usize>,
    #[serde(default)]
    pub max_rule_depth: Option<usize>,
    /// Credentials verified before every decision (`input.identity`).
    #[serde(default)]
    pub identity: Option<FileIdentity>,
}

/// Shadow evaluation: candidate bundles evaluated on live traffic, never answering.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileShadow {
    /// Like `bundles`: local paths or bundle servers, verified like the served bundles.
    #[serde(default)]
    pub bundles: BTreeMap<String, FileBundle>,
    /// Fraction of decisions evaluated on the shadow bundles, in (0, 1].
    #[serde(default)]
    pub sample_rate: Option<f64>,
    /// Decisions waiting for the shadow worker; more are dropped and counted.
    #[serde(default)]
    pub buffer_size_events: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileIdentity {
    #[serde(default)]
    pub user_context: Option<FileUserContext>,
    #[serde(default)]
    pub service_token: Option<FileServiceToken>,
    #[serde(default)]
    pub jwt: Option<FileJwt>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUserContext {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub timestamp_header: Option<String>,
    #[serde(default)]
    pub signature_header: Option<String>,
    #[serde(default)]
    pub secret_path: Option<PathBuf>,
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub max_age_seconds: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileServiceToken {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub secret_path: Option<PathBuf>,
    #[serde(default)]
    pub secret: Option<Secret>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileJwt {
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub audiences: Vec<String>,
    #[serde(default)]
    pub jwks_path: Option<PathBuf>,
    #[serde(default)]
    pub public_key_path: Option<PathBuf>,
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub leeway_seconds: Option<f64>,
}

/// The contract's defaults (issue #11).
const DEFAULT_USER_CONTEXT_HEADER: &str = "x-user-context";
const DEFAULT_TIMESTAMP_HEADER: &str = "x-user-context-timestamp";
const DEFAULT_SIGNATURE_HEADER: &str = "x-user-context-signature";
const DEFAULT_MAX_AGE_SECONDS: f64 = 300.0;
const DEFAULT_SERVICE_TOKEN_HEADER: &str = "x-service-auth";
const DEFAULT_JWT_HEADER: &str = "authorization";
const DEFAULT_LEEWAY_SECONDS: f64 = 30.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDecisionLogs {
    #[serde(default)]
    pub console: bool,
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A service (collector) to upload batches to.
    #[serde(default)]
    pub service: Option<String>,
    /// Path below the service URL; default `logs`.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub sample_rate: Option<f64>,
    #[serde(default)]
    pub buffer_size_events: Option<usize>,
    #[serde(default)]
    pub upload: Option<FileUpload>,
    #[serde(default)]
    pub mask_decision: Option<String>,
    #[serde(default)]
    pub drop_decision: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileUpload {
    #[serde(default)]
    pub max_batch_events: Option<usize>,
    #[serde(default)]
    pub flush_interval_seconds: Option<f64>,
    #[serde(default)]
    pub buffer_size_events: Option<usize>,
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
    #[serde(default)]
    pub max_retry_delay_seconds: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBundle {
    /// A local directory or `.tar.gz`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A service (bundle server) to download from.
    #[serde(default)]
    pub service: Option<String>,
    /// Path below the service URL; default `bundles/<name>`.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub polling: Option<FilePolling>,
    #[serde(default)]
    pub persist: bool,
    #[serde(default)]
    pub signing: Option<FileSigning>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilePolling {
    pub min_delay_seconds: f64,
    pub max_delay_seconds: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSigning {
    #[serde(default)]
    pub keyid: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub exclude_files: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileService {
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub credentials: Option<FileCredentials>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCredentials {
    pub bearer: FileBearer,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileBearer {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_path: Option<PathBuf>,
    #[serde(default)]
    pub scheme: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileKey {
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// PEM public key, or the shared secret for HS256/384/512.
    #[serde(default)]
    pub key: Option<String>,
    /// A file holding the same.
    #[serde(default)]
    pub key_path: Option<PathBuf>,
    #[serde(default)]
    pub scope: Option<String>,
}

fn default_algorithm() -> String {
    "RS256".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWatch {
    #[serde(default)]
    pub debounce_ms: Option<u64>,
    #[serde(default)]
    pub recheck_seconds: Option<f64>,
}

/// OPA's default polling delays.
pub const DEFAULT_POLLING: Polling = Polling {
    min_delay: Duration::from_secs(60),
    max_delay: Duration::from_secs(120),
};

impl FileConfig {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        yaml_serde::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// The verification keys, read (and PEM-parsed) now.
    pub fn verification_keys(&self) -> Result<HashMap<String, VerificationKey>, ConfigError> {
        let mut keys = HashMap::new();
        for (id, key) in &self.keys {
            let material = match (&key.key, &key.key_path) {
                (Some(text), None) => text.clone().into_bytes(),
                (None, Some(path)) => std::fs::read(path).map_err(|e| {
                    ConfigError(format!("keys.{id}.key_path {}: {e}", path.display()))
                })?,
                _ => {
                    return Err(ConfigError(format!(
                        "keys.{id}: set exactly one of `key` and `key_path`"
                    )));
                }
            };
            let parsed = VerificationKey::new(&key.algorithm, &material, key.scope.clone())
                .map_err(|e| ConfigError(format!("keys.{id}: {e}")))?;
            keys.insert(id.clone(), parsed);
        }
        Ok(keys)
    }

    /// The bundles of the file. Every bundle is verified when any key is configured.
    pub fn bundle_specs(&self, keys_configured: bool) -> Result<Vec<BundleSpec>, ConfigError> {
        self.specs_of(&self.bundles, "bundles", keys_configured)
    }

    /// The shadow bundles of the file (`shadow.bundles`), verified as the served ones are.
    pub fn shadow_specs(&self, keys_configured: bool) -> Result<Vec<BundleSpec>, ConfigError> {
        match &self.shadow {
            Some(shadow) => self.specs_of(&shadow.bundles, "shadow.bundles", keys_configured),
            None => Ok(Vec::new()),
        }
    }

    /// `section` names the bundles' place in the file, for messages.
    fn specs_of(
        &self,
        bundles: &BTreeMap<String, FileBundle>,
        section: &str,
        keys_configured: bool,
    ) -> Result<Vec<BundleSpec>, ConfigError> {
        let mut specs = Vec::new();
        for (name, bundle) in bundles {
            let location = match (&bundle.path, &bundle.service) {
                (Some(path), None) => BundleLocation::Local(path.clone()),
                (None, Some(service)) => {
                    BundleLocation::Remote(self.remote(section, name, bundle, service)?)
                }
                _ => {
                    return Err(ConfigError(format!(
                        "{section}.{name}: set exactly one of `path` (a local bundle) and `service` (a bundle server)"
                    )));
                }
            };
            let verification = match &bundle.signing {
                Some(signing) => {
                    if !keys_configured {
                        return Err(ConfigError(format!(
                            "{section}.{name}.signing: no verification keys are configured (add `keys`)"
                        )));
                    }
                    Some(Verification {
                        key_id: signing.keyid.clone(),
                        scope: signing.scope.clone(),
                        exclude_files: signing.exclude_files.clone(),
                    })
                }
                None if keys_configured => Some(Verification::default()),
                None => None,
            };
            specs.push(BundleSpec {
                name: name.clone(),
                location,
                verification,
            });
        }
        Ok(specs)
    }

    /// The decision-log settings of the file, before command-line flags are applied.
    pub fn decision_logs(&self) -> Result<DecisionLogSettings, ConfigError> {
        let mut settings = DecisionLogSettings::default();
        let Some(file) = &self.decision_logs else {
            return Ok(settings);
        };
        settings.console = file.console;
        settings.file = file.file.clone();
        settings.labels = file.labels.clone();
        if let Some(rate) = file.sample_rate {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(ConfigError(
                    "decision_logs.sample_rate must be in (0, 1]".into(),
                ));
            }
            settings.sample_rate = rate;
        }
        if let Some(size) = file.buffer_size_events {
            settings.buffer_size = size.max(1);
        }
        if let Some(path) = &file.mask_decision {
            settings.mask_path = path.trim_matches('/').to_string();
        }
        if let Some(path) = &file.drop_decision {
            settings.drop_path = path.trim_matches('/').to_string();
        }
        match (&file.service, &file.upload) {
            (Some(service), upload) => {
                let resource = file.resource.as_deref().unwrap_or("logs");
                let target = self.service_target(service, "decision_logs", resource)?;
                let upload = upload.as_ref();
                let setting = |name: &str, v: Option<f64>, default: f64| {
                    seconds(
                        &format!("decision_logs.upload.{name}"),
                        v.filter(|s| *s > 0.0).unwrap_or(default),
                    )
                };
                settings.upload = Some(UploadSettings {
                    url: target.url,
                    headers: target.headers,
                    credentials: target.credentials,
                    max_batch_events: upload
                        .and_then(|u| u.max_batch_events)
                        .unwrap_or(500)
                        .max(1),
                    flush_interval: setting(
                        "flush_interval_seconds",
                        upload.and_then(|u| u.flush_interval_seconds),
                        1.0,
                    )?,
                    buffer_size: upload
                        .and_then(|u| u.buffer_size_events)
                        .unwrap_or(10_000)
                        .max(1),
                    timeout: setting(
                        "timeout_seconds",
                        upload.and_then(|u| u.timeout_seconds),
                        10.0,
                    )?,
                    max_retry_delay: setting(
                        "max_retry_delay_seconds",
                        upload.and_then(|u| u.max_retry_delay_seconds),
                        30.0,
                    )?,
                });
            }
            (None, Some(_)) => {
                return Err(ConfigError(
                    "decision_logs.upload needs decision_logs.service".into(),
                ));
            }
            (None, None) => {}
        }
        Ok(settings)
    }

    /// The shadow settings of the file (its bundles are [`Self::shadow_specs`]), before
    /// command-line flags are applied.
    pub fn shadow_settings(&self) -> Result<ShadowSettings, ConfigError> {
        let mut settings = ShadowSettings::default();
        let Some(shadow) = &self.shadow else {
            return Ok(settings);
        };
        if let Some(rate) = shadow.sample_rate {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(ConfigError("shadow.sample_rate must be in (0, 1]".into()));
            }
            settings.sample_rate = rate;
        }
        if let Some(size) = shadow.buffer_size_events {
            settings.buffer_size = size.max(1);
        }
        Ok(settings)
    }

    /// The `identity` section; `None` when the file has none.
    pub fn identity(&self) -> Result<Option<IdentitySettings>, ConfigError> {
        let Some(file) = &self.identity else {
            return Ok(None);
        };
        let mut headers = HeaderNames::default();
        let user_context = match &file.user_context {
            None => None,
            Some(uc) => Some(UserContextSettings {
                header: headers.take(
                    "identity.user_context.header",
                    &uc.header,
                    DEFAULT_USER_CONTEXT_HEADER,
                )?,
                timestamp_header: headers.take(
                    "identity.user_context.timestamp_header",
                    &uc.timestamp_header,
                    DEFAULT_TIMESTAMP_HEADER,
                )?,
                signature_header: headers.take(
                    "identity.user_context.signature_header",
                    &uc.signature_header,
                    DEFAULT_SIGNATURE_HEADER,
                )?,
                secret: secret_source("identity.user_context", &uc.secret_path, &uc.secret)?,
                max_age: seconds(
                    "identity.user_context.max_age_seconds",
                    uc.max_age_seconds.unwrap_or(DEFAULT_MAX_AGE_SECONDS),
                )?,
            }),
        };
        let service_token = match &file.service_token {
            None => None,
            Some(st) => Some(ServiceTokenSettings {
                header: headers.take(
                    "identity.service_token.header",
                    &st.header,
                    DEFAULT_SERVICE_TOKEN_HEADER,
                )?,
                secret: secret_source("identity.service_token", &st.secret_path, &st.secret)?,
            }),
        };
        let jwt = match &file.jwt {
            None => None,
            Some(jwt) => {
                let keys = match (&jwt.jwks_path, &jwt.public_key_path, &jwt.secret) {
                    (Some(path), None, None) => JwtKeySource::Jwks(path.clone()),
                    (None, Some(path), None) => JwtKeySource::PublicKey(path.clone()),
                    (None, None, Some(secret)) if !secret.0.is_empty() => {
                        JwtKeySource::Secret(secret.clone())
                    }
                    _ => {
                        return Err(ConfigError(
                            "identity.jwt: set exactly one of `jwks_path`, `public_key_path` and `secret` (not empty)".into(),
                        ));
                    }
                };
                if jwt.audiences.iter().any(String::is_empty) {
                    return Err(ConfigError(
                        "identity.jwt.audiences: an audience must not be empty".into(),
                    ));
                }
                Some(JwtSettings {
                    header: headers.take("identity.jwt.header", &jwt.header, DEFAULT_JWT_HEADER)?,
                    issuer: jwt.issuer.clone().filter(|i| !i.is_empty()),
                    audiences: jwt.audiences.clone(),
                    keys,
                    leeway: seconds(
                        "identity.jwt.leeway_seconds",
                        jwt.leeway_seconds.unwrap_or(DEFAULT_LEEWAY_SECONDS),
                    )?,
                })
            }
        };
        Ok(Some(IdentitySettings {
            user_context,
            service_token,
            jwt,
        }))
    }

    /// The URL of `resource` on `service`, with its headers and credentials.
    fn service_target(
        &self,
        service: &str,
        used_by: &str,
        resource: &str,
    ) -> Result<ServiceTarget, ConfigError> {
        let svc = self.services.get(service).ok_or_else(|| {
            ConfigError(format!(
                "{used_by}.service: no service named {service:?} under `services`"
            ))
        })?;
        if !(svc.url.starts_with("http://") || svc.url.starts_with("https://")) {
            return Err(ConfigError(format!(
                "services.{service}.url: {:?} must start with http:// or https://",
                svc.url
            )));
        }
        let credentials = match &svc.credentials {
            None => None,
            Some(c) => {
                if c.bearer.token.is_some() == c.bearer.token_path.is_some() {
                    return Err(ConfigError(format!(
                        "services.{service}.credentials.bearer: set exactly one of `token` and `token_path`"
                    )));
                }
                Some(Bearer {
                    token: c.bearer.token.clone(),
                    token_path: c.bearer.token_path.clone(),
                    scheme: c.bearer.scheme.clone().unwrap_or_else(|| "Bearer".into()),
                })
            }
        };
        Ok(ServiceTarget {
            url: crate::redact::join_resource(&svc.url, resource.trim_end_matches('/')),
            headers: svc.headers.clone().into_iter().collect(),
            credentials,
        })
    }

    fn remote(
        &self,
        section: &str,
        name: &str,
        bundle: &FileBundle,
        service: &str,
    ) -> Result<RemoteSpec, ConfigError> {
        let resource = bundle
            .resource
            .clone()
            .unwrap_or_else(|| format!("bundles/{name}"));
        let target = self.service_target(service, &format!("{section}.{name}"), &resource)?;
        let polling = match &bundle.polling {
            None => DEFAULT_POLLING,
            Some(p) => {
                if !(p.min_delay_seconds >= 0.0 && p.max_delay_seconds >= p.min_delay_seconds) {
                    return Err(ConfigError(format!(
                        "{section}.{name}.polling: need 0 <= min_delay_seconds <= max_delay_seconds"
                    )));
                }
                let setting = |field: &str| format!("{section}.{name}.polling.{field}");
                Polling {
                    min_delay: seconds(&setting("min_delay_seconds"), p.min_delay_seconds)?,
                    max_delay: seconds(&setting("max_delay_seconds"), p.max_delay_seconds)?,
                }
            }
        };
        Ok(RemoteSpec {
            url: target.url,
            headers: target.headers,
            credentials: target.credentials,
            polling,
            persist: bundle.persist,
        })
    }
}

/// `secret_path` or `secret`, exactly one.
fn secret_source(
    setting: &str,
    path: &Option<PathBuf>,
    secret: &Option<Secret>,
) -> Result<SecretSource, ConfigError> {
    match (path, secret) {
        (Some(path), None) => Ok(SecretSource::File(path.clone())),
        (None, Some(secret)) if !secret.0.is_empty() => Ok(SecretSource::Inline(secret.clone())),
        _ => Err(ConfigError(format!(
            "{setting}: set exactly one of `secret_path` and `secret` (not empty)"
        ))),
    }
}

/// The credential header names configured so far: each must be a valid header name and
/// belong to one credential only (a header read by two verifiers would be ambiguous).
#[derive(Default)]
struct HeaderNames(Vec<String>);

impl HeaderNames {
    fn take(
        &mut self,
        setting: &str,
        name: &Option<String>,
        default: &str,
    ) -> Result<String, ConfigError> {
        let name = name.as_deref().unwrap_or(default).to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(ConfigError(format!(
                "{setting}: {name:?} is not a header name"
            )));
        }
        if self.0.contains(&name) {
            return Err(ConfigError(format!(
                "{setting}: the header {name:?} is already read by another identity setting"
            )));
        }
        self.0.push(name.clone());
        Ok(name)
    }
}

/// A resource on a configured service.
struct ServiceTarget {
    url: String,
    headers: Vec<(String, String)>,
    credentials: Option<Bearer>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> FileConfig {
        yaml_serde::from_str(yaml).unwrap()
    }

    #[test]
    fn bundles_services_and_keys() {
        let config = parse(
            r#"
bundles:
  main:
    path: /policies
  orders:
    service: bundles
    resource: /v1/orders.tar.gz
    polling: {min_delay_seconds: 0.5, max_delay_seconds: 1}
    persist: true
    signing: {keyid: k, scope: write}
services:
  bundles:
    url: https://bundles.example.com/
    credentials: {bearer: {token: s3cret}}
keys:
  k: {algorithm: HS256, key: secret}
"#,
        );
        let keys = config.verification_keys().unwrap();
        assert!(keys.contains_key("k"));
        let specs = config.bundle_specs(true).unwrap();
        let orders = specs.iter().find(|s| s.name == "orders").unwrap();
        let BundleLocation::Remote(remote) = &orders.location else {
            panic!("not remote")
        };
        assert_eq!(remote.url, "https://bundles.example.com/v1/orders.tar.gz");
        assert_eq!(remote.polling.min_delay, Duration::from_millis(500));
        assert!(remote.persist);
        assert_eq!(
            orders.verification.as_ref().unwrap().scope.as_deref(),
            Some("write")
        );
        // With keys configured, the local bundle must be signed too.
        assert!(
            specs
                .iter()
                .find(|s| s.name == "main")
                .unwrap()
                .verification
                .is_some()
        );
        // Secrets stay out of debug output.
        assert!(!format!("{remote:?}").contains("s3cret"));
    }

    #[test]
    fn shadow_bundles_are_bundles() {
        let config = parse(concat!(
            "services:\n  s: {url: http://x}\n",
            "shadow:\n",
            "  bundles:\n",
            "    next: {path: /next}\n",
            "    remote: {service: s, resource: next.tar.gz}\n",
            "  sample_rate: 0.1\n",
            "  buffer_size_events: 5\n",
        ));
        let specs = config.shadow_specs(false).unwrap();
        assert_eq!(specs.len(), 2);
        let BundleLocation::Remote(remote) = &specs[1].location else {
            panic!("not remote")
        };
        assert_eq!(remote.url, "http://x/next.tar.gz");
        let settings = config.shadow_settings().unwrap();
        assert_eq!((settings.sample_rate, settings.buffer_size), (0.1, 5));
        let err = parse("shadow:\n  bundles:\n    next: {}\n")
            .shadow_specs(false)
            .unwrap_err();
        assert!(err.0.starts_with("shadow.bundles.next:"), "{}", err.0);
        let err = parse("shadow: {sample_rate: 2}\n")
            .shadow_settings()
            .unwrap_err();
        assert!(err.0.contains("shadow.sample_rate"), "{}", err.0);
    }

    #[test]
    fn identity_section() {
        assert!(parse("bundles: {}\n").identity().unwrap().is_none());
        let empty = parse("identity: {}\n").identity().unwrap().unwrap();
        assert!(empty.user_context.is_none() && empty.jwt.is_none());
        let config = parse(
            r#"
identity:
  user_context:
    secret_path: /var/run/secrets/authzd/user-context
    max_age_seconds: 60
  service_token:
    header: X-Service-Auth
    secret: s3cret
  jwt:
    issuer: https://gateway.example.com
    audiences: [orders]
    jwks_path: /var/run/secrets/authzd/jwks.json
"#,
        );
        let identity = config.identity().unwrap().unwrap();
        let uc = identity.user_context.unwrap();
        assert_eq!(
            (
                uc.header.as_str(),
                uc.timestamp_header.as_str(),
                uc.signature_header.as_str()
            ),
            (
                "x-user-context",
                "x-user-context-timestamp",
                "x-user-context-signature"
            )
        );
        assert_eq!(uc.max_age, Duration::from_secs(60));
        let st = identity.service_token.unwrap();
        assert_eq!(st.header, "x-service-auth");
        assert!(!format!("{st:?}").contains("s3cret"));
        let jwt = identity.jwt.unwrap();
        assert_eq!(jwt.header, "authorization");
        assert_eq!(jwt.leeway, Duration::from_secs(30));
        assert!(matches!(jwt.keys, JwtKeySource::Jwks(_)));
    }

    /// The block of issue #11, comments and all, exactly as users copy it.
    #[test]
    fn identity_contract_as_written_in_the_issue() {
        let config = parse(
            r#"
identity:
  user_context:                 # the gateway's signed user context (seed: X-User-Context)
    header: x-user-context      # the JSON object, exactly as sent
    timestamp_header: x-user-context-timestamp      # unix seconds
    signature_header: x-user-context-signature      # hex HMAC-SHA256(secret, "<timestamp>.<context>")
    secret_path: /var/run/secrets/authzd/user-context   # or secret: "..."; re-read when the file changes
    max_age_seconds: 300        # |now - timestamp| must not exceed it
  service_token:                # internal callers: "<base64(JSON)>.<hex HMAC-SHA256(secret, base64 part)>"
    header: x-service-auth      # JSON {service, instance, issuedAt, expiresAt} (unix seconds)
    secret_path: /var/run/secrets/authzd/service-token
  jwt:
    header: authorization       # "Bearer <jwt>"
    issuer: https://gateway.example.com
    audiences: [orders]
    jwks_path: /var/run/secrets/authzd/jwks.json    # or public_key_path (PEM), or secret for HS*
    leeway_seconds: 30
"#,
        );
        let identity = config.identity().unwrap().unwrap();
        let uc = identity.user_context.unwrap();
        assert_eq!(uc.header, "x-user-context");
        assert_eq!(uc.timestamp_header, "x-user-context-timestamp");
        assert_eq!(uc.signature_header, "x-user-context-signature");
        assert!(matches!(&uc.secret, SecretSource::File(p)
            if p == Path::new("/var/run/secrets/authzd/user-context")));
        assert_eq!(uc.max_age, Duration::from_secs(300));
        let st = identity.service_token.unwrap();
        assert_eq!(st.header, "x-service-auth");
        assert!(matches!(&st.secret, SecretSource::File(p)
            if p == Path::new("/var/run/secrets/authzd/service-token")));
        let jwt = identity.jwt.unwrap();
        assert_eq!(jwt.header, "authorization");
        assert_eq!(jwt.issuer.as_deref(), Some("https://gateway.example.com"));
        assert_eq!(jwt.audiences, vec!["orders".to_string()]);
        assert!(matches!(&jwt.keys, JwtKeySource::Jwks(p)
            if p == Path::new("/var/run/secrets/authzd/jwks.json")));
        assert_eq!(jwt.leeway, Duration::from_secs(30));

        // The alternatives the comments name.
        let other =
            parse("identity:\n  user_context: {secret: \"s\"}\n  jwt: {public_key_path: /k.pem}\n")
                .identity()
                .unwrap()
                .unwrap();
        assert!(matches!(
            other.user_context.unwrap().secret,
            SecretSource::Inline(_)
        ));
        assert!(matches!(
            other.jwt.unwrap().keys,
            JwtKeySource::PublicKey(_)
        ));
        let hs = parse("identity:\n  jwt: {secret: s}\n")
            .identity()
            .unwrap()
            .unwrap();
        assert!(matches!(hs.jwt.unwrap().keys, JwtKeySource::Secret(_)));
    }

    #[test]
    fn identity_mistakes_are_named() {
        let err = yaml_serde::from_str::<FileConfig>("identity:\n  jwt:\n    audience: [a]\n")
            .unwrap_err();
        assert!(err.to_string().contains("audience"), "{err}");
        for (yaml, want) in [
            (
                "identity: {user_context: {}}",
                "identity.user_context: set exactly one",
            ),
            (
                "identity: {service_token: {secret: a, secret_path: /b}}",
                "identity.service_token: set exactly one",
            ),
            (
                "identity: {jwt: {secret: ''}}",
                "identity.jwt: set exactly one",
            ),
            (
                "identity: {jwt: {secret: a, jwks_path: /j}}",
                "identity.jwt: set exactly one",
            ),
            (
                "identity: {user_context: {secret: a, max_age_seconds: -1}}",
                "identity.user_context.max_age_seconds",
            ),
            (
                "identity: {user_context: {secret: a}, service_token: {secret: b, header: X-User-Context}}",
                "already read",
            ),
            (
                "identity: {jwt: {secret: a, header: 'bad header'}}",
                "not a header name",
            ),
        ] {
            let err = parse(yaml).identity().unwrap_err();
            assert!(err.0.contains(want), "{yaml}: {}", err.0);
        }
    }

    #[test]
    fn mistakes_are_named() {
        let err = yaml_serde::from_str::<FileConfig>("bundles:\n  a:\n    pth: x\n").unwrap_err();
        assert!(err.to_string().contains("pth"), "{err}");
        let err = parse("bundles:\n  a: {service: nope}\n")
            .bundle_specs(false)
            .unwrap_err();
        assert!(err.0.contains("no service named \"nope\""), "{}", err.0);
        let err = parse("bundles:\n  a: {path: x, signing: {}}\n")
            .bundle_specs(false)
            .unwrap_err();
        assert!(err.0.contains("no verification keys"), "{}", err.0);
        let err = parse(
            "services:\n  s: {url: http://x}\nbundles:\n  a: {service: s, polling: {min_delay_seconds: 1, max_delay_seconds: .inf}}\n",
        )
        .bundle_specs(false)
        .unwrap_err();
        assert!(err.0.contains("max_delay_seconds"), "{}", err.0);
        let err = parse(
            "services:\n  s: {url: http://x}\ndecision_logs: {service: s, upload: {timeout_seconds: .inf}}\n",
        )
        .decision_logs()
        .unwrap_err();
        assert!(err.0.contains("timeout_seconds"), "{}", err.0);
    }
}
