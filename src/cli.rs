//! The command line: `authzd run`, `eval`, `test`, `build`, `check`, `inspect`, `replay`.
//!
//! Owns: flags, their `AUTHZD_*` environment variables (sidecars are configured that way) and
//! their defaults, and turning `run`'s flags into a [`Config`]. Does not start anything.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::bundle::DEFAULT_MAX_BUNDLE_BYTES;
use crate::bundle::sign::{Verification, VerificationKey};
use crate::config::{
    BundleLocation, BundleSource, BundleSpec, Config, DEFAULT_DECISION, DEFAULT_ENVOY_PATH,
    DEFAULT_GRPC_ADDR, DEFAULT_HTTP_ADDR, EnvoySettings, GrpcSettings, ListenAddr, LogFormat,
    ShadowSettings, WatchSettings, default_threads,
};
use crate::config_file::{ConfigError, FileConfig, seconds};
use crate::policy::{EvalLimits, SourceLimits};

/// authzd: a policy decision sidecar with OPA's REST API.
#[derive(Debug, Parser)]
#[command(name = "authzd", version, about)]
pub struct Cli {
    /// Without a subcommand, `run` (so `cargo run --release` starts the daemon).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log line format.
    #[arg(
        long,
        global = true,
        env = "AUTHZD_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Log filter (`info`, `debug`, `authzd=debug,warn`); RUST_LOG works too.
    #[arg(long, global = true, env = "AUTHZD_LOG_LEVEL", default_value = "info")]
    pub log_level: String,
}

impl Cli {
    /// Parses the process's arguments; no subcommand means `run` with its defaults.
    pub fn parse_or_run() -> Self {
        let cli = Self::parse();
        if cli.command.is_some() {
            return cli;
        }
        let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        args.push("run".into());
        Self::parse_from(args)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve decisions over HTTP (OPA's REST Data API).
    Run(Box<RunArgs>),
    /// Evaluate one decision and print it as JSON.
    Eval(EvalArgs),
    /// Run the `test_*` rules of bundles.
    Test(TestArgs),
    /// Package a bundle directory as a deterministic .tar.gz, optionally signed.
    Build(BuildArgs),
    /// Parse and compile bundles or .rego files; report every error as file:line:col.
    Check(CheckArgs),
    /// Describe a bundle: manifest, packages and rules (and where each runs), data,
    /// signature, size.
    Inspect(InspectArgs),
    /// Re-evaluate logged decisions against a candidate bundle and report what changes.
    Replay(ReplayArgs),
    /// Print OPA's capabilities JSON for what authzd evaluates (for `opa check --capabilities`).
    Capabilities,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Bundle to serve: a directory or .tar.gz, optionally named (`NAME=PATH`). Repeatable.
    /// Without any bundle here or in the config file, `policies` is served.
    #[arg(
        long = "bundle",
        short = 'b',
        env = "AUTHZD_BUNDLE",
        value_delimiter = ','
    )]
    pub bundles: Vec<BundleSource>,
    /// YAML config file: bundles (local or from a bundle server), services, keys, persistence,
    /// decision logs, identity verification.
    #[arg(long, env = "AUTHZD_CONFIG_FILE")]
    pub config_file: Option<PathBuf>,
    #[command(flatten)]
    pub signing: SigningArgs,
    #[command(flatten)]
    pub watch: WatchArgs,
    #[command(flatten)]
    pub observe: ObserveArgs,
    /// HTTP listen address: host:port or unix:///path. Repeatable.
    #[arg(long = "addr", short = 'a', env = "AUTHZD_ADDR", value_delimiter = ',', default_value = DEFAULT_HTTP_ADDR)]
    pub addrs: Vec<ListenAddr>,
    /// Data path that `POST /` evaluates.
    #[arg(long, env = "AUTHZD_DEFAULT_DECISION", default_value = DEFAULT_DECISION)]
    pub default_decision: String,
    #[command(flatten)]
    pub grpc: GrpcArgs,
    #[command(flatten)]
    pub eval: EvalLimitArgs,
    #[command(flatten)]
    pub server_limits: crate::limits::LimitArgs,
    #[command(flatten)]
    pub sources: SourceLimitArgs,
    /// Fraction of fast-path (RVM) decisions evaluated again on the interpreter, off the
    /// request path; a disagreement demotes the rule. 0 turns the self-check off.
    #[arg(long, env = "AUTHZD_VERIFY_FAST_PATH_RATE", default_value_t = 0.01)]
    pub verify_fast_path_rate: f64,
    /// Largest request body, in bytes (also after gzip decoding).
    #[arg(long, env = "AUTHZD_MAX_REQUEST_BYTES", default_value_t = 8 << 20)]
    pub max_request_bytes: usize,
    /// Largest bundle, in bytes (uncompressed).
    #[arg(long, env = "AUTHZD_MAX_BUNDLE_BYTES", default_value_t = DEFAULT_MAX_BUNDLE_BYTES)]
    pub max_bundle_bytes: u64,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "AUTHZD_SHUTDOWN_GRACE_PERIOD", default_value_t = 10)]
    pub shutdown_grace_period: u64,
    /// Seconds to keep serving decisions after SIGTERM/SIGINT, with readiness failing (lame
    /// duck), before the drain starts: clients that are still draining can keep asking.
    #[arg(long, env = "AUTHZD_SHUTDOWN_DELAY_SECONDS", default_value_t = 0)]
    pub shutdown_delay_seconds: u64,
    /// Permissions of Unix socket files, in octal (e.g. 660, 666): to connect, a client needs
    /// write permission, which the default (755, as OPA) gives only to authzd's own user.
    #[arg(long, env = "AUTHZD_UNIX_SOCKET_PERM", default_value = "755", value_parser = parse_octal_mode)]
    pub unix_socket_perm: u32,
    /// Runtime worker threads (default: available cores, at most 8).
    #[arg(long, env = "AUTHZD_THREADS")]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub shadow: ShadowArgs,
}

