//! What shadow evaluation has seen: decisions compared (same, changed, error), per rule path,
//! and those not compared (dropped from a full queue, or arriving before the shadow bundles
//! were active). Served in `/v1/status`; the Prometheus counters are the worker's.
//!
//! Owns: the counters. The decision path touches only `dropped` (one atomic); everything else
//! is written by the shadow worker.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::reload::StatusTable;

/// How a shadow answer compared with the served one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ShadowOutcome {
    Same,
    Changed,
    /// The shadow bundles failed where the served ones answered.
    Error,
}

impl ShadowOutcome {
    pub const ALL: [ShadowOutcome; 3] = [Self::Same, Self::Changed, Self::Error];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Same => "same",
            Self::Changed => "changed",
            Self::Error => "error",
        }
    }
}

/// Counts of one path (or all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub same: u64,
    pub changed: u64,
    pub error: u64,
}

impl Counts {
    fn add(&mut self, outcome: ShadowOutcome) {
        match outcome {
            ShadowOutcome::Same => self.same += 1,
            ShadowOutcome::Changed => self.changed += 1,
            ShadowOutcome::Error => self.error += 1,
        }
    }
}

#[derive(Debug, Default)]
struct Inner {
    by_path: Mutex<BTreeMap<String, Counts>>,
    dropped: AtomicU64,
    not_ready: AtomicU64,
}

/// Shared between the decision path, the shadow worker and `/v1/status`.
#[derive(Debug, Clone, Default)]
pub struct ShadowStatus {
    inner: Arc<Inner>,
}

impl ShadowStatus {
    /// One compared decision of the rule at `path`.
    pub fn record(&self, path: &str, outcome: ShadowOutcome) {
        let mut map = match self.inner.by_path.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        match map.get_mut(path) {
            Some(counts) => counts.add(outcome),
            None => {
                let mut counts = Counts::default();
                counts.add(outcome);
                map.insert(path.to_string(), counts);
            }
        }
    }

    /// A decision the full queue could not take.
    pub fn dropped(&self) {
        self.inner.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// A decision made before the shadow bundles were active.
    pub fn not_ready(&self) {
        self.inner.not_ready.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as `/v1/status` shows them.
    pub fn view(&self, bundles: &StatusTable, sample_rate: f64) -> serde_json::Value {
        let by_path = match self.inner.by_path.lock() {
            Ok(map) => map.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        let mut total = Counts::default();
        for counts in by_path.values() {
            total.same += counts.same;
            total.changed += counts.changed;
            total.error += counts.error;
        }
        let bundles: serde_json::Map<String, serde_json::Value> = bundles
            .snapshot()
            .iter()
            .map(|s| {
                (
                    s.name.clone(),
                    serde_json::to_value(s.view()).unwrap_or_default(),
                )
            })
            .collect();
        serde_json::json!({
            "bundles": bundles,
            "sample_rate": sample_rate,
            "decisions": total,
            "paths": by_path,
            "dropped": self.inner.dropped.load(Ordering::Relaxed),
            "not_ready": self.inner.not_ready.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_path_and_in_total() {
        let status = ShadowStatus::default();
        status.record("data.p.allow", ShadowOutcome::Same);
        status.record("data.p.allow", ShadowOutcome::Changed);
        status.record("data.q.x", ShadowOutcome::Error);
        status.dropped();
        let view = status.view(&StatusTable::default(), 1.0);
        assert_eq!(
            view["decisions"],
            serde_json::json!({"same": 1, "changed": 1, "error": 1})
        );
        assert_eq!(view["paths"]["data.p.allow"]["changed"], 1);
        assert_eq!(view["dropped"], 1);
    }
}
