//! Policy-change safety before deployment, against the real binary: `authzd check` (every
//! error, at its position; `--strict`), `authzd inspect` (signed, tampered, unsigned), and
//! `authzd test` (coverage, `--run`, the values a failing test compared, both evaluators).

mod common;

use std::path::Path;

use common::{repo, run_cli};
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn check_reports_every_error_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    // Tabs, as `opa fmt` writes them: columns are characters, as editors count them.
    write(
        dir.path(),
        "a.rego",
        "package a\n\nallow if {\n\tinput.user == == \"alice\"\n}\n\nnames := [\"a\",, \"b\"]\n",
    );
    write(
        dir.path(),
        "b/b.rego",
        "package b\n\ndeny if {\n\tx > 1\n}\n\nok if {\n\tno_such_builtin(input.x)\n}\n",
    );
    let d = dir.path().display();
    let (status, stdout, stderr) = run_cli(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let want = [
        format!("{d}/a.rego:4:16: "),
        format!("{d}/a.rego:7:15: "),
        format!("{d}/b/b.rego:4:2: "),
        format!("{d}/b/b.rego:8:2: rego_type_error: undefined function no_such_builtin"),
    ];
    assert_eq!(lines.len(), want.len(), "{stdout}");
    for (line, prefix) in lines.iter().zip(&want) {
        assert!(
            line.starts_with(prefix.as_str()),
            "{line:?} is not at {prefix:?}\n{stdout}"
        );
    }
    assert!(lines[2].contains("`x` is unsafe"), "{stdout}");
    assert!(stderr.contains("4 problems"), "{stderr}");

    let (status, stdout, _) = run_cli(&["check", "policies"]);
    assert!(status.success(), "{stdout}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn eval_test_and_check_refuse_a_call_to_an_unknown_function() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package p\n\nallow := true\n\npage := strings.render_templat(\"x\", {})\n\ntest_allow if allow\n",
    );
    let path = dir.path().to_str().unwrap();
    let want = format!(
        "{}/p.rego:5:9: rego_type_error: undefined function strings.render_templat",
        dir.path().display()
    );
    let (status, stdout, stderr) = run_cli(&["eval", "-b", path, "p/allow"]);
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains(&want), "{stderr}");
    let (status, stdout, stderr) = run_cli(&["test", path]);
    assert_eq!(status.code(), Some(2), "{stdout}");
    assert!(stderr.contains(&want), "{stderr}");
    let (status, stdout, _) = run_cli(&["check", path]);
    assert_eq!(status.code(), Some(1));
    assert_eq!(stdout.trim(), want);
}

/// `with f as <builtin>` loads as OPA loads it: check, test and eval accept it and answer
/// with the builtin (regorus alone calls `sum` an unsafe variable).
#[test]
fn a_builtin_as_a_with_replacement_is_accepted_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package p

h := count([1, 2, 3])

x := y if { y := h with count as sum }

test_x if x == 6
",
    );
    let path = dir.path().to_str().unwrap();
    let (status, stdout, stderr) = run_cli(&["check", path]);
    assert!(status.success(), "{stdout}{stderr}");
    let (status, stdout, stderr) = run_cli(&["test", path]);
    assert!(status.success(), "{stdout}{stderr}");
    let (status, stdout, stderr) = run_cli(&["eval", "-b", path, "p/x"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("\"result\": 6"), "{stdout}");
}

#[test]
fn load_time_rewrites_of_opa_forms_are_accepted_everywhere() {
    // A comprehension's own `some u` beside an outer `u`, an extension's output argument, and
    // an operator called by name: regorus alone refuses the first and the last, and fails the
    // second at every decision.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package p

x := [u, v] if { u := 1; v := [u | some u in [3]] }

y := z if glob.match(\"*.a\", [\".\"], \"b.a\", z)

w := s if { plus(1, 1, s); lt(1, 2) }

test_x if x == [1, [3]]

test_y if y

test_w if w == 2
",
    );
    let path = dir.path().to_str().unwrap();
    let (status, stdout, stderr) = run_cli(&["check", path]);
    assert!(status.success(), "{stdout}{stderr}");
    let (status, stdout, stderr) = run_cli(&["test", path]);
    assert!(status.success(), "{stdout}{stderr}");
}

#[test]
fn template_strings_load_everywhere_and_a_malformed_one_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        "package p

