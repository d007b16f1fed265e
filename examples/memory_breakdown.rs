//! Where a bundle's memory goes: live heap bytes after each stage of loading a bundle, counted
//! by a global allocator wrapper (the daemon itself runs on mimalloc, which heap profilers
//! cannot see into).
//!
//! ```sh
//! python3 bench/scale.py --write-only /tmp/scale-10mb 100000   # or any bundle directory
//! cargo run --release --example memory_breakdown -- /tmp/scale-10mb
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};

use authzd::bundle::{Bundle, BundleFiles};
use authzd::policy::{CompileOptions, Snapshot};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn mib() -> f64 {
    LIVE.load(Ordering::Relaxed) as f64 / (1024.0 * 1024.0)
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
    let bundle = Arc::new(Bundle::from_files("b", &dir, &files)?);
    drop(files);
    let after_bundle = mib();
    println!(
        "the bundle (parsed data, modules): {:>8.1} MiB",
        after_bundle - base
    );
    for slots in [1usize, 4] {
        let before = mib();
        let snapshot = Snapshot::compile(
            std::slice::from_ref(&bundle),
            CompileOptions {
                evaluator_slots: slots,
                ..CompileOptions::default()
            },
        )?;
        println!(
            "a snapshot with {slots} evaluator slot(s):  {:>8.1} MiB",
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
