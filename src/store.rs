//! The current snapshot, swapped atomically, and the readiness latch.
//!
//! Owns: which [`Snapshot`] new requests see. A request takes one snapshot for its whole life
//! (`load`), so a reload can never hand it half of a bundle; a reload replaces the snapshot
//! whole (`store`). Readiness latches: once every configured bundle was active, it stays ready,
//! until shutdown begins: then the store is a lame duck, readiness fails for good and decisions
//! are still served (so a draining client can still ask).

use std::sync::Arc;

use arc_swap::{ArcSwap, Guard};
use tokio::sync::watch;

use crate::policy::Snapshot;

/// Shared by every listener and the reload loop.
pub struct PolicyStore {
    current: ArcSwap<Snapshot>,
    ready: watch::Sender<bool>,
    lame_duck: watch::Sender<bool>,
}

impl PolicyStore {
    pub fn new(initial: Snapshot) -> Self {
        Self {
            current: ArcSwap::from_pointee(initial),
            ready: watch::Sender::new(false),
            lame_duck: watch::Sender::new(false),
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
        let previous = self.current.swap(Arc::new(snapshot));
        // Freed here unless a request still holds it (then by that request, later).
        drop(previous);
        crate::allocator::give_back();
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

    /// Shutdown has begun: readiness fails from now on, decisions are still served.
    pub fn enter_lame_duck(&self) {
        self.lame_duck
            .send_if_modified(|lame| !std::mem::replace(lame, true));
    }

    pub fn is_lame_duck(&self) -> bool {
        *self.lame_duck.borrow()
    }

    /// Follows the lame-duck state (for gRPC health).
    pub fn lame_duck_watch(&self) -> watch::Receiver<bool> {
        self.lame_duck.subscribe()
    }
}
