//! Hot reload against the real binary: kubelet's ConfigMap swaps, swaps under load, rejected
//! bundles that leave the previous revision serving, signed bundles, a bundle server, SIGHUP,
//! watched tarballs and `/v1/status`.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{BundleServer, ConfigMapVolume, Daemon, Reply, client, tarball_bytes};
use serde_json::{Value, json};

/// A bundle whose policy and data both name `revision`, so a mixed snapshot would show.
fn revision_files(revision: &str) -> Vec<(String, String)> {
    vec![
        (
            ".manifest".into(),
            json!({"revision": revision, "roots": ["rev"]}).to_string(),
        ),
        (
            "policy.rego".into(),
            format!(
                "package rev\n\npolicy_revision := \"{revision}\"\n\nanswer := {{\"policy\": policy_revision, \"data\": data.rev.data_revision}}\n"
            ),
        ),
        (
            "data.json".into(),
            json!({"rev": {"data_revision": revision}}).to_string(),
        ),
    ]
}

fn as_refs(files: &[(String, String)]) -> Vec<(&str, &str)> {
    files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The revision a decision was made with, checking that policy and data agree.
fn served_revision(d: &Daemon) -> Option<String> {
    let response = client()
        .post(d.url("/v1/data/rev/answer"))
        .json(&json!({"input": {}}))
        .send()
        .ok()?;
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().ok()?;
    let answer = body.get("result")?;
    assert_eq!(
        answer["policy"], answer["data"],
        "mixed revisions: {answer}"
    );
    answer["policy"].as_str().map(str::to_string)
}

/// Waits (polling decisions every few milliseconds) until `revision` is served; returns how
/// long it took.
fn wait_for_revision(d: &Daemon, revision: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if served_revision(d).as_deref() == Some(revision) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "revision {revision} not served within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn configmap_swaps_are_served_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let mut volume = ConfigMapVolume::new(dir.path());
    volume.publish(&as_refs(&revision_files("r1")));
    let d = Daemon::start(&["--bundle", &format!("cm={}", dir.path().display())]);
    assert_eq!(served_revision(&d).as_deref(), Some("r1"));
    for n in 2..=6 {
        let revision = format!("r{n}");
        volume.publish(&as_refs(&revision_files(&revision)));
        // The figure (target: under a second) is printed for the README; the test asserts the
        // behaviour, with a generous limit.
        let took = wait_for_revision(&d, &revision, Duration::from_secs(20));
        eprintln!("{revision} served {took:?} after the swap");
    }
    let status = d.status();
    assert_eq!(status["result"]["bundles"]["cm"]["active_revision"], "r6");
}

#[test]
fn reading_the_bundle_does_not_trigger_another_read() {
    // Opening and reading files are inotify events too: a watcher that reacted to them re-read
    // the bundle after every read, forever (a quarter of a core on a 12 MB bundle).
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &revision_files("r1"));
    let bundle = format!("b={}", dir.path().display());
    let d = Daemon::try_start(
        &[
            "--bundle",
            &bundle,
            "--watch-debounce-ms",
            "20",
            "--log-level",
            "authzd=debug",
        ],
        &[],
    )
    .unwrap();
    // One real change, so that a read happens after start-up.
    write_dir(dir.path(), &revision_files("r2"));
    wait_for_revision(&d, "r2", Duration::from_secs(20));
    let reads = || d.log_text().matches("bundle re-read: unchanged").count();
    let after_change = reads();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        reads() <= after_change + 1,
        "{} re-reads of an unchanged bundle in 1.5 s:\n{}",
        reads() - after_change,
        d.log_text()
    );
    // A real change is still seen.
    write_dir(dir.path(), &revision_files("r3"));
    wait_for_revision(&d, "r3", Duration::from_secs(20));
}

