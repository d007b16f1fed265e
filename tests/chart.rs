//! The Helm chart, run for real: `helm template` renders it, the rendered ConfigMap is laid out
//! on disk exactly as kubelet lays out a ConfigMap volume, and the real `authzd` binary is
//! started with exactly the rendered container's arguments and environment. Decisions come
//! through the loopback port and the Unix socket, probes through the probe port; a second
//! rendering with a changed policy, applied as kubelet applies a ConfigMap update, is served.
//!
//! Owns: the contract between the chart and the daemon (flags, mount layout, probe paths). Needs
//! `helm`: `AUTHZD_HELM` or `PATH`. Without it the test is skipped with a notice, unless
//! `AUTHZD_REQUIRE_HELM=1` (CI), which makes a missing helm a failure.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use common::{Daemon, client, field, repo};
use serde_json::{Value, json};

/// The helm binary, or `None` (skip) when it is not installed and not required.
fn helm() -> Option<PathBuf> {
    let required = std::env::var("AUTHZD_REQUIRE_HELM").is_ok_and(|v| v == "1");
    let found = match std::env::var_os("AUTHZD_HELM") {
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("helm"))
                .find(|candidate| candidate.is_file())
        }),
    };
    match found {
        Some(path) if path.is_file() => Some(path),
        _ if required => panic!(
            "AUTHZD_REQUIRE_HELM=1 but no helm binary (AUTHZD_HELM={:?}, or on PATH)",
            std::env::var_os("AUTHZD_HELM")
        ),
        _ => {
            eprintln!(
                "SKIPPED: helm not found (set AUTHZD_HELM or put helm on PATH; .ci/run installs it)"
            );
            None
        }
    }
}

/// `helm template` of charts/authzd with `values`, as JSON documents.
fn render(helm: &Path, values: &Value, dir: &Path) -> Vec<Value> {
    let file = dir.join("values.yaml");
    // JSON is YAML.
    std::fs::write(&file, serde_json::to_vec_pretty(values).unwrap()).unwrap();
    let output = Command::new(helm)
        .args(["template", "t", "--namespace", "shop"])
        .arg(repo().join("charts/authzd"))
        .arg("-f")
        .arg(&file)
        .output()
        .expect("run helm");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "helm template failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    yaml_serde::Deserializer::from_str(&stdout)
        .filter_map(|doc| {
            let value = <Value as serde::Deserialize>::deserialize(doc).expect("rendered YAML");
            value.is_object().then_some(value)
        })
        .collect()
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the rendering"))
}

/// The chart's values for the test: a flat bundle whose revision and admin are given, the Unix
/// sockets, the demo Deployment (a pod with the sidecar as the app's pods have it).
fn values(revision: &str, admin: &str) -> Value {
    json!({
        "sockets": {"enabled": true},
        "demo": {"enabled": true},
        "bundle": {"files": {
            ".manifest": json!({"revision": revision, "roots": ["shop"]}).to_string(),
            "policy.rego": "package shop\n\ndefault allow := false\n\nallow if input.user in data.shop.admins\n",
            "data.json": json!({"shop": {"admins": [admin]}}).to_string(),
        }},
    })
}

/// The files of a ConfigMap: `data` as is, `binaryData` decoded.
fn configmap_files(configmap: &Value) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    if let Some(data) = configmap["data"].as_object() {
        for (key, value) in data {
            files.push((key.clone(), value.as_str().unwrap().as_bytes().to_vec()));
        }
    }
    if let Some(data) = configmap["binaryData"].as_object() {
        for (key, value) in data {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap())
                .unwrap();
            files.push((key.clone(), bytes));
        }
    }
    files
}

/// A ConfigMap volume as kubelet's atomic writer keeps it: the files in a timestamped
/// directory, `..data` a symlink to it, and one symlink per key, `key -> ..data/key`. An
/// update writes a new timestamped directory, points `..data_tmp` at it and renames that over
/// `..data` (the atomic step), adds and removes the per-key links, then removes the old
/// directory.
struct KubeletVolume {
    dir: PathBuf,
    current: Option<(String, Vec<String>)>,
}

