//! A rule that computes with numbers from the input (a price check and a token's age): what a
//! decision costs when its arithmetic operands come from the request.
//!
//! `cargo bench --bench arithmetic`

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use authzd::bundle::{Bundle, BundleFiles};
use authzd::decide::{DecideOptions, evaluate_path};
use authzd::policy::{CompileOptions, DataPath, Snapshot};
use criterion::{Criterion, criterion_group, criterion_main};
use regorus::Value;

const POLICY: &str = "package pay\n\ndefault allow := false\n\nallow if {\n\tinput.amount * input.qty + input.fee <= input.limit - input.reserved\n\tinput.now - input.iat * 1000000000 < 3600000000000\n}\n";

fn bench(c: &mut Criterion) {
    let files = std::collections::BTreeMap::from([(
        "pay/policy.rego".to_string(),
        POLICY.as_bytes().to_vec(),
    )]);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bundle = Bundle::from_files("arithmetic", root, &BundleFiles { files }).expect("bundle");
    let snapshot =
        Snapshot::compile(&[Arc::new(bundle)], CompileOptions::default()).expect("compile");
    let input = Value::from_json_str(
        r#"{"amount": 12, "qty": 3, "fee": 2, "limit": 100, "reserved": 10, "now": 1700000100000000000, "iat": 1700000000}"#,
    )
    .expect("input");
    let path = DataPath::Url("pay/allow");
    let decision =
        evaluate_path(&snapshot, path, &input, DecideOptions::default()).expect("decide");
    assert_eq!(decision.result, Value::from(true));
    c.bench_function("arithmetic on input (rvm)", |b| {
        b.iter(|| {
            evaluate_path(
                black_box(&snapshot),
                DataPath::Url("pay/allow"),
                black_box(&input),
                DecideOptions::default(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