#[test]
fn fifty_swaps_under_load_never_fail_or_mix() {
    let dir = tempfile::tempdir().unwrap();
    let mut volume = ConfigMapVolume::new(dir.path());
    volume.publish(&as_refs(&revision_files("A")));
    let d = Arc::new(Daemon::start(&[
        "--bundle",
        &format!("swap={}", dir.path().display()),
        "--watch-debounce-ms",
        "20",
    ]));
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (d, stop, answered) = (d.clone(), stop.clone(), answered.clone());
            std::thread::spawn(move || {
                let http = client();
                let mut seen = std::collections::BTreeSet::new();
                while !stop.load(Ordering::Relaxed) {
                    let response = http
                        .post(d.url("/v1/data/rev/answer"))
                        .json(&json!({"input": {}}))
                        .send()
                        .expect("request failed during a reload");
                    assert_eq!(response.status().as_u16(), 200);
                    let body: Value = response.json().unwrap();
                    let answer = &body["result"];
                    assert!(answer.is_object(), "undefined during a reload: {body}");
                    assert_eq!(
                        answer["policy"], answer["data"],
                        "mixed revisions: {answer}"
                    );
                    let revision = answer["policy"].as_str().unwrap().to_string();
                    assert!(revision == "A" || revision == "B", "{revision}");
                    seen.insert(revision);
                    answered.fetch_add(1, Ordering::Relaxed);
                }
                seen
            })
        })
        .collect();
    for swap in 0..50 {
        let revision = if swap % 2 == 0 { "B" } else { "A" };
        volume.publish(&as_refs(&revision_files(revision)));
        wait_for_revision(&d, revision, Duration::from_secs(10));
    }
    stop.store(true, Ordering::Relaxed);
    for handle in clients {
        let seen = handle
            .join()
            .expect("a client saw a failed or mixed decision");
        assert_eq!(
            seen.len(),
            2,
            "each client should see both revisions: {seen:?}"
        );
    }
    assert!(answered.load(Ordering::Relaxed) > 100);
    let status = d.status();
    assert!(
        status["result"]["bundles"]["swap"]["message"].is_null(),
        "{status}"
    );
}

/// Writes a bundle directory in place (not atomically; reloads are forced with SIGHUP).
fn write_dir(dir: &Path, files: &[(String, String)]) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::remove_file(path).unwrap();
        }
    }
    for (name, content) in files {
        std::fs::write(dir.join(name), content).unwrap();
    }
}

/// Waits until the bundle's last attempt reports an error containing `needle`.
fn wait_for_error(d: &Daemon, bundle: &str, needle: &str) -> String {
    let started = Instant::now();
    loop {
        let status = d.status();
        if let Some(message) = status["result"]["bundles"][bundle]["message"].as_str()
            && message.contains(needle)
        {
            assert_eq!(status["result"]["bundles"][bundle]["code"], "bundle_error");
            return message.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no error {needle:?} in {status}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn broken_bundles_are_rejected_and_the_previous_revision_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &revision_files("good"));
    let d = Daemon::start(&["--bundle", &format!("b={}", dir.path().display())]);
    assert_eq!(served_revision(&d).as_deref(), Some("good"));

    let mut syntax = revision_files("syntax");
    syntax[1].1 = "package rev\n\npolicy_revision := \n".into();
    let mut bad_data = revision_files("bad-data");
    bad_data[2].1 = "{\"rev\": {\"data_revision\": }".into();
    let mut outside = revision_files("outside");
    outside[2].1 = json!({"rev": {"data_revision": "outside"}, "other": 1}).to_string();
    // regorus' parser is exponential in bracket nesting: 40 levels would hold the reload
    // thread for ever (a literal of plain JSON is read through json.unmarshal instead, so this
    // one holds a reference); and a long chain of rules would overflow a worker's stack.
    let mut nested = revision_files("nested");
    nested[1].1 = format!(
        "package rev\n\nx := {}input.a{}\n",
        "[".repeat(40),
        "]".repeat(40)
    );
    let mut chain = revision_files("chain");
    chain[1].1 = (1..200).fold("package rev\n\nr0 := 0\n".to_string(), |text, i| {
        format!("{text}r{i} := r{} + 1\n", i - 1)
    });
    // Issue 12, finding 1: rules that refer to each other overflowed the stack on the first
    // decision; OPA refuses them at compile time, and so does authzd.
    let mut recursive = revision_files("recursive");
    recursive[1].1 = "package rev\n\na := x if { x := b }\nb := y if { y := a }\n".into();
    let cases = [
        (
            recursive,
            "rego_recursion_error: rule data.rev.a is recursive: data.rev.a -> data.rev.b -> data.rev.a",
        ),
        (syntax, "policy.rego:"),
        (bad_data, "data.json:1:"),
        (outside, "outside the bundle's roots"),
        (
            nested,
            "brackets nested more than 16 deep (--max-policy-nesting)",
        ),
        (chain, "a chain of 200 rules and functions"),
    ];
    for (files, needle) in cases {
        write_dir(dir.path(), &files);
        d.signal("HUP");
        let message = wait_for_error(&d, "b", needle);
        assert!(message.contains(needle), "{message}");
        assert_eq!(
            served_revision(&d).as_deref(),
            Some("good"),
            "after {needle}"
        );
        assert!(d.log_text().contains("bundle rejected"), "no log line");
    }
    // Fixed: the next good revision activates and the error clears.
    write_dir(dir.path(), &revision_files("fixed"));
    d.signal("HUP");
    wait_for_revision(&d, "fixed", Duration::from_secs(10));
    let status = d.status();
    assert!(
        status["result"]["bundles"]["b"]["message"].is_null(),
        "{status}"
    );
    assert_eq!(status["result"]["plugins"]["bundle"]["state"], "OK");
}

#[test]
fn a_bundle_calling_an_unknown_function_is_rejected_and_the_previous_revision_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &revision_files("good"));
    let d = Daemon::start(&["--bundle", &format!("b={}", dir.path().display())]);
    assert_eq!(served_revision(&d).as_deref(), Some("good"));

    // regorus alone would activate it and answer 500 on every decision that reaches the call.
    let mut typo = revision_files("typo");
    typo[1]
        .1
        .push_str("\npage := strings.render_templat(\"{{.x}}\", {\"x\": 1})\n");
    write_dir(dir.path(), &typo);
    d.signal("HUP");
    let message = wait_for_error(&d, "b", "undefined function");
    assert!(
        message.contains(
            "policy.rego:7:9: rego_type_error: undefined function strings.render_templat"
        ),
        "{message}"
    );
    assert_eq!(served_revision(&d).as_deref(), Some("good"));
    let health = client().get(d.url("/health")).send().unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let status = d.status();
    assert_eq!(
        status["result"]["bundles"]["b"]["active_revision"], "good",
        "{status}"
    );
}