deny contains $\"user {input.user} may not {input.action}\" if input.action != \"view\"

test_deny if deny == {\"user ann may not cancel\"} with input as {\"user\": \"ann\", \"action\": \"cancel\"}
",
    );
    let path = dir.path().to_str().unwrap();
    let (status, stdout, stderr) = run_cli(&["check", path]);
    assert!(status.success(), "{stdout}{stderr}");
    let (status, stdout, stderr) = run_cli(&["test", path]);
    assert!(status.success(), "{stdout}{stderr}");
    let input = dir.path().join("input.json");
    std::fs::write(&input, r#"{"user": "bob", "action": "cancel"}"#).unwrap();
    let (status, stdout, stderr) =
        run_cli(&["eval", "-b", path, "-i", input.to_str().unwrap(), "p/deny"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("user bob may not cancel"), "{stdout}");

    // `_` would give the expression several values: OPA's parser refuses it, at its place.
    write(
        dir.path(),
        "q.rego",
        "package q\n\nx := 1\ny := $\"ids: {input.ids[_]}\"\n",
    );
    let (status, stdout, _) = run_cli(&["check", path]);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with(&format!(
            "{path}/q.rego:4:14: rego_parse_error: var _ is undeclared"
        )),
        "{stdout}"
    );
    let (status, _, stderr) = run_cli(&["eval", "-b", path, "p/deny"]);
    assert!(!status.success());
    assert!(stderr.contains("q.rego:4:14: rego_parse_error"), "{stderr}");
}

#[test]
fn check_strict_flags_unused_imports_and_variables() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        concat!(
            "package p\n",
            "\n",
            "import data.lib.unused\n",
            "\n",
            "allow if {\n",
            "\tx := input.x\n",
            "\tsome y\n",
            "\tinput.ok\n",
            "}\n",
        ),
    );
    let path = dir.path().to_str().unwrap();
    let (status, stdout, _) = run_cli(&["check", path]);
    assert!(status.success(), "not strict: {stdout}");
    let (status, stdout, _) = run_cli(&["check", "--strict", path]);
    assert_eq!(status.code(), Some(1));
    let d = dir.path().display();
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("{d}/p.rego:3:1: import data.lib.unused unused"),
            format!("{d}/p.rego:6:2: assigned var x unused"),
            format!("{d}/p.rego:7:7: declared var y unused"),
        ],
        "{stdout}"
    );
}

