//! The daemon's settings as plain data, parsed and validated once at start-up.
//!
//! Owns: listener addresses (`host:port`, `unix:///path`), bundle sources (`[name=]path`), every
//! limit, and the identity verifiers' settings (paths and names only: reading the secrets is
//! [`crate::decide::identity`]'s). The command line that fills it lives in [`crate::cli`].

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::{EvalLimits, SourceLimits};

/// Default HTTP listener: OPA's port, loopback only.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8181";
/// Default gRPC listener: opa-envoy-plugin's port, loopback only.
pub const DEFAULT_GRPC_ADDR: &str = "127.0.0.1:9191";
/// OPA's default decision for `POST /`.
pub const DEFAULT_DECISION: &str = "/system/main";

/// Where a listener binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenAddr {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "unix://{}", path.display()),
        }
    }
}

impl std::str::FromStr for ListenAddr {
    type Err = String;

    /// `127.0.0.1:8181`, `localhost:8181`, `[::1]:8181`, `:8181` (all interfaces, as in OPA),
    /// or `unix:///run/authzd.sock`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() {
                return Err(format!(
                    "{s:?}: a unix address needs a path, e.g. unix:///run/authzd.sock"
                ));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        let with_host = if s.starts_with(':') {
            format!("0.0.0.0{s}")
        } else {
            s.to_string()
        };
        with_host
            .to_socket_addrs()
            .ok()
            .and_then(|mut addrs| addrs.next())
            .map(Self::Tcp)
            .ok_or_else(|| {
                format!("{s:?} is not a listen address; use host:port (e.g. 127.0.0.1:8181) or unix:///path")
            })
    }
}

/// A bundle to serve: its name (for provenance and status) and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleSource {
    pub name: String,
    pub path: PathBuf,
}

impl std::str::FromStr for BundleSource {
    type Err = String;

    /// `PATH` or `NAME=PATH`; the name defaults to the file or directory name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, path) = match s.split_once('=') {
            Some((name, path)) if !name.is_empty() && !name.contains('/') => {
                (name.to_string(), PathBuf::from(path))
            }
            _ => {
                let path = PathBuf::from(s);
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .map(|n| {
                        n.trim_end_matches(".tar.gz")
                            .trim_end_matches(".tgz")
                            .to_string()
                    })
                    .filter(|n| !n.is_empty() && n != "." && n != "..")
                    .unwrap_or_else(|| "bundle".to_string());
                (name, path)
            }
        };
        if path.as_os_str().is_empty() {
            return Err(format!("{s:?}: a bundle needs a path (NAME=PATH or PATH)"));
        }
        Ok(Self { name, path })
    }
}

/// A bundle the daemon serves and keeps up to date.
#[derive(Debug, Clone)]
pub struct BundleSpec {
    pub name: String,
    pub location: BundleLocation,
    /// How it must be signed; `None` accepts unsigned bundles.
    pub verification: Option<crate::bundle::sign::Verification>,
}

/// Where a bundle comes from.
#[derive(Debug, Clone)]
pub enum BundleLocation {
    /// A directory (a ConfigMap volume, say) or a `.tar.gz`, watched for changes.
    Local(PathBuf),
    /// A bundle server, polled.
    Remote(RemoteSpec),
}

impl BundleLocation {
    /// The path or URL, for status and logs (a URL without its credentials).
    pub fn describe(&self) -> String {
        match self {
            Self::Local(path) => path.display().to_string(),
            Self::Remote(remote) => crate::redact::url(&remote.url),
        }
    }
}

/// A bundle on a bundle server (OPA's download protocol).
#[derive(Debug, Clone)]
pub struct RemoteSpec {
    /// The bundle's full URL (service URL + resource).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub credentials: Option<Bearer>,
    pub polling: Polling,
    /// Keep the last good download on disk, so a restarted pod serves before the server answers.
    pub persist: bool,
}

/// `Authorization: <scheme> <token>`, the token given or read from a file on every request.
#[derive(Clone)]
pub struct Bearer {
    pub token: Option<String>,
    pub token_path: Option<PathBuf>,
    pub scheme: String,
}

impl Bearer {
    /// The `Authorization` header value; a `token_path` is read now (tokens rotate).
    pub fn header_value(&self) -> Result<String, String> {
        let token = match (&self.token, &self.token_path) {
            (Some(token), _) => token.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read the bearer token {}: {e}", path.display()))?
                .trim()
                .to_string(),
            (None, None) => String::new(),
        };
        Ok(format!("{} {token}", self.scheme))
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("token_path", &self.token_path)
            .field("scheme", &self.scheme)
            .finish()
    }
}

/// Delay between polls after a success: random between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Polling {
    pub min_delay: Duration,
    pub max_delay: Duration,
}

