//! The one-shot subcommands against the real binary: `authzd test` and `authzd eval`.

mod common;

use common::run_cli;

#[test]
fn rego_unit_tests_of_the_example_bundle_pass() {
    let (status, stdout, stderr) = run_cli(&["test", "-v", "policies"]);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("data.test.orders.test_owner_cannot_cancel_after_window: PASS"),
        "{stdout}"
    );
    assert!(stdout.contains("PASS: "), "{stdout}");
}

#[test]
fn a_failing_rego_test_fails_the_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        "package p\nallow if input.ok\ntest_allow if allow with input as {\"ok\": false}\n",
    )
    .unwrap();
    let (status, stdout, _) = run_cli(&["test", dir.path().to_str().unwrap()]);
    assert!(!status.success());
    assert!(stdout.contains("data.p.test_allow: FAIL"), "{stdout}");
}

#[test]
fn eval_prints_the_decision() {
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        input.path(),
        r#"{"caller": {"service": "order-service"}, "action": "initiate"}"#,
    )
    .unwrap();
    let (status, stdout, stderr) = run_cli(&[
        "eval",
        "--input",
        input.path().to_str().unwrap(),
        "data.payment.decision",
    ]);
    assert!(status.success(), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"result": {"allow": true, "reasons": []}})
    );
    let (status, stdout, _) = run_cli(&["eval", "no/such/rule"]);
    assert!(status.success());
    assert_eq!(stdout.trim(), "{}");
}
