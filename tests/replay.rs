//! `authzd replay` against decision logs the daemon itself wrote: its file sink's JSON lines
//! and its collector's gzip batches. A candidate that flips one rule reports exactly the
//! decisions it flips; masked inputs are not replayable; `--fail-on` sets the exit code.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{Collector, Daemon, client, repo, run_cli};
use serde_json::{Value, json};

/// A copy of the example bundle, with `change` applied to the inventory policy and a mask
/// policy that erases `input.secret`.
fn bundle(dir: &Path, revision: &str, change: impl Fn(String) -> String) -> PathBuf {
    let root = dir.join(revision);
    copy_dir(&repo().join("policies"), &root);
    let policy = root.join("inventory/policy.rego");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, change(text)).unwrap();
    let manifest = root.join(".manifest");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("example-2026-11-23", revision)).unwrap();
    std::fs::create_dir_all(root.join("system/log")).unwrap();
    std::fs::write(
        root.join("system/log/mask.rego"),
        "package system.log\n\nmask contains \"/input/secret\" if input.input.secret\n",
    )
    .unwrap();
    root
}

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

/// Subject 10001 may no longer read stock.
fn deny_10001(text: String) -> String {
    let flipped = text.replacen(
        "\tinput.action == \"read\"\n\tuser_id != \"\"\n}",
        "\tinput.action == \"read\"\n\tuser_id != \"\"\n\tuser_id != \"10001\"\n}",
        1,
    );
    assert_ne!(
        flipped, text,
        "the inventory policy changed: update the test"
    );
    flipped
}

fn decide(d: &Daemon, path: &str, input: Value) -> String {
    let body: Value = client()
        .post(d.url(&format!("/v1/data/{path}")))
        .json(&json!({ "input": input }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["decision_id"].as_str().unwrap().to_string()
}

fn replay(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["replay", "--format", "json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_cli(&all);
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (status.code(), report)
}

#[test]
fn a_candidate_that_flips_one_rule_reports_exactly_the_decisions_it_flips() {
    let dir = tempfile::tempdir().unwrap();
    let live = bundle(dir.path(), "live", |t| t);
    let candidate = bundle(dir.path(), "candidate", deny_10001);
    let collector = Collector::start(false);
    let (base, resource) = collector.url.rsplit_once('/').unwrap();
    let log = dir.path().join("decisions.jsonl");
    let config = dir.path().join("authzd.yaml");
    std::fs::write(
        &config,
        format!(
            "bundles:\n  policies:\n    path: {}\nservices:\n  collector:\n    url: {base}\ndecision_logs:\n  file: {}\n  service: collector\n  resource: {resource}\n  upload: {{max_batch_events: 4, flush_interval_seconds: 0.05}}\n",
            live.display(),
            log.display()
        ),
    )
    .unwrap();
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    let read = |id: &str| json!({"subject": {"id": id}, "action": "read"});
    let mut flipped = Vec::new();
    for _ in 0..3 {
        flipped.push(decide(&d, "inventory/allow", read("10001")));
    }
    for input in [
        read("10002"),
        read("10002"),
        read(""),
        json!({"subject": {"id": "10001"}, "action": "view", "resource": {"owner": "10001"}}),
        json!({"subject": {"id": "10002"}, "action": "view", "resource": {"owner": "10001"}}),
    ] {
        let path = if input["action"] == "read" {
            "inventory/allow"
        } else {
            "orders/allow"
        };
        decide(&d, path, input);
    }
    decide(
        &d,
        "payment/allow",
        json!({"caller": {"service": "order-service"}, "action": "initiate"}),
    );
    // The mask policy erases this input: it cannot be replayed, and is never guessed.
    decide(
        &d,
        "inventory/allow",
        json!({"subject": {"id": "10001"}, "action": "read", "secret": "s3cr3t"}),
    );
    assert!(d.terminate().success());
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 10);

    let candidate_arg = candidate.to_str().unwrap();
    let log_arg = log.to_str().unwrap();
    let (code, report) = replay(&[
        "--bundle",
        candidate_arg,
        "--decision-logs",
        log_arg,
        "--fail-on",
        "deny-to-allow",
    ]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["decisions"], 10, "{report}");
    assert_eq!(report["replayed"], 9);
    assert_eq!(report["unchanged"], 6);
    assert_eq!(report["changed"], 3);
    assert_eq!(
        report["not_replayable"]["reasons"],
        json!({"input erased or masked": 1})
    );
    assert_eq!(
        report["changes"],
        json!([{
            "path": "inventory/allow",
            "kind": "allow-to-deny",
            "count": 3,
            "examples": flipped,
        }])
    );
    assert_eq!(report["bundles"]["candidate"]["revision"], "candidate");

    // The collector's batches, as it received them (gzip-compressed JSON arrays).
    let mut batches = Vec::new();
    for (n, (_, body)) in collector.posts.lock().unwrap().iter().enumerate() {
        let path = dir.path().join(format!("batch-{n}.json.gz"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        batches.push(path.display().to_string());
    }
    assert!(batches.len() >= 3, "{batches:?}");
    let mut args = vec!["--bundle", candidate_arg, "--fail-on", "allow-to-deny"];
    args.push("--decision-logs");
    args.extend(batches.iter().map(String::as_str));
    let (code, from_batches) = replay(&args);
    assert_eq!(code, Some(1), "allow-to-deny happened: {from_batches}");
    assert_eq!(from_batches["changes"], report["changes"]);
    assert_eq!(from_batches["unchanged"], 6);

    // The live bundle itself changes nothing; the text report says so.
    let (status, stdout, _) = run_cli(&[
        "replay",
        "--bundle",
        live.to_str().unwrap(),
        "--decision-logs",
        log_arg,
        "--fail-on",
        "any",
    ]);
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("replayed 9 decisions"), "{stdout}");
    assert!(stdout.contains("unchanged                9"), "{stdout}");
    let (status, stdout, _) = run_cli(&[
        "replay",
        "--bundle",
        candidate_arg,
        "--decision-logs",
        log_arg,
    ]);
    assert!(status.success(), "no --fail-on: {stdout}");
    assert!(
        stdout.contains(&format!(
            "inventory/allow  allow-to-deny         3  e.g. {}",
            flipped.join(" ")
        )),
        "{stdout}"
    );
}

#[test]
fn an_unreadable_log_is_an_error() {
    let (status, _, stderr) = run_cli(&[
        "replay",
        "--bundle",
        "policies",
        "--decision-logs",
        "/nonexistent/decisions.jsonl",
    ]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("/nonexistent/decisions.jsonl"), "{stderr}");
}