impl KubeletVolume {
    fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        Self {
            dir: dir.to_path_buf(),
            current: None,
        }
    }

    fn apply(&mut self, stamp: &str, files: &[(String, Vec<u8>)]) {
        use std::os::unix::fs::symlink;
        let stamp = format!("..{stamp}");
        let new_dir = self.dir.join(&stamp);
        std::fs::create_dir(&new_dir).unwrap();
        for (key, content) in files {
            std::fs::write(new_dir.join(key), content).unwrap();
        }
        let tmp = self.dir.join("..data_tmp");
        symlink(&stamp, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        let keys: Vec<String> = files.iter().map(|(k, _)| k.clone()).collect();
        for key in &keys {
            let link = self.dir.join(key);
            if std::fs::symlink_metadata(&link).is_err() {
                symlink(format!("..data/{key}"), &link).unwrap();
            }
        }
        if let Some((old_stamp, old_keys)) = self.current.take() {
            for key in old_keys.iter().filter(|k| !keys.contains(k)) {
                std::fs::remove_file(self.dir.join(key)).unwrap();
            }
            std::fs::remove_dir_all(self.dir.join(old_stamp)).unwrap();
        }
        self.current = Some((stamp, keys));
    }
}

/// `text` with each absolute mount path moved under `root` (the container's filesystem).
fn localize(text: &str, mounts: &[String], root: &Path) -> String {
    let mut text = text.to_string();
    for mount in mounts {
        let local = root.join(mount.trim_start_matches('/'));
        text = text.replace(mount.as_str(), local.to_str().unwrap());
    }
    text
}

/// The container's command line, with only what cannot be the same outside a pod rewritten:
/// absolute mount paths move under `root`, and TCP listeners get port 0 (the fixed ports could
/// be taken on the machine running the tests); the daemon logs the ports it bound. Everything
/// else is passed exactly as rendered.
fn localize_args(args: &[String], mounts: &[String], root: &Path) -> Vec<String> {
    args.iter()
        .map(|arg| {
            let mut arg = localize(arg, mounts, root);
            for flag in ["--addr=", "--grpc-addr=", "--diagnostic-addr="] {
                if let Some(addr) = arg.strip_prefix(flag)
                    && !addr.starts_with("unix:")
                {
                    let (host, _port) = addr.rsplit_once(':').unwrap();
                    arg = format!("{flag}{host}:0");
                }
            }
            arg
        })
        .collect()
}

/// The container's environment as kubelet builds it: `value` with `$(VAR)` expanded from the
/// entries before it, `fieldRef` from the pod's (made-up) metadata.
fn container_env(container: &Value) -> Vec<(String, String)> {
    let pod_fields = HashMap::from([
        ("metadata.name", "t-authzd-demo-7d9f8-x2x4k"),
        ("metadata.namespace", "shop"),
    ]);
    let mut env: Vec<(String, String)> = Vec::new();
    for var in container["env"].as_array().unwrap() {
        let name = var["name"].as_str().unwrap().to_string();
        let value = if let Some(value) = var["value"].as_str() {
            let mut expanded = value.to_string();
            for (earlier, earlier_value) in &env {
                expanded = expanded.replace(&format!("$({earlier})"), earlier_value);
            }
            expanded
        } else {
            let path = var["valueFrom"]["fieldRef"]["fieldPath"]
                .as_str()
                .unwrap_or_else(|| panic!("unsupported env source in {var}"));
            pod_fields[path].to_string()
        };
        env.push((name, value));
    }
    env
}

