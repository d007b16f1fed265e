//! The HTTP Data API against the real binary and the example bundle: decisions for each
//! service, OPA's shapes and error codes, limits, Unix sockets, shutdown.

mod common;

use std::io::{Read, Write};

use common::{Daemon, client, minutes_ago, repo, run_cli};
use serde_json::{Value, json};

fn post(d: &Daemon, path: &str, body: &Value) -> (u16, Value) {
    let response = client().post(d.url(path)).json(body).send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn result(d: &Daemon, path: &str, input: Value) -> Value {
    let (status, body) = post(d, path, &json!({ "input": input }));
    assert_eq!(status, 200, "{body}");
    assert!(
        body["decision_id"]
            .as_str()
            .is_some_and(|id| id.len() == 36),
        "{body}"
    );
    body["result"].clone()
}

#[test]
fn order_service_rules() {
    let d = Daemon::start(&[]);
    let order = |created: &str| json!({"type": "order", "id": "42", "owner": "10001", "created_at": created});
    let customer = json!({"id": "10001", "roles": ["customer"]});
    let fresh = minutes_ago(5);
    let stale = minutes_ago(45);
    // Owner views and cancels a fresh order.
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": customer, "action": "view", "resource": order(&stale)})
        ),
        json!(true)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": customer, "action": "cancel", "resource": order(&fresh)})
        ),
        json!(true)
    );
    // ...but not after 30 minutes, and says why.
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/decision",
            json!({"subject": customer, "action": "cancel", "resource": order(&stale)})
        ),
        json!({"allow": false, "reasons": ["orders can only be cancelled within 30 minutes of creation"]})
    );
    // Someone else's order.
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": {"id": "10002"}, "action": "view", "resource": order(&fresh)})
        ),
        json!(false)
    );
    // Warehouse staff process; customers do not.
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": {"id": "20001"}, "action": "process", "resource": order(&fresh)})
        ),
        json!(true)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": customer, "action": "process", "resource": order(&fresh)})
        ),
        json!(false)
    );
    // Admins do anything.
    assert_eq!(
        result(
            &d,
            "/v1/data/orders/allow",
            json!({"subject": {"id": "30001"}, "action": "delete", "resource": order(&stale)})
        ),
        json!(true)
    );
}

#[test]
fn payment_and_inventory_rules() {
    let d = Daemon::start(&[]);
    assert_eq!(
        result(
            &d,
            "/v1/data/payment/allow",
            json!({"caller": {"service": "order-service"}, "action": "initiate"})
        ),
        json!(true)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/payment/allow",
            json!({"caller": {"service": "api-gateway"}, "subject": {"id": "30001"}, "action": "initiate"})
        ),
        json!(false)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/payment/allow",
            json!({"subject": {"id": "40001"}, "action": "refund"})
        ),
        json!(true)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/payment/allow",
            json!({"subject": {"id": "10001", "roles": ["customer"]}, "action": "refund"})
        ),
        json!(false)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "10001"}, "action": "read"})
        ),
        json!(true)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "10001"}, "action": "update"})
        ),
        json!(false)
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "20002"}, "action": "update"})
        ),
        json!(true)
    );
}

#[test]
fn get_with_input_parameter() {
    let d = Daemon::start(&[]);
    let input = json!({"caller": {"service": "order-service"}, "action": "initiate"}).to_string();
    let body: Value = client()
        .get(d.url("/v1/data/payment/allow"))
        .query(&[("input", input.as_str())])
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["result"], json!(true));
    // Malformed input parameter: 400 invalid_parameter.
    let response = client()
        .get(d.url("/v1/data/payment/allow?input=%7B"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().unwrap();
    assert_eq!(body["code"], "invalid_parameter");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("parameter contains malformed input document")
    );
}

