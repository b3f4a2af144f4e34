//! Maelstrom's `seq-kv`: a sequentially consistent key-value store whose
//! reads may see a past state, never one older than the caller has seen.

use std::collections::HashMap;

use serde_json::Value;

use super::kv::{apply, KvOp};

/// How many whole-store states `seq-kv` keeps, as Maelstrom's ring buffer.
const SEQ_KV_STATES: u64 = 32;

/// Maelstrom's `seq-kv` (its `Sequential` service over a key-value store).
///
/// The store goes through numbered states: state 0 is empty and each change
/// makes the next. Each caller (a request's `src`) has the number of the
/// last state it saw (0 at first). A request first runs on a state drawn
/// uniformly from the caller's one up to the one before the newest (or the
/// newest itself, if the caller is already there):
/// - if that changes nothing (a read, a failed `cas`, a write of the value
///   that state already has), the reply comes from that state, which the
///   caller has now seen: reads are stale unless the caller made the
///   newest change itself;
/// - otherwise the request runs again on the newest state, and the result,
///   changed or not (a `cas` may fail there), becomes the next state; the
///   caller has seen it.
///
/// Like Maelstrom, only the last 32 states are kept. Maelstrom draws the
/// state from the caller's number even when that state is gone, and its
/// ring buffer then wraps around: the caller is served some other state,
/// and may later be shown one older than it saw. The bench draws only
/// among the states it keeps, so a caller never goes back in time.
///
/// The states are kept as each key's values with the state that set them,
/// which is the same as whole stores and costs nothing per unchanged key.
#[derive(Default)]
pub struct SeqKv {
    /// The newest state's number.
    last: u64,
    /// Per key, `(state, value)` for each state that set it, oldest first,
    /// without the values no kept state shows.
    versions: HashMap<String, Vec<(u64, Value)>>,
    /// Per caller, the last state it saw.
    seen: HashMap<String, u64>,
}

impl SeqKv {
    pub(super) fn handle(&mut self, src: &str, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
        let oldest = self.last.saturating_sub(SEQ_KV_STATES - 1);
        let from = self.seen.get(src).copied().unwrap_or(0).max(oldest);
        let state = if from < self.last {
            rng.u64(from..self.last)
        } else {
            self.last
        };
        let (change, reply) = apply(op, self.value_at(op.key(), state), true);
        if change.is_none() {
            self.seen.insert(src.to_owned(), state);
            return reply;
        }
        let (change, reply) = apply(op, self.value_at(op.key(), self.last), true);
        self.last += 1;
        if let Some(value) = change {
            let oldest = self.last.saturating_sub(SEQ_KV_STATES - 1);
            let versions = self.versions.entry(op.key().to_owned()).or_default();
            versions.push((self.last, value));
            // A value is needed while the next one came after the oldest state.
            let needed = versions.iter().rposition(|(at, _)| *at <= oldest);
            if let Some(first) = needed {
                versions.drain(..first);
            }
        }
        self.seen.insert(src.to_owned(), self.last);
        reply
    }

    /// The value of `key` in state `state`.
    fn value_at(&self, key: &str, state: u64) -> Option<&Value> {
        let versions = self.versions.get(key)?;
        let at = versions.partition_point(|(set, _)| *set <= state);
        at.checked_sub(1).map(|i| &versions[i].1)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::tests::kv;
    use crate::services::{Service, Services};

    use super::*;

    fn write(s: &mut Services, src: &str, key: &str, value: i64) -> Value {
        kv(
            s,
            Service::SeqKv,
            src,
            json!({"type": "write", "key": key, "value": value}),
        )
    }

    fn read(s: &mut Services, src: &str, key: &str) -> Value {
        kv(s, Service::SeqKv, src, json!({"type": "read", "key": key}))["value"].clone()
    }

    #[test]
    fn seq_kv_reads_are_stale_unless_the_reader_made_the_newest_change() {
        let mut s = Services::new(3);
        let mut stale = 0;
        let mut last = -1;
        for i in 0..300 {
            write(&mut s, "n1", "k", i);
            // The writer sees its own write, always.
            assert_eq!(read(&mut s, "n1", "k"), i);
            let seen = read(&mut s, "n2", "k").as_i64().unwrap_or(-1);
            assert!(seen >= last, "n2 went back from {last} to {seen}");
            assert!(
                seen < i,
                "n2 read the newest state, which it never saw being made"
            );
            stale += i64::from(seen < i - 1);
            last = seen;
        }
        assert!(stale > 100, "reads pick any state since the reader's last");
    }

    #[test]
    fn seq_kv_changes_run_on_the_newest_state_and_no_ops_on_a_stale_one() {
        let (mut not_found, mut mismatched, mut acknowledged_stale) = (0, 0, 0);
        for seed in 0..100 {
            let mut s = Services::new(seed);
            write(&mut s, "n1", "k", 1);
            write(&mut s, "n1", "k", 2);
            // n2 last saw state 0 (empty), so a cas from 1 runs on state 0
            // or 1. On 0 it changes nothing: key does not exist. On 1 it
            // would change k, so it runs on the newest state, where k is 2,
            // fails there, and still makes a (unchanged) state 3.
            let cas = json!({"type": "cas", "key": "k", "from": 1, "to": 3});
            match kv(&mut s, Service::SeqKv, "n2", cas)["code"].as_u64() {
                Some(20) => {
                    not_found += 1;
                    assert_eq!((s.seq_kv.last, s.seq_kv.seen["n2"]), (2, 0));
                }
                Some(22) => {
                    mismatched += 1;
                    assert_eq!((s.seq_kv.last, s.seq_kv.seen["n2"]), (3, 3));
                }
                other => panic!("{other:?}"),
            }
            // n3 writes 1 on a state before the newest: on state 1, where k
            // is 1 already, the write is acknowledged and changes nothing.
            let newest = s.seq_kv.last;
            write(&mut s, "n3", "k", 1);
            if s.seq_kv.last == newest {
                acknowledged_stale += 1;
                assert_eq!(s.seq_kv.value_at(r#""k""#, newest), Some(&json!(2)));
            }
        }
        assert!(
            not_found > 20 && mismatched > 20,
            "{not_found} {mismatched}"
        );
        assert!(acknowledged_stale > 20, "{acknowledged_stale}");
    }

    #[test]
    fn seq_kv_keeps_32_states_and_a_lagging_caller_never_goes_back() {
        let mut s = Services::new(6);
        for i in 0..100 {
            write(&mut s, "n1", "k", i);
        }
        for reader in 2..20 {
            let reader = format!("n{reader}");
            let mut last = -1;
            for _ in 0..20 {
                let seen = read(&mut s, &reader, "k").as_i64().unwrap_or(-1);
                assert!(seen >= 100 - 32, "state {seen} is no longer kept");
                assert!(seen >= last, "{reader} went back from {last} to {seen}");
                last = seen;
            }
        }
        assert!(s.seq_kv.versions[r#""k""#].len() <= 32);
    }
}
