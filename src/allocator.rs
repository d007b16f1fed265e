//! The global allocator is regorus' mimalloc (its `allocator-memory-limits` feature declares
//! it, and counts every allocation for the memory limit). Owns giving free memory back to the
//! system when a large amount was just freed: after a cancelled evaluation, and after a
//! snapshot swap frees the previous snapshot. mimalloc would otherwise keep the pages for reuse,
//! and the RSS would stay at its peak.

/// Returns the free pages of this thread's heap (and abandoned ones) to the system.
pub fn give_back() {
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect is mimalloc's own entry point, linked in as the global allocator; it
    // takes no pointers and only releases memory that is already free.
    unsafe { mi_collect(true) }
}