/// One HTTP/1.1 request over a Unix socket: (status, body).
fn unix_request(socket: &Path, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn allowed(body: &str) -> Value {
    let json: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    json["result"].clone()
}

/// The sidecar of the demo Deployment, running as kubelet would run it: every ConfigMap it
/// mounts laid out from the rendering, every emptyDir an empty directory, the binary started
/// with the container's arguments and environment.
struct RenderedSidecar {
    daemon: Daemon,
    container: Value,
    /// The container's filesystem: mount paths live below it.
    root: PathBuf,
    /// Each mounted ConfigMap's volume, by ConfigMap name.
    configmaps: HashMap<String, KubeletVolume>,
    /// `127.0.0.1:port` of the diagnostic listener (it binds all interfaces).
    diagnostic: String,
}

impl RenderedSidecar {
    fn start(docs: &[Value], root: &Path) -> Self {
        let deployment = find(docs, "Deployment", "t-authzd-demo");
        let pod = &deployment["spec"]["template"]["spec"];
        let container = pod["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "authzd")
            .expect("the sidecar container")
            .clone();
        assert_eq!(container["image"], "registry.example.com/authzd:0.1.0");
        let volumes: HashMap<&str, &Value> = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v))
            .collect();
        let mut mounts = Vec::new();
        let mut configmap_mounts = Vec::new();
        let mut configmaps = HashMap::new();
        for mount in container["volumeMounts"].as_array().unwrap() {
            let path = mount["mountPath"].as_str().unwrap().to_string();
            let local = root.join(path.trim_start_matches('/'));
            let volume = volumes[mount["name"].as_str().unwrap()];
            if volume["configMap"].is_object() {
                configmap_mounts.push((volume["configMap"]["name"].as_str().unwrap(), local));
            } else {
                assert!(volume["emptyDir"].is_object(), "unexpected volume {volume}");
                std::fs::create_dir_all(&local).unwrap();
            }
            mounts.push(path);
        }
        // A file in a ConfigMap may name a mount path too (the config file's token_path).
        for (name, local) in configmap_mounts {
            let files = configmap_files(find(docs, "ConfigMap", name))
                .into_iter()
                .map(|(key, content)| match String::from_utf8(content) {
                    Ok(text) => (key, localize(&text, &mounts, root).into_bytes()),
                    Err(binary) => (key, binary.into_bytes()),
                })
                .collect::<Vec<_>>();
            let mut kubelet = KubeletVolume::new(&local);
            kubelet.apply("2026_12_01_10_00_00.123456789", &files);
            configmaps.insert(name.to_string(), kubelet);
        }

        let rendered_args: Vec<String> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        // The image's ENTRYPOINT is the binary; the chart's args start with the subcommand.
        assert_eq!(rendered_args[0], "run");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authzd"));
        cmd.args(localize_args(&rendered_args, &mounts, root))
            .env_clear()
            .envs(container_env(&container))
            .current_dir(root);
        let daemon =
            Daemon::launch(cmd).unwrap_or_else(|log| panic!("authzd did not start:\n{log}"));
        let bound = daemon
            .log_text()
            .lines()
            .filter(|l| l.contains("diagnostic listener ready"))
            .find_map(|l| field(l, "addr"))
            .expect("a diagnostic listener");
        assert!(bound.starts_with("0.0.0.0:"), "{bound}");
        let diagnostic = format!("127.0.0.1:{}", bound.rsplit_once(':').unwrap().1);
        Self {
            daemon,
            container,
            root: root.to_path_buf(),
            configmaps,
            diagnostic,
        }
    }

    /// Asks each of the container's probes, as kubelet would (on the named probe port).
    fn probes(&self) -> Vec<(&'static str, u16)> {
        let probe_port = self.container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "authzd-metrics")
            .expect("the probe port");
        ["startupProbe", "readinessProbe", "livenessProbe"]
            .into_iter()
            .map(|probe| {
                let get = &self.container[probe]["httpGet"];
                assert_eq!(get["port"], probe_port["name"], "{probe}");
                let url = format!(
                    "http://{}{}",
                    self.diagnostic,
                    get["path"].as_str().unwrap()
                );
                (probe, client().get(&url).send().unwrap().status().as_u16())
            })
            .collect()
    }

    /// `POST /v1/data/{path}` over loopback TCP: the result.
    fn decide(&self, path: &str, input: Value) -> Value {
        client()
            .post(self.daemon.url(&format!("/v1/data/{path}")))
            .json(&json!({"input": input}))
            .send()
            .unwrap()
            .json::<Value>()
            .unwrap()["result"]
            .clone()
    }
}

