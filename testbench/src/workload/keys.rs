//! Elle's generator of keys and values (`elle.txn/wr-txns`), which
//! Maelstrom's transaction workloads and its kafka workload draw from.
//!
//! A pool of `key_count` *slots* holds the active keys, at first `0` to
//! `key_count - 1`. Each micro-operation is a read or a write with equal
//! chances, on the key of a slot drawn from an exponential distribution:
//! slot `i` is chosen with probability `2^i / (2^key_count - 1)`, so the last
//! slot takes about half of the traffic. A key's writes carry the values 1,
//! 2, 3 ... in turn; the attempt at writing value `max_writes + 1` retires the
//! key instead (its slot takes a fresh key, one more than the highest key
//! in the pool) and the micro-operation is drawn again, read or write.

use std::collections::HashMap;

/// Above this many slots, `2^key_count` no longer fits an `f64`: the slot
/// is drawn as the equivalent geometric distribution instead.
const EXACT_SLOTS: usize = 1000;

/// One micro-operation Elle's generator drew.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MicroOp {
    /// Read this key.
    Read(u64),
    /// Write (or append, or send) this value to this key.
    Write(u64, u64),
}

impl MicroOp {
    /// The key the micro-operation is about.
    pub fn key(self) -> u64 {
        match self {
            MicroOp::Read(key) | MicroOp::Write(key, _) => key,
        }
    }
}

/// The active keys and how many values each has taken.
#[derive(Debug, Clone)]
pub struct KeyPool {
    active: Vec<u64>,
    /// The next value of each active key that has been written (1 if absent).
    next_value: HashMap<u64, u64>,
    max_writes: u64,
}

impl KeyPool {
    /// `key_count` slots (at least one) over keys taking `max_writes`
    /// values each.
    pub fn new(key_count: u64, max_writes: u64) -> Self {
        KeyPool {
            active: (0..key_count.max(1)).collect(),
            next_value: HashMap::new(),
            max_writes,
        }
    }

    /// A transaction of 1 to `max_length` micro-operations (uniformly).
    pub fn txn(&mut self, max_length: u64, rng: &mut fastrand::Rng) -> Vec<MicroOp> {
        let length = rng.u64(1..=max_length.max(1));
        (0..length).map(|_| self.micro_op(rng)).collect()
    }

    /// The next micro-operation.
    pub fn micro_op(&mut self, rng: &mut fastrand::Rng) -> MicroOp {
        loop {
            let write = rng.bool();
            let slot = self.slot(rng);
            let key = self.active[slot];
            if !write {
                return MicroOp::Read(key);
            }
            let value = self.next_value.get(&key).copied().unwrap_or(1);
            if value > self.max_writes {
                self.next_value.remove(&key);
                let highest = self.active.iter().copied().max().unwrap_or(0);
                self.active[slot] = highest + 1;
                continue;
            }
            self.next_value.insert(key, value + 1);
            return MicroOp::Write(key, value);
        }
    }

    /// A slot, drawn as Elle's `rand-key` does: `floor(log2(u * s + 2)) - 1`
    /// for `u` uniform on [0, 1) and `s = 2 (2^n - 1)`.
    fn slot(&self, rng: &mut fastrand::Rng) -> usize {
        let n = self.active.len();
        let slot = if n <= EXACT_SLOTS {
            let scale = (2f64.powi(n as i32) - 1.0) * 2.0;
            ((rng.f64() * scale + 2.0).log2() - 1.0).floor() as usize
        } else {
            // Down from the last slot, each step with chance 1/2.
            let mut slot = n - 1;
            while slot > 0 && rng.bool() {
                slot -= 1;
            }
            slot
        };
        slot.min(n - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_follow_elles_exponential_distribution() {
        let pool = KeyPool::new(10, 16);
        let mut rng = fastrand::Rng::with_seed(1);
        let draws = 200_000;
        let mut counts = [0u32; 10];
        for _ in 0..draws {
            counts[pool.slot(&mut rng)] += 1;
        }
        for (i, &count) in counts.iter().enumerate() {
            let expected = f64::from(1u32 << i) / 1023.0;
            let seen = f64::from(count) / f64::from(draws);
            let sigma = (expected * (1.0 - expected) / f64::from(draws)).sqrt();
            assert!(
                (seen - expected).abs() < 4.0 * sigma + 1e-4,
                "slot {i}: {seen} where {expected} was expected"
            );
        }
        let one = KeyPool::new(1, 16);
        assert!((0..100).all(|_| one.slot(&mut rng) == 0));
        let wide = KeyPool::new(5000, 16);
        let last = (0..1000).filter(|_| wide.slot(&mut rng) == 4999).count();
        assert!(
            (400..600).contains(&last),
            "{last} of 1000 on the last slot"
        );
    }

    #[test]
    fn each_key_takes_values_one_to_max_then_a_fresh_key_replaces_it() {
        let mut pool = KeyPool::new(3, 4);
        let mut rng = fastrand::Rng::with_seed(2);
        let mut values: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut reads = 0;
        for _ in 0..2000 {
            match pool.micro_op(&mut rng) {
                MicroOp::Read(_) => reads += 1,
                MicroOp::Write(key, value) => values.entry(key).or_default().push(value),
            }
        }
        assert!((850..1150).contains(&reads), "{reads} reads of 2000");
        let mut keys: Vec<u64> = values.keys().copied().collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            (0..keys.len() as u64).collect::<Vec<_>>(),
            "fresh keys count up"
        );
        for (key, written) in &values {
            let expected: Vec<u64> = (1..=written.len() as u64).collect();
            assert_eq!(written, &expected, "key {key}");
            assert!(written.len() <= 4);
        }
        let full = values.values().filter(|v| v.len() == 4).count();
        assert!(
            full >= keys.len() - 3,
            "only the active keys may be unfinished"
        );
    }

    #[test]
    fn transactions_are_one_to_max_long() {
        let mut pool = KeyPool::new(10, 16);
        let mut rng = fastrand::Rng::with_seed(3);
        let mut lengths = [0; 5];
        for _ in 0..4000 {
            lengths[pool.txn(4, &mut rng).len()] += 1;
        }
        assert_eq!(lengths[0], 0);
        assert!(
            lengths[1..].iter().all(|&n| (850..1150).contains(&n)),
            "{lengths:?}"
        );
    }
}
