//! Coordination-free unique ids: 64-bit "snowflake" integers.
//!
//! An id is `milliseconds since 2025-01-01 << 22 | node index << 12 |
//! sequence`: 41 bits of time (about 69 years), 10 bits of node (1024
//! nodes), 12 bits of sequence (4096 ids per node per millisecond).
//!
//! - Across nodes, ids differ in the node bits, so no messages are needed and
//!   partitions change nothing.
//! - Within one process, the (millisecond, sequence) pair only ever grows,
//!   even if the clock steps back: the generator keeps its own high-water
//!   mark and borrows the next millisecond when it must. It never waits
//!   for the clock (a node that spins on the clock stalls forever under a
//!   simulator's virtual time), so it may run ahead of the clock by the
//!   milliseconds it borrowed: one at start, and one per 4096 ids issued
//!   within a millisecond.
//! - Across a restart, the new process issues no id in the millisecond it
//!   started in, only later ones, while the old process issued none after
//!   it ended. This holds as long as the wall clock does not step back
//!   across the restart by more than the restart takes.

/// Milliseconds of 2025-01-01T00:00:00Z since the Unix epoch.
pub const EPOCH_MS: u64 = 1_735_689_600_000;
/// Bits of the node index.
pub const NODE_BITS: u32 = 10;
/// Bits of the per-millisecond sequence.
pub const SEQUENCE_BITS: u32 = 12;
const MAX_SEQUENCE: u64 = (1 << SEQUENCE_BITS) - 1;

/// Issues the ids of one node.
#[derive(Debug, Clone)]
pub struct IdGenerator {
    node: u64,
    last_ms: u64,
    sequence: u64,
}

impl IdGenerator {
    /// A generator for the node at `node_index` (0-based), started at
    /// `start_ms` (Unix milliseconds); `None` if the index needs more than
    /// [`NODE_BITS`] bits.
    pub fn new(node_index: usize, start_ms: u64) -> Option<Self> {
        let node = u64::try_from(node_index)
            .ok()
            .filter(|n| *n < 1 << NODE_BITS)?;
        Some(IdGenerator {
            node,
            last_ms: start_ms,
            // The start millisecond counts as used up: a process that ran
            // before this one may have issued ids in it.
            sequence: MAX_SEQUENCE,
        })
    }

    /// The next id. `now_ms` reads the clock; when the millisecond's
    /// sequence is used up (or the clock stepped back), the next
    /// millisecond is borrowed at once instead of waited for.
    pub fn next(&mut self, mut now_ms: impl FnMut() -> u64) -> u64 {
        let now = now_ms();
        if now > self.last_ms {
            self.last_ms = now;
            self.sequence = 0;
        } else if self.sequence < MAX_SEQUENCE {
            self.sequence += 1;
        } else {
            self.last_ms += 1;
            self.sequence = 0;
        }
        self.compose()
    }

    fn compose(&self) -> u64 {
        let elapsed = self.last_ms.saturating_sub(EPOCH_MS);
        (elapsed << (NODE_BITS + SEQUENCE_BITS)) | (self.node << SEQUENCE_BITS) | self.sequence
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const T0: u64 = EPOCH_MS + 1_000_000;

    #[test]
    fn no_id_is_issued_in_the_start_millisecond_and_none_waits_for_the_clock() {
        let mut ids = IdGenerator::new(0, T0).unwrap();
        // The clock stays in the start millisecond: the generator borrows
        // the next one rather than spin (the clock is read once per id).
        let mut reads = 0;
        let id = ids.next(|| {
            reads += 1;
            T0
        });
        assert_eq!(id >> 22, T0 + 1 - EPOCH_MS);
        assert_eq!(reads, 1);
    }

    #[test]
    fn ids_grow_within_a_process_even_when_the_clock_steps_back() {
        let mut ids = IdGenerator::new(3, T0).unwrap();
        let mut previous = 0;
        let times = (0..20_000u64).map(|i| T0 + 1 + (i % 7) * 3 - (i / 5000));
        for now in times {
            let id = ids.next(|| now);
            assert!(id > previous, "{id} after {previous}");
            previous = id;
        }
    }

    #[test]
    fn a_busy_millisecond_rolls_over_to_the_next() {
        let mut ids = IdGenerator::new(0, T0).unwrap();
        let mut now = T0 + 1;
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            let id = ids.next(|| {
                let t = now;
                now += u64::from(seen.len() >= 4096); // the clock moves on late
                t
            });
            assert!(seen.insert(id));
        }
    }

    #[test]
    fn nodes_never_collide() {
        let mut seen = HashSet::new();
        for node in 0..4 {
            let mut ids = IdGenerator::new(node, T0).unwrap();
            for i in 0..3000 {
                assert!(seen.insert(ids.next(|| T0 + 1 + i / 1000)));
            }
        }
    }

    #[test]
    fn a_restarted_node_does_not_repeat_its_predecessor() {
        let mut before = IdGenerator::new(1, T0).unwrap();
        let mut seen: HashSet<u64> = (0..100).map(|_| before.next(|| T0 + 5)).collect();
        // The new process starts in the very millisecond the old one ended.
        let mut after = IdGenerator::new(1, T0 + 5).unwrap();
        let mut clock = [T0 + 5, T0 + 6]
            .into_iter()
            .chain(std::iter::repeat(T0 + 6));
        for _ in 0..100 {
            assert!(seen.insert(after.next(|| clock.next().unwrap())));
        }
    }

    #[test]
    fn node_index_must_fit() {
        assert!(IdGenerator::new(1023, T0).is_some());
        assert!(IdGenerator::new(1024, T0).is_none());
    }
}
