//! The fast path's self-check against the real binary, and where each rule runs.
//!
//! A debug build of authzd makes the RVM answer wrongly for one rule when
//! `AUTHZD_TEST_FAST_PATH_FAULT` names it (release builds have no such hook). The self-check
//! must catch that: count it, log it once with the decision id and both answers, demote the rule
//! so the next answer is the interpreter's, keep it demoted across a reload of the same text,
//! and give a changed rule a fresh chance.

mod common;

use std::time::{Duration, Instant};

use common::{Daemon, client, metric};
use serde_json::{Value, json};

fn allow(d: &Daemon) -> Value {
    let body: Value = client()
        .post(d.url("/v1/data/fp/allow"))
        .json(&json!({"input": {"ok": true}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["result"].clone()
}

fn rule_status(d: &Daemon) -> Value {
    d.status()["result"]["bundles"]["fp"]["rules"]["data.fp.allow"].clone()
}

fn metrics(d: &Daemon) -> String {
    client()
        .get(d.url("/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn a_fast_path_mismatch_is_counted_logged_and_demoted() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.rego");
    std::fs::write(
        &policy,
        "package fp\n\ndefault allow := false\n\nallow if input.ok\n",
    )
    .unwrap();
    let bundle = format!("fp={}", dir.path().display());
    let d = Daemon::try_start(
        &[
            "--bundle",
            &bundle,
            "--verify-fast-path-rate",
            "1",
            "--watch-debounce-ms",
            "20",
        ],
        &[("AUTHZD_TEST_FAST_PATH_FAULT", "data.fp.allow")],
    )
    .unwrap();
    assert_eq!(rule_status(&d)["evaluator"], "rvm");

    // The first answer is the (faulty) RVM's: it was sent before the check ran.
    assert_eq!(allow(&d), json!(false));
    wait_until("the mismatch is counted", || {
        metric(
            &metrics(&d),
            "authzd_fast_path_mismatches_total",
            &[("rule", "data.fp.allow")],
        ) >= 1.0
    });
    d.wait_for_log("the fast path answered differently from the interpreter");
    let log = d.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("the fast path answered differently"))
        .unwrap();
    assert!(line.contains("rule=data.fp.allow"), "{line}");
    assert!(line.contains("decision_id="), "{line}");
    assert!(
        line.contains("fast_path=false") && line.contains("interpreter=true"),
        "{line}"
    );

    // From now on the interpreter answers, and says why.
    assert_eq!(allow(&d), json!(true));
    assert_eq!(allow(&d), json!(true));
    let status = rule_status(&d);
    assert_eq!(status["evaluator"], "interpreter", "{status}");
    assert!(
        status["reason"].as_str().unwrap().contains("demoted"),
        "{status}"
    );
    let text = metrics(&d);
    assert_eq!(
        metric(
            &text,
            "authzd_rules",
            &[("bundle", "fp"), ("evaluator", "interpreter")]
        ),
        1.0
    );
    // Logged once per rule, however often it is counted.
    let logged = d
        .log_text()
        .matches("the fast path answered differently")
        .count();
    assert_eq!(logged, 1);

    // A reload of the same rule text keeps it demoted.
    d.signal("HUP");
    d.wait_for_log("SIGHUP: reloading every bundle");
    wait_until("the forced reload is done", || {
        d.log_text().matches("bundle activated").count() >= 2
    });
    assert_eq!(rule_status(&d)["evaluator"], "interpreter");
    assert_eq!(allow(&d), json!(true));

    // A changed rule gets a fresh chance on the RVM.
    std::fs::write(
        &policy,
        "package fp\n\ndefault allow := false\n\nallow if input.ok == true\n",
    )
    .unwrap();
    wait_until("the changed rule is back on the RVM", || {
        rule_status(&d)["evaluator"] == "rvm"
    });
}

#[test]
fn an_interpreter_error_known_to_be_wrong_does_not_demote_a_rule() {
    // regorus' interpreter fails `some [r, input.kind] in v` for a string `v` (authzd rewrites
    // only patterns of variables and scalars), where OPA and the RVM iterate nothing: a
    // malformed input must not move the rule to the evaluator that fails it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("policy.rego"),
        "package fp\n\ndefault allow := false\n\nallow if {\n\tsome [r, input.kind] in input.roles\n\tr == \"admin\"\n}\n",
    )
    .unwrap();
    let bundle = format!("fp={}", dir.path().display());
    let d = Daemon::start(&["--bundle", &bundle, "--verify-fast-path-rate", "1"]);
    assert_eq!(rule_status(&d)["evaluator"], "rvm");
    let decide = |roles: Value| -> Value {
        let body: Value = client()
            .post(d.url("/v1/data/fp/allow"))
            .json(&json!({"input": {"roles": roles, "kind": "user"}}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        body["result"].clone()
    };
    assert_eq!(decide(json!("admin")), json!(false));
    let checked = |result: &str| {
        metric(
            &metrics(&d),
            "authzd_fast_path_checks_total",
            &[("result", result)],
        )
    };
    wait_until("the check is counted unverifiable", || {
        checked("unverifiable") >= 1.0
    });
    assert_eq!(decide(json!([["admin", "user"]])), json!(true));
    wait_until("the next check is counted", || checked("same") >= 1.0);
    assert_eq!(checked("mismatch"), 0.0);
    assert_eq!(rule_status(&d)["evaluator"], "rvm");
    assert_eq!(decide(json!("admin")), json!(false));
}

#[test]
fn every_rule_of_the_example_bundle_says_where_it_runs() {
    let d = Daemon::start(&["--bundle", "policies"]);
    let rules = d.status()["result"]["bundles"]["policies"]["rules"].clone();
    let rules = rules.as_object().unwrap();
    assert!(rules.len() > 20, "{rules:?}");
    for (rule, placement) in rules {
        let evaluator = placement["evaluator"].as_str().unwrap();
        if rule.starts_with("data.test.") && evaluator == "interpreter" {
            // Rego tests mock with `with`, which only the interpreter runs.
            assert!(
                placement["reason"].as_str().unwrap().contains("with"),
                "{rule}"
            );
            continue;
        }
        if rule == "data.envoy.authz.result" {
            // Its allowed value reads subject_id, which the routing cannot prove defined, before
            // an `else`: kept on the interpreter, which goes on to the `else` as OPA does.
            assert!(
                placement["reason"]
                    .as_str()
                    .unwrap()
                    .contains("`else` chain"),
                "{rule}: {placement}"
            );
            continue;
        }
        let reason = placement["reason"].as_str().unwrap_or("");
        if evaluator == "interpreter" && reason.contains("sprintf") && !rule.ends_with(".allow") {
            // The reasons' messages call sprintf, which authzd answers as OPA does (Go's fmt),
            // so the documents that hold them run on the interpreter; no `allow` reaches them.
            continue;
        }
        // Every other rule the services ask, every `allow` among them, runs on the fast path.
        assert_eq!(evaluator, "rvm", "{rule}: {placement}");
    }
    for service in ["orders", "payment", "inventory"] {
        let allow = &rules[&format!("data.{service}.allow")];
        assert_eq!(allow["evaluator"], "rvm", "{service}: {allow}");
    }
    let text = metrics(&d);
    let on_rvm = metric(
        &text,
        "authzd_rules",
        &[("bundle", "policies"), ("evaluator", "rvm")],
    );
    let counted = rules.values().filter(|p| p["evaluator"] == "rvm").count();
    assert_eq!(on_rvm as usize, counted);
}
