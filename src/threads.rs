//! How many threads work by default, for the runtime and the evaluator pools alike.

/// The default worker count: the cores available, at most 8 (a sidecar shares its node).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8)
}
