//! The YAML config file (`--config-file`): bundles, bundle servers (services), verification keys,
//! persistence and watching, decision logs, shadow bundles, everything that does not fit
//! flags. Modelled on OPA's config.
//!
//! Owns: the file's schema (unknown fields are errors, so a typo is not silently ignored) and
//! turning it into [`crate::config`] types. Reading key files happens here, once, at start-up.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::bundle::sign::{Verification, VerificationKey};
use crate::config::{
    Bearer, BundleLocation, BundleSpec, DecisionLogSettings, Polling, RemoteSpec, ShadowSettings,
    UploadSettings,
};

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

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
