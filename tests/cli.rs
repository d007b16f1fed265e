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

#[test]
fn build_makes_a_deterministic_signed_bundle_the_daemon_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let keys = common::repo().join("tests/keys");
    let out = |name: &str| dir.path().join(name);
    let build = |output: &std::path::Path| {
        run_cli(&[
            "build",
            "policies",
            "-o",
            output.to_str().unwrap(),
            "--signing-key",
            keys.join("rsa_private.pem").to_str().unwrap(),
            "--signing-key-id",
            "default",
        ])
    };
    let (status, stdout, stderr) = build(&out("a.tar.gz"));
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("signed"), "{stdout}");
    let (status, _, _) = build(&out("b.tar.gz"));
    assert!(status.success());
    assert_eq!(
        std::fs::read(out("a.tar.gz")).unwrap(),
        std::fs::read(out("b.tar.gz")).unwrap()
    );

    let d = common::Daemon::start(&[
        "--bundle",
        &format!("policies={}", out("a.tar.gz").display()),
        "--verification-key",
        keys.join("rsa_public.pem").to_str().unwrap(),
    ]);
    let body: serde_json::Value = common::client()
        .post(d.url("/v1/data/inventory/allow"))
        .json(&serde_json::json!({"input": {"subject": {"id": "1"}, "action": "read"}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["result"], serde_json::json!(true));
}

#[test]
fn build_refuses_a_bundle_that_does_not_compile() {
    let dir = tempfile::tempdir().unwrap();
    let (status, _, stderr) = run_cli(&[
        "build",
        "tests/bundles/broken_rego",
        "-o",
        dir.path().join("x.tar.gz").to_str().unwrap(),
    ]);
    assert!(!status.success());
    assert!(stderr.contains("policy.rego:5"), "{stderr}");
}

#[test]
fn no_subcommand_runs_the_daemon_on_the_example_bundle() {
    use std::io::BufRead;
    // What `cargo run --release` does: no arguments at all (ports from the environment here,
    // so tests do not collide on 8181).
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_authzd"))
        .current_dir(common::repo())
        .env("AUTHZD_ADDR", "127.0.0.1:0")
        .env("AUTHZD_GRPC_ADDR", "127.0.0.1:0")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    for line in stderr.lines() {
        let line = line.unwrap();
        if line.contains("HTTP listener ready") {
            addr = common::field(&line, "addr");
        }
        if line.contains("authzd ready") {
            break;
        }
    }
    let addr = addr.expect("an HTTP listener");
    let body: serde_json::Value = common::client()
        .post(format!("http://{addr}/v1/data/orders/allow"))
        .json(&serde_json::json!({"input": {"subject": {"id": "10001"}, "action": "view", "resource": {"owner": "10001"}}}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(body["result"], serde_json::json!(true));
}

#[test]
fn eval_and_test_have_the_token_and_crypto_builtins() {
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), r#"{"text": "abc"}"#).unwrap();
    let (status, stdout, stderr) = run_cli(&[
        "eval",
        "--bundle",
        "tests/bundles/tokens",
        "--input",
        input.path().to_str().unwrap(),
        "tokens/sha256",
    ]);
    assert!(status.success(), "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"result": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"})
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        concat!(
            "package p\n",
            "token := io.jwt.encode_sign({\"alg\": \"HS256\"}, {\"sub\": \"alice\"}, {\"kty\": \"oct\", \"k\": \"c2VjcmV0\"})\n",
            "test_round_trip if io.jwt.verify_hs256(token, \"secret\")\n",
            "test_claims if io.jwt.decode(token)[1].sub == \"alice\"\n",
        ),
    )
    .unwrap();
    let (status, stdout, stderr) = run_cli(&["test", "-v", dir.path().to_str().unwrap()]);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("data.p.test_round_trip: PASS"), "{stdout}");
    assert!(stdout.contains("data.p.test_claims: PASS"), "{stdout}");
}

#[test]
fn an_output_argument_to_an_extension_builtin_is_opas() {
    // OPA's `f(x, out)` form, a statement of its own: the extension's result unified with
    // `out`, on the same lines (regorus alone answers `var c is unsafe` at every decision).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.rego"),
        "package p\nclaims := c if {\n\tio.jwt.decode(input.token, [_, c, _])\n}\n",
    )
    .unwrap();
    let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
    let input = dir.path().join("input.json");
    std::fs::write(&input, format!("{{\"token\": \"{token}\"}}")).unwrap();
    let bundle = dir.path().to_str().unwrap();
    let input = input.to_str().unwrap();
    let (status, stdout, stderr) =
        run_cli(&["eval", "--bundle", bundle, "--input", input, "p/claims"]);
    assert!(status.success(), "{stderr}");
    let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        answer["result"],
        serde_json::json!({"sub": "alice"}),
        "{stdout}"
    );

    // Inside an expression, one argument too many is refused at load, as OPA refuses it,
    // with the form that works.
    std::fs::write(
        dir.path().join("p.rego"),
        "package p\nclaims := c if {\n\tc := io.jwt.decode(input.token, [_, c, _])\n}\n",
    )
    .unwrap();
    let (status, stdout, stderr) = run_cli(&["eval", "--bundle", bundle, "p/claims"]);
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("p.rego:3:"), "{stderr}");
    assert!(
        stderr.contains("write `x := io.jwt.decode(...)`"),
        "{stderr}"
    );
}