/// Shadow evaluation: a candidate bundle evaluated on live traffic, never answering.
#[derive(Debug, Args)]
pub struct ShadowArgs {
    /// Candidate bundle (directory or .tar.gz, `NAME=PATH`), loaded, verified and reloaded
    /// like `--bundle`; every decision is also evaluated on it, off the request path, and
    /// disagreements are counted and logged. Repeatable (the shadow bundles compile together).
    #[arg(
        long = "shadow-bundle",
        env = "AUTHZD_SHADOW_BUNDLE",
        value_delimiter = ','
    )]
    pub shadow_bundles: Vec<BundleSource>,
    /// Fraction of decisions evaluated on the shadow bundles, in (0, 1] (default 1).
    #[arg(long, env = "AUTHZD_SHADOW_SAMPLE_RATE")]
    pub shadow_sample_rate: Option<f64>,
}

/// Verifying signed bundles given with `--bundle` (OPA's flags).
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// Public key (PEM file) or shared secret that bundles must be signed with.
    #[arg(long, env = "AUTHZD_VERIFICATION_KEY")]
    pub verification_key: Option<String>,
    /// Id of that key (matched against the JWT's `kid`).
    #[arg(long, env = "AUTHZD_VERIFICATION_KEY_ID", default_value = "default")]
    pub verification_key_id: String,
    /// Signature algorithm of that key: RS256, ES256, HS256, ...
    #[arg(long, env = "AUTHZD_SIGNING_ALG", default_value = "RS256")]
    pub signing_alg: String,
    /// Scope the signature must carry.
    #[arg(long, env = "AUTHZD_SCOPE")]
    pub scope: Option<String>,
    /// Files (glob) a signature need not cover. Repeatable.
    #[arg(
        long = "exclude-files-verify",
        env = "AUTHZD_EXCLUDE_FILES_VERIFY",
        value_delimiter = ','
    )]
    pub exclude_files_verify: Vec<String>,
}

