//! One in-process decision on the example order policy, for each kind of request the order
//! service sees: the RVM fast path, the interpreter fallback for comparison, the whole
//! decision pipeline (decision id, metrics, decision log), and the pipeline with the identity
//! step verifying each kind of credential.
//!
//! `cargo bench --bench decide`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authzd::bundle::Bundle;
use authzd::config::{
    DecisionLogSettings, IdentitySettings, JwtKeySource, JwtSettings, Secret, SecretSource,
    ServiceTokenSettings, UserContextSettings,
};
use authzd::decide::identity::IdentityStep;
use authzd::decide::{
    BeforeEvaluation as _, DecideOptions, Decider, DecisionRequest, Evaluator, Recorder,
    evaluate_path,
};
use authzd::decision_log::DecisionLog;
use authzd::metrics::{ApiKind, Metrics};
use authzd::policy::{CompileOptions, DataPath, Snapshot};
use authzd::store::PolicyStore;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use regorus::Value;

// The allocator is the daemon's: regorus installs its own mimalloc as the global allocator.

fn snapshot(use_rvm: bool) -> Snapshot {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let bundle = Arc::new(Bundle::load("policies", &path, 1 << 26).expect("example bundle"));
    Snapshot::compile(
        &[bundle],
        CompileOptions {
            use_rvm,
            ..CompileOptions::default()
        },
    )
    .expect("compile")
}

