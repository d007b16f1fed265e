//! Rules the fast-path self-check caught answering differently on the RVM.
//!
//! Owns: remembering each demoted rule by its path and the fingerprint of its text, across
//! snapshots, so a reload of the same rule text starts it on the interpreter again. A changed
//! rule gets a fresh chance.

use std::collections::HashSet;
use std::sync::Mutex;

use super::{RuleEntry, Snapshot};

/// Shared by the self-check (which records) and the reload path (which applies).
#[derive(Debug, Default)]
pub struct Demotions {
    rules: Mutex<HashSet<(String, u64)>>,
}

impl Demotions {
    /// Remembers `rule` as demoted.
    pub fn record(&self, rule: &RuleEntry) {
        self.lock().insert((rule.path.clone(), rule.fingerprint));
    }

    /// Demotes, in a freshly compiled `snapshot`, every rule demoted before with the same text.
    pub fn apply(&self, snapshot: &Snapshot) {
        let rules = self.lock();
        if rules.is_empty() {
            return;
        }
        for rule in snapshot.rules() {
            if rule.rvm_entry.is_some() && rules.contains(&(rule.path.clone(), rule.fingerprint)) {
                snapshot.demote(rule.index);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, u64)>> {
        match self.rules.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