/// Metrics, request logs and decision logs.
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// A listener serving only /health and /metrics (host:port or unix:///path). Repeatable.
    #[arg(
        long = "diagnostic-addr",
        env = "AUTHZD_DIAGNOSTIC_ADDR",
        value_delimiter = ','
    )]
    pub diagnostic_addrs: Vec<ListenAddr>,
    /// Log one line per HTTP request (method, path, status, duration; never bodies).
    #[arg(long, env = "AUTHZD_LOG_REQUESTS")]
    pub log_requests: bool,
    /// Write decision-log events to standard output, one JSON line each.
    #[arg(long, env = "AUTHZD_DECISION_LOGS_CONSOLE")]
    pub decision_logs_console: bool,
    /// Append decision-log events to this file, one JSON line each.
    #[arg(long, env = "AUTHZD_DECISION_LOGS_FILE")]
    pub decision_logs_file: Option<PathBuf>,
    /// A label added to every decision-log event (KEY=VALUE). Repeatable.
    #[arg(
        long = "decision-logs-label",
        env = "AUTHZD_DECISION_LOGS_LABELS",
        value_delimiter = ','
    )]
    pub decision_logs_labels: Vec<String>,
    /// Fraction of decisions logged, in (0, 1].
    #[arg(long, env = "AUTHZD_DECISION_LOGS_SAMPLE_RATE")]
    pub decision_logs_sample_rate: Option<f64>,
}

impl ObserveArgs {
    /// Applies the flags over the config file's decision-log settings.
    fn apply(&self, settings: &mut crate::config::DecisionLogSettings) -> Result<(), ConfigError> {
        settings.console |= self.decision_logs_console;
        if let Some(file) = &self.decision_logs_file {
            settings.file = Some(file.clone());
        }
        for label in &self.decision_logs_labels {
            let (key, value) = label.split_once('=').ok_or_else(|| {
                ConfigError(format!(
                    "--decision-logs-label {label:?}: expected KEY=VALUE"
                ))
            })?;
            settings.labels.insert(key.to_string(), value.to_string());
        }
        if let Some(rate) = self.decision_logs_sample_rate {
            if !(rate > 0.0 && rate <= 1.0) {
                return Err(ConfigError(
                    "--decision-logs-sample-rate must be in (0, 1]".into(),
                ));
            }
            settings.sample_rate = rate;
        }
        Ok(())
    }
}

/// Watching local bundles.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Quiet time after the last file change before reloading, in milliseconds (default 200).
    #[arg(long, env = "AUTHZD_WATCH_DEBOUNCE_MS")]
    pub watch_debounce_ms: Option<u64>,
    /// Re-read local bundles this often even without file events, in seconds (default 30).
    #[arg(long, env = "AUTHZD_RECHECK_INTERVAL_SECONDS")]
    pub recheck_interval_seconds: Option<f64>,
    /// Where bundles downloaded with `persist: true` are kept (default `.authzd`).
    #[arg(long, env = "AUTHZD_PERSISTENCE_DIR")]
    pub persistence_dir: Option<PathBuf>,
}

/// The gRPC listener and Envoy ext_authz.
#[derive(Debug, Args)]
pub struct GrpcArgs {
    /// gRPC listen address: host:port or unix:///path. Repeatable.
    #[arg(long = "grpc-addr", env = "AUTHZD_GRPC_ADDR", value_delimiter = ',', default_value = DEFAULT_GRPC_ADDR)]
    pub grpc_addrs: Vec<ListenAddr>,
    /// Do not serve gRPC at all.
    #[arg(long, env = "AUTHZD_NO_GRPC")]
    pub no_grpc: bool,
    /// Largest gRPC request message, in bytes.
    #[arg(long, env = "AUTHZD_GRPC_MAX_RECV_BYTES", default_value_t = 4 << 20)]
    pub grpc_max_recv_bytes: usize,
    /// Largest gRPC response message, in bytes.
    #[arg(long, env = "AUTHZD_GRPC_MAX_SEND_BYTES", default_value_t = 64 << 20)]
    pub grpc_max_send_bytes: usize,
    /// Data path Envoy's Check evaluates (a boolean or an object with `allowed`).
    #[arg(long, env = "AUTHZD_ENVOY_PATH", default_value = DEFAULT_ENVOY_PATH)]
    pub envoy_path: String,
    /// Answer Envoy with OK even when the policy denies (the real decision is still logged).
    #[arg(long, env = "AUTHZD_ENVOY_DRY_RUN")]
    pub envoy_dry_run: bool,
    /// Leave `parsed_body` and `truncated_body` out of Envoy inputs.
    #[arg(long, env = "AUTHZD_ENVOY_SKIP_REQUEST_BODY_PARSE")]
    pub envoy_skip_request_body_parse: bool,
}