#[test]
fn the_rendered_sidecar_serves_the_rendered_configmap_and_its_updates() {
    let Some(helm) = helm() else { return };
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("container");
    let docs = render(&helm, &values("r1", "alice"), work.path());
    let mut sidecar = RenderedSidecar::start(&docs, &root);
    let mut bundle_volume = sidecar
        .configmaps
        .remove("t-authzd-bundle")
        .expect("the bundle ConfigMap is mounted");
    let d = &sidecar.daemon;

    for (probe, status) in sidecar.probes() {
        assert_eq!(status, 200, "{probe}");
    }
    // The probe port serves nothing else.
    let decision_there = client()
        .post(format!("http://{}/v1/data/shop/allow", sidecar.diagnostic))
        .body(r#"{"input": {"user": "alice"}}"#)
        .send()
        .unwrap();
    assert_eq!(decision_there.status(), 404);

    // Decisions: over loopback TCP and over the Unix socket, which the app's user (any) may
    // connect to.
    assert!(d.addr.starts_with("127.0.0.1:"), "{}", d.addr);
    let socket = sidecar.root.join("run/authzd/http.sock");
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode, 0o666, "socket permissions");
    let decide_tcp = |user: &str| sidecar.decide("shop/allow", json!({"user": user}));
    let decide_unix = |user: &str| {
        let (status, body) = unix_request(
            &socket,
            "POST",
            "/v1/data/shop/allow",
            &json!({"input": {"user": user}}).to_string(),
        );
        assert_eq!(status, 200, "{body}");
        allowed(&body)
    };
    assert_eq!(decide_tcp("alice"), json!(true));
    assert_eq!(decide_tcp("bob"), json!(false));
    assert_eq!(decide_unix("alice"), json!(true));
    assert_eq!(decide_unix("bob"), json!(false));
    let (status, body) = unix_request(&socket, "GET", "/v1/status", "");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["result"]["bundles"]["policies"]["active_revision"],
        "r1"
    );

    // `helm upgrade` with a changed policy; kubelet swaps the volume to the new rendering.
    let docs = render(&helm, &values("r2", "bob"), work.path());
    bundle_volume.apply(
        "2026_12_01_10_01_30.987654321",
        &configmap_files(find(&docs, "ConfigMap", "t-authzd-bundle")),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while decide_unix("bob") != json!(true) {
        assert!(
            Instant::now() < deadline,
            "the updated ConfigMap was not served within 30 s:\n{}",
            d.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(decide_unix("alice"), json!(false));
    assert_eq!(decide_tcp("bob"), json!(true));
    let status = sidecar.daemon.terminate();
    assert!(status.success(), "{status:?}");
}

/// The owner of order 42 viewing it: allowed by the example bundle's `orders/allow`.
fn owner_views() -> Value {
    json!({"subject": {"id": "10001", "roles": ["customer"]}, "action": "view",
           "resource": {"type": "order", "id": "42", "owner": "10001"}})
}

#[test]
fn the_chart_s_tarball_is_served_as_the_demo_values_say() {
    let Some(helm) = helm() else { return };
    let work = tempfile::tempdir().unwrap();
    let demo: Value = yaml_serde::from_str(
        &std::fs::read_to_string(repo().join("charts/authzd/ci/demo-values.yaml")).unwrap(),
    )
    .unwrap();
    let docs = render(&helm, &demo, work.path());
    let sidecar = RenderedSidecar::start(&docs, &work.path().join("container"));
    for (probe, status) in sidecar.probes() {
        assert_eq!(status, 200, "{probe}");
    }
    // What the demo app and the `helm test` pod ask.
    assert_eq!(sidecar.decide("orders/allow", owner_views()), json!(true));
    let test = &demo["test"];
    assert_eq!(
        sidecar.decide(test["path"].as_str().unwrap(), test["input"].clone()),
        serde_json::from_str::<Value>(test["expectResult"].as_str().unwrap()).unwrap()
    );
}

#[test]
fn a_bundle_server_in_values_is_polled_through_the_rendered_config_file() {
    let Some(helm) = helm() else { return };
    let example = std::fs::read(repo().join("charts/authzd/files/example-bundle.tar.gz")).unwrap();
    let server = common::BundleServer::start(vec![common::Reply {
        status: 200,
        etag: Some("\"v1\"".into()),
        body: example,
    }]);
    let work = tempfile::tempdir().unwrap();
    let values = json!({
        "demo": {"enabled": true},
        "bundle": {"server": {
            "url": server.url,
            "resource": "bundles/example.tar.gz",
            "persist": true,
            "polling": {"minDelaySeconds": 1, "maxDelaySeconds": 2},
        }},
    });
    let docs = render(&helm, &values, work.path());
    let sidecar = RenderedSidecar::start(&docs, &work.path().join("container"));
    assert!(sidecar.configmaps.contains_key("t-authzd-config"));
    // Ready once the download is active (a bundle server may answer after the start).
    let deadline = Instant::now() + Duration::from_secs(30);
    while sidecar.probes().iter().any(|(_, status)| *status != 200) {
        assert!(
            Instant::now() < deadline,
            "not ready within 30 s:\n{}",
            sidecar.daemon.log_text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(sidecar.decide("orders/allow", owner_views()), json!(true));
    assert!(
        server.requests.lock().unwrap()[0].starts_with("GET /bundles/example.tar.gz "),
        "{:?}",
        server.requests.lock().unwrap()
    );
    // `persist: true` keeps the download in the state emptyDir.
    let persisted = sidecar.root.join("var/lib/authzd");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_dir(&persisted).map_or(0, |d| d.count()) == 0 {
        assert!(
            Instant::now() < deadline,
            "nothing persisted in {persisted:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_bundle_the_chart_does_not_render() {
    let Some(helm) = helm() else { return };
    let output = Command::new(&helm)
        .args(["template", "t"])
        .arg(repo().join("charts/authzd"))
        .output()
        .expect("run helm");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no policy bundle is configured") && stderr.contains("bundle.server.url"),
        "{stderr}"
    );
}
