//! Every API records each decision exactly once: one decision-log event and one increment of
//! `authzd_decisions_total{api, outcome}`, for allows, denials, undefined documents, malformed
//! paths and evaluation errors alike, over HTTP (v1, v0, batch), gRPC (`Decide`,
//! `DecideBatch`) and Envoy `Check`. Checked against the real binary through its decision-log
//! file and `/metrics`.

mod common;

use std::collections::BTreeMap;

use authzd::api::grpc::pb;
use authzd::api::grpc::pb::authorizer_client::AuthorizerClient;
use common::{Daemon, client, metric};
use envoy_types::ext_authz::v3::pb::CheckRequest;
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, attribute_context};
use serde_json::{Value, json};
use tonic::transport::Channel;

/// (api, outcome) -> count
type Tally = BTreeMap<(String, String), u64>;

fn add(tally: &mut Tally, api: &str, outcome: &str) {
    *tally.entry((api.into(), outcome.into())).or_default() += 1;
}

fn http(d: &Daemon, path: &str, body: Value) -> u16 {
    client()
        .post(d.url(path))
        .json(&body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn decide(path: &str, mode: &str) -> pb::DecideRequest {
    pb::DecideRequest {
        path: path.into(),
        input: Some(pb::decide_request::Input::InputJson(
            json!({ "mode": mode }).to_string().into(),
        )),
        ..Default::default()
    }
}

fn check(mode: &str) -> CheckRequest {
    CheckRequest {
        attributes: Some(AttributeContext {
            request: Some(attribute_context::Request {
                http: Some(attribute_context::HttpRequest {
                    method: "GET".into(),
                    path: "/".into(),
                    headers: [("x-mode".to_string(), mode.to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }),
    }
}

#[test]
fn every_api_records_each_decision_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("decisions.jsonl");
    let d = Daemon::start(&[
        "--bundle",
        "tests/bundles/recording",
        "--decision-logs-file",
        log.to_str().unwrap(),
        "--envoy-path",
        "rec/verdict",
    ]);
    let mut want = Tally::new();

    // HTTP: v1, v0, batch.
    for (mode, status, outcome) in [
        ("allow", 200, "allow"),
        ("deny", 200, "deny"),
        ("none", 200, "undefined"),
        ("conflict", 500, "error"),
    ] {
        let got = http(
            &d,
            "/v1/data/rec/verdict",
            json!({ "input": { "mode": mode } }),
        );
        assert_eq!(got, status, "v1 {mode}");
        add(&mut want, "http", outcome);
    }
    assert_eq!(http(&d, "/v1/data/rec/a%22b", json!({"input": {}})), 400);
    add(&mut want, "http", "error");
    assert_eq!(
        http(&d, "/v0/data/rec/verdict", json!({"mode": "allow"})),
        200
    );
    add(&mut want, "http", "allow");
    assert_eq!(
        http(&d, "/v0/data/rec/verdict", json!({"mode": "none"})),
        404
    );
    add(&mut want, "http", "undefined");
    let batch = json!({"inputs": {"a": {"mode": "allow"}, "b": {"mode": "conflict"}, "c": {"mode": "deny"}}});
    assert_eq!(http(&d, "/v1/batch/data/rec/verdict", batch), 207);
    for outcome in ["allow", "error", "deny"] {
        add(&mut want, "http", outcome);
    }
    let bad_path = json!({"inputs": {"a": {}, "b": {}}});
    assert_eq!(http(&d, "/v1/batch/data/rec/a%22b", bad_path), 400);
    add(&mut want, "http", "error");
    add(&mut want, "http", "error");

    // gRPC and Envoy, on a runtime of their own (the HTTP client above is a blocking one).
    let addr = d.grpc_addr.clone().expect("gRPC listener");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(grpc_and_envoy(&addr, &mut want));

    // The counters moved by exactly what happened...
    let metrics = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let mut counted = Tally::new();
    for api in ["http", "grpc", "envoy"] {
        for outcome in ["allow", "deny", "undefined", "error"] {
            let n = metric(
                &metrics,
                "authzd_decisions_total",
                &[("api", api), ("outcome", outcome)],
            ) as u64;
            if n > 0 {
                counted.insert((api.into(), outcome.into()), n);
            }
        }
    }
    assert_eq!(counted, want, "authzd_decisions_total");

    // ...and so did the decision log: one event per decision, errors with their code.
    d.stop_and_read_log();
    let events: Vec<Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut logged = Tally::new();
    for event in &events {
        let outcome = match (&event["error"], &event["result"]) {
            (Value::Object(error), _) => {
                let code = error["code"].as_str().unwrap();
                assert!(
                    [
                        "eval_conflict_error",
                        "eval_type_error",
                        "invalid_parameter"
                    ]
                    .contains(&code),
                    "{event}"
                );
                "error"
            }
            (_, Value::Bool(true)) => "allow",
            (_, Value::Bool(false)) => "deny",
            (_, Value::Null) => "undefined",
            other => panic!("unexpected event {other:?}"),
        };
        add(&mut logged, event["api"].as_str().unwrap(), outcome);
    }
    assert_eq!(logged, want, "decision-log events");
    let ids: std::collections::HashSet<&str> = events
        .iter()
        .map(|e| e["decision_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), events.len(), "every decision has its own id");
}

/// `Decide`, `DecideBatch` and Envoy `Check`, each outcome added to `want`.
async fn grpc_and_envoy(addr: &str, want: &mut Tally) {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = AuthorizerClient::new(channel.clone());
    for (mode, outcome) in [("allow", "allow"), ("deny", "deny"), ("none", "undefined")] {
        grpc.decide(decide("rec/verdict", mode)).await.unwrap();
        add(want, "grpc", outcome);
    }
    let conflict = grpc.decide(decide("rec/verdict", "conflict")).await;
    assert_eq!(conflict.unwrap_err().code(), tonic::Code::Internal);
    add(want, "grpc", "error");
    let malformed = grpc.decide(decide("data.rec[", "allow")).await;
    assert_eq!(malformed.unwrap_err().code(), tonic::Code::InvalidArgument);
    add(want, "grpc", "error");
    let items = ["allow", "conflict", "deny"]
        .iter()
        .map(|mode| pb::DecideItem {
            id: mode.to_string(),
            input: Some(pb::decide_item::Input::InputJson(
                json!({ "mode": mode }).to_string().into(),
            )),
            ..Default::default()
        })
        .chain([pb::DecideItem {
            id: "bad-path".into(),
            path: "data.rec[".into(),
            ..Default::default()
        }])
        .collect();
    let batch = grpc
        .decide_batch(pb::DecideBatchRequest {
            path: "rec/verdict".into(),
            items,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(batch.results.len(), 4);
    for outcome in ["allow", "error", "deny", "error"] {
        add(want, "grpc", outcome);
    }

    // Envoy Check.
    let mut envoy = AuthorizationClient::new(channel);
    for (mode, ok, outcome) in [
        ("allow", true, "allow"),
        ("deny", true, "deny"),
        ("none", false, "undefined"),
        ("conflict", false, "error"),
        ("illegal", false, "error"),
    ] {
        let answer = envoy.check(check(mode)).await;
        assert_eq!(answer.is_ok(), ok, "envoy {mode}: {answer:?}");
        add(want, "envoy", outcome);
    }
}