/// How local bundles are watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    /// Quiet time after the last file event before reloading (trailing edge).
    pub debounce: Duration,
    /// Re-read every local bundle this often anyway (for filesystems without inotify).
    pub recheck: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            debounce: Duration::from_millis(200),
            recheck: Duration::from_secs(30),
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything `authzd run` needs.
#[derive(Debug, Clone)]
pub struct Config {
    pub bundles: Vec<BundleSpec>,
    /// Keys that may sign bundles, by key id.
    pub keys: std::collections::HashMap<String, crate::bundle::sign::VerificationKey>,
    pub watch: WatchSettings,
    /// Where downloaded bundles with `persist: true` are kept.
    pub persistence_dir: PathBuf,
    pub http_addrs: Vec<ListenAddr>,
    /// Listeners serving only `/health` and `/metrics`.
    pub diagnostic_addrs: Vec<ListenAddr>,
    /// Decision-log sinks, labels, sampling and policies.
    pub decision_logs: DecisionLogSettings,
    /// One log line per HTTP request.
    pub log_requests: bool,
    /// gRPC listeners (authzd.v1, Envoy ext_authz, health, reflection); empty disables gRPC.
    pub grpc_addrs: Vec<ListenAddr>,
    pub grpc: GrpcSettings,
    /// Data path evaluated by `POST /` (slash form, `/system/main`).
    pub default_decision: String,
    pub limits: EvalLimits,
    /// Caps on each policy file.
    pub sources: SourceLimits,
    /// Largest request body accepted, after gzip decoding too.
    pub max_request_bytes: usize,
    pub max_bundle_bytes: u64,
    /// How long in-flight requests may take to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// How long decisions are still served after SIGTERM, readiness failing, before draining.
    pub shutdown_delay: Duration,
    /// Permission bits of Unix socket files.
    pub unix_socket_mode: u32,
    /// Runtime worker threads that decide (one more keeps health and refusals answered).
    pub threads: usize,
    /// Admission, memory, result-size, connection and stream limits.
    pub server_limits: crate::limits::ServerLimits,
    /// Let the RVM evaluate what it can (off only to compare with the interpreter).
    pub use_rvm: bool,
    /// The config file's `identity` section; `None` (no section) verifies nothing and leaves
    /// `input.identity` absent.
    pub identity: Option<IdentitySettings>,
    /// Fraction of fast-path decisions re-checked on the interpreter (0: off).
    pub verify_fast_path_rate: f64,
    /// Candidate bundles evaluated on live traffic, never answering.
    pub shadow: ShadowSettings,
}

/// Shadow evaluation: candidate bundles that every (or a sampled) decision is also evaluated
/// against, off the request path.
#[derive(Debug, Clone)]
pub struct ShadowSettings {
    /// The candidate bundles, compiled together into the shadow snapshot; empty: no shadow.
    pub bundles: Vec<BundleSpec>,
    /// Fraction of decisions evaluated, in (0, 1].
    pub sample_rate: f64,
    /// Decisions waiting for the shadow worker; when full, more are dropped and counted.
    pub buffer_size: usize,
}

impl Default for ShadowSettings {
    fn default() -> Self {
        Self {
            bundles: Vec::new(),
            sample_rate: 1.0,
            buffer_size: 10_000,
        }
    }
}

impl ShadowSettings {
    /// True when a shadow bundle is configured.
    pub fn enabled(&self) -> bool {
        !self.bundles.is_empty()
    }
}

pub use crate::threads::default_threads;

/// Settings of the gRPC services.
#[derive(Debug, Clone)]
pub struct GrpcSettings {
    /// Largest request message accepted.
    pub max_recv_bytes: usize,
    /// Largest response message sent.
    pub max_send_bytes: usize,
    /// Envoy `Check`: the decision path and dry-run switch.
    pub envoy: EnvoySettings,
}

/// opa-envoy-plugin's default decision path.
pub const DEFAULT_ENVOY_PATH: &str = "envoy/authz/allow";

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
            path: DEFAULT_ENVOY_PATH.to_string(),
            dry_run: false,
            skip_body_parse: false,
        }
    }
}

/// Where decision-log events go and how they are shaped.
#[derive(Debug, Clone)]
pub struct DecisionLogSettings {
    /// One JSON line per event on standard output.
    pub console: bool,
    /// One JSON line per event appended to this file.
    pub file: Option<PathBuf>,
    /// Batches POSTed to a collector (OPA's `/logs` upload format).
    pub upload: Option<UploadSettings>,
    /// Added to every event (with `id` and `version`): pod, namespace, service, ...
    pub labels: BTreeMap<String, String>,
    /// Fraction of decisions logged, in (0, 1].
    pub sample_rate: f64,
    /// Events waiting between the decision path and the log worker.
    pub buffer_size: usize,
    /// Data path of the mask policy (`system/log/mask`).
    pub mask_path: String,
    /// Data path of the drop policy (`system/log/drop`).
    pub drop_path: String,
}