impl GrpcArgs {
    fn settings(&self) -> GrpcSettings {
        GrpcSettings {
            max_recv_bytes: self.grpc_max_recv_bytes,
            max_send_bytes: self.grpc_max_send_bytes,
            envoy: EnvoySettings {
                path: self.envoy_path.trim_matches('/').to_string(),
                dry_run: self.envoy_dry_run,
                skip_body_parse: self.envoy_skip_request_body_parse,
            },
        }
    }
}

/// Limits shared by `run` and `eval`.
#[derive(Debug, Args)]
pub struct EvalLimitArgs {
    /// RVM instructions one decision may execute.
    #[arg(long, env = "AUTHZD_MAX_INSTRUCTIONS", default_value_t = EvalLimits::default().max_instructions)]
    pub max_instructions: usize,
    /// Milliseconds one decision may take.
    #[arg(long, env = "AUTHZD_EVAL_TIMEOUT_MS", default_value_t = 500)]
    pub eval_timeout_ms: u64,
    /// Evaluate everything on the interpreter (for comparing with the RVM).
    #[arg(long, env = "AUTHZD_NO_RVM")]
    pub no_rvm: bool,
}

/// Caps on each policy file, shared by `run`, `eval` and `test` (default: generous, see
/// [`SourceLimits`]); `run` also reads them from the config file.
#[derive(Debug, Args)]
pub struct SourceLimitArgs {
    /// Longest line of a policy file, in columns (regorus's own cap is 1,024).
    #[arg(long, env = "AUTHZD_MAX_POLICY_LINE_BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_policy_line_bytes: Option<u32>,
    /// Largest policy file, in bytes.
    #[arg(long, env = "AUTHZD_MAX_POLICY_FILE_BYTES")]
    pub max_policy_file_bytes: Option<usize>,
    /// Most lines in a policy file.
    #[arg(long, env = "AUTHZD_MAX_POLICY_LINES")]
    pub max_policy_lines: Option<usize>,
    /// Deepest nesting of `[` and `{` in a policy file (regorus' parser is exponential in it).
    #[arg(long, env = "AUTHZD_MAX_POLICY_NESTING", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub max_policy_nesting: Option<u32>,
    /// Longest chain of rules and functions that call each other.
    #[arg(long, env = "AUTHZD_MAX_RULE_DEPTH", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_rule_depth: Option<u32>,
}

impl SourceLimitArgs {
    /// The flags over the config file's keys over the defaults.
    pub fn limits_over(&self, file: &FileConfig) -> SourceLimits {
        let defaults = SourceLimits::default();
        SourceLimits {
            max_line_bytes: (self.max_policy_line_bytes.or(file.max_policy_line_bytes))
                .unwrap_or(defaults.max_line_bytes),
            max_file_bytes: (self.max_policy_file_bytes.or(file.max_policy_file_bytes))
                .unwrap_or(defaults.max_file_bytes),
            max_lines: (self.max_policy_lines.or(file.max_policy_lines))
                .unwrap_or(defaults.max_lines),
            max_nesting: (self.max_policy_nesting.map(|n| n as usize))
                .or(file.max_policy_nesting)
                .unwrap_or(defaults.max_nesting),
            max_rule_depth: (self.max_rule_depth.map(|n| n as usize))
                .or(file.max_rule_depth)
                .unwrap_or(defaults.max_rule_depth),
        }
    }

