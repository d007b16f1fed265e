//! Prometheus metrics: names, label sets and buckets, rendered on `GET /metrics`.
//!
//! Owns: the recorder (installed once per process) and typed handles created ahead of time, so
//! the decision path only increments atomics: no label strings are built, and no label ever
//! comes from request input. Histograms have buckets from 1 µs to 1 s.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use regorus::Value;

use crate::decide::identity::outcome::{Failure, Source};

/// Histogram buckets, in seconds: 1 µs to 1 s.
pub const BUCKETS: [f64; 19] = [
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
];

/// Which API answered a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiKind {
    Http,
    Grpc,
    Envoy,
    /// `authzd eval`, `authzd test`.
    Cli,
}

impl ApiKind {
    const ALL: [ApiKind; 4] = [ApiKind::Http, ApiKind::Grpc, ApiKind::Envoy, ApiKind::Cli];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Grpc => "grpc",
            Self::Envoy => "envoy",
            Self::Cli => "cli",
        }
    }
}

/// How a decision came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    Deny,
    Undefined,
    Error,
}

impl Outcome {
    const ALL: [Outcome; 4] = [
        Outcome::Allow,
        Outcome::Deny,
        Outcome::Undefined,
        Outcome::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Undefined => "undefined",
            Self::Error => "error",
        }
    }

    /// `false`, or an object whose `allow`/`allowed` is `false`, is a denial; `undefined` is
    /// its own outcome; any other defined result counts as an allow.
    pub fn of(result: &Value) -> Self {
        match result {
            Value::Undefined => Self::Undefined,
            Value::Bool(false) => Self::Deny,
            Value::Object(fields) => {
                let flag = fields
                    .get(&Value::from("allow"))
                    .or_else(|| fields.get(&Value::from("allowed")));
                match flag {
                    Some(Value::Bool(false)) => Self::Deny,
                    _ => Self::Allow,
                }
            }
            _ => Self::Allow,
        }
    }
}

/// OPA's handler names for `http_request_duration_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpHandler {
    V1Data,
    V0Data,
    V1BatchData,
    Index,
    Health,
    V1Status,
    Metrics,
    Catchall,
}

impl HttpHandler {
    const COUNT: usize = 8;

    /// The handler of a request path (route templates, never the path itself).
    pub fn of(path: &str) -> Self {
        if path == "/v1/data" || path.starts_with("/v1/data/") {
            Self::V1Data
        } else if path == "/v0/data" || path.starts_with("/v0/data/") {
            Self::V0Data
        } else if path == "/v1/batch/data" || path.starts_with("/v1/batch/data/") {
            Self::V1BatchData
        } else if path == "/" {
            Self::Index
        } else if path == "/health" {
            Self::Health
        } else if path == "/v1/status" {
            Self::V1Status
        } else if path == "/metrics" {
            Self::Metrics
        } else {
            Self::Catchall
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::V1Data => "v1/data",
            Self::V0Data => "v0/data",
            Self::V1BatchData => "v1/batch/data",
            Self::Index => "index",
            Self::Health => "health",
            Self::V1Status => "v1/status",
            Self::Metrics => "metrics",
            Self::Catchall => "catchall",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Status codes with their own series; anything else shares "other".
const HTTP_CODES: [u16; 9] = [200, 207, 301, 400, 404, 405, 413, 500, 0];
const HTTP_METHODS: [&str; 3] = ["get", "post", "other"];
/// gRPC methods with their own series.
pub const GRPC_METHODS: [&str; 3] = [
    "/authzd.v1.Authorizer/Decide",
    "/authzd.v1.Authorizer/DecideBatch",
    "/envoy.service.auth.v3.Authorization/Check",
];
const GRPC_CODES: usize = 17;

/// Why a decision-log event was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The queue from the decision path to the log worker was full.
    BufferFull,
    /// The HTTP uploader's queue was full (the collector is slow or down).
    UploadBufferFull,
    /// The mask policy failed; OPA drops such events too.
    MaskError,
    /// `data.system.log.drop` said so.
    DropPolicy,
    /// The event could not be encoded.
    EncodeError,
}

impl DropReason {
    const ALL: [DropReason; 5] = [
        DropReason::BufferFull,
        DropReason::UploadBufferFull,
        DropReason::MaskError,
        DropReason::DropPolicy,
        DropReason::EncodeError,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::BufferFull => "buffer_full",
            Self::UploadBufferFull => "upload_buffer_full",
            Self::MaskError => "mask_error",
            Self::DropPolicy => "drop_policy",
            Self::EncodeError => "encode_error",
        }
    }
}

/// How one fast-path self-check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FastPathCheck {
    Same,
    Mismatch,
    /// The queue to the checker was full.
    Dropped,
    /// The interpreter failed where it is known to be wrong and the fast path right
    /// ([`crate::decide::interpreter_known_wrong`]): no evidence either way.
    Unverifiable,
}

