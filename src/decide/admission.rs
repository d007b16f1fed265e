//! Admission: how many requests the pipeline evaluates at once.
//!
//! Owns: the slots (a semaphore) and the rule for a request that finds none free: wait a
//! short, bounded time without holding a thread, then refuse with [`Overloaded`]. A free slot
//! costs one `try_acquire`. A batch takes one slot for all its items. Each transport maps
//! [`Overloaded`] to its wire form (HTTP 503 with `Retry-After`, gRPC `RESOURCE_EXHAUSTED`,
//! an Envoy error so that `failure_mode_allow` decides).

use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

/// The request was refused: every evaluation slot stayed busy for the admission wait.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "too many concurrent decisions: all {limit} evaluation slots stayed busy for {wait_ms} ms (--max-concurrent-decisions); retry shortly"
)]
pub struct Overloaded {
    pub limit: usize,
    pub wait_ms: u64,
}

/// The evaluation slots.
pub struct Admission {
    slots: Semaphore,
    limit: usize,
    wait: Duration,
}

/// A held slot; released when dropped.
pub struct Slot<'a>(#[allow(dead_code)] Option<SemaphorePermit<'a>>);

impl Slot<'_> {
    /// No slot: work that is not admitted (the command line, embedding).
    pub fn none() -> Self {
        Slot(None)
    }
}

impl Admission {
    pub fn new(limit: usize, wait: Duration) -> Self {
        let limit = limit.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            slots: Semaphore::new(limit),
            limit,
            wait,
        }
    }

    /// A slot now, or within the admission wait, or [`Overloaded`].
    pub async fn admit(&self) -> Result<Slot<'_>, Overloaded> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Ok(Slot(Some(permit)));
        }
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(permit)) => Ok(Slot(Some(permit))),
            _ => Err(self.overloaded()),
        }
    }

    /// True while at least one slot is taken: an evaluation is running.
    pub fn busy(&self) -> bool {
        self.slots.available_permits() < self.limit
    }

    /// A slot if one is free now (for callers that cannot wait).
    pub fn try_admit(&self) -> Result<Slot<'_>, Overloaded> {
        self.slots
            .try_acquire()
            .map(|permit| Slot(Some(permit)))
            .map_err(|_| self.overloaded())
    }

    fn overloaded(&self) -> Overloaded {
        Overloaded {
            limit: self.limit,
            wait_ms: self.wait.as_millis() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_pipeline_refuses_after_the_wait_and_admits_again_once_free() {
        let admission = Admission::new(1, Duration::from_millis(20));
        let held = admission.admit().await.unwrap();
        let refused = admission.admit().await.err().unwrap();
        assert_eq!(refused.limit, 1);
        assert!(admission.try_admit().is_err());
        drop(held);
        assert!(admission.admit().await.is_ok());
    }
}
