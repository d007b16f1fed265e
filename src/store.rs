//! The current snapshot, swapped atomically, and the readiness latch.
//!
//! Owns: which [`Snapshot`] new requests see. A request takes one snapshot for its whole life
//! (`load`), so a reload can never hand it half of a bundle; a reload replaces the snapshot
//! whole (`store`). Readiness latches: once every configured bundle was active, it stays ready.

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use tokio::sync::watch;

use crate::policy::Snapshot;

/// Shared by every listener and the reload loop.
pub struct PolicyStore {
    current: ArcSwap<Snapshot>,
    ready: watch::Sender<bool>,
}

impl PolicyStore {
    pub fn new(initial: Snapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(initial),
            ready: watch::Sender::new(false),
        }
    }

    /// The snapshot for one request. Cheap; hold it only for the synchronous evaluation.
    pub fn load(&self) -> Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// An owned handle, for work that outlives a synchronous section.
    pub fn load_full(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Makes `snapshot` the one new requests see; in-flight requests finish on the old one.
    pub fn store(&self, snapshot: Snapshot) {
        self.current.store(Arc::new(snapshot));
    }

    /// Latches readiness: every configured bundle has been activated at least once.
    pub fn mark_ready(&self) {
        self.ready
            .send_if_modified(|ready| !std::mem::replace(ready, true));
    }

    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Follows readiness (for gRPC health).
    pub fn ready_watch(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }
}
