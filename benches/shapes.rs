//! The policy shapes people write, on 1k and 100k users, on both evaluators: what a decision
//! costs as the data grows. The policies are in `bench/shapes/`; the data is generated here.
//!
//! `cargo bench --bench shapes` (or `-- "rbac"` for one shape)

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use authzd::bundle::{Bundle, BundleFiles};
use authzd::decide::{DecideOptions, Evaluator, evaluate_path};
use authzd::policy::{CompileOptions, DataPath, Snapshot};
use criterion::{Criterion, criterion_group, criterion_main};
use regorus::Value;
use serde_json::{Map, Value as Json, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SHAPES: [&str; 3] = ["lookup", "rbac", "users"];

fn users(n: usize) -> Json {
    let mut users = Map::new();
    for i in 0..n {
        let mut roles = vec![json!(format!("role{}", i % 10)), json!("viewer")];
        if i % 100 == 0 {
            roles.push(json!("admin"));
        }
        users.insert(
            format!("u{i}"),
            json!({"roles": roles, "tenant": format!("t{}", i % 20), "orders": [format!("o{i}-0"), format!("o{i}-1"), format!("o{i}-2")]}),
        );
    }
    Json::Object(users)
}

/// All three shapes in one bundle, as they would sit in one service's bundle.
fn snapshot(n: usize, use_rvm: bool) -> Snapshot {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/shapes");
    let users = users(n);
    let mut files = std::collections::BTreeMap::new();
    for shape in SHAPES {
        let policy = std::fs::read(root.join(shape).join("policy.rego")).expect("policy");
        files.insert(format!("{shape}/policy.rego"), policy);
    }
    let data = json!({
        "lookup": {"users": users},
        "rbac": {"users": users},
        "users": users,
        "profiles": users,
    });
    files.insert(
        "data.json".to_string(),
        serde_json::to_vec(&data).expect("json"),
    );
    let bundle = Bundle::from_files("shapes", &root, &BundleFiles { files }).expect("bundle");
    let options = CompileOptions {
        use_rvm,
        ..CompileOptions::default()
    };
    Snapshot::compile(&[Arc::new(bundle)], options).expect("compile")
}

fn bench(c: &mut Criterion) {
    for n in [1_000, 100_000] {
        for use_rvm in [true, false] {
            let snapshot = snapshot(n, use_rvm);
            let user = format!("u{}", n / 2 + 1);
            let input = Value::from_json_str(
                &json!({"user": user, "action": "read", "tenant": format!("t{}", (n / 2 + 1) % 20), "order": "o1-0"})
                    .to_string(),
            )
            .expect("input");
            let label = if use_rvm { "default" } else { "--no-rvm" };
            let mut group = c.benchmark_group(format!("{n} users, {label}"));
            for shape in SHAPES {
                let path = format!("{shape}/allow");
                let decision = evaluate_path(
                    &snapshot,
                    DataPath::Url(&path),
                    &input,
                    DecideOptions::default(),
                )
                .expect("decide");
                let on = match decision.evaluator {
                    Evaluator::Rvm => "rvm",
                    Evaluator::Interpreter => "interpreter",
                    Evaluator::Data => "data",
                };
                group.bench_function(format!("{shape} ({on})"), |b| {
                    b.iter(|| {
                        evaluate_path(
                            black_box(&snapshot),
                            DataPath::Url(&path),
                            black_box(&input),
                            DecideOptions::default(),
                        )
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
