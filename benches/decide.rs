//! One in-process decision on the example order policy, for each kind of request the order
//! service sees: the RVM fast path, the interpreter fallback for comparison, and the whole
//! decision pipeline (decision id, metrics, decision log).
//!
//! `cargo bench --bench decide`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use authzd::bundle::Bundle;
use authzd::config::DecisionLogSettings;
use authzd::decide::{DecideOptions, Decider, DecisionRequest, Evaluator, Recorder, evaluate_path};
use authzd::decision_log::DecisionLog;
use authzd::metrics::{ApiKind, Metrics};
use authzd::policy::{CompileOptions, DataPath, Snapshot};
use authzd::store::PolicyStore;
use criterion::{Criterion, criterion_group, criterion_main};
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

criterion_group!(benches, bench);
criterion_main!(benches);