impl FastPathCheck {
    const ALL: [FastPathCheck; 4] = [
        Self::Same,
        Self::Mismatch,
        Self::Dropped,
        Self::Unverifiable,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Mismatch => "mismatch",
            Self::Dropped => "dropped",
            Self::Unverifiable => "unverifiable",
        }
    }
}

/// Every metric handle the daemon records into.
pub struct Metrics {
    decisions: Vec<Counter>,
    eval: Histogram,
    http: Vec<OnceLock<Histogram>>,
    grpc: Vec<OnceLock<Histogram>>,
    dropped: Vec<Counter>,
    checks: Vec<Counter>,
    rejected: Vec<Counter>,
    /// Source x result, result `verified` first, then each [`Failure`].
    identity: Vec<Counter>,
}

/// The `result` label of a verification.
fn verification_result(result: Result<(), Failure>) -> &'static str {
    match result {
        Ok(()) => "verified",
        Err(failure) => failure.as_str(),
    }
}

fn verification_index(source: Source, result: Result<(), Failure>) -> usize {
    let source = Source::ALL.iter().position(|s| *s == source).unwrap_or(0);
    let result = match result {
        Ok(()) => 0,
        Err(failure) => 1 + Failure::ALL.iter().position(|f| *f == failure).unwrap_or(0),
    };
    source * (1 + Failure::ALL.len()) + result
}

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process-wide recorder (once) and returns its handle for rendering.
pub fn recorder() -> Option<PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &BUCKETS)
                })
                .ok()
                .and_then(|b| b.install_recorder().ok())
        })
        .clone()
}

impl Metrics {
    /// Registers every series. Call after [`recorder`], or the handles record nowhere.
    pub fn new() -> Arc<Self> {
        describe();
        let mut decisions = Vec::new();
        for api in ApiKind::ALL {
            for outcome in Outcome::ALL {
                decisions.push(metrics::counter!(
                    "authzd_decisions_total",
                    "api" => api.as_str(),
                    "outcome" => outcome.as_str()
                ));
            }
        }
        let dropped = DropReason::ALL
            .iter()
            .map(
                |r| metrics::counter!("authzd_decision_logs_dropped_total", "reason" => r.as_str()),
            )
            .collect();
        let results = std::iter::once(Ok(())).chain(Failure::ALL.iter().map(|f| Err(*f)));
        let identity = Source::ALL
            .iter()
            .flat_map(|source| results.clone().map(move |result| (*source, result)))
            .map(|(source, result)| {
                metrics::counter!(
                    "authzd_identity_verifications_total",
                    "source" => source.as_str(),
                    "result" => verification_result(result)
                )
            })
            .collect();
        metrics::gauge!(
            "authzd_build_info",
            "version" => crate::build_info::VERSION,
            "commit" => crate::build_info::COMMIT
        )
        .set(1.0);
        Arc::new(Self {
            decisions,
            eval: metrics::histogram!("authzd_eval_duration_seconds"),
            http: (0..HttpHandler::COUNT * HTTP_METHODS.len() * HTTP_CODES.len())
                .map(|_| OnceLock::new())
                .collect(),
            grpc: (0..GRPC_METHODS.len() * GRPC_CODES)
                .map(|_| OnceLock::new())
                .collect(),
            dropped,
            identity,
            checks: FastPathCheck::ALL
                .iter()
                .map(|r| metrics::counter!("authzd_fast_path_checks_total", "result" => r.as_str()))
                .collect(),
            rejected: ApiKind::ALL
                .iter()
                .map(|a| metrics::counter!("authzd_decisions_rejected_total", "api" => a.as_str()))
                .collect(),
        })
    }