    pub fn limits(&self) -> SourceLimits {
        self.limits_over(&FileConfig::default())
    }
}

impl EvalLimitArgs {
    pub fn limits(&self) -> EvalLimits {
        EvalLimits {
            max_instructions: self.max_instructions,
            timeout: Duration::from_millis(self.eval_timeout_ms),
        }
    }
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Bundle (directory or .tar.gz). Repeatable.
    #[arg(long = "bundle", short = 'b', default_value = "policies")]
    pub bundles: Vec<BundleSource>,
    /// Input document: a JSON file, or `-` for standard input. Without it, input is undefined.
    #[arg(long, short = 'i')]
    pub input: Option<PathBuf>,
    /// A builtin error fails the decision instead of making the expression undefined (OPA's
    /// `opa eval --strict-builtin-errors`, the HTTP API's `?strict-builtin-errors=true`).
    #[arg(long)]
    pub strict_builtin_errors: bool,
    #[command(flatten)]
    pub eval: EvalLimitArgs,
    #[command(flatten)]
    pub sources: SourceLimitArgs,
    /// Data path to evaluate: `orders/allow` or `data.orders.allow`.
    pub query_path: String,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Bundles whose `test_*` rules to run.
    #[arg(default_value = "policies")]
    pub bundles: Vec<BundleSource>,
    /// Print every test, not only failures.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Only the tests whose rule path (`data.test.orders.test_owner_can_view`) matches this
    /// regular expression.
    #[arg(long)]
    pub run: Option<String>,
    /// Report per-file line coverage of the policies and tests.
    #[arg(long)]
    pub coverage: bool,
    /// Coverage report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub sources: SourceLimitArgs,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Bundles (directories or .tar.gz) and .rego files, compiled together.
    #[arg(default_value = "policies")]
    pub paths: Vec<PathBuf>,
    /// Also flag what OPA's strict mode flags: unused imports, unused local variables,
    /// deprecated builtins.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The bundle: a directory or a .tar.gz.
    pub bundle: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    #[command(flatten)]
    pub signing: SigningArgs,
}

/// Kinds of change `authzd replay --fail-on` fails on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    DenyToAllow,
    AllowToDeny,
    ValueChanged,
    NowAnError,
    /// Any change at all.
    Any,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The candidate bundle (directory or .tar.gz). Repeatable.
    #[arg(long = "bundle", short = 'b', required = true)]
    pub bundles: Vec<BundleSource>,
    /// Decision logs: the file sink's JSON lines, or a collector's gzip batches. Repeatable.
    #[arg(long = "decision-logs", required = true, num_args = 1..)]
    pub decision_logs: Vec<PathBuf>,
    /// Exit with 1 when a decision changed in one of these ways (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub fail_on: Vec<FailOn>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: OutputFormat,
    /// Example decision ids shown per path and kind of change.
    #[arg(long, default_value_t = 5)]
    pub examples: usize,
    /// Replay threads, each with its own evaluator (default: available cores).
    #[arg(long)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub eval: EvalLimitArgs,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The bundle directory.
    pub path: PathBuf,
    /// Where to write the tarball.
    #[arg(long, short = 'o', default_value = "bundle.tar.gz")]
    pub output: PathBuf,
    /// Private key (PEM file) or shared secret to sign the bundle with.
    #[arg(long)]
    pub signing_key: Option<String>,
    /// Signature algorithm: RS256, PS256, ES256, HS256, ...
    #[arg(long, default_value = "RS256")]
    pub signing_alg: String,
    /// Key id written in the JWT header (`kid`).
    #[arg(long)]
    pub signing_key_id: Option<String>,
    /// Scope claim of the signature.
    #[arg(long)]
    pub scope: Option<String>,
}

