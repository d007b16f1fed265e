//! Where a bundle's memory and activation time go: live heap bytes and milliseconds after each
//! stage of loading a bundle, as the daemon's allocator (regorus' counting mimalloc, which heap
//! profilers cannot see into) counts them, and the parsed data's bytes per kind of structure
//! (each distinct allocation counted once, before the allocator rounds it up).
//!
//! ```sh
//! python3 bench/scale.py --write-only /tmp/scale-10mb 100000   # or any bundle directory
//! cargo run --release --example memory_breakdown -- /tmp/scale-10mb
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use authzd::bundle::{Bundle, BundleFiles};
use authzd::policy::{CompileOptions, Snapshot};
use regorus::Value;

/// Live heap bytes, as regorus' counting allocator (the daemon's) sees them: a limit of 0
/// makes the check report the current usage.
fn mib() -> f64 {
    regorus::set_global_memory_limit(Some(0));
    let usage = match regorus::check_global_memory_limit() {
        Err(regorus::LimitError::MemoryLimitExceeded { usage, .. }) => usage,
        _ => 0,
    };
    regorus::set_global_memory_limit(None);
    usage as f64 / (1024.0 * 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: memory_breakdown BUNDLE_DIR")?,
    );
    let json_bytes: u64 = walk_size(&dir);
    println!(
        "bundle files on disk: {:.1} MiB",
        json_bytes as f64 / 1048576.0
    );
    let base = mib();
    let files = BundleFiles::read(&dir, 1 << 32)?;
    let after_read = mib();
    println!(
        "raw file bytes in memory:          {:>8.1} MiB",
        after_read - base
    );
    let started = Instant::now();
    let bundle = Arc::new(Bundle::from_files("b", &dir, &files)?);
    let parse_ms = started.elapsed().as_secs_f64() * 1e3;
    drop(files);
    let after_bundle = mib();
    println!(
        "the bundle (parsed data, modules): {:>8.1} MiB  {parse_ms:>6.0} ms",
        after_bundle - base
    );
    let mut kinds = Kinds::default();
    kinds.walk(&bundle.data);
    kinds.print();
    for slots in [1usize, 4] {
        let before = mib();
        let started = Instant::now();
        let snapshot = Snapshot::compile(
            std::slice::from_ref(&bundle),
            CompileOptions {
                evaluator_slots: slots,
                ..CompileOptions::default()
            },
        )?;
        let compile_ms = started.elapsed().as_secs_f64() * 1e3;
        println!(
            "a snapshot with {slots} evaluator slot(s):  {:>8.1} MiB  {compile_ms:>6.0} ms",
            mib() - before
        );
        drop(snapshot);
    }
    println!(
        "after dropping the snapshots:      {:>8.1} MiB",
        mib() - base
    );
    Ok(())
}

/// Bytes of the data's distinct allocations, by kind (reference-count header included).
#[derive(Default)]
struct Kinds {
    seen: HashSet<usize>,
    /// (allocations, bytes, further references to an allocation already counted)
    strings: (u64, u64, u64),
    arrays: (u64, u64, u64),
    objects: (u64, u64, u64),
    sets: (u64, u64, u64),
}

impl Kinds {
    const HEADER: u64 = 16;
    const VALUE: u64 = std::mem::size_of::<Value>() as u64;

    /// Counts `ptr` once; true the first time.
    fn first(
        &mut self,
        ptr: usize,
        kind: fn(&mut Self) -> &mut (u64, u64, u64),
        bytes: u64,
    ) -> bool {
        if !self.seen.insert(ptr) {
            kind(self).2 += 1;
            return false;
        }
        let k = kind(self);
        k.0 += 1;
        k.1 += bytes;
        true
    }

    fn walk(&mut self, value: &Value) {
        match value {
            Value::String(s) => {
                self.first(
                    s.as_ptr() as usize,
                    |k| &mut k.strings,
                    Self::HEADER + s.len() as u64,
                );
            }
            Value::Array(a) => {
                let bytes = Self::HEADER + 24 + a.len() as u64 * Self::VALUE;
                if self.first(regorus::Rc::as_ptr(a) as usize, |k| &mut k.arrays, bytes) {
                    a.iter().for_each(|v| self.walk(v));
                }
            }
            Value::Object(o) => {
                let bytes = Self::HEADER + 24 + 2 * o.len() as u64 * Self::VALUE;
                if self.first(regorus::Rc::as_ptr(o) as usize, |k| &mut k.objects, bytes) {
                    o.iter().for_each(|(k, v)| {
                        self.walk(k);
                        self.walk(v);
                    });
                }
            }
            Value::Set(s) => {
                let bytes = Self::HEADER + 24 + s.len() as u64 * Self::VALUE;
                if self.first(regorus::Rc::as_ptr(s) as usize, |k| &mut k.sets, bytes) {
                    s.iter().for_each(|v| self.walk(v));
                }
            }
            _ => {}
        }
    }

    fn print(&self) {
        let rows = [
            ("strings", self.strings),
            ("arrays", self.arrays),
            ("objects", self.objects),
            ("sets", self.sets),
        ];
        for (name, (count, bytes, shared)) in rows {
            println!(
                "  data {name:<8} {count:>9} allocations {:>8.1} MiB, {shared:>9} more references shared",
                bytes as f64 / 1048576.0
            );
        }
    }
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        walk_size(&path)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
