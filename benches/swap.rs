//! What a snapshot swap costs the requests around it: decision latency in the 100 ms after
//! each swap against the steady state, while a reload thread compiles and swaps snapshots.
//!
//! `cargo bench --bench swap` (the example bundle), `cargo bench --bench swap -- --large`
//! (`bench/gen_large_bundle.py`'s bundle: 1,100 rules, 10.8 MB of data; needs python3).
//! Two threads decide in a loop through the decision pipeline for 20 swaps; the main thread
//! compiles the bundle and swaps the result in, as the reload path does.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use authzd::bundle::Bundle;
use authzd::decide::{Decider, DecisionRequest, Recorder};
use authzd::metrics::{ApiKind, Metrics};
use authzd::policy::{CompileOptions, DataPath, Snapshot};
use authzd::store::PolicyStore;
use regorus::Value;

// The allocator is the daemon's: regorus installs its own mimalloc as the global allocator.

const SWAPS: usize = 20;
const AFTER_SWAP: Duration = Duration::from_millis(100);

struct Case {
    bundle: PathBuf,
    path: &'static str,
    input: Value,
}

fn case(large: bool) -> Case {
    if !large {
        return Case {
            bundle: Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
            path: "orders/allow",
            input: Value::from_json_str(
                r#"{"subject": {"id": "10001", "roles": ["customer"]}, "action": "view", "resource": {"type": "order", "id": "42", "owner": "10001"}}"#,
            )
            .expect("input"),
        };
    }
    let dir = std::env::temp_dir().join("authzd-swap-bench-large");
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_large_bundle.py"))
        .arg(&dir)
        .status()
        .expect("python3 bench/gen_large_bundle.py");
    assert!(status.success());
    Case {
        bundle: dir,
        path: "svc/s5/allow",
        input: Value::from_json_str(r#"{"action": "a3", "subject": {"id": "u123"}}"#)
            .expect("input"),
    }
}

fn compile(path: &Path) -> Snapshot {
    let bundle = Bundle::load("bench", path, 1 << 30).expect("bundle");
    let options = CompileOptions {
        evaluator_slots: 4,
        ..CompileOptions::default()
    };
    Snapshot::compile(&[Arc::new(bundle)], options).expect("compile")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let large = std::env::args().any(|a| a == "--large");
    let case = case(large);
    let store = Arc::new(PolicyStore::new(compile(&case.bundle)));
    let decider = Arc::new(Decider::new(
        store.clone(),
        Recorder {
            metrics: Metrics::new(),
            log: None,
        },
    ));
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (decider, stop, input, path) =
                (decider.clone(), stop.clone(), case.input.clone(), case.path);
            std::thread::spawn(move || {
                let mut samples = Vec::with_capacity(1 << 20);
                while !stop.load(Ordering::Relaxed) {
                    let at = Instant::now();
                    let request =
                        DecisionRequest::new(ApiKind::Http, DataPath::Url(path), input.clone());
                    let decided = decider.decide(request);
                    assert!(decided.outcome.is_ok());
                    samples.push((at - started, at.elapsed()));
                    // A request rate a sidecar sees, not a spin: leave the core to the reload.
                    std::thread::sleep(Duration::from_micros(200));
                }
                samples
            })
        })
        .collect();

    let mut swaps = Vec::with_capacity(SWAPS);
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..SWAPS {
        let snapshot = compile(&case.bundle);
        store.store(snapshot);
        swaps.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<(Duration, Duration)> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();

    let near_swap = |at: Duration| swaps.iter().any(|s| at >= *s && at < *s + AFTER_SWAP);
    let (mut after, mut steady): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
    for (at, took) in samples {
        if near_swap(at) {
            after.push(took);
        } else {
            steady.push(took);
        }
    }
    after.sort();
    steady.sort();
    println!(
        "{} bundle, {SWAPS} swaps: {} decisions within 100 ms after a swap, {} steady",
        if large { "large" } else { "example" },
        after.len(),
        steady.len()
    );
    for (name, set) in [("after a swap", &after), ("steady state", &steady)] {
        println!(
            "  {name:>13}: p50 {:>8.2?}  p99 {:>8.2?}  max {:>8.2?}",
            percentile(set, 0.5),
            percentile(set, 0.99),
            set.last().copied().unwrap_or_default()
        );
    }
    let ratio = percentile(&after, 0.99).as_secs_f64() / percentile(&steady, 0.99).as_secs_f64();
    println!("  p99 after a swap / steady p99: {ratio:.2}x");
}