impl Default for DecisionLogSettings {
    fn default() -> Self {
        Self {
            console: false,
            file: None,
            upload: None,
            labels: BTreeMap::new(),
            sample_rate: 1.0,
            buffer_size: 10_000,
            mask_path: "system/log/mask".into(),
            drop_path: "system/log/drop".into(),
        }
    }
}

impl DecisionLogSettings {
    /// True when at least one sink is configured.
    pub fn enabled(&self) -> bool {
        self.console || self.file.is_some() || self.upload.is_some()
    }
}

/// Where and how batches are uploaded.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// The collector's URL (service URL + resource, OPA's default resource is `/logs`).
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub credentials: Option<Bearer>,
    pub max_batch_events: usize,
    pub flush_interval: Duration,
    /// Encoded events waiting for the uploader.
    pub buffer_size: usize,
    pub timeout: Duration,
    pub max_retry_delay: Duration,
}

/// The identity step's verifiers (the config file's `identity` section). Each is optional;
/// with the section present and all three absent, authzd still exposes the Envoy peer and
/// guarantees that `input.identity` is its own.
#[derive(Debug, Clone, Default)]
pub struct IdentitySettings {
    pub user_context: Option<UserContextSettings>,
    pub service_token: Option<ServiceTokenSettings>,
    pub jwt: Option<JwtSettings>,
}

/// The gateway's signed user context: a JSON object in one header, the unix time it was
/// signed at in another, and `hex(HMAC-SHA256(secret, "<timestamp>.<context>"))` in a third.
#[derive(Debug, Clone)]
pub struct UserContextSettings {
    /// Header names, lowercase.
    pub header: String,
    pub timestamp_header: String,
    pub signature_header: String,
    pub secret: SecretSource,
    /// How far the timestamp may be from now, either way.
    pub max_age: Duration,
}

/// Internal callers' service tokens: `<base64(JSON)>.<hex(HMAC-SHA256(secret, base64 part))>`.
#[derive(Debug, Clone)]
pub struct ServiceTokenSettings {
    /// Header name, lowercase.
    pub header: String,
    pub secret: SecretSource,
}

/// Bearer JWTs (`authorization: Bearer <jwt>`).
#[derive(Debug, Clone)]
pub struct JwtSettings {
    /// Header name, lowercase.
    pub header: String,
    /// The `iss` a token must carry; `None` accepts any.
    pub issuer: Option<String>,
    /// A token's `aud` must name one of these; empty accepts any.
    pub audiences: Vec<String>,
    pub keys: JwtKeySource,
    /// Clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

/// Where an HMAC secret comes from.
#[derive(Debug, Clone)]
pub enum SecretSource {
    /// A file, read at start-up and re-read when it changes (trailing whitespace is not part of
    /// the secret).
    File(PathBuf),
    Inline(Secret),
}

/// Where the keys that sign JWTs come from.
#[derive(Debug, Clone)]
pub enum JwtKeySource {
    /// A JWK set (JSON), re-read when it changes.
    Jwks(PathBuf),
    /// A PEM public key or certificate, re-read when it changes.
    PublicKey(PathBuf),
    /// The shared secret of HS256/384/512 tokens.
    Secret(Secret),
}

/// A secret given in the config file itself: never printed.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_secrets_are_not_printed() {
        let settings = ServiceTokenSettings {
            header: "x-service-auth".into(),
            secret: SecretSource::Inline(Secret("hunter2".into())),
        };
        assert!(!format!("{settings:?}").contains("hunter2"));
    }

    #[test]
    fn parses_listen_addresses() {
        assert_eq!(
            "127.0.0.1:8181".parse::<ListenAddr>().unwrap(),
            ListenAddr::Tcp("127.0.0.1:8181".parse().unwrap())
        );
        assert_eq!(
            "unix:///run/a.sock".parse::<ListenAddr>().unwrap(),
            ListenAddr::Unix(PathBuf::from("/run/a.sock"))
        );
        assert_eq!(
            ":9000".parse::<ListenAddr>().unwrap(),
            ListenAddr::Tcp("0.0.0.0:9000".parse().unwrap())
        );
        let err = "nonsense".parse::<ListenAddr>().unwrap_err();
        assert!(err.contains("host:port"), "{err}");
    }

    #[test]
    fn parses_bundle_sources() {
        let b: BundleSource = "policies".parse().unwrap();
        assert_eq!(b.name, "policies");
        let b: BundleSource = "/srv/orders.tar.gz".parse().unwrap();
        assert_eq!(b.name, "orders");
        let b: BundleSource = "main=./policies/".parse().unwrap();
        assert_eq!(
            (b.name.as_str(), b.path),
            ("main", PathBuf::from("./policies/"))
        );
    }
}