#[test]
fn undefined_documents_and_missing_input() {
    let d = Daemon::start(&[]);
    // Undefined: 200 with a decision_id and no result key.
    let (status, body) = post(&d, "/v1/data/no/such/rule", &json!({"input": {}}));
    assert_eq!(status, 200);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["decision_id"], "{body}");
    // No input key: OPA's api_usage_warning.
    let (status, body) = post(&d, "/v1/data/orders/allow", &json!({}));
    assert_eq!(status, 200);
    assert_eq!(body["result"], json!(false));
    assert_eq!(body["warning"]["code"], "api_usage_warning");
    assert_eq!(
        body["warning"]["message"],
        "'input' key missing from the request"
    );
    // v0: undefined is a 404.
    let response = client()
        .post(d.url("/v0/data/no/such/rule"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().unwrap();
    assert_eq!(
        body,
        json!({"code": "undefined_document", "message": "document missing: data.no.such.rule"})
    );
    // v0 with rules at the path but an undefined value.
    let response = client()
        .post(d.url("/v0/data/system/main"))
        .body("{}")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: Value = response.json().unwrap();
    assert_eq!(body["message"], "document undefined: data.system.main");
    // v0 defined: the bare value.
    let response = client()
        .post(d.url("/v0/data/payment/allow"))
        .body(r#"{"caller": {"service": "order-service"}, "action": "initiate"}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().unwrap(), "true\n");
}

#[test]
fn default_decision_on_post_root() {
    let d = Daemon::start(&[]);
    let response = client()
        .post(d.url("/"))
        .body(r#"{"service": "payment", "action": "refund", "subject": {"id": "40001"}}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.json::<Value>().unwrap(),
        json!({"allow": true, "reasons": []})
    );
    // A configured default decision.
    let d = Daemon::start(&["--default-decision", "inventory/allow"]);
    let response = client()
        .post(d.url("/"))
        .body(r#"{"subject": {"id": "1"}, "action": "read"}"#)
        .send()
        .unwrap();
    assert_eq!(response.text().unwrap(), "true\n");
}

#[test]
fn malformed_json_is_400_and_the_daemon_keeps_serving() {
    let d = Daemon::start(&[]);
    for bad in [r#"{"input": @}"#, r#"{"input": {"a": 1"#, "[1, 2]"] {
        let response = client()
            .post(d.url("/v1/data/orders/allow"))
            .body(bad)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{bad}");
        let body: Value = response.json().unwrap();
        assert_eq!(body["code"], "invalid_parameter");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("body contains malformed input document: ")
        );
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!(
        "{{\"input\": {}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let response = client()
        .post(d.url("/v1/data/orders/allow"))
        .body(deep)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        result(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"})
        ),
        json!(true)
    );
}

#[test]
fn oversized_and_gzip_bodies() {
    let d = Daemon::start(&["--max-request-bytes", "4096"]);
    let big = json!({"input": {"pad": "x".repeat(10_000)}}).to_string();
    let response = client()
        .post(d.url("/v1/data/orders/allow"))
        .body(big.clone())
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(
        response.json::<Value>().unwrap()["code"],
        "invalid_parameter"
    );
    // A gzip body is decoded...
    let input = json!({"input": {"subject": {"id": "1"}, "action": "read"}}).to_string();
    let response = client()
        .post(d.url("/v1/data/inventory/allow"))
        .header("Content-Encoding", "gzip")
        .body(gzip(input.as_bytes()))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.json::<Value>().unwrap()["result"], json!(true));
    // ...and the limit applies to what it expands to.
    let response = client()
        .post(d.url("/v1/data/inventory/allow"))
        .header("Content-Encoding", "gzip")
        .body(gzip(big.as_bytes()))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn conflicting_rule_values_are_500_internal_error() {
    let d = Daemon::start(&["--bundle", "tests/bundles/conflict"]);
    let (status, body) = post(&d, "/v1/data/conflict/x", &json!({"input": {"both": true}}));
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "internal_error");
    assert_eq!(body["message"], "error(s) occurred while evaluating query");
    let error = &body["errors"][0];
    assert_eq!(error["code"], "eval_conflict_error");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("complete rules must not produce multiple outputs")
    );
    assert!(
        error["location"]["file"]
            .as_str()
            .unwrap()
            .ends_with("tests/bundles/conflict/policy.rego")
    );
    assert_eq!(error["location"]["row"], 6);
    // The same rule without a conflict still answers.
    assert_eq!(
        result(&d, "/v1/data/conflict/x", json!({"both": false})),
        Value::Null
    );
}

#[test]
fn query_parameters_pretty_provenance_metrics_strict() {
    let d = Daemon::start(&[]);
    let input = json!({"input": {"subject": {"id": "1"}, "action": "read"}});
    let text = client()
        .post(d.url("/v1/data/inventory/allow?pretty&provenance&metrics=true"))
        .json(&input)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(text.contains("\n  \"result\": true"), "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        body["provenance"]["bundles"]["policies"]["revision"],
        "example-2026-11-23"
    );
    assert_eq!(body["provenance"]["version"], env!("CARGO_PKG_VERSION"));
    for timer in [
        "timer_rego_input_parse_ns",
        "timer_rego_query_eval_ns",
        "timer_server_handler_ns",
    ] {
        assert!(
            body["metrics"][timer].as_u64().is_some(),
            "{timer} missing: {body}"
        );
    }
    // Without the parameters: none of that.
    let (_, body) = post(&d, "/v1/data/inventory/allow?pretty=false", &input);
    assert!(body.get("provenance").is_none() && body.get("metrics").is_none());
}

#[test]
fn health_method_and_routing() {
    let d = Daemon::start(&[]);
    let response = client().get(d.url("/health")).send().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().unwrap(), "{}\n");
    let response = client().get(d.url("/health?bundles")).send().unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let response = client()
        .delete(d.url("/v1/data/orders/allow"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = client().get(d.url("/v0/data/orders/allow")).send().unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let response = client().get(d.url("/nothing")).send().unwrap();
    assert_eq!(response.status().as_u16(), 404);
    // The whole data document, without `system`.
    let body: Value = client()
        .get(d.url("/v1/data"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(
        body["result"]["orders"].is_object() && body["result"]["system"].is_null(),
        "{body}"
    );
    // Plain data, with an integer-looking key.
    let body: Value = client()
        .get(d.url("/v1/data/rbac/bindings/30001/0"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["result"], "admin");
}

#[test]
fn data_outside_roots_fails_to_start_with_a_clear_message() {
    let err = match Daemon::try_start(&["--bundle", "tests/bundles/outside_roots"], &[]) {
        Ok(_) => panic!("a bundle with data outside its roots must not start"),
        Err(log) => log,
    };
    assert!(err.contains("data.json"), "{err}");
    assert!(err.contains("\"payment\""), "{err}");
    assert!(err.contains("outside the bundle's roots"), "{err}");
    let (status, _, stderr) = run_cli(&[
        "run",
        "--addr",
        "127.0.0.1:0",
        "--bundle",
        "tests/bundles/broken_rego",
    ]);
    assert!(!status.success());
    assert!(stderr.contains("policy.rego:5"), "{stderr}");
}

#[test]
fn tarball_serves_the_same_decisions_as_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("policies.tar.gz");
    let (status, _, stderr) = run_cli(&["build", "policies", "-o", tar.to_str().unwrap()]);
    assert!(status.success(), "{stderr}");
    let from_dir = Daemon::start(&[]);
    let from_tar = Daemon::start(&["--bundle", tar.to_str().unwrap()]);
    let inputs = [
        (
            "/v1/data/orders/decision",
            json!({"subject": {"id": "10002"}, "action": "view", "resource": {"owner": "10001"}}),
        ),
        (
            "/v1/data/orders/allow",
            json!({"subject": {"id": "20001"}, "action": "process"}),
        ),
        (
            "/v1/data/payment/decision",
            json!({"caller": {"service": "x"}, "action": "initiate"}),
        ),
        (
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"}),
        ),
        ("/v1/data/rbac", json!({})),
    ];
    for (path, input) in inputs {
        assert_eq!(
            result(&from_dir, path, input.clone()),
            result(&from_tar, path, input),
            "{path}"
        );
    }
    let (_, body) = post(
        &from_tar,
        "/v1/data/orders/allow?provenance",
        &json!({"input": {}}),
    );
    assert_eq!(
        body["provenance"]["bundles"]["policies"]["revision"],
        "example-2026-11-23"
    );
}

#[test]
fn unix_socket_listener() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("authzd.sock");
    let addr = format!("unix://{}", sock.display());
    let _d = Daemon::try_start(&["--addr", &addr], &[]).unwrap();
    let mut stream = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    let body = r#"{"input": {"subject": {"id": "1"}, "action": "read"}}"#;
    write!(
        stream,
        "POST /v1/data/inventory/allow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"result\":true"), "{response}");
}

#[test]
fn configured_from_environment_variables() {
    let d = Daemon::try_start(
        &[],
        &[
            ("AUTHZD_ADDR", "127.0.0.1:0"),
            ("AUTHZD_BUNDLE", "tests/bundles/conflict"),
        ],
    )
    .unwrap();
    let (status, _) = post(&d, "/v1/data/conflict/x", &json!({"input": {"both": true}}));
    assert_eq!(status, 500);
}

#[test]
fn sigterm_drains_and_exits_zero() {
    let d = Daemon::start(&[]);
    assert_eq!(
        result(
            &d,
            "/v1/data/inventory/allow",
            json!({"subject": {"id": "1"}, "action": "read"})
        ),
        json!(true)
    );
    let log = d.log.clone();
    let status = d.terminate();
    assert!(status.success(), "exit status {status:?}");
    log.wait_for("stopped");
    let log = log.text();
    assert!(log.contains("shutdown requested"), "{log}");
}

#[test]
fn rego_v0_bundle_when_the_manifest_says_so() {
    let d = Daemon::start(&["--bundle", "tests/bundles/rego_v0"]);
    assert_eq!(
        result(&d, "/v1/data/legacy/allow", json!({"user": "alice"})),
        json!(true)
    );
    assert_eq!(
        result(&d, "/v1/data/legacy/allow", json!({"user": "bob"})),
        json!(false)
    );
    assert_eq!(
        result(&d, "/v1/data/legacy/admins", json!({})),
        json!(["alice"])
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/legacy/ids",
            json!({"users": [{"id": "a"}, {"name": "x"}, {"id": "c"}]})
        ),
        json!(["a", "c"])
    );
    assert_eq!(
        result(
            &d,
            "/v1/data/legacy/names",
            json!({"users": [{"id": "a", "name": "ann"}, {"name": "x"}, {"id": "c"}]})
        ),
        json!({"a": "ann"})
    );
    // The same file is a syntax error as Rego v1.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("tests/bundles/rego_v0/policy.rego"),
        dir.path().join("policy.rego"),
    )
    .unwrap();
    let (status, _, stderr) = run_cli(&[
        "eval",
        "--bundle",
        dir.path().to_str().unwrap(),
        "legacy/allow",
    ]);
    assert!(!status.success(), "v0 syntax must not load as v1");
    assert!(stderr.contains("policy.rego:"), "{stderr}");
}

