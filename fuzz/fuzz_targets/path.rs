//! Request paths, as URLs (`/v1/data/...`) and as text (gRPC, Envoy settings, the command line:
//! slash form or a `data.` ref): splitting, unescaping, the fast key, formatting as a ref, and
//! resolving against a small compiled snapshot, then walking into data. Errors are fine; a
//! panic or a cost out of proportion to the path is not.

#![no_main]

use std::path::Path;
use std::sync::{Arc, LazyLock};

use authzd::bundle::{Bundle, BundleFiles};
use authzd::policy::{CompileOptions, DataPath, Snapshot, Target, to_ref, walk};
use libfuzzer_sys::fuzz_target;

const POLICY: &str = r#"package orders
allow if input.user == "admin"
nested.deep.rule := 1
"#;
const DATA: &str = r#"{"roles": [{"name": "a"}, {"name": "b"}], "k": {"a/b": {"0": true}}}"#;

static SNAPSHOT: LazyLock<Snapshot> = LazyLock::new(|| {
    let mut files = BundleFiles::default();
    files.files.insert("orders/p.rego".into(), POLICY.into());
    files.files.insert("data.json".into(), DATA.into());
    let bundle = Bundle::from_files("fuzz", Path::new("fuzz"), &files).expect("the seed bundle");
    Snapshot::compile(&[Arc::new(bundle)], CompileOptions::default()).expect("the seed policy")
});

static ROOT: LazyLock<regorus::Value> =
    LazyLock::new(|| regorus::Value::from_json_str(DATA).expect("the seed data"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for path in [DataPath::Url(&text), DataPath::Text(&text)] {
        let _ = path.display();
        let _ = path.fast_key();
        if let Ok(segments) = path.segments() {
            let _ = to_ref(&segments);
        }
        match SNAPSHOT.resolve(path) {
            Ok(Target::Data { segments }) => {
                let _ = walk(ROOT.clone(), &segments);
            }
            Ok(_) | Err(_) => {}
        }
    }
});