fn signed_files(
    revision: &str,
    private_pem: &[u8],
    algorithm: jsonwebtoken::Algorithm,
) -> Vec<(String, String)> {
    let files = revision_files(revision);
    let raw = authzd::bundle::BundleFiles {
        files: files
            .iter()
            .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
            .collect(),
    };
    let key = match algorithm {
        jsonwebtoken::Algorithm::ES256 => {
            jsonwebtoken::EncodingKey::from_ec_pem(private_pem).unwrap()
        }
        _ => jsonwebtoken::EncodingKey::from_rsa_pem(private_pem).unwrap(),
    };
    let signatures =
        authzd::bundle::sign::sign(&raw, &key, algorithm, Some("default"), None).unwrap();
    let mut out = files;
    out.push((
        ".signatures.json".into(),
        String::from_utf8(signatures).unwrap(),
    ));
    out
}

#[test]
fn signed_bundles_are_verified() {
    let keys = common::repo().join("tests/keys");
    let rsa_private = std::fs::read(keys.join("rsa_private.pem")).unwrap();
    let ec_private = std::fs::read(keys.join("ec_private.pem")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_dir(
        dir.path(),
        &signed_files("signed-1", &rsa_private, jsonwebtoken::Algorithm::RS256),
    );
    let d = Daemon::start(&[
        "--bundle",
        &format!("s={}", dir.path().display()),
        "--verification-key",
        keys.join("rsa_public.pem").to_str().unwrap(),
        "--signing-alg",
        "RS256",
    ]);
    assert_eq!(served_revision(&d).as_deref(), Some("signed-1"));

    // A tampered file.
    let mut tampered = signed_files("signed-2", &rsa_private, jsonwebtoken::Algorithm::RS256);
    tampered[1].1 = tampered[1].1.replace("signed-2", "evil");
    write_dir(dir.path(), &tampered);
    d.signal("HUP");
    wait_for_error(&d, "s", "policy.rego: digest mismatch");
    assert_eq!(served_revision(&d).as_deref(), Some("signed-1"));

    // Signed with another key.
    write_dir(
        dir.path(),
        &signed_files("signed-3", &ec_private, jsonwebtoken::Algorithm::ES256),
    );
    d.signal("HUP");
    wait_for_error(&d, "s", "failed to verify the bundle signature");
    assert_eq!(served_revision(&d).as_deref(), Some("signed-1"));

    // Not signed at all.
    write_dir(dir.path(), &revision_files("unsigned"));
    d.signal("HUP");
    wait_for_error(&d, "s", "bundle missing .signatures.json file");
    assert_eq!(served_revision(&d).as_deref(), Some("signed-1"));

    // Properly signed again.
    write_dir(
        dir.path(),
        &signed_files("signed-4", &rsa_private, jsonwebtoken::Algorithm::RS256),
    );
    d.signal("HUP");
    wait_for_revision(&d, "signed-4", Duration::from_secs(10));
}

#[test]
fn an_unsigned_bundle_does_not_start_when_a_key_is_configured() {
    let keys = common::repo().join("tests/keys");
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path(), &revision_files("unsigned"));
    let err = match Daemon::try_start(
        &[
            "--bundle",
            dir.path().to_str().unwrap(),
            "--verification-key",
            keys.join("rsa_public.pem").to_str().unwrap(),
        ],
        &[],
    ) {
        Ok(_) => panic!("an unsigned bundle must not start"),
        Err(log) => log,
    };
    assert!(
        err.contains("bundle missing .signatures.json file"),
        "{err}"
    );
}

