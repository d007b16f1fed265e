//! Metrics, decision logs and status against the real binary.

mod common;

use std::time::{Duration, Instant};

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use common::{Collector, Daemon, client, metric};
use serde_json::{Value, json};

fn decide(d: &Daemon, path: &str, input: Value) -> (u16, Value) {
    let response = client()
        .post(d.url(path))
        .json(&json!({ "input": input }))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn metrics_text(d: &Daemon) -> String {
    let response = client().get(d.url("/metrics")).send().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    response.text().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_by_exactly_what_happened() {
    let d = tokio::task::spawn_blocking(|| {
        Daemon::start(&["--bundle", "policies", "--bundle", "tests/bundles/conflict"])
    })
    .await
    .unwrap();
    let d2 = std::sync::Arc::new(d);
    let d = d2.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..3 {
            let (status, _) = decide(&d, "/v1/data/inventory/allow", json!({"subject": {"id": "10001"}, "action": "read"}));
            assert_eq!(status, 200);
        }
        for _ in 0..2 {
            decide(&d, "/v1/data/orders/decision", json!({"subject": {"id": "10002"}, "action": "view", "resource": {"owner": "10001"}}));
        }
        decide(&d, "/v1/data/no/such/rule", json!({}));
        let (status, _) = decide(&d, "/v1/data/conflict/x", json!({"both": true}));
        assert_eq!(status, 500);
        assert_eq!(client().get(d.url("/health")).send().unwrap().status().as_u16(), 200);
    })
    .await
    .unwrap();
    let channel =
        tonic::transport::Channel::from_shared(format!("http://{}", d2.grpc_addr.clone().unwrap()))
            .unwrap()
            .connect()
            .await
            .unwrap();
    let mut grpc = AuthorizerClient::new(channel);
    for _ in 0..2 {
        grpc.decide(pb::DecideRequest {
            path: "payment/allow".into(),
            input: Some(pb::decide_request::Input::InputJson(
                json!({"caller": {"service": "order-service"}, "action": "initiate"})
                    .to_string()
                    .into(),
            )),
            ..Default::default()
        })
        .await
        .unwrap();
    }
    let d = d2.clone();
    let text = tokio::task::spawn_blocking(move || metrics_text(&d))
        .await
        .unwrap();

    let decisions = |api: &str, outcome: &str| {
        metric(
            &text,
            "authzd_decisions_total",
            &[("api", api), ("outcome", outcome)],
        )
    };
    assert_eq!(decisions("http", "allow"), 3.0, "{text}");
    assert_eq!(decisions("http", "deny"), 2.0);
    assert_eq!(decisions("http", "undefined"), 1.0);
    assert_eq!(decisions("http", "error"), 1.0);
    assert_eq!(decisions("grpc", "allow"), 2.0);
    assert_eq!(
        metric(&text, "authzd_eval_duration_seconds_count", &[]),
        9.0
    );

    let http = |code: &str, handler: &str, method: &str, suffix: &str| {
        metric(
            &text,
            &format!("http_request_duration_seconds{suffix}"),
            &[("code", code), ("handler", handler), ("method", method)],
        )
    };
    assert_eq!(http("200", "v1/data", "post", "_count"), 6.0);
    assert_eq!(http("500", "v1/data", "post", "_count"), 1.0);
    assert_eq!(http("200", "health", "get", "_count"), 1.0);
    // Buckets are cumulative, from 1 µs to 1 s, and `+Inf` holds every request.
    let bucket = |le: &str| {
        metric(
            &text,
            "http_request_duration_seconds_bucket",
            &[
                ("code", "200"),
                ("handler", "v1/data"),
                ("method", "post"),
                ("le", le),
            ],
        )
    };
    assert_eq!(bucket("+Inf"), 6.0);
    assert_eq!(bucket("1"), 6.0);
    assert!(bucket("0.000001") <= bucket("0.001"));
    assert!(text.contains("le=\"0.000001\""), "no 1 µs bucket");
    assert_eq!(
        metric(
            &text,
            "grpc_request_duration_seconds_count",
            &[("method", "/authzd.v1.Authorizer/Decide"), ("code", "Ok")]
        ),
        2.0
    );

    assert_eq!(
        metric(
            &text,
            "authzd_bundle_loads_total",
            &[("bundle", "policies"), ("result", "success")]
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "authzd_bundle_active_revision_info",
            &[("bundle", "policies"), ("revision", "example-2026-11-23")]
        ),
        1.0
    );
    assert!(
        metric(
            &text,
            "authzd_bundle_last_success_timestamp_seconds",
            &[("bundle", "policies")]
        ) > 1.7e9
    );
    assert_eq!(
        metric(
            &text,
            "authzd_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        1.0
    );
    // Nothing from a request ever becomes a label.
    assert!(
        !text.contains("10001") && !text.contains("no/such"),
        "request data in labels"
    );
}

/// Waits until `path` holds at least `n` JSON lines and returns them.
fn read_events(path: &std::path::Path, n: usize) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if events.len() >= n {
            return events;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {} of {n} events: {text}",
            events.len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn decision_log_events_have_every_field() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let d = Daemon::start(&[
        "--bundle",
        "policies",
        "--bundle",
        "tests/bundles/conflict",
        "--decision-logs-file",
        log.to_str().unwrap(),
        "--decision-logs-label",
        "pod=orders-7d9f",
        "--decision-logs-label",
        "namespace=shop",
    ]);
    let input =
        json!({"subject": {"id": "10002"}, "action": "view", "resource": {"owner": "10001"}});
    let (_, body) = decide(&d, "/v1/data/orders/decision", input.clone());
    decide(&d, "/v1/data/conflict/x", json!({"both": true}));
    let events = read_events(&log, 2);
    let event = &events[0];
    assert_eq!(event["decision_id"], body["decision_id"]);
    assert_eq!(event["path"], "orders/decision");
    assert_eq!(event["input"], input);
    assert_eq!(event["result"], body["result"]);
    assert_eq!(
        event["bundles"]["policies"]["revision"],
        "example-2026-11-23"
    );
    assert_eq!(event["bundles"]["conflict"]["revision"], "conflict-1");
    assert!(
        event["requested_by"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:"),
        "{event}"
    );
    assert_eq!(event["labels"]["pod"], "orders-7d9f");
    assert_eq!(event["labels"]["namespace"], "shop");
    assert_eq!(event["labels"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(event["labels"]["id"].as_str().unwrap().len(), 36);
    assert!(event["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(
        event["metrics"]["timer_rego_query_eval_ns"]
            .as_u64()
            .is_some()
    );
    assert!(event.get("error").is_none());
    let failed = &events[1];
    assert_eq!(failed["error"]["code"], "eval_conflict_error");
    assert!(failed.get("result").is_none());
}

#[test]
fn mask_and_drop_policies() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let d = Daemon::start(&[
        "--bundle",
        "tests/bundles/audit",
        "--decision-logs-file",
        log.to_str().unwrap(),
    ]);
    // Dropped by data.system.log.drop.
    decide(
        &d,
        "/v1/data/app/allow",
        json!({"user": "probe", "action": "healthcheck"}),
    );
    let (_, body) = decide(
        &d,
        "/v1/data/app/allow",
        json!({"user": "alice", "password": "s3cret", "card": {"number": "4111111111111111", "exp": "12/30"}}),
    );
    assert_eq!(body["result"], json!(true));
    let events = read_events(&log, 1);
    assert_eq!(
        events.len(),
        1,
        "the health check must be dropped: {events:?}"
    );
    let event = &events[0];
    assert_eq!(
        event["input"],
        json!({"user": "alice", "card": {"number": "****", "exp": "12/30"}})
    );
    assert_eq!(event["erased"], json!(["/input/password"]));
    assert_eq!(event["masked"], json!(["/input/card/number"]));
    let text = metrics_text(&d);
    assert_eq!(
        metric(
            &text,
            "authzd_decision_logs_dropped_total",
            &[("reason", "drop_policy")]
        ),
        1.0
    );
}

fn upload_config(dir: &std::path::Path, url: &str, extra: &str) -> std::path::PathBuf {
    let config = dir.join("authzd.yaml");
    let (base, resource) = url.rsplit_once('/').unwrap();
    std::fs::write(
        &config,
        format!(
            "bundles:\n  policies:\n    path: policies\nservices:\n  collector:\n    url: {base}\ndecision_logs:\n  service: collector\n  resource: {resource}\n{extra}"
        ),
    )
    .unwrap();
    config
}

#[test]
fn healthy_http_sink_gets_every_event_exactly_once_in_gzipped_batches() {
    let collector = Collector::start(false);
    let dir = tempfile::tempdir().unwrap();
    let config = upload_config(
        dir.path(),
        &collector.url,
        "  upload: {max_batch_events: 10, flush_interval_seconds: 0.05}\n",
    );
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    let mut ids = Vec::new();
    for n in 0..25 {
        let (_, body) = decide(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": format!("u{n}")}, "action": "read"}),
        );
        ids.push(body["decision_id"].as_str().unwrap().to_string());
    }
    let started = Instant::now();
    while collector.events().len() < 25 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "only {} events",
            collector.events().len()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let received: Vec<String> = collector
        .events()
        .iter()
        .map(|e| e["decision_id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted_received = received.clone();
    sorted_received.sort();
    let mut sorted_ids = ids.clone();
    sorted_ids.sort();
    assert_eq!(sorted_received, sorted_ids, "every event exactly once");
    let posts = collector.posts.lock().unwrap();
    assert!(
        posts.len() >= 3,
        "batches of at most 10: {} posts",
        posts.len()
    );
    for (head, _) in posts.iter() {
        let head = head.to_ascii_lowercase();
        assert!(head.starts_with("post /logs "), "{head}");
        assert!(head.contains("content-encoding: gzip"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
    }
    drop(posts);
    let status = d.status();
    assert_eq!(status["result"]["decision_logs"]["state"], "OK");
    assert_eq!(status["result"]["decision_logs"]["delivered"], 25);
}

#[test]
fn a_stalled_http_sink_never_slows_decisions_and_drops_are_counted() {
    let collector = Collector::start(true);
    let dir = tempfile::tempdir().unwrap();
    let config = upload_config(
        dir.path(),
        &collector.url,
        "  buffer_size_events: 20\n  upload: {max_batch_events: 5, flush_interval_seconds: 0.01, buffer_size_events: 5, timeout_seconds: 60}\n",
    );
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    let http = client();
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    for n in 0..300 {
        let t = Instant::now();
        let response = http
            .post(d.url("/v1/data/inventory/allow"))
            .json(&json!({"input": {"subject": {"id": format!("u{n}")}, "action": "read"}}))
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        slowest = slowest.max(t.elapsed());
    }
    let total = started.elapsed();
    // A decision that waited on the stalled collector would take its 60 s timeout; the
    // latency itself is the benchmarks' business.
    assert!(
        slowest < Duration::from_secs(20),
        "slowest decision {slowest:?}"
    );
    eprintln!("300 decisions with a stalled collector: {total:?}, slowest {slowest:?}");
    let started = Instant::now();
    loop {
        let text = metrics_text(&d);
        let dropped = metric(
            &text,
            "authzd_decision_logs_dropped_total",
            &[("reason", "upload_buffer_full")],
        ) + metric(
            &text,
            "authzd_decision_logs_dropped_total",
            &[("reason", "buffer_full")],
        );
        if dropped >= 250.0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "dropped only {dropped}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = d.status();
    assert!(
        status["result"]["decision_logs"]["dropped"]
            .as_u64()
            .unwrap()
            >= 250,
        "{status}"
    );
}

#[test]
fn sampling_logs_a_fraction() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let d = Daemon::start(&[
        "--decision-logs-file",
        log.to_str().unwrap(),
        "--decision-logs-sample-rate",
        "0.25",
    ]);
    let http = client();
    for _ in 0..400 {
        http.post(d.url("/v1/data/inventory/allow"))
            .json(&json!({"input": {}}))
            .send()
            .unwrap();
    }
    // A graceful stop flushes the log: then every sampled event is in the file.
    d.stop_and_read_log();
    let logged = read_events(&log, 0).len();
    assert!(
        (50..=150).contains(&logged),
        "{logged} of 400 logged at 25 %"
    );
}

#[test]
fn diagnostic_listener_serves_only_health_and_metrics() {
    let d = Daemon::start(&["--diagnostic-addr", "127.0.0.1:0", "--log-requests"]);
    let line = d
        .log_text()
        .lines()
        .find(|l| l.contains("diagnostic listener ready"))
        .map(str::to_string)
        .expect("diagnostic listener line");
    let addr = common::field(&line, "addr").unwrap();
    let get = |path: &str| client().get(format!("http://{addr}{path}")).send().unwrap();
    assert_eq!(get("/health").status().as_u16(), 200);
    let metrics = get("/metrics");
    assert_eq!(metrics.status().as_u16(), 200);
    assert!(metrics.text().unwrap().contains("authzd_build_info"));
    assert_eq!(get("/v1/data/inventory/allow").status().as_u16(), 404);
    // --log-requests: one line per request on the main listener, without bodies.
    decide(
        &d,
        "/v1/data/inventory/allow",
        json!({"subject": {"id": "secret-subject"}, "action": "read"}),
    );
    d.wait_for_log("path=/v1/data/inventory/allow");
    let log = d.stop_and_read_log();
    assert!(
        !log.contains("secret-subject"),
        "request bodies must never be logged"
    );
}

#[test]
fn request_logs_are_off_by_default() {
    let d = Daemon::start(&[]);
    decide(&d, "/v1/data/inventory/allow", json!({}));
    let status = d.status();
    assert!(status["result"].get("decision_logs").is_none(), "{status}");
    let log = d.stop_and_read_log();
    assert!(!log.contains("path=/v1/data"), "{log}");
}

#[test]
fn a_failing_collector_gets_the_batch_again_until_it_accepts_it() {
    let collector = Collector::failing(3);
    let dir = tempfile::tempdir().unwrap();
    let config = upload_config(
        dir.path(),
        &collector.url,
        "  upload: {max_batch_events: 100, flush_interval_seconds: 0.2, max_retry_delay_seconds: 0.2}\n",
    );
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    let mut ids = Vec::new();
    for _ in 0..5 {
        let (_, body) = decide(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"}),
        );
        ids.push(body["decision_id"].as_str().unwrap().to_string());
    }
    let started = Instant::now();
    while collector.events().len() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not delivered after retries"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut received: Vec<String> = collector
        .events()
        .iter()
        .map(|e| e["decision_id"].as_str().unwrap().to_string())
        .collect();
    received.sort();
    ids.sort();
    assert_eq!(received, ids, "each event exactly once after the retries");
    let status = d.status();
    assert_eq!(status["result"]["decision_logs"]["state"], "OK", "{status}");
}
