//! Shared by the integration tests: start the real `authzd` binary on an ephemeral port and
//! find its address in its log, without sleeping.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The repository root (where `policies/` lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Log lines of a daemon, with a condition variable to wait for new ones.
#[derive(Default)]
pub struct Log {
    state: Mutex<LogState>,
    changed: Condvar,
}

#[derive(Default)]
struct LogState {
    lines: Vec<String>,
    closed: bool,
}

impl Log {
    fn push(&self, line: String) {
        self.state.lock().unwrap().lines.push(line);
        self.changed.notify_all();
    }

    fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.changed.notify_all();
    }

    fn wait_for_eof(&self) {
        let mut state = self.state.lock().unwrap();
        while !state.closed {
            state = self
                .changed
                .wait_timeout(state, Duration::from_secs(5))
                .unwrap()
                .0;
        }
    }

    pub fn text(&self) -> String {
        self.state.lock().unwrap().lines.join("\n")
    }

    /// Blocks until a line contains `needle` (30 s at most).
    pub fn wait_for(&self, needle: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut state = self.state.lock().unwrap();
        while !state.lines.iter().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            assert!(
                !left.is_zero(),
                "no log line with {needle:?}:\n{}",
                state.lines.join("\n")
            );
            state = self.changed.wait_timeout(state, left).unwrap().0;
        }
    }
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    child: Child,
    /// `127.0.0.1:port` of the first HTTP listener.
    pub addr: String,
    /// Address of the first gRPC listener (`127.0.0.1:port` or `unix:///path`).
    pub grpc_addr: Option<String>,
    /// Every log line so far, and a signal for each new one.
    pub log: Arc<Log>,
}

impl Daemon {
    /// Starts `authzd run` with `args` (plus `--addr 127.0.0.1:0` unless an address is given).
    pub fn start(args: &[&str]) -> Daemon {
        Self::try_start(args, &[]).unwrap_or_else(|log| panic!("authzd did not start:\n{log}"))
    }

    /// Like `start`, with extra environment variables; `Err(log)` if it exits before listening.
    pub fn try_start(args: &[&str], env: &[(&str, &str)]) -> Result<Daemon, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_authzd"));
        cmd.current_dir(repo()).arg("run");
        if !args.contains(&"--addr") && !env.iter().any(|(k, _)| *k == "AUTHZD_ADDR") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        let grpc_configured = args.contains(&"--grpc-addr")
            || args.contains(&"--no-grpc")
            || env.iter().any(|(k, _)| *k == "AUTHZD_GRPC_ADDR");
        if !grpc_configured {
            cmd.args(["--grpc-addr", "127.0.0.1:0"]);
        }
        cmd.args(args)
            .envs(env.iter().copied())
            .env_remove("RUST_LOG");
        Self::launch(cmd)
    }

    /// Spawns `cmd` (an `authzd run` command line, arguments and environment as given) and
    /// waits for its "authzd ready" log line; `Err(log)` if it exits before. Text and JSON log
    /// lines both work.
    pub fn launch(mut cmd: Command) -> Result<Daemon, String> {
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn authzd");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Log::default());
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let (mut http, mut grpc) = (None, None);
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("HTTP listener ready") && http.is_none() {
                    http = field(&line, "addr");
                }
                if line.contains("gRPC listener ready") && grpc.is_none() {
                    grpc = field(&line, "addr");
                }
                if line.contains("authzd ready") {
                    let _ = tx.send((http.clone(), grpc.clone()));
                }
                sink.push(line);
            }
            sink.close();
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok((Some(addr), grpc_addr)) => Ok(Daemon {
                child,
                addr,
                grpc_addr,
                log,
            }),
            Ok((None, _)) => Err(format!("no HTTP listener in the log:\n{}", log.text())),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // The pipe is closed now; wait until the reader has drained it.
                log.wait_for_eof();
                Err(log.text())
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait");
        std::mem::forget(self);
        exit
    }

    /// Stops the daemon (SIGTERM) and returns its whole log, read to the end: what a negative
    /// check ("never logged") must look at, or it races the reader thread.
    pub fn stop_and_read_log(self) -> String {
        let log = self.log.clone();
        let status = self.terminate();
        assert!(status.success(), "{status:?}");
        log.wait_for_eof();
        log.text()
    }

    /// Waits for the process to exit by itself (after a signal sent with `signal`).
    pub fn wait_for_exit(mut self) -> ExitStatus {
        let exit = self.child.wait().expect("wait");
        std::mem::forget(self);
        exit
    }

    /// Blocks until a log line contains `needle`.
    pub fn wait_for_log(&self, needle: &str) {
        self.log.wait_for(needle);
    }

    pub fn log_text(&self) -> String {
        self.log.text()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The value of `key=value` in a text log line, or of `key` in a JSON one.
pub fn field(line: &str, key: &str) -> Option<String> {
    if line.starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(line).ok()?;
        return match &json[key] {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        };
    }
    let start = line.find(&format!("{key}="))? + key.len() + 1;
    let rest = &line[start..];
    Some(
        rest.split_whitespace()
            .next()?
            .trim_matches('"')
            .to_string(),
    )
}