fn tarball_of(files: &[(String, String)]) -> Vec<u8> {
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_bytes()))
        .collect();
    tarball_bytes(&refs)
}

#[test]
fn bundle_server_polling_etags_errors_and_persistence() {
    let unchanged = Reply {
        status: 304,
        etag: Some("\"e1\"".into()),
        body: Vec::new(),
    };
    let failure = Reply {
        status: 500,
        etag: None,
        body: b"oops".to_vec(),
    };
    // Each state the test must observe is answered five times: once, it lasts one polling delay
    // (50 to 100 ms) or one backoff (100 ms), shorter than a status poll on a loaded machine.
    let server = BundleServer::start(vec![
        Reply {
            status: 200,
            etag: Some("\"e1\"".into()),
            body: tarball_of(&revision_files("remote-1")),
        },
        unchanged.clone(),
        unchanged.clone(),
        unchanged.clone(),
        unchanged.clone(),
        unchanged,
        Reply {
            status: 200,
            etag: Some("\"e2\"".into()),
            body: tarball_of(&revision_files("remote-2")),
        },
        failure.clone(),
        failure.clone(),
        failure.clone(),
        failure.clone(),
        failure,
        Reply {
            status: 304,
            etag: Some("\"e2\"".into()),
            body: Vec::new(),
        },
    ]);
    let work = tempfile::tempdir().unwrap();
    let token = work.path().join("token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let config = work.path().join("authzd.yaml");
    let persist = work.path().join("persist");
    std::fs::write(
        &config,
        format!(
            "bundles:\n  remote:\n    service: hub\n    resource: bundles/rev.tar.gz\n    persist: true\n    polling: {{min_delay_seconds: 0.05, max_delay_seconds: 0.1}}\nservices:\n  hub:\n    url: {}\n    credentials:\n      bearer: {{token_path: {}}}\npersistence_directory: {}\n",
            server.url,
            token.display(),
            persist.display()
        ),
    )
    .unwrap();
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    // remote-1 serves for one polling interval only; its activation is in the log.
    d.wait_for_log("revision=remote-1");
    wait_for_revision(&d, "remote-2", Duration::from_secs(10));
    // The 500 is reported, and remote-2 keeps serving.
    let started = Instant::now();
    loop {
        let status = d.status();
        let bundle = &status["result"]["bundles"]["remote"];
        if bundle["http_code"] == 500 {
            assert_eq!(
                bundle["message"],
                "server replied with Internal Server Error"
            );
            assert_eq!(bundle["active_revision"], "remote-2");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no 500 in {status}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(served_revision(&d).as_deref(), Some("remote-2"));
    // ...and the next 304 clears it.
    let started = Instant::now();
    while !d.status()["result"]["bundles"]["remote"]["message"].is_null() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "error never cleared"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests[0].starts_with("GET /bundles/rev.tar.gz "),
        "{}",
        requests[0]
    );
    assert!(
        requests[0]
            .to_ascii_lowercase()
            .contains("authorization: bearer t0ken"),
        "{}",
        requests[0]
    );
    assert!(!requests[0].to_ascii_lowercase().contains("if-none-match"));
    assert!(
        requests[1]
            .to_ascii_lowercase()
            .contains("if-none-match: \"e1\""),
        "{}",
        requests[1]
    );
    assert!(
        requests[7]
            .to_ascii_lowercase()
            .contains("if-none-match: \"e2\""),
        "{}",
        requests[7]
    );
    drop(d);

    // A restarted pod serves the persisted bundle before (here: without) the server answering.
    std::fs::write(
        &config,
        format!(
            "bundles:\n  remote:\n    service: hub\n    persist: true\nservices:\n  hub:\n    url: http://127.0.0.1:9\npersistence_directory: {}\n",
            persist.display()
        ),
    )
    .unwrap();
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    assert_eq!(served_revision(&d).as_deref(), Some("remote-2"));
}

#[test]
fn a_bundle_server_that_never_answered_is_not_ready() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("authzd.yaml");
    std::fs::write(
        &config,
        "bundles:\n  remote:\n    service: hub\n    polling: {min_delay_seconds: 0.05, max_delay_seconds: 0.1}\nservices:\n  hub:\n    url: http://127.0.0.1:9\n",
    )
    .unwrap();
    let d = Daemon::start(&["--config-file", config.to_str().unwrap()]);
    let response = client().get(d.url("/health?bundles")).send().unwrap();
    assert_eq!(response.status().as_u16(), 500);
    let body: Value = response.json().unwrap();
    assert_eq!(body["error"], "one or more bundles are not activated");
    assert!(body["bundles"]["remote"].is_object(), "{body}");
    assert_eq!(
        client()
            .get(d.url("/health"))
            .send()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let status = d.status();
    assert_eq!(status["result"]["plugins"]["bundle"]["state"], "NOT_READY");
}

#[test]
fn watched_tarball_and_several_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("rev.tar.gz");
    std::fs::write(&tar, tarball_of(&revision_files("t1"))).unwrap();
    let d = Daemon::start(&[
        "--bundle",
        &format!("rev={}", tar.display()),
        "--bundle",
        "policies",
    ]);
    assert_eq!(served_revision(&d).as_deref(), Some("t1"));
    // The example bundle is served next to it.
    let body: Value = client()
        .post(d.url("/v1/data/inventory/allow"))
        .json(&json!({"input": {"subject": {"id": "1"}, "action": "read"}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["result"], json!(true));
    // Replaced the way deploy tools do it: written aside, renamed over.
    let tmp = dir.path().join(".rev.tar.gz.tmp");
    std::fs::write(&tmp, tarball_of(&revision_files("t2"))).unwrap();
    std::fs::rename(&tmp, &tar).unwrap();
    wait_for_revision(&d, "t2", Duration::from_secs(5));
    let provenance: Value = client()
        .post(d.url("/v1/data/rev/answer?provenance"))
        .json(&json!({"input": {}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(provenance["provenance"]["bundles"]["rev"]["revision"], "t2");
    assert_eq!(
        provenance["provenance"]["bundles"]["policies"]["revision"],
        "example-2026-11-23"
    );
}

#[test]
fn overlapping_roots_do_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".manifest"),
        r#"{"roots": ["orders/admin"]}"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("p.rego"), "package orders.admin\nx := 1\n").unwrap();
    let err = match Daemon::try_start(
        &[
            "--bundle",
            "policies",
            "--bundle",
            &format!("admin={}", dir.path().display()),
        ],
        &[],
    ) {
        Ok(_) => panic!("overlapping roots must not start"),
        Err(log) => log,
    };
    assert!(err.contains("overlapping roots"), "{err}");
}

#[test]
fn a_configmap_holding_a_tarball_reloads_on_the_swap() {
    let dir = tempfile::tempdir().unwrap();
    let mut volume = ConfigMapVolume::new(dir.path());
    let tar1 = tarball_of(&revision_files("cm-tar-1"));
    let tar2 = tarball_of(&revision_files("cm-tar-2"));
    volume.publish_bytes(&[("bundle.tar.gz", &tar1)]);
    let d = Daemon::start(&[
        "--bundle",
        &format!("cm={}", dir.path().join("bundle.tar.gz").display()),
    ]);
    assert_eq!(served_revision(&d).as_deref(), Some("cm-tar-1"));
    volume.publish_bytes(&[("bundle.tar.gz", &tar2)]);
    let took = wait_for_revision(&d, "cm-tar-2", Duration::from_secs(20));
    eprintln!("cm-tar-2 served {took:?} after the swap");
}