/// `authzd capabilities` has the shape of OPA's published capabilities files (`builtins` with
/// `name` and a function `decl`, `future_keywords`, `wasm_abi_versions`, `features`), lists the
/// operators OPA's compiler needs and the extensions, and leaves out what authzd lacks.
#[test]
fn capabilities_is_an_opa_capabilities_file_for_what_authzd_evaluates() {
    let (status, stdout, stderr) = run_cli(&["capabilities"]);
    assert!(status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "builtins",
            "features",
            "future_keywords",
            "wasm_abi_versions"
        ]
    );
    assert!(
        doc["features"]
            .as_array()
            .unwrap()
            .contains(&"rego_v1".into())
    );
    let allowed = [
        "name",
        "decl",
        "infix",
        "relation",
        "deprecated",
        "nondeterministic",
    ];
    let mut names = Vec::new();
    for b in doc["builtins"].as_array().unwrap() {
        for key in b.as_object().unwrap().keys() {
            assert!(allowed.contains(&key.as_str()), "{key} in {b}");
        }
        assert_eq!(b["decl"]["type"], "function", "{b}");
        names.push(b["name"].as_str().unwrap().to_string());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "sorted by name, as OPA writes them");
    for name in [
        "assign",
        "internal.member_2",
        "count",
        "io.jwt.decode_verify",
        "crypto.hmac.equal",
        "graphql.parse",
        "strings.render_template",
        "rego.metadata.rule",
        "rego.metadata.chain",
        "crypto.x509.parse_keypair",
        "crypto.x509.parse_and_verify_certificates_with_options",
        "rego.parse_module",
        "internal.template_string",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} missing");
    }
    assert!(
        doc["features"]
            .as_array()
            .unwrap()
            .contains(&"template_strings".into())
    );
    assert!(!names.iter().any(|n| n == "http.send"), "http.send listed");
}

#[test]
fn long_policy_lines_load_up_to_the_configured_limit() {
    // An inline JWKS: one line of about 5,000 columns, beyond regorus's own 1,024.
    let n = "x".repeat(4_900);
    let policy = format!(
        "package p\n\njwks := {{\"keys\": [{{\"kty\": \"RSA\", \"kid\": \"k1\", \"n\": \"{n}\", \"e\": \"AQAB\"}}]}}\n\nkid := jwks.keys[0].kid\n"
    );
    assert!(policy.lines().nth(2).unwrap().len() > 4_900);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.rego"), &policy).unwrap();
    let path = dir.path().to_str().unwrap();
    let (status, stdout, stderr) = run_cli(&["eval", "-b", path, "p/kid"]);
    assert!(status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("\"result\": \"k1\""), "{stdout}");

    let (status, _, stderr) = run_cli(&[
        "eval",
        "-b",
        path,
        "--max-policy-line-bytes",
        "4096",
        "p/kid",
    ]);
    assert!(!status.success());
    assert!(
        stderr.contains("line exceeds maximum column width of 4096")
            && stderr.contains("raise --max-policy-line-bytes"),
        "{stderr}"
    );
    let (status, _, stderr) = run_cli(&["test", path, "--max-policy-lines", "3"]);
    assert_eq!(status.code(), Some(2));
    assert!(stderr.contains("raise --max-policy-lines"), "{stderr}");
}

#[test]
fn eval_with_strict_builtin_errors_fails_the_decision() {
    // As `opa eval --strict-builtin-errors`: without the flag a builtin error is undefined.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.rego"), "package p\nx := 1 / input.n\n").unwrap();
    let input = dir.path().join("input.json");
    std::fs::write(&input, "{\"n\": 0}").unwrap();
    let (bundle, input) = (dir.path().to_str().unwrap(), input.to_str().unwrap());
    let (status, stdout, stderr) = run_cli(&["eval", "-b", bundle, "-i", input, "p/x"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "{}");
    let (status, stdout, stderr) = run_cli(&[
        "eval",
        "-b",
        bundle,
        "-i",
        input,
        "--strict-builtin-errors",
        "p/x",
    ]);
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("eval_builtin_error"), "{stderr}");
}
