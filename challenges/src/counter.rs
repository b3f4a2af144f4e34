//! A counter as a set of per-node totals, each owned and versioned by one
//! node (a state-based CRDT): a node changes only its own total, bumping its
//! version, and keeps for every other node the total with the highest
//! version it has seen. Stale copies, read in any order, never move a total
//! backwards, so the merge is safe over a store that may serve past states.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One node's total and how many changes it has had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub version: u64,
    pub total: i64,
}

/// This node's total and the latest known totals of the others.
#[derive(Debug, Default)]
pub struct Totals {
    own: Entry,
    others: BTreeMap<String, Entry>,
}

impl Totals {
    /// Adds `delta` to this node's total.
    pub fn add(&mut self, delta: i64) {
        if delta != 0 {
            self.own.total += delta;
            self.own.version += 1;
        }
    }

    /// This node's entry, to publish.
    pub fn own(&self) -> Entry {
        self.own
    }

    /// Takes `entry` as `node`'s if it is newer than what is known; returns
    /// whether it was.
    pub fn merge(&mut self, node: &str, entry: Entry) -> bool {
        let known = self.others.entry(node.to_owned()).or_default();
        if entry.version > known.version {
            *known = entry;
            true
        } else {
            false
        }
    }

    /// The counter's value as far as this node knows.
    pub fn value(&self) -> i64 {
        self.own.total + self.others.values().map(|e| e.total).sum::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_entries_never_win() {
        let mut totals = Totals::default();
        totals.add(5);
        assert!(totals.merge(
            "n2",
            Entry {
                version: 3,
                total: 10
            }
        ));
        assert!(
            !totals.merge(
                "n2",
                Entry {
                    version: 2,
                    total: 7
                }
            ),
            "an older copy"
        );
        assert!(!totals.merge(
            "n2",
            Entry {
                version: 3,
                total: 10
            }
        ));
        assert_eq!(totals.value(), 15);
        assert!(
            totals.merge(
                "n2",
                Entry {
                    version: 4,
                    total: 6
                }
            ),
            "decrements are newer too"
        );
        assert_eq!(totals.value(), 11);
    }

    #[test]
    fn zero_adds_change_nothing() {
        let mut totals = Totals::default();
        totals.add(0);
        assert_eq!(totals.own(), Entry::default());
        totals.add(-2);
        assert_eq!(
            totals.own(),
            Entry {
                version: 1,
                total: -2
            }
        );
    }

    #[test]
    fn merging_in_any_order_converges() {
        let updates: Vec<(&str, Entry)> = (1..=20)
            .map(|v| {
                (
                    if v % 2 == 0 { "n2" } else { "n3" },
                    Entry {
                        version: v,
                        total: v as i64 * 3,
                    },
                )
            })
            .collect();
        let mut forward = Totals::default();
        let mut backward = Totals::default();
        for (node, entry) in &updates {
            forward.merge(node, *entry);
        }
        for (node, entry) in updates.iter().rev() {
            backward.merge(node, *entry);
        }
        assert_eq!(forward.value(), backward.value());
        assert_eq!(forward.value(), 20 * 3 + 19 * 3);
    }
}
