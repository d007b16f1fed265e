//! How many threads work by default, for the runtime and the evaluator pools alike, and the
//! stack every thread that evaluates gets.

/// The default worker count: the cores available, at most 8 (a sidecar shares its node).
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .min(8)
}

/// The stack of every thread that evaluates or compiles policies (runtime workers, blocking
/// threads, the self-check and shadow workers, replay). regorus recurses once per nested rule
/// call; with `--max-rule-depth` at its default of 128 this leaves ample room (a chain of 2,000
/// overflowed 8 MiB). Only the pages a thread touches are memory.
pub const EVAL_STACK_BYTES: usize = 32 << 20;