/// RFC 3339 for `secs` since the epoch.
fn rfc3339(secs: u64) -> String {
    chrono::DateTime::from_timestamp(secs as i64, 0)
        .expect("timestamp")
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

const PATH: DataPath<'static> = DataPath::Url("orders/allow");

fn input(json: &str) -> Value {
    Value::from_json_str(json).expect("input")
}

fn bench(c: &mut Criterion) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let fresh = rfc3339(now - 5 * 60);
    let stale = rfc3339(now - 45 * 60);
    let cases = [
        (
            "owner views (allow)",
            input(
                r#"{"subject": {"id": "10001", "roles": ["customer"]}, "action": "view", "resource": {"type": "order", "id": "42", "owner": "10001"}}"#,
            ),
            true,
        ),
        (
            "owner cancels within 30 min (allow)",
            input(&format!(
                r#"{{"subject": {{"id": "10001", "roles": ["customer"]}}, "action": "cancel", "resource": {{"type": "order", "id": "42", "owner": "10001", "created_at": "{fresh}"}}}}"#
            )),
            true,
        ),
        (
            "warehouse staff processes (allow)",
            input(
                r#"{"subject": {"id": "20001"}, "action": "process", "resource": {"type": "order", "id": "42", "owner": "10001"}}"#,
            ),
            true,
        ),
        (
            "other user views (deny)",
            input(
                r#"{"subject": {"id": "10002", "roles": ["customer"]}, "action": "view", "resource": {"type": "order", "id": "42", "owner": "10001"}}"#,
            ),
            false,
        ),
        (
            "owner cancels after 30 min (deny)",
            input(&format!(
                r#"{{"subject": {{"id": "10001", "roles": ["customer"]}}, "action": "cancel", "resource": {{"type": "order", "id": "42", "owner": "10001", "created_at": "{stale}"}}}}"#
            )),
            false,
        ),
    ];
    let rvm = snapshot(true);
    let interpreter = snapshot(false);
    let options = DecideOptions::default();
    for (name, input, want) in &cases {
        let decision = evaluate_path(&rvm, PATH, input, options).expect("decide");
        assert_eq!(
            decision.evaluator,
            Evaluator::Rvm,
            "orders/allow must run on the RVM"
        );
        assert_eq!(decision.result, Value::from(*want), "{name}");
    }

    let mut group = c.benchmark_group("orders/allow rvm");
    for (name, input, _) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| evaluate_path(black_box(&rvm), PATH, black_box(input), options))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("orders/allow interpreter");
    for (name, input, _) in cases.iter().take(1).chain(cases.iter().skip(3).take(1)) {
        group.bench_function(*name, |b| {
            b.iter(|| evaluate_path(black_box(&interpreter), PATH, black_box(input), options))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("orders/decision rvm");
    let (name, input, _) = &cases[3];
    group.bench_function(*name, |b| {
        b.iter(|| {
            evaluate_path(
                black_box(&rvm),
                DataPath::Url("orders/decision"),
                black_box(input),
                options,
            )
        })
    });
    group.finish();

    // What the decision path pays for metrics and the decision log: a decision plus its
    // recording, with logging off and on (events written by the log thread to /dev/null).
    let _recorder = authzd::metrics::recorder();
    let metrics = Metrics::new();
    let store = Arc::new(PolicyStore::new(snapshot(true)));
    let log = DecisionLog::start(
        &DecisionLogSettings {
            file: Some("/dev/null".into()),
            ..DecisionLogSettings::default()
        },
        store.clone(),
        metrics.clone(),
    )
    .expect("decision log");
    let off = Decider::new(
        store.clone(),
        Recorder {
            metrics: metrics.clone(),
            log: None,
        },
    );
    let on = Decider::new(
        store.clone(),
        Recorder {
            metrics,
            log: Some(log.logger.clone()),
        },
    );
    let (_, input, _) = &cases[0];
    let mut group = c.benchmark_group("orders/allow rvm + pipeline");
    for (label, decider) in [("decision log off", &off), ("decision log on", &on)] {
        group.bench_function(label, |b| {
            b.iter(|| {
                let request = DecisionRequest::new(ApiKind::Http, PATH, input.clone());
                decider.decide(black_box(request))
            })
        });
    }
    group.finish();
}

fn hex_hmac(secret: &str, message: &str) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac");
    mac.update(message.as_bytes());
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What the identity step costs a decision: the same allowed request through the pipeline
/// without the step (the unverified demo-mode input) and with it (no `identity` section: it
/// only strips `input.identity`; or each credential verified), and the step alone
/// (`cargo bench --bench decide -- identity`).
fn identity(c: &mut Criterion<ThreadCpuTime>) {
    use base64::Engine as _;
    let _recorder = authzd::metrics::recorder();
    let metrics = &Metrics::new();
    let store = &Arc::new(PolicyStore::new(snapshot(true)));
    let secret = |s: &str| SecretSource::Inline(Secret(s.to_string()));
    let settings = IdentitySettings {
        user_context: Some(UserContextSettings {
            header: "x-user-context".into(),
            timestamp_header: "x-user-context-timestamp".into(),
            signature_header: "x-user-context-signature".into(),
            secret: secret("gateway-secret"),
            // Long enough for the whole run.
            max_age: Duration::from_secs(24 * 3600),
        }),
        service_token: Some(ServiceTokenSettings {
            header: "x-service-auth".into(),
            secret: secret("service-secret"),
        }),
        jwt: Some(JwtSettings {
            header: "authorization".into(),
            issuer: Some("https://gateway.example.com".into()),
            audiences: vec!["orders".into()],
            keys: JwtKeySource::Secret(Secret("jwt-secret".into())),
            leeway: Duration::from_secs(30),
        }),
    };
    let recorder = || Recorder {
        metrics: metrics.clone(),
        log: None,
    };
    let plain = Decider::new(store.clone(), recorder());
    let stripping = Decider::new(store.clone(), recorder()).with_before(Arc::new(
        IdentityStep::new(None, metrics.clone()).expect("identity step"),
    ));
    let verifying = Decider::new(store.clone(), recorder()).with_before(Arc::new(
        IdentityStep::new(Some(&settings), metrics.clone()).expect("identity step"),
    ));

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let rest = r#""action": "view", "resource": {"type": "order", "id": "42", "owner": "10001"}"#;
    let context = r#"{"id": "10001", "roles": ["customer"]}"#;
    let context_headers = serde_json::json!({
        "x-user-context": context,
        "x-user-context-timestamp": now.to_string(),
        "x-user-context-signature": hex_hmac("gateway-secret", &format!("{now}.{context}")),
    });
    let claims = serde_json::json!({"service": "order-service", "instance": "order-7d9f", "issuedAt": now, "expiresAt": now + 24 * 3600});
    let payload = base64::engine::general_purpose::STANDARD.encode(claims.to_string());
    let token = format!("{payload}.{}", hex_hmac("service-secret", &payload));
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt_input = format!(
        "{}.{}",
        b64(r#"{"alg":"HS256","typ":"JWT"}"#),
        b64(&serde_json::json!({"sub": "10001", "iss": "https://gateway.example.com", "aud": "orders", "exp": now + 24 * 3600}).to_string())
    );
    let jwt = {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"jwt-secret").expect("hmac");
        mac.update(jwt_input.as_bytes());
        format!("{jwt_input}.{}", b64_bytes(&mac.finalize().into_bytes()))
    };
    let view = |extra: String| input(&format!(r#"{{{extra}, {rest}}}"#));
    let headers = |headers: serde_json::Value| format!(r#""headers": {headers}"#);
    let demo_user = r#""subject": {"id": "10001", "roles": ["customer"]}"#.to_string();
    let with_context = headers(context_headers);
    let with_jwt = headers(serde_json::json!({"authorization": format!("Bearer {jwt}")}));
    let initiate = |extra: String| input(&format!(r#"{{{extra}, "action": "initiate"}}"#));
    let demo_caller = r#""caller": {"service": "order-service"}"#.to_string();
    let with_token = headers(serde_json::json!({"x-service-auth": token}));
    let payment = DataPath::Url("payment/allow");

    // Pairs answering the same way on the same rule bodies, without and with the step: the
    // ratio is the step's cost per decision.
    let cases = [
        (
            "orders/allow, without the step (demo-mode input)",
            &plain,
            PATH,
            view(demo_user.clone()),
        ),
        (
            "orders/allow, step: no identity section",
            &stripping,
            PATH,
            view(demo_user),
        ),
        (
            "orders/allow, step: user context verified",
            &verifying,
            PATH,
            view(with_context.clone()),
        ),
        (
            "orders/allow, step: HS256 JWT verified",
            &verifying,
            PATH,
            view(with_jwt.clone()),
        ),
        (
            "payment/allow, without the step (demo-mode input)",
            &plain,
            payment,
            initiate(demo_caller),
        ),
        (
            "payment/allow, step: service token verified",
            &verifying,
            payment,
            initiate(with_token.clone()),
        ),
    ];
    for (name, decider, path, input) in &cases {
        let decided = decider.decide(DecisionRequest::new(ApiKind::Http, *path, input.clone()));
        assert_eq!(
            decided.outcome.expect("decide").result,
            Value::from(true),
            "{name}"
        );
    }
    // Each iteration gets an input of its own, as a transport hands one over: the step
    // rewrites it in place, where a shared one would be copied first.
    let mut group = c.benchmark_group("pipeline + identity");
    for (name, decider, path, input) in &cases {
        group.bench_function(*name, |b| {
            b.iter_batched(
                || fresh(input),
                |input| decider.decide(DecisionRequest::new(ApiKind::Http, *path, input)),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();

    // The step alone.
    let step = IdentityStep::new(Some(&settings), metrics.clone()).expect("identity step");
    let alone = [
        ("no credential", view("\"accept\": \"*/*\"".to_string())),
        ("user context", view(with_context)),
        ("service token", view(with_token)),
        ("HS256 JWT", view(with_jwt)),
    ];
    let mut group = c.benchmark_group("identity step alone");
    for (name, input) in &alone {
        group.bench_function(*name, |b| {
            b.iter_batched(
                || DecisionRequest::new(ApiKind::Http, PATH, fresh(input)),
                |mut request| {
                    step.before(black_box(&mut request));
                    request
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// The benchmark thread's CPU time. This machine is shared: wall time also counted the time
/// the thread waited for a core, and varied by half between runs of the same benchmark; CPU
/// time is what a decision costs.
struct ThreadCpuTime;

static WALL_TIME: WallTime = WallTime;

fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is handed, which outlives the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu()
    }
    fn end(&self, started: Duration) -> Duration {
        thread_cpu().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL_TIME.formatter()
    }
}

/// A deep copy of `value`, owned by nobody else.
fn fresh(value: &Value) -> Value {
    Value::from_json_str(&serde_json::to_string(value).expect("serialize")).expect("parse")
}

fn b64_bytes(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

criterion_group!(benches, bench);
criterion_group! {
    name = identity_benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = identity
}
criterion_main!(benches, identity_benches);