/// Runs `authzd` to completion with `args`; returns (exit status, stdout, stderr).
pub fn run_cli(args: &[&str]) -> (ExitStatus, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_authzd"))
        .current_dir(repo())
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run authzd");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// An HTTP client that keeps its connection.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// An RFC 3339 timestamp `minutes_ago` minutes before now.
pub fn minutes_ago(minutes: u64) -> String {
    let at = chrono::Utc::now() - chrono::Duration::minutes(minutes as i64);
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Daemon {
    /// Sends `signal` (e.g. "HUP") to the daemon.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// `GET /v1/status` as JSON.
    pub fn status(&self) -> serde_json::Value {
        client()
            .get(self.url("/v1/status"))
            .send()
            .unwrap()
            .json()
            .unwrap()
    }
}

/// A Kubernetes ConfigMap volume, updated the way kubelet's atomic writer does it: a new
/// timestamped directory, a `..data_tmp` symlink renamed over `..data`, top-level symlinks into
/// `..data`, the old directory removed.
pub struct ConfigMapVolume {
    pub dir: PathBuf,
    generation: u32,
    current: Option<String>,
}

impl ConfigMapVolume {
    pub fn new(dir: &Path) -> Self {
        std::fs::create_dir_all(dir).unwrap();
        Self {
            dir: dir.to_path_buf(),
            generation: 0,
            current: None,
        }
    }

    /// Publishes `files` (ConfigMap keys are flat file names) as the volume's new content.
    pub fn publish(&mut self, files: &[(&str, &str)]) {
        let bytes: Vec<(&str, &[u8])> = files.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        self.publish_bytes(&bytes);
    }

    /// Like `publish`, for binary values (ConfigMap `binaryData`).
    pub fn publish_bytes(&mut self, files: &[(&str, &[u8])]) {
        self.generation += 1;
        let stamp = format!(
            "..2026_11_23_10_00_{:02}.{:09}",
            self.generation % 60,
            self.generation
        );
        let new_dir = self.dir.join(&stamp);
        std::fs::create_dir(&new_dir).unwrap();
        for (name, content) in files {
            std::fs::write(new_dir.join(name), content).unwrap();
        }
        let tmp = self.dir.join("..data_tmp");
        let _ = std::fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&stamp, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
        for (name, _) in files {
            let link = self.dir.join(name);
            if std::fs::symlink_metadata(&link).is_err() {
                std::os::unix::fs::symlink(format!("..data/{name}"), &link).unwrap();
            }
        }
        if let Some(old) = self.current.replace(stamp) {
            std::fs::remove_dir_all(self.dir.join(old)).unwrap();
        }
    }
}

/// A gzip-compressed tarball of `files`, written by the product's own builder.
pub fn tarball_bytes(files: &[(&str, &[u8])]) -> Vec<u8> {
    let files = authzd::bundle::BundleFiles {
        files: files
            .iter()
            .map(|(name, content)| (name.to_string(), content.to_vec()))
            .collect(),
    };
    files.to_tarball().unwrap()
}

/// One scripted answer of [`BundleServer`].
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

/// A tiny HTTP bundle server on 127.0.0.1 that answers from a script (the last answer
/// repeats) and records every request's head.
pub struct BundleServer {
    pub url: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl BundleServer {
    pub fn start(script: Vec<Reply>) -> Self {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            let mut index = 0usize;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                if head.is_empty() {
                    continue;
                }
                seen.lock().unwrap().push(head);
                let reply = script[index.min(script.len() - 1)].clone();
                index += 1;
                let reason = match reply.status {
                    200 => "OK",
                    304 => "Not Modified",
                    404 => "Not Found",
                    _ => "Internal Server Error",
                };
                let mut response = format!(
                    "HTTP/1.1 {} {reason}\r\nConnection: close\r\n",
                    reply.status
                );
                if let Some(etag) = &reply.etag {
                    response.push_str(&format!("ETag: {etag}\r\n"));
                }
                response.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
                if reply.status == 200 {
                    response.push_str("Content-Type: application/gzip\r\n");
                }
                response.push_str("\r\n");
                let _ = stream.write_all(response.as_bytes());
                let _ = stream.write_all(&reply.body);
            }
        });
        Self { url, requests }
    }
}

