//! Shadow evaluation against the real binary: a candidate bundle that denies what the served
//! bundle allows. Every answer still comes from the served bundle; the counters, `/v1/status`
//! and the decision log show the disagreement; a reload of the candidate is picked up; a
//! candidate that does not load delays nothing.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Daemon, client, metric, repo};
use serde_json::{Value, json};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Writes the candidate: the example bundle at `revision`, where the subjects in `denied`
/// may no longer read stock.
fn write_candidate(root: &Path, revision: &str, denied: &[&str]) {
    copy_dir(&repo().join("policies"), root);
    let policy = root.join("inventory/policy.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    let extra: String = denied
        .iter()
        .map(|id| format!("\tuser_id != \"{id}\"\n"))
        .collect();
    let changed = text.replacen(
        "\tinput.action == \"read\"\n\tuser_id != \"\"\n}",
        &format!("\tinput.action == \"read\"\n\tuser_id != \"\"\n{extra}}}"),
        1,
    );
    assert_ne!(
        changed, text,
        "the inventory policy changed: update the test"
    );
    std::fs::write(&policy, changed).unwrap();
    let manifest = root.join(".manifest");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("example-2026-11-23", revision)).unwrap();
}

fn read(d: &Daemon, subject: &str) -> Value {
    client()
        .post(d.url("/v1/data/inventory/allow"))
        .json(&json!({"input": {"subject": {"id": subject}, "action": "read"}}))
        .send()
        .unwrap()
        .json()
        .unwrap()
}

fn shadow_count(d: &Daemon, outcome: &str) -> f64 {
    let text = client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    metric(
        &text,
        "authzd_shadow_decisions_total",
        &[("path", "data.inventory.allow"), ("outcome", outcome)],
    )
}

/// Polls until `check` holds (10 s at most): the shadow worker runs after the answer.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < Duration::from_secs(10), "never: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn events(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_candidate_that_denies_what_the_served_bundle_allows() {
    let dir = tempfile::tempdir().unwrap();
    let candidate = dir.path().join("candidate");
    write_candidate(&candidate, "candidate-1", &["10001"]);
    let log = dir.path().join("decisions.jsonl");
    let d = Daemon::start(&[
        "--bundle",
        "policies",
        "--shadow-bundle",
        &format!("next={}", candidate.display()),
        "--decision-logs-file",
        log.to_str().unwrap(),
    ]);
    let mut flipped = Vec::new();
    for subject in ["10001", "10002", "10001", "10002", "10001"] {
        let body = read(&d, subject);
        // The served bundle answers, whatever the candidate says.
        assert_eq!(body["result"], json!(true), "{body}");
        if subject == "10001" {
            flipped.push(body["decision_id"].as_str().unwrap().to_string());
        }
    }
    let batch: Value = client()
        .post(d.url("/v1/batch/data/inventory/allow"))
        .json(&json!({"inputs": {"a": {"subject": {"id": "10001"}}, "b": {"subject": {"id": "10002"}}}, "common_input": {"action": "read"}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(batch["responses"]["a"]["result"], json!(true), "{batch}");
    assert_eq!(batch["responses"]["b"]["result"], json!(true), "{batch}");
    flipped.push(
        batch["responses"]["a"]["decision_id"]
            .as_str()
            .unwrap()
            .into(),
    );

    eventually("4 changed and 3 same", || {
        shadow_count(&d, "changed") == 4.0 && shadow_count(&d, "same") == 3.0
    });
    assert_eq!(shadow_count(&d, "error"), 0.0);
    let status = d.status();
    let shadow = &status["result"]["shadow"];
    assert_eq!(
        shadow["bundles"]["next"]["active_revision"], "candidate-1",
        "{status}"
    );
    assert_eq!(
        shadow["decisions"],
        json!({"same": 3, "changed": 4, "error": 0}),
        "{status}"
    );
    assert_eq!(shadow["paths"]["data.inventory.allow"]["changed"], 4);
    assert_eq!(shadow["dropped"], 0);
    // The candidate is no served bundle: not in `bundles`, and not needed for readiness.
    assert!(
        status["result"]["bundles"].get("next").is_none(),
        "{status}"
    );

    // Each differing decision has a shadow event: same decision id, the served result, and
    // what the candidate answered.
    eventually("7 decisions and 4 shadow events logged", || {
        events(&log).len() == 11
    });
    let all = events(&log);
    let shadow_events: Vec<&Value> = all.iter().filter(|e| e.get("shadow").is_some()).collect();
    let mut ids: Vec<String> = shadow_events
        .iter()
        .map(|e| e["decision_id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = flipped.clone();
    want.sort();
    assert_eq!(ids, want);
    for event in &shadow_events {
        assert_eq!(event["result"], json!(true), "{event}");
        assert_eq!(event["shadow"]["result"], json!(false), "{event}");
        assert_eq!(event["shadow"]["revision"], "candidate-1", "{event}");
        assert_eq!(
            event["bundles"]["policies"]["revision"],
            "example-2026-11-23"
        );
        assert_eq!(event["input"]["subject"]["id"], "10001");
    }

    // A new candidate revision (now denying 10002 too) is picked up like any bundle reload.
    write_candidate(&candidate, "candidate-2", &["10001", "10002"]);
    d.wait_for_log("revision=candidate-2");
    let body = read(&d, "10002");
    assert_eq!(body["result"], json!(true));
    let id = body["decision_id"].as_str().unwrap().to_string();
    eventually("the reloaded candidate disagrees on 10002", || {
        shadow_count(&d, "changed") == 5.0
    });
    eventually("its shadow event is logged", || {
        events(&log)
            .iter()
            .any(|e| e["decision_id"] == id.as_str() && e.get("shadow").is_some())
    });
    let event = events(&log)
        .into_iter()
        .find(|e| e["decision_id"] == id.as_str() && e.get("shadow").is_some())
        .unwrap();
    assert_eq!(event["shadow"]["revision"], "candidate-2", "{event}");
    let status = d.status();
    assert_eq!(
        status["result"]["shadow"]["bundles"]["next"]["active_revision"],
        "candidate-2"
    );
    assert_eq!(
        status["result"]["bundles"]["policies"]["active_revision"],
        "example-2026-11-23"
    );
}

#[test]
fn a_candidate_that_does_not_load_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("authzd.yaml");
    std::fs::write(
        &config,
        format!(
            "bundles:\n  policies:\n    path: policies\nshadow:\n  bundles:\n    next:\n      path: {}\n  sample_rate: 1\n",
            repo().join("tests/bundles/broken_rego").display()
        ),
    )
    .unwrap();
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    assert_eq!(read(&d, "10001")["result"], json!(true));
    eventually("the decision is counted as not compared", || {
        d.status()["result"]["shadow"]["not_ready"] == 1
    });
    let status = d.status();
    let next = &status["result"]["shadow"]["bundles"]["next"];
    assert!(next.get("active_revision").is_none(), "{status}");
    assert!(
        next["message"].as_str().unwrap().contains("policy.rego"),
        "{status}"
    );
    // Served bundles are ready; the broken candidate does not hold readiness back.
    let health = client().get(d.url("/health?bundles")).send().unwrap();
    assert_eq!(health.status(), 200);
}