impl RunArgs {
    /// Validates the flags and the config file into a [`Config`].
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let file = match &self.config_file {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let mut keys = file.verification_keys()?;
        let cli_verification = self.signing.verification(&mut keys)?;
        let bundles = bundle_specs(&file, self.bundles, &keys, cli_verification.clone())?;
        let shadow = shadow_settings(&file, &self.shadow, &keys, cli_verification, &bundles)?;
        let watch = watch_settings(&self.watch, &file)?;
        let persistence_dir = self
            .watch
            .persistence_dir
            .or(file.persistence_directory.clone())
            .unwrap_or_else(|| PathBuf::from(".authzd"));
        let identity = file.identity()?;
        let mut decision_logs = file.decision_logs()?;
        self.observe.apply(&mut decision_logs)?;
        let grpc = self.grpc.settings();
        let threads = self
            .threads
            .filter(|n| *n > 0)
            .unwrap_or_else(default_threads);
        let server_limits = self.server_limits.resolve(file.limits.as_ref(), threads)?;
        let grpc_addrs = if self.grpc.no_grpc {
            Vec::new()
        } else {
            self.grpc.grpc_addrs
        };
        Ok(Config {
            bundles,
            keys,
            watch,
            persistence_dir,
            http_addrs: self.addrs,
            diagnostic_addrs: self.observe.diagnostic_addrs,
            decision_logs,
            log_requests: self.observe.log_requests,
            grpc_addrs,
            grpc,
            default_decision: format!("/{}", self.default_decision.trim_matches('/')),
            limits: self.eval.limits(),
            sources: self.sources.limits_over(&file),
            max_request_bytes: self.max_request_bytes,
            max_bundle_bytes: self.max_bundle_bytes,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_period),
            shutdown_delay: Duration::from_secs(self.shutdown_delay_seconds),
            unix_socket_mode: self.unix_socket_perm,
            threads,
            server_limits,
            use_rvm: !self.eval.no_rvm,
            identity,
            verify_fast_path_rate: fraction("--verify-fast-path-rate", self.verify_fast_path_rate)?,
            shadow,
        })
    }
}

/// The shadow bundles (config file, then `--shadow-bundle`), verified as `--bundle` ones are,
/// and the sampling: flags over the config file.
fn shadow_settings(
    file: &FileConfig,
    args: &ShadowArgs,
    keys: &std::collections::HashMap<String, VerificationKey>,
    cli_verification: Option<Verification>,
    served: &[BundleSpec],
) -> Result<ShadowSettings, ConfigError> {
    let mut settings = file.shadow_settings()?;
    let mut specs = file.shadow_specs(!keys.is_empty())?;
    for source in &args.shadow_bundles {
        specs.push(BundleSpec {
            name: source.name.clone(),
            location: BundleLocation::Local(source.path.clone()),
            verification: cli_verification
                .clone()
                .or_else(|| (!keys.is_empty()).then(Verification::default)),
        });
    }
    let mut names = std::collections::HashSet::new();
    for spec in &specs {
        // Names label metrics and status: a shadow bundle must not pass for a served one.
        if served.iter().any(|s| s.name == spec.name) || !names.insert(spec.name.clone()) {
            return Err(ConfigError(format!(
                "shadow bundle {:?}: the name is taken; name it apart (--shadow-bundle NAME=PATH)",
                spec.name
            )));
        }
    }
    if let Some(rate) = args.shadow_sample_rate {
        if !(rate > 0.0 && rate <= 1.0) {
            return Err(ConfigError("--shadow-sample-rate must be in (0, 1]".into()));
        }
        settings.sample_rate = rate;
    }
    settings.bundles = specs;
    Ok(settings)
}

impl SigningArgs {
    /// The `--verification-key`, by its id, and how a bundle must be signed with it; empty
    /// and `None` without the flag.
    pub fn key_and_verification(
        &self,
    ) -> Result<
        (
            std::collections::HashMap<String, VerificationKey>,
            Option<Verification>,
        ),
        ConfigError,
    > {
        let mut keys = std::collections::HashMap::new();
        let verification = self.verification(&mut keys)?;
        Ok((keys, verification))
    }

