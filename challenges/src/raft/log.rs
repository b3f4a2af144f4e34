//! The replicated log: entries indexed from 1, each with the term of the
//! leader that appended it.

use serde::{Deserialize, Serialize};

/// One log entry: the term of the leader that appended it and its command
/// (`None` for the no-op a new leader appends to commit its term).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<C> {
    pub term: u64,
    pub command: Option<C>,
}

/// A Raft log. Index 0 is the empty prefix, of term 0; the first entry is
/// at index 1.
///
/// ```
/// use challenges::raft::{Entry, Log};
///
/// let mut log = Log::default();
/// log.push(Entry { term: 1, command: Some("a") });
/// log.push(Entry { term: 2, command: Some("b") });
/// assert_eq!((log.last_index(), log.last_term()), (2, 2));
/// assert_eq!(log.term_at(0), Some(0));
/// assert_eq!(log.term_at(3), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log<C> {
    entries: Vec<Entry<C>>,
}

impl<C> Default for Log<C> {
    fn default() -> Self {
        Log {
            entries: Vec::new(),
        }
    }
}

impl<C: Clone> Log<C> {
    /// The index of the last entry (0 when empty).
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The term of the last entry (0 when empty).
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term of the entry at `index`: `Some(0)` for index 0, `None` past
    /// the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        match index {
            0 => Some(0),
            _ => self.entry(index).map(|e| e.term),
        }
    }

    /// The entry at `index`, if there is one.
    pub fn entry(&self, index: u64) -> Option<&Entry<C>> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(position)
    }

    /// Appends `entry`; returns its index.
    pub fn push(&mut self, entry: Entry<C>) -> u64 {
        self.entries.push(entry);
        self.last_index()
    }

    /// Copies of at most `max` entries from index `from` on.
    pub fn entries_from(&self, from: u64, max: usize) -> Vec<Entry<C>> {
        let start = usize::try_from(from.max(1) - 1).unwrap_or(usize::MAX);
        self.entries.iter().skip(start).take(max).cloned().collect()
    }

    /// Puts `entries` right after index `prev` (whose entry the caller has
    /// checked against the leader's) and returns the index of the last of
    /// them. An entry already there with the same term is kept as it is;
    /// the first one that differs in term is dropped with everything after
    /// it. So a late or repeated batch never removes entries that a newer
    /// batch of the same leader appended.
    pub fn merge(&mut self, prev: u64, entries: Vec<Entry<C>>) -> u64 {
        let mut index = prev;
        for entry in entries {
            index += 1;
            match self.term_at(index) {
                Some(term) if term == entry.term => {}
                Some(_) => {
                    self.entries.truncate((index - 1) as usize);
                    self.entries.push(entry);
                }
                None => self.entries.push(entry),
            }
        }
        index
    }

    /// Whether a log ending at (`last_index`, `last_term`) is at least as
    /// up to date as this one (Raft's election restriction, §5.4.1).
    pub fn is_behind_or_equal(&self, last_index: u64, last_term: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The index before the first entry of the term of the entry at
    /// `index`: where a follower whose entry at `index` conflicts with the
    /// leader's suggests the leader try next (one round trip per term
    /// instead of one per entry).
    pub fn before_term_of(&self, index: u64) -> u64 {
        let Some(term) = self.term_at(index) else {
            return self.last_index();
        };
        let mut first = index;
        while first > 1 && self.term_at(first - 1) == Some(term) {
            first -= 1;
        }
        first - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(terms: &[u64]) -> Log<u64> {
        let mut log = Log::default();
        for (i, &term) in terms.iter().enumerate() {
            log.push(Entry {
                term,
                command: Some(i as u64 + 1),
            });
        }
        log
    }

    fn terms(log: &Log<u64>) -> Vec<u64> {
        (1..=log.last_index())
            .map(|i| log.term_at(i).unwrap())
            .collect()
    }

    fn entries(terms: &[u64]) -> Vec<Entry<u64>> {
        terms
            .iter()
            .map(|&term| Entry {
                term,
                command: Some(100 + term),
            })
            .collect()
    }

    #[test]
    fn merge_appends_after_prev_and_reports_the_last_index() {
        let mut l = log(&[1, 1]);
        assert_eq!(l.merge(2, entries(&[2, 2])), 4);
        assert_eq!(terms(&l), [1, 1, 2, 2]);
    }

    #[test]
    fn a_late_batch_removes_nothing_that_matches() {
        let mut l = log(&[1, 1, 1, 1]);
        let before = l.clone();
        assert_eq!(l.merge(1, entries(&[1])), 2, "the batch ends at 2");
        assert_eq!(l, before, "entries 3 and 4 stay");
    }

    #[test]
    fn a_conflict_drops_the_suffix_from_the_first_difference() {
        let mut l = log(&[1, 1, 2, 2, 2]);
        assert_eq!(l.merge(2, entries(&[2, 3])), 4);
        assert_eq!(terms(&l), [1, 1, 2, 3]);
        assert_eq!(
            l.entry(3).unwrap().command,
            Some(3),
            "entry 3 kept as it was"
        );
        assert_eq!(l.entry(4).unwrap().command, Some(103));
    }

    #[test]
    fn up_to_date_compares_last_terms_then_lengths() {
        let l = log(&[1, 2, 2]);
        assert!(l.is_behind_or_equal(3, 2));
        assert!(l.is_behind_or_equal(1, 3), "a later last term wins");
        assert!(!l.is_behind_or_equal(9, 1), "an earlier last term loses");
        assert!(!l.is_behind_or_equal(2, 2), "same term, shorter");
    }

    #[test]
    fn conflict_hints_skip_a_whole_term() {
        let l = log(&[1, 1, 3, 3, 3]);
        assert_eq!(l.before_term_of(5), 2);
        assert_eq!(l.before_term_of(2), 0);
        assert_eq!(l.before_term_of(9), 5, "past the end: the last index");
    }

    #[test]
    fn entries_from_copies_a_bounded_run() {
        let l = log(&[1, 1, 2, 2]);
        let run = l.entries_from(2, 2);
        assert_eq!(run.iter().map(|e| e.term).collect::<Vec<_>>(), [1, 2]);
        assert!(l.entries_from(5, 10).is_empty());
        assert_eq!(l.entries_from(0, 10).len(), 4);
    }
}
