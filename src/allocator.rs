//! The global allocator is regorus' mimalloc (its `mimalloc` feature declares it; with our
//! `memory-limit` feature, regorus' `allocator-memory-limits` counts every allocation for the
//! memory limit). Owns the memory ceiling of evaluations ([`set_memory_limit`]) and giving free
//! memory back to the system when a large amount was just freed: after a cancelled evaluation,
//! and after a snapshot swap frees the previous snapshot. mimalloc would otherwise keep the
//! pages for reuse, and the RSS would stay at its peak.

/// Turns transparent huge pages off for this process, before anything large is allocated.
/// regorus' mimalloc asks for them (`MADV_HUGEPAGE`) on its regions: each fault then zeroes
/// 2 MiB, and a half-used huge page counts whole in the RSS (10 MB of data: 117 -> 99 MiB
/// RSS without them). `MIMALLOC_ALLOW_THP=1` in the environment keeps them.
pub fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes an integer flag and no pointers.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
        }
    }
}

/// Sets one ceiling for every evaluation's memory, builtins included (regorus' global limit;
/// `None`: none). A build without the `memory-limit` feature has no ceiling, and says so.
pub fn set_memory_limit(limit: Option<u64>) {
    #[cfg(feature = "memory-limit")]
    regorus::set_global_memory_limit(limit);
    #[cfg(not(feature = "memory-limit"))]
    if let Some(limit) = limit {
        tracing::warn!(
            limit,
            "built without the memory-limit feature: --max-memory-bytes is not enforced"
        );
    }
}

/// The ceiling builtins must stay under before they allocate (the limit in force, or the
/// default one when there is none, so that no single reservation can exhaust the system).
/// Called during evaluation: the default is read from the cgroup files once per process.
pub fn memory_ceiling() -> u64 {
    #[cfg(feature = "memory-limit")]
    if let Some(limit) = regorus::global_memory_limit() {
        return limit;
    }
    static DEFAULT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *DEFAULT.get_or_init(crate::limits::default_memory_limit)
}

/// Returns the free pages of this thread's heap (and abandoned ones) to the system.
pub fn give_back() {
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: mi_collect is mimalloc's own entry point, linked in as the global allocator; it
    // takes no pointers and only releases memory that is already free.
    unsafe { mi_collect(true) }
}