#[test]
fn sigterm_lets_an_in_flight_request_finish() {
    let d = Daemon::start(&["--bundle", "policies"]);
    // A request whose body is not sent yet when SIGTERM arrives: the daemon has answered its
    // `Expect: 100-continue`, so the handler is reading the body, the request is in flight.
    let body = json!({"input": {"caller": {"service": "order-service"}, "action": "initiate"}})
        .to_string();
    let mut stream = std::net::TcpStream::connect(&d.addr).unwrap();
    write!(
        stream,
        "POST /v1/data/payment/allow HTTP/1.1\r\nHost: authzd\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    d.signal("TERM");
    d.wait_for_log("shutdown requested");
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#""result":true"#), "{response}");
    let status = d.wait_for_exit();
    assert!(status.success(), "{status:?}");
}

#[test]
fn batch_api_statuses_and_common_input() {
    let d = Daemon::start(&["--bundle", "policies", "--bundle", "tests/bundles/conflict"]);
    // All succeed: 200, no http_status_code; common_input merged under each input.
    let (status, body) = post(
        &d,
        "/v1/batch/data/orders/allow",
        &json!({
            "inputs": {
                "own": {"subject": {"id": "10001"}, "resource": {"owner": "10001"}},
                "other": {"subject": {"id": "10002"}, "resource": {"owner": "10001"}}
            },
            "common_input": {"action": "view", "resource": {"type": "order"}}
        }),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["responses"]["own"]["result"], json!(true));
    assert_eq!(body["responses"]["other"]["result"], json!(false));
    assert!(body["responses"]["own"].get("http_status_code").is_none());
    assert_eq!(body["batch_decision_id"].as_str().unwrap().len(), 36);
    assert_eq!(
        body["responses"]["own"]["decision_id"]
            .as_str()
            .unwrap()
            .len(),
        36
    );

    // Mixed: 207, every item says its own status.
    let (status, body) = post(
        &d,
        "/v1/batch/data/conflict/x",
        &json!({"inputs": {"ok": {"both": false}, "bad": {"both": true}}}),
    );
    assert_eq!(status, 207, "{body}");
    assert_eq!(body["responses"]["ok"]["http_status_code"], "200");
    assert_eq!(body["responses"]["bad"]["http_status_code"], "500");
    assert_eq!(body["responses"]["bad"]["code"], "internal_error");
    assert!(
        body["responses"]["bad"]["message"]
            .as_str()
            .unwrap()
            .contains("eval_conflict_error"),
        "{body}"
    );

    // All failed: 500.
    let (status, _) = post(
        &d,
        "/v1/batch/data/conflict/x",
        &json!({"inputs": {"a": {"both": true}}}),
    );
    assert_eq!(status, 500);

    // No inputs: OPA's warning.
    let (status, body) = post(&d, "/v1/batch/data/orders/allow", &json!({}));
    assert_eq!(status, 200);
    assert_eq!(
        body["warning"]["message"],
        "'inputs' key missing from the request"
    );

    // Malformed body.
    let response = client()
        .post(d.url("/v1/batch/data/orders/allow"))
        .body("{")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
}

#[test]
fn http2_cleartext_with_prior_knowledge() {
    let d = Daemon::start(&[]);
    let h2 = reqwest::blocking::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    for _ in 0..3 {
        let response = h2
            .post(d.url("/v1/data/inventory/allow"))
            .json(&json!({"input": {"subject": {"id": "1"}, "action": "read"}}))
            .send()
            .unwrap();
        assert_eq!(response.version(), reqwest::Version::HTTP_2);
        assert_eq!(response.json::<Value>().unwrap()["result"], json!(true));
    }
}

#[test]
fn json_log_format() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authzd"))
        .current_dir(repo())
        .args([
            "--log-format",
            "json",
            "run",
            "--addr",
            "127.0.0.1:0",
            "--grpc-addr",
            "127.0.0.1:0",
        ])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let event: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        seen.push(event["message"].as_str().unwrap_or_default().to_string());
        if event["message"] == "bundle activated" {
            assert_eq!(event["revision"], "example-2026-11-23");
            assert!(event["duration_ms"].is_u64());
        }
        if event["message"] == "authzd ready" {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|m| m == "bundle activated"), "{seen:?}");
}