fn inspect_json(args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["inspect", "--format", "json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = run_cli(&all);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (status.code(), json)
}

#[test]
fn inspect_a_signed_and_a_tampered_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let keys = repo().join("tests/keys");
    let signed = dir.path().join("signed.tar.gz");
    let (status, _, stderr) = run_cli(&[
        "build",
        "policies",
        "-o",
        signed.to_str().unwrap(),
        "--signing-key",
        keys.join("rsa_private.pem").to_str().unwrap(),
        "--signing-key-id",
        "release",
    ]);
    assert!(status.success(), "{stderr}");
    let public = keys.join("rsa_public.pem");
    let verify = [
        "--verification-key",
        public.to_str().unwrap(),
        "--verification-key-id",
        "release",
    ];

    let mut args = vec![signed.to_str().unwrap()];
    args.extend_from_slice(&verify);
    let (code, report) = inspect_json(&args);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["signature"]["status"], "valid", "{report}");
    assert_eq!(report["signature"]["key_id"], "release");
    assert_eq!(report["signature"]["claims"]["algorithm"], "RS256");
    assert_eq!(report["signature"]["claims"]["files"], 15);
    assert_eq!(report["manifest"]["revision"], "example-2026-11-23");
    assert_eq!(report["format"], "tarball");
    assert!(report["size"]["compressed_bytes"].as_u64().unwrap() > 0);
    let orders = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["package"] == "orders")
        .unwrap();
    let allow = orders["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "data.orders.allow")
        .unwrap();
    assert_eq!(allow["evaluator"], "rvm", "{allow}");
    assert_eq!(allow["kind"], "complete + default");
    assert_eq!(allow["definitions"].as_array().unwrap().len(), 5);
    // A test that mocks with `with` runs on the interpreter, and says why.
    let test = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["rules"].as_array().unwrap().iter())
        .find(|r| r["path"] == "data.test.orders.test_owner_can_view")
        .unwrap();
    assert_eq!(test["evaluator"], "interpreter");
    assert!(test["reason"].as_str().unwrap().contains("with"), "{test}");
    assert!(
        report["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["path"] == "data.rbac" && d["keys"] == serde_json::json!(["bindings"])),
        "{report}"
    );

    // Without a key: what the signature claims, unverified.
    let (code, report) = inspect_json(&[signed.to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert_eq!(report["signature"]["status"], "unverified");
    assert_eq!(report["signature"]["key_id"], "release");

    // Tampered: one policy file changed after signing.
    let mut files = authzd::bundle::BundleFiles::read_tarball(&signed, 1 << 24).unwrap();
    let policy = files.files.get_mut("orders/policy.rego").unwrap();
    policy.extend_from_slice(b"\nallow if true\n");
    let tampered = dir.path().join("tampered.tar.gz");
    std::fs::write(&tampered, files.to_tarball().unwrap()).unwrap();
    let mut args = vec![tampered.to_str().unwrap()];
    args.extend_from_slice(&verify);
    let (code, report) = inspect_json(&args);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["signature"]["status"], "invalid");
    assert!(
        report["signature"]["reason"]
            .as_str()
            .unwrap()
            .contains("orders/policy.rego: digest mismatch"),
        "{report}"
    );

    // The text form, on the unsigned directory.
    let (status, stdout, _) = run_cli(&["inspect", "policies"]);
    assert!(status.success());
    assert!(stdout.contains("signature  unsigned"), "{stdout}");
    assert!(stdout.contains("data.orders.allow"), "{stdout}");
}

#[test]
fn coverage_of_the_example_bundle() {
    let (status, stdout, stderr) = run_cli(&["test", "--coverage", "--format", "json", "policies"]);
    assert!(status.success(), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["failed"], 0);
    assert_eq!(report["passed"], 38);
    let files = &report["coverage"]["files"];
    let orders = &files["policies/orders/policy.rego"];
    assert!(orders["coverage"].as_f64().unwrap() > 90.0, "{orders}");
    // No test reaches the default decision: listed, not covered at all.
    assert_eq!(files["policies/system/main.rego"]["coverage"], 0.0);
    assert!(report["coverage"]["coverage"].as_f64().unwrap() > 90.0);

    let (status, stdout, _) = run_cli(&["test", "--coverage", "policies"]);
    assert!(status.success());
    assert!(stdout.contains("coverage: "), "{stdout}");
    assert!(stdout.contains("policies/system/main.rego"), "{stdout}");
}

#[test]
fn run_filters_tests_and_failures_show_the_compared_values() {
    let (status, stdout, _) = run_cli(&["test", "--run", "orders\\..*cancel", "-v", "policies"]);
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("PASS: 3/3"), "{stdout}");
    assert!(!stdout.contains("payment"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.rego",
        concat!(
            "package p\n",
            "\n",
            "names contains n if some n in [\"a\", \"b\"]\n",
            "\n",
            "limit := 3\n",
            "\n",
            "test_names if {\n",
            "\tcount(names) > 0\n",
            "\tnames == {\"a\", \"c\"}\n",
            "}\n",
            "\n",
            "test_limit if limit >= 3\n",
        ),
    );
    let (status, stdout, _) = run_cli(&["test", "-v", dir.path().to_str().unwrap()]);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("data.p.test_names: FAIL"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "{}/p.rego:9: names == {{\"a\", \"c\"}}",
            dir.path().display()
        )),
        "{stdout}"
    );
    assert!(stdout.contains("left:  {\"a\", \"b\"}"), "{stdout}");
    assert!(stdout.contains("right: {\"a\", \"c\"}"), "{stdout}");
    // Tests without `with` run on both evaluators; the example's mock with `with`.
    assert!(
        stdout.contains("data.p.test_limit: PASS") && stdout.contains("interpreter and RVM"),
        "{stdout}"
    );
    assert!(stdout.contains("FAIL: 1/2 (2 also on the RVM)"), "{stdout}");
    // The reason is the RVM snapshot's routing, as /v1/status shows it for serving.
    let (_, stdout, _) = run_cli(&["test", "-v", "policies"]);
    assert!(
        stdout.contains("interpreter only: it uses `with`"),
        "{stdout}"
    );
}
