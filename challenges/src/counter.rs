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

/// An add refused because this node's total would leave the `i64` range;
/// nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overflow {
    pub total: i64,
    pub delta: i64,
}

impl std::fmt::Display for Overflow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "adding {} to this node's total {} would overflow a 64-bit integer; nothing was added",
            self.delta, self.total
        )
    }
}

impl Totals {
    /// Adds `delta` to this node's total, unless the total would overflow.
    pub fn add(&mut self, delta: i64) -> Result<(), Overflow> {
        if delta == 0 {
            return Ok(());
        }
        let overflow = Overflow {
            total: self.own.total,
            delta,
        };
        let total = self.own.total.checked_add(delta).ok_or(overflow)?;
        let version = self.own.version.checked_add(1).ok_or(overflow)?;
        self.own = Entry { version, total };
        Ok(())
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

    /// The counter's value as far as this node knows; wide enough for any
    /// number of 64-bit totals, whatever other nodes published.
    pub fn value(&self) -> i128 {
        let others: i128 = self.others.values().map(|e| i128::from(e.total)).sum();
        i128::from(self.own.total) + others
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_entries_never_win() {
        let mut totals = Totals::default();
        totals.add(5).unwrap();
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
        totals.add(0).unwrap();
        assert_eq!(totals.own(), Entry::default());
        totals.add(-2).unwrap();
        assert_eq!(
            totals.own(),
            Entry {
                version: 1,
                total: -2
            }
        );
    }

    #[test]
    fn adds_that_would_overflow_are_refused_and_change_nothing() {
        let mut totals = Totals::default();
        totals.add(i64::MAX).unwrap();
        let before = totals.own();
        assert!(totals.add(1).is_err());
        assert_eq!(totals.own(), before);
        assert_eq!(totals.value(), i128::from(i64::MAX));
        totals.add(i64::MIN).unwrap();
        assert_eq!(totals.value(), -1);
        assert!(totals.add(i64::MIN).is_err());
    }

    #[test]
    fn huge_totals_from_other_nodes_add_up_without_overflow() {
        let mut totals = Totals::default();
        totals.add(i64::MAX).unwrap();
        for node in ["n2", "n3"] {
            let forged = Entry {
                version: u64::MAX,
                total: i64::MAX,
            };
            assert!(totals.merge(node, forged));
        }
        assert_eq!(totals.value(), 3 * i128::from(i64::MAX));
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