    /// The `--verification-key` (added to `keys`) and how `--bundle` bundles must be signed.
    fn verification(
        &self,
        keys: &mut std::collections::HashMap<String, VerificationKey>,
    ) -> Result<Option<Verification>, ConfigError> {
        let Some(key) = &self.verification_key else {
            return Ok(None);
        };
        // A path to a PEM file, or the secret itself (as OPA's flag).
        let material = match std::fs::read(key) {
            Ok(bytes) => bytes,
            Err(e) => {
                if looks_like_a_path(key) {
                    tracing::warn!(
                        "--verification-key {key:?} looks like a file path but cannot be read ({e}); it is used as an HMAC secret, as OPA does"
                    );
                }
                key.clone().into_bytes()
            }
        };
        let parsed = VerificationKey::new(&self.signing_alg, &material, None)
            .map_err(|e| ConfigError(format!("--verification-key: {e}")))?;
        keys.insert(self.verification_key_id.clone(), parsed);
        Ok(Some(Verification {
            key_id: Some(self.verification_key_id.clone()),
            scope: self.scope.clone(),
            exclude_files: self.exclude_files_verify.clone(),
        }))
    }
}

/// A fraction in [0, 1], or an error naming the flag.
fn fraction(flag: &str, value: f64) -> Result<f64, ConfigError> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError(format!(
            "{flag} must be between 0 and 1, not {value}"
        )))
    }
}

/// A secret rarely contains a slash or ends in a key file's extension; a path does.
fn looks_like_a_path(value: &str) -> bool {
    value.contains('/')
        || [".pem", ".key", ".pub", ".crt"]
            .iter()
            .any(|e| value.ends_with(e))
}

/// The config file's bundles, then `--bundle`'s (or `policies` when none is configured).
fn bundle_specs(
    file: &FileConfig,
    cli_bundles: Vec<BundleSource>,
    keys: &std::collections::HashMap<String, VerificationKey>,
    cli_verification: Option<Verification>,
) -> Result<Vec<BundleSpec>, ConfigError> {
    let mut bundles = file.bundle_specs(!keys.is_empty())?;
    let cli_bundles = if cli_bundles.is_empty() && bundles.is_empty() {
        vec![BundleSource {
            name: "policies".into(),
            path: PathBuf::from("policies"),
        }]
    } else {
        cli_bundles
    };
    for source in cli_bundles {
        let verification = cli_verification
            .clone()
            .or_else(|| (!keys.is_empty()).then(Verification::default));
        bundles.push(BundleSpec {
            name: source.name,
            location: BundleLocation::Local(source.path),
            verification,
        });
    }
    let mut names = std::collections::HashSet::new();
    for bundle in &bundles {
        if !names.insert(bundle.name.clone()) {
            return Err(ConfigError(format!(
                "two bundles are named {:?}; name them apart (NAME=PATH)",
                bundle.name
            )));
        }
    }
    Ok(bundles)
}

/// Debounce and re-check intervals: flags over the config file over the defaults.
fn watch_settings(args: &WatchArgs, file: &FileConfig) -> Result<WatchSettings, ConfigError> {
    let file_watch = file.watch.as_ref();
    let defaults = WatchSettings::default();
    let recheck = match args
        .recheck_interval_seconds
        .or_else(|| file_watch.and_then(|w| w.recheck_seconds))
    {
        None => defaults.recheck,
        Some(0.0) => defaults.recheck,
        Some(s) => seconds("--recheck-interval-seconds (watch.recheck_seconds)", s)?,
    };
    Ok(WatchSettings {
        debounce: args
            .watch_debounce_ms
            .or_else(|| file_watch.and_then(|w| w.debounce_ms))
            .map_or(defaults.debounce, Duration::from_millis),
        recheck,
    })
}