/// An RS256 token signed by `tests/keys/<key>_private.pem`, with the claims the tokens bundle's
/// `authz` package checks.
fn bearer_token(key: &str, kid: &str, exp: u64) -> String {
    let pem = std::fs::read(repo().join(format!("tests/keys/{key}_private.pem"))).unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.to_string());
    let claims = json!({"sub": "alice", "iss": "https://idp.example.com", "aud": "orders",
        "role": "admin", "exp": exp});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

#[test]
fn a_policy_verifying_jwts_loads_and_answers() {
    // OPA's Envoy + JWT tutorial shape: io.jwt.decode_verify against a JWKS, over HTTP.
    let d = Daemon::start(&["--bundle", "tests/bundles/tokens"]);
    let request = |token: &str| {
        json!({"attributes": {"request": {"http": {"method": "DELETE",
            "headers": {"authorization": format!("Bearer {token}")}}}}})
    };
    let valid = bearer_token("rsa", "rsa-1", 4102444800);
    assert_eq!(
        result(&d, "/v1/data/tokens/authz/allow", request(&valid)),
        json!(true)
    );
    // The same claims signed by another key under the JWKS key's kid, and an expired token.
    let forged = bearer_token("rsa2", "rsa-1", 4102444800);
    let expired = bearer_token("rsa", "rsa-1", 978307200);
    for token in [&forged, &expired] {
        assert_eq!(
            result(&d, "/v1/data/tokens/authz/allow", request(token)),
            json!(false)
        );
    }
    // A malformed token is undefined by default; strict-builtin-errors reports it as OPA does.
    let (status, body) = post(
        &d,
        "/v1/data/tokens/authz/claims",
        &json!({"input": request("garbage")}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.get("result").is_none(), "{body}");
    let (status, body) = post(
        &d,
        "/v1/data/tokens/authz/claims?strict-builtin-errors",
        &json!({"input": request("garbage")}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "internal_error", "{body}");
    assert_eq!(body["errors"][0]["code"], "eval_builtin_error", "{body}");
    assert!(
        body["errors"][0]["message"].as_str().is_some_and(
            |m| m.contains("io.jwt.decode_verify: encoded JWT had no period separators")
        ),
        "{body}"
    );
    // Nothing of the token reaches the log.
    assert!(!d.log_text().contains(&valid[..40]), "{}", d.log_text());
}

/// Integers beyond 64 bits in a policy, in data and in the input come back digit for digit
/// (OPA's answers, checked with its engine; regorus alone rounds them through f64).
#[test]
fn big_integers_stay_exact_in_policies_data_and_input() {
    let d = Daemon::start(&["--bundle", "tests/bundles/big_numbers"]);
    let body = r#"{"input": {"n": 12345678901234567890123}}"#;
    let text = |path: &str, body: &str| {
        let response = client()
            .post(d.url(path))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        response.text().unwrap()
    };
    let answers = [
        ("literal", "123456789012345678901234567890"),
        ("from_data", "98765432109876543210987654321"),
        ("from_input", "12345678901234567890123"),
        ("sum", "123456789012345678901234567891"),
        ("product", "24691357802469135780246"),
        ("same", "true"),
        ("ordered", "true"),
        ("keyed", r#"{"12345678901234567890123":"a"}"#),
    ];
    for (rule, want) in answers {
        let got = text(&format!("/v1/data/numbers/{rule}"), body);
        assert!(
            got.starts_with(&format!(r#"{{"result":{want},"#)),
            "{rule}: {got}"
        );
        // v0: the body is the input, the answer the bare value.
        let got = text(
            &format!("/v0/data/numbers/{rule}"),
            r#"{"n": 12345678901234567890123}"#,
        );
        assert_eq!(got.trim_end(), want, "v0 {rule}");
    }
    // GET with ?input= and a batch item.
    let got = client()
        .get(d.url("/v1/data/numbers/from_input?input=%7B%22n%22%3A99999999999999999999999%7D"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        got.starts_with(r#"{"result":99999999999999999999999,"#),
        "{got}"
    );
    let got = text(
        "/v1/batch/data/numbers/from_input",
        r#"{"inputs": {"a": {"n": -170141183460469231731687303715884105729}}}"#,
    );
    assert!(
        got.contains(r#""result":-170141183460469231731687303715884105729"#),
        "{got}"
    );
    // An integer of 1,001 digits is read as a float, out of range: a clear 400.
    let huge = format!(r#"{{"input": {{"n": {}}}}}"#, "9".repeat(1001));
    let response = client()
        .post(d.url("/v1/data/numbers/from_input"))
        .body(huge)
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().unwrap();
    assert_eq!(error["code"], "invalid_parameter");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("number out of range"),
        "{error}"
    );
}

#[test]
fn a_path_into_a_rule_with_a_variable_in_its_ref_head() {
    // `svc[name].allow`: regorus names the rule after its variable; the Data API answers the
    // document OPA answers for each name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        "package svcs\n\nsvc[name].allow := true if {\n\tsome name in data.services\n\tinput.caller == name\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("data.json"),
        r#"{"services": ["orders", "payment"]}"#,
    )
    .unwrap();
    let d = Daemon::start(&["--bundle", dir.path().to_str().unwrap()]);
    let caller = json!({"caller": "orders"});
    assert_eq!(
        result(&d, "/v1/data/svcs/svc/orders/allow", caller.clone()),
        json!(true)
    );
    assert_eq!(
        result(&d, "/v1/data/svcs/svc/orders", caller.clone()),
        json!({"allow": true})
    );
    assert_eq!(
        result(&d, "/v1/data/svcs/svc", caller.clone()),
        json!({"orders": {"allow": true}})
    );
    let (status, body) = post(
        &d,
        "/v1/data/svcs/svc/payment/allow",
        &json!({"input": caller}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.get("result").is_none(), "{body}");
}

#[test]
fn a_lone_surrogate_in_the_input_is_the_replacement_character() {
    // Go's encoding/json (OPA) reads `\ud83d` without its pair as U+FFFD; serde_json refuses it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        "package p\n\nname := input.name\n",
    )
    .unwrap();
    let d = Daemon::start(&["--bundle", dir.path().to_str().unwrap()]);
    let response = client()
        .post(d.url("/v1/data/p/name"))
        .header("content-type", "application/json")
        .body(r#"{"input": {"name": "a\ud83db"}}"#)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().unwrap();
    assert_eq!(body["result"], json!("a\u{fffd}b"), "{body}");
}

#[test]
fn opa_runtime_gives_policies_the_environment_as_an_opa_server_does() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rt.rego"),
        "package rt\n\nstage := opa.runtime().env.AUTHZD_TEST_STAGE\n\nfields := object.keys(opa.runtime())\n",
    )
    .unwrap();
    let bundle = dir.path().to_str().unwrap();
    let d = Daemon::try_start(&["--bundle", bundle], &[("AUTHZD_TEST_STAGE", "prod")]).unwrap();
    let body = result(&d, "/v1/data/rt", json!({}));
    assert_eq!(body["stage"], "prod", "{body}");
    assert_eq!(
        body["fields"],
        json!(["commit", "env", "version"]),
        "{body}"
    );
}

#[test]
fn yaml_data_and_yaml_bodies_are_read_as_opa_reads_them() {
    // OPA reads YAML with YAML 1.1's scalars (Go's sigs.k8s.io/yaml): `yes` is true, `010` is 8.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    std::fs::write(
        dir.path().join("flags/data.yaml"),
        "enabled: yes\nlegacy: off\nmode: 010\nname: 'yes'\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("f.rego"),
        "package f\n\nallow if data.flags.enabled == true\n\nflag := input.flag\n",
    )
    .unwrap();
    let bundle = dir.path().to_str().unwrap();
    let d = Daemon::start(&["--bundle", bundle]);
    let body = result(&d, "/v1/data/flags", json!({}));
    assert_eq!(
        body,
        json!({"enabled": true, "legacy": false, "mode": 8, "name": "yes"})
    );
    assert_eq!(result(&d, "/v1/data/f/allow", json!({})), json!(true));
    let answer: Value = client()
        .post(d.url("/v1/data/f/flag"))
        .header("content-type", "application/x-yaml")
        .body("input:\n  flag: on\n")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["result"], json!(true), "{answer}");
}

#[test]
fn arithmetic_on_a_string_input_is_undefined_not_a_failed_decision() {
    // OPA's arithmetic operators are builtins: `"100" * 2` is undefined, so the default
    // answers; regorus failed the decision (HTTP 500) on both evaluators.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        "package pay\n\ndefault allow := false\n\nallow if input.amount * 2 <= 500\n",
    )
    .unwrap();
    let d = Daemon::start(&["--bundle", dir.path().to_str().unwrap()]);
    let decide = |amount: Value, strict: bool| {
        let path = if strict {
            "/v1/data/pay/allow?strict-builtin-errors=true"
        } else {
            "/v1/data/pay/allow"
        };
        client()
            .post(d.url(path))
            .json(&json!({"input": {"amount": amount}}))
            .send()
            .unwrap()
    };
    let answer: Value = decide(json!(100), false).json().unwrap();
    assert_eq!(answer["result"], json!(true), "{answer}");
    let answer = decide(json!("100"), false);
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().unwrap();
    assert_eq!(answer["result"], json!(false), "{answer}");
    let strict = decide(json!("100"), true);
    assert_eq!(strict.status(), 500);
    let strict: Value = strict.json().unwrap();
    assert!(strict.to_string().contains("eval_type_error"), "{strict}");
}