    /// Sets `authzd_rules{bundle, evaluator}` from a snapshot's rules (both evaluators of every
    /// bundle are set, so a count that drops to zero shows as zero).
    pub fn rules(&self, counts: &std::collections::BTreeMap<(String, &'static str), usize>) {
        let bundles: std::collections::BTreeSet<&String> = counts.keys().map(|(b, _)| b).collect();
        for bundle in bundles {
            for evaluator in ["rvm", "interpreter"] {
                let n = counts
                    .get(&(bundle.clone(), evaluator))
                    .copied()
                    .unwrap_or(0);
                metrics::gauge!("authzd_rules", "bundle" => bundle.clone(), "evaluator" => evaluator)
                    .set(n as f64);
            }
        }
    }

    /// Counts one fast-path self-check.
    pub fn fast_path_check(&self, result: FastPathCheck) {
        let index = FastPathCheck::ALL
            .iter()
            .position(|r| *r == result)
            .unwrap_or(0);
        if let Some(counter) = self.checks.get(index) {
            counter.increment(1);
        }
    }

    /// Counts one verification of a credential that was present.
    pub fn identity_verification(&self, source: Source, result: Result<(), Failure>) {
        if let Some(counter) = self.identity.get(verification_index(source, result)) {
            counter.increment(1);
        }
    }

    /// Counts a disagreement of the fast path with the interpreter for `rule` (a rule path of
    /// the bundle, never anything from a request).
    pub fn fast_path_mismatch(&self, rule: &str) {
        metrics::counter!("authzd_fast_path_mismatches_total", "rule" => rule.to_string())
            .increment(1);
    }

    /// Counts one request that admission refused (it made no decision).
    pub fn rejected(&self, api: ApiKind) {
        let index = ApiKind::ALL.iter().position(|a| *a == api).unwrap_or(0);
        if let Some(counter) = self.rejected.get(index) {
            counter.increment(1);
        }
    }

    /// Counts one decision.
    pub fn decision(&self, api: ApiKind, outcome: Outcome, eval: Duration) {
        let index = ApiKind::ALL.iter().position(|a| *a == api).unwrap_or(0) * Outcome::ALL.len()
            + Outcome::ALL.iter().position(|o| *o == outcome).unwrap_or(0);
        if let Some(counter) = self.decisions.get(index) {
            counter.increment(1);
        }
        self.eval.record(eval.as_secs_f64());
    }

    /// Records one HTTP request.
    pub fn http_request(
        &self,
        handler: HttpHandler,
        method: &axum::http::Method,
        code: u16,
        took: Duration,
    ) {
        let method_index = match *method {
            axum::http::Method::GET => 0,
            axum::http::Method::POST => 1,
            _ => 2,
        };
        let code_index = HTTP_CODES
            .iter()
            .position(|c| *c == code)
            .unwrap_or(HTTP_CODES.len() - 1);
        let index =
            (handler.index() * HTTP_METHODS.len() + method_index) * HTTP_CODES.len() + code_index;
        if let Some(slot) = self.http.get(index) {
            slot.get_or_init(|| {
                let code = match HTTP_CODES[code_index] {
                    0 => "other".to_string(),
                    c => c.to_string(),
                };
                metrics::histogram!(
                    "http_request_duration_seconds",
                    "code" => code,
                    "handler" => handler.as_str(),
                    "method" => HTTP_METHODS[method_index]
                )
            })
            .record(took.as_secs_f64());
        }
    }

    /// Records one gRPC call of one of [`GRPC_METHODS`].
    pub fn grpc_request(&self, method: &'static str, code: tonic::Code, took: Duration) {
        let Some(method_index) = GRPC_METHODS.iter().position(|m| *m == method) else {
            return;
        };
        let code_index = (code as usize).min(GRPC_CODES - 1);
        if let Some(slot) = self.grpc.get(method_index * GRPC_CODES + code_index) {
            slot.get_or_init(|| {
                metrics::histogram!(
                    "grpc_request_duration_seconds",
                    "method" => method,
                    "code" => format!("{code:?}")
                )
            })
            .record(took.as_secs_f64());
        }
    }

    /// Counts a decision-log event that was not delivered.
    pub fn dropped(&self, reason: DropReason) {
        let index = DropReason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or(0);
        if let Some(counter) = self.dropped.get(index) {
            counter.increment(1);
        }
    }

    /// Records a bundle activation attempt.
    pub fn bundle_load(&self, bundle: &str, success: bool) {
        metrics::counter!(
            "authzd_bundle_loads_total",
            "bundle" => bundle.to_string(),
            "result" => if success { "success" } else { "failure" }
        )
        .increment(1);
    }

    /// Records the newly active revision of a bundle (the previous one's series drops to 0).
    pub fn bundle_active(&self, bundle: &str, previous: Option<&str>, revision: &str) {
        if let Some(previous) = previous.filter(|p| *p != revision) {
            revision_gauge(bundle, previous).set(0.0);
        }
        revision_gauge(bundle, revision).set(1.0);
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        metrics::gauge!("authzd_bundle_last_success_timestamp_seconds", "bundle" => bundle.to_string())
            .set(now);
    }
}

fn revision_gauge(bundle: &str, revision: &str) -> Gauge {
    metrics::gauge!(
        "authzd_bundle_active_revision_info",
        "bundle" => bundle.to_string(),
        "revision" => revision.to_string()
    )
}

fn describe() {
    metrics::describe_counter!(
        "authzd_decisions_total",
        "Decisions made, by API and outcome."
    );
    metrics::describe_histogram!(
        "authzd_eval_duration_seconds",
        metrics::Unit::Seconds,
        "Time spent evaluating one decision."
    );
    metrics::describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP requests, by status code, handler (route template) and method."
    );
    metrics::describe_histogram!(
        "grpc_request_duration_seconds",
        metrics::Unit::Seconds,
        "gRPC calls, by method and status code."
    );
    metrics::describe_counter!(
        "authzd_decisions_rejected_total",
        "Requests refused by admission (every evaluation slot stayed busy), by API."
    );
    metrics::describe_counter!(
        "authzd_decision_logs_dropped_total",
        "Decision-log events not delivered, by reason."
    );
    metrics::describe_counter!(
        "authzd_bundle_loads_total",
        "Bundle activation attempts, by result."
    );
    metrics::describe_gauge!(
        "authzd_bundle_active_revision_info",
        "1 for the revision each bundle serves."
    );
    metrics::describe_gauge!(
        "authzd_bundle_last_success_timestamp_seconds",
        "When each bundle last activated (Unix time)."
    );
    metrics::describe_counter!(
        "authzd_identity_verifications_total",
        "Credentials verified by the identity step, by source and result (verified, or why refused)."
    );
    metrics::describe_gauge!(
        "authzd_rules",
        "Rules of each bundle, by the evaluator they run on (see /v1/status for why)."
    );
    metrics::describe_counter!(
        "authzd_fast_path_checks_total",
        "Fast-path decisions evaluated again on the interpreter, by result (dropped: the queue was full; unverifiable: the interpreter failed where it is known wrong)."
    );
    metrics::describe_counter!(
        "authzd_fast_path_mismatches_total",
        "Fast-path answers that differed from the interpreter's, by rule; the rule is demoted."
    );
    metrics::describe_gauge!(
        "authzd_build_info",
        "1, with the version and commit as labels."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_of_results() {
        let v = |s: &str| Value::from_json_str(s).unwrap();
        assert_eq!(Outcome::of(&Value::Undefined), Outcome::Undefined);
        assert_eq!(Outcome::of(&v("true")), Outcome::Allow);
        assert_eq!(Outcome::of(&v("false")), Outcome::Deny);
        assert_eq!(
            Outcome::of(&v(r#"{"allow": false, "reasons": ["x"]}"#)),
            Outcome::Deny
        );
        assert_eq!(Outcome::of(&v(r#"{"allowed": true}"#)), Outcome::Allow);
        assert_eq!(Outcome::of(&v("[1]")), Outcome::Allow);
    }

    #[test]
    fn verification_series_are_laid_out_source_by_source() {
        let mut seen = std::collections::HashSet::new();
        for source in Source::ALL {
            for result in std::iter::once(Ok(())).chain(Failure::ALL.iter().map(|f| Err(*f))) {
                assert!(seen.insert(verification_index(source, result)));
            }
        }
        assert_eq!(seen.len(), Source::ALL.len() * (1 + Failure::ALL.len()));
        assert_eq!(seen.iter().max(), Some(&(seen.len() - 1)));
    }

    #[test]
    fn handlers_are_route_templates() {
        assert_eq!(
            HttpHandler::of("/v1/data/orders/allow"),
            HttpHandler::V1Data
        );
        assert_eq!(HttpHandler::of("/v1/data"), HttpHandler::V1Data);
        assert_eq!(HttpHandler::of("/v1/dataxyz"), HttpHandler::Catchall);
        assert_eq!(
            HttpHandler::of("/v1/batch/data/x"),
            HttpHandler::V1BatchData
        );
        assert_eq!(HttpHandler::of("/"), HttpHandler::Index);
    }
}
