//! What a replay found: counts by outcome, changed decisions grouped by path and kind of
//! change with example decision ids, and why some decisions could not be replayed.
//!
//! Owns: counting on one replay thread and merging the threads' tallies. Examples are the
//! first decisions in log order (chunk, then position), whichever thread saw them, so a
//! report is the same for the same logs however many threads ran.

use std::collections::BTreeMap;

use crate::change::Change;

/// Where a decision sits in the logs: chunk index, then position in the chunk.
pub type Position = (u64, u64);

/// Changed decisions of one path and one kind.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub count: u64,
    /// The first ones, in log order.
    pub examples: Vec<(Position, String)>,
}

/// Why a logged decision was not replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotReplayable {
    /// The mask policy erased or replaced (part of) the input: never guessed.
    InputMasked,
    /// The logged result was erased or replaced: there is nothing to compare with.
    ResultMasked,
    /// The event names no path.
    NoPath,
}

impl NotReplayable {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InputMasked => "input erased or masked",
            Self::ResultMasked => "result erased or masked",
            Self::NoPath => "no path",
        }
    }
}

/// A line that is not a decision-log event.
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub file: usize,
    pub line: u64,
    pub message: String,
}

/// Everything one replay (or one of its threads) counted.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Examples kept per group.
    pub max_examples: usize,
    pub replayed: u64,
    pub unchanged: u64,
    pub changes: BTreeMap<(String, Change), Group>,
    pub not_replayable: BTreeMap<NotReplayable, u64>,
    /// Events shadow evaluation added (not decisions of their own).
    pub skipped_shadow: u64,
    pub unreadable_count: u64,
    /// The first few unreadable lines.
    pub unreadable: Vec<Unreadable>,
}

const MAX_UNREADABLE_KEPT: usize = 5;

impl Tally {
    pub fn new(max_examples: usize) -> Self {
        Self {
            max_examples,
            replayed: 0,
            unchanged: 0,
            changes: BTreeMap::new(),
            not_replayable: BTreeMap::new(),
            skipped_shadow: 0,
            unreadable_count: 0,
            unreadable: Vec::new(),
        }
    }

    /// Counts one replayed decision.
    pub fn record(&mut self, path: &str, change: Change, at: Position, decision_id: &str) {
        self.replayed += 1;
        if change == Change::Unchanged {
            self.unchanged += 1;
            return;
        }
        let group = self.changes.entry((path.to_string(), change)).or_default();
        group.count += 1;
        if group.examples.len() < self.max_examples {
            group.examples.push((at, decision_id.to_string()));
        }
    }

    pub fn not_replayable(&mut self, why: NotReplayable) {
        *self.not_replayable.entry(why).or_default() += 1;
    }

    pub fn unreadable(&mut self, file: usize, line: u64, message: String) {
        self.unreadable_count += 1;
        if self.unreadable.len() < MAX_UNREADABLE_KEPT {
            self.unreadable.push(Unreadable {
                file,
                line,
                message,
            });
        }
    }

    /// Decisions whose answer changed.
    pub fn changed(&self) -> u64 {
        self.changes.values().map(|g| g.count).sum()
    }

    /// Decisions changed in `kind` (any path).
    pub fn changed_by(&self, kind: Change) -> u64 {
        self.changes
            .iter()
            .filter(|((_, k), _)| *k == kind)
            .map(|(_, g)| g.count)
            .sum()
    }

    /// Adds `other` in.
    pub fn merge(&mut self, other: Tally) {
        self.replayed += other.replayed;
        self.unchanged += other.unchanged;
        self.skipped_shadow += other.skipped_shadow;
        for (key, group) in other.changes {
            let mine = self.changes.entry(key).or_default();
            mine.count += group.count;
            mine.examples.extend(group.examples);
            mine.examples.sort();
            mine.examples.truncate(self.max_examples);
        }
        for (why, n) in other.not_replayable {
            *self.not_replayable.entry(why).or_default() += n;
        }
        self.unreadable_count += other.unreadable_count;
        self.unreadable.extend(other.unreadable);
        self.unreadable.sort_by_key(|u| (u.file, u.line));
        self.unreadable.truncate(MAX_UNREADABLE_KEPT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_examples_are_the_first_in_log_order() {
        let mut a = Tally::new(2);
        a.record("p", Change::AllowToDeny, (3, 0), "c");
        a.record("p", Change::AllowToDeny, (4, 0), "d");
        a.record("p", Change::Unchanged, (4, 1), "e");
        let mut b = Tally::new(2);
        b.record("p", Change::AllowToDeny, (1, 5), "a");
        b.record("q", Change::NowAnError, (2, 0), "b");
        a.merge(b);
        let group = &a.changes[&("p".to_string(), Change::AllowToDeny)];
        assert_eq!(group.count, 3);
        let ids: Vec<&str> = group.examples.iter().map(|(_, id)| id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
        assert_eq!((a.replayed, a.unchanged, a.changed()), (5, 1, 4));
        assert_eq!(a.changed_by(Change::NowAnError), 1);
    }
}
