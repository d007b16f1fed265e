//! A downloaded bundle: the bytes go through the reader the daemon uses for a `.tar.gz`
//! (`BundleFiles::from_tarball_bytes`), the manifest, data and module checks
//! (`Bundle::from_files`) and, when those pass, `Snapshot::compile`. Any outcome but a panic
//! is fine.
//!
//! The first byte picks the framing: even, the rest is the `.tar.gz` as downloaded; odd, the
//! rest is a plain tar that the target gzips first, so mutations reach the tar headers and the
//! files inside instead of dying at the gzip checksum.

#![no_main]

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use authzd::bundle::{Bundle, BundleFiles};
use authzd::policy::{CompileOptions, Snapshot};
use libfuzzer_sys::fuzz_target;

/// A small cap keeps each run fast; the real default is far larger.
const MAX_BYTES: u64 = 256 * 1024;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let gzipped;
    let compressed = if mode % 2 == 0 {
        rest
    } else {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        if gz.write_all(rest).is_err() {
            return;
        }
        let Ok(bytes) = gz.finish() else { return };
        gzipped = bytes;
        &gzipped
    };
    let origin = Path::new("fuzz.tar.gz");
    let Ok(files) = BundleFiles::from_tarball_bytes(origin, compressed, MAX_BYTES) else {
        return;
    };
    let Ok(bundle) = Bundle::from_files("fuzz", origin, &files) else {
        return;
    };
    let _ = Snapshot::compile(&[Arc::new(bundle)], CompileOptions::default());
});