/// Each POST a [`Collector`] received: its head and its gunzipped body.
pub type Posts = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A decision-log collector on 127.0.0.1: records every POST it accepts (head and gunzipped
/// body). It can refuse the first posts with a 500, or, stalled, never answer at all.
pub struct Collector {
    pub url: String,
    pub posts: Posts,
}

impl Collector {
    pub fn start(stalled: bool) -> Self {
        Self::start_with(stalled, 0)
    }

    /// Answers the first `fail_first` posts with 500 (and does not record them).
    pub fn failing(fail_first: usize) -> Self {
        Self::start_with(false, fail_first)
    }

    fn start_with(stalled: bool, fail_first: usize) -> Self {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/logs", listener.local_addr().unwrap());
        let posts = Arc::new(Mutex::new(Vec::new()));
        let seen = posts.clone();
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if stalled {
                    held.push(stream);
                    continue;
                }
                let seen = seen.clone();
                let refused = refused.clone();
                std::thread::spawn(move || {
                    let mut stream = stream;
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    loop {
                        let mut head = String::new();
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            head.push_str(&line);
                        }
                        let length = head
                            .lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case("content-length")
                                    .then(|| v.trim().parse::<usize>().ok())?
                            })
                            .unwrap_or(0);
                        let mut body = vec![0u8; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        let attempt = refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let reply: &[u8] = if attempt < fail_first {
                            b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
                        } else {
                            let mut plain = Vec::new();
                            flate2::read::GzDecoder::new(&body[..])
                                .read_to_end(&mut plain)
                                .unwrap();
                            seen.lock().unwrap().push((head, plain));
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                        };
                        if stream.write_all(reply).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, posts }
    }

    /// Every event received so far, in order.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.posts
            .lock()
            .unwrap()
            .iter()
            .flat_map(|(_, body)| serde_json::from_slice::<Vec<serde_json::Value>>(body).unwrap())
            .collect()
    }
}

/// The value of one Prometheus series (`name{labels}` exactly as rendered, labels sorted as
/// given) in `/metrics` text, or 0 when absent.
pub fn metric(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if series_name != name {
                return None;
            }
            let matches = labels.iter().all(|(k, v)| {
                series_labels
                    .split(',')
                    .any(|pair| pair == format!("{k}=\"{v}\""))
            });
            matches.then(|| value.parse::<f64>().ok()).flatten()
        })
        .sum()
}
