//! Keeping the network served while evaluations block runtime workers.
//!
//! An evaluation runs synchronously on a tokio worker. While it does, tokio's IO driver is
//! polled only by a worker that parks on it, and the spare worker may be asleep on its own
//! condition variable, with the task that would wake it queued behind the evaluation: new
//! connections, `/health` and admission's refusals would then wait for the evaluation to end.
//! Owns: one small thread that, every [`INTERVAL`] while any decision is being evaluated,
//! hands the runtime an empty task. That wakes a parked worker, which finds the driver free
//! and polls it. Idle, it only checks an atomic counter; it ends with the pipeline.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::decide::Decider;

/// How long a new request can wait behind a blocked worker before the driver is polled.
pub const INTERVAL: Duration = Duration::from_millis(10);

/// Starts the thread for `decider` on the current runtime.
pub fn spawn(decider: &Arc<Decider>) -> std::io::Result<()> {
    let decider: Weak<Decider> = Arc::downgrade(decider);
    let runtime = tokio::runtime::Handle::current();
    std::thread::Builder::new()
        .name("authzd-io-nudge".into())
        .spawn(move || {
            loop {
                std::thread::sleep(INTERVAL);
                let Some(decider) = decider.upgrade() else {
                    return;
                };
                if decider.evaluating() {
                    runtime.spawn(async {});
                }
            }
        })
        .map(|_| ())
}