/// `755`, `0660`, `0o666`: file permission bits in octal.
fn parse_octal_mode(s: &str) -> Result<u32, String> {
    let digits = s.strip_prefix("0o").unwrap_or(s);
    u32::from_str_radix(digits, 8)
        .ok()
        .filter(|mode| *mode <= 0o777)
        .ok_or_else(|| format!("{s:?} is not an octal permission mode such as 755 or 660"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_defaults_serve_policies_on_loopback() {
        let cli = Cli::try_parse_from(["authzd", "run"]).unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not run")
        };
        let config = args.into_config().unwrap();
        assert_eq!(config.bundles[0].name, "policies");
        assert!(
            matches!(&config.bundles[0].location, BundleLocation::Local(p) if p == &PathBuf::from("policies"))
        );
        assert_eq!(config.http_addrs, vec!["127.0.0.1:8181".parse().unwrap()]);
        assert_eq!(config.default_decision, "/system/main");
    }

    #[test]
    fn policy_file_caps_flags_over_the_config_file_over_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("authzd.yaml");
        std::fs::write(&file, "max_policy_line_bytes: 4096\nmax_policy_lines: 50\n").unwrap();
        let cli = Cli::try_parse_from([
            "authzd",
            "run",
            "--config-file",
            file.to_str().unwrap(),
            "--max-policy-lines",
            "70",
        ])
        .unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not run")
        };
        let sources = args.into_config().unwrap().sources;
        assert_eq!(sources.max_line_bytes, 4096);
        assert_eq!(sources.max_lines, 70);
        assert_eq!(
            sources.max_file_bytes,
            SourceLimits::default().max_file_bytes
        );
    }

    #[test]
    fn non_finite_seconds_are_refused_not_a_panic() {
        for value in ["inf", "NaN", "-1"] {
            let flag = format!("--recheck-interval-seconds={value}");
            let cli = Cli::try_parse_from(["authzd", "run", flag.as_str()]).unwrap();
            let Some(Command::Run(args)) = cli.command else {
                panic!("not run")
            };
            let err = args.into_config().unwrap_err().to_string();
            assert!(err.contains("--recheck-interval-seconds"), "{value}: {err}");
        }
    }

    #[test]
    fn paths_and_secrets_are_told_apart() {
        assert!(looks_like_a_path("/etc/authzd/key.pem"));
        assert!(looks_like_a_path("public.pem"));
        assert!(!looks_like_a_path("s3cr3t-value"));
    }

    #[test]
    fn shutdown_delay_and_socket_perm() {
        let cli = Cli::try_parse_from([
            "authzd",
            "run",
            "--shutdown-delay-seconds",
            "7",
            "--unix-socket-perm",
            "0660",
        ])
        .unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not run")
        };
        let config = args.into_config().unwrap();
        assert_eq!(config.shutdown_delay, Duration::from_secs(7));
        assert_eq!(config.unix_socket_mode, 0o660);
        assert!(Cli::try_parse_from(["authzd", "run", "--unix-socket-perm", "888"]).is_err());
    }

    #[test]
    fn shadow_bundles_need_their_own_names() {
        let parse = |args: &[&str]| {
            let mut all = vec!["authzd", "run", "--bundle", "policies"];
            all.extend_from_slice(args);
            let Some(Command::Run(args)) = Cli::try_parse_from(all).unwrap().command else {
                panic!("not run")
            };
            args.into_config()
        };
        let config = parse(&[
            "--shadow-bundle",
            "next=policies",
            "--shadow-sample-rate",
            "0.25",
        ])
        .unwrap();
        assert!(config.shadow.enabled());
        assert_eq!(config.shadow.bundles[0].name, "next");
        assert_eq!(config.shadow.sample_rate, 0.25);
        let err = parse(&["--shadow-bundle", "policies"]).unwrap_err();
        assert!(err.0.contains("name it apart"), "{err}");
        let err = parse(&["--shadow-bundle", "n=x", "--shadow-sample-rate", "0"]).unwrap_err();
        assert!(err.0.contains("--shadow-sample-rate"), "{err}");
    }

    #[test]
    fn repeated_flags_accumulate() {
        let cli = Cli::try_parse_from([
            "authzd",
            "run",
            "--bundle",
            "a=x",
            "--bundle",
            "y.tar.gz",
            "--addr",
            "127.0.0.1:0",
            "--addr",
            "unix:///tmp/a.sock",
        ])
        .unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not run")
        };
        assert_eq!(args.bundles.len(), 2);
        assert_eq!(args.addrs.len(), 2);
    }
}
