//! A totally available, read-committed key-value store for the txn
//! challenge: every node runs transactions on its own copy and replicates
//! their effects, last writer wins.
//!
//! A node runs a whole transaction at once, reading its own copy and its
//! own earlier writes, then stamps the transaction with a Lamport clock
//! (one more than every stamp it has seen) and applies the final value of
//! each written key. Peers receive each transaction's writes as one batch
//! and apply them at once, keeping for every key the value with the highest
//! stamp. So:
//! - no one ever sees an intermediate write (G1b) or an aborted one (G1a:
//!   nothing aborts);
//! - a transaction's stamp exceeds the stamps of all it read, and each key's
//!   versions follow stamp order, so write-write and write-read
//!   dependencies all go forward in stamp order and cannot close a cycle
//!   (G0, G1c);
//! - no request waits for another node, so partitions cost nothing but
//!   staleness. Concurrent transactions on two nodes may both read a value
//!   and overwrite it (a lost update): the store is not serializable, and
//!   does not claim to be.
//!
//! Batches go to each peer until it acknowledges them, at most one push in
//! flight per peer ([`crate::push_window`]).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::push_window::{PushWindow, Window};

/// A Lamport stamp: the clock, then the node id to break ties.
pub type Stamp = (u64, String);

/// One micro-operation, as the workload sends it: `["r", key, null]` or
/// `["w", key, value]`; reads come back with the value read.
pub type MicroOp = (String, u64, Value);

/// The writes of one transaction, as a peer applies them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub stamp: Stamp,
    pub writes: Vec<(u64, Value)>,
}

/// A node's copy of the store and what its peers have not acknowledged.
#[derive(Debug, Default)]
pub struct Store {
    me: String,
    peers: Vec<String>,
    clock: u64,
    values: BTreeMap<u64, (Stamp, Value)>,
    unacked: BTreeMap<String, BTreeMap<Stamp, Vec<(u64, Value)>>>,
    pushes: PushWindow,
}

impl Store {
    /// The store of node `me` in the cluster `nodes`.
    pub fn new(me: &str, nodes: &[String]) -> Self {
        Store {
            me: me.to_owned(),
            peers: nodes.iter().filter(|n| *n != me).cloned().collect(),
            ..Store::default()
        }
    }

    /// Runs `txn` and returns it with its reads filled in; `Err` names the
    /// first micro-operation that is neither a read nor a write.
    pub fn run(&mut self, txn: Vec<MicroOp>) -> Result<Vec<MicroOp>, String> {
        if let Some((f, ..)) = txn.iter().find(|(f, ..)| f != "r" && f != "w") {
            return Err(format!(
                "unknown micro-operation `{f}`: expected `r` or `w`"
            ));
        }
        let mut written: BTreeMap<u64, Value> = BTreeMap::new();
        let done = txn
            .into_iter()
            .map(|(f, key, value)| {
                if f == "w" {
                    written.insert(key, value.clone());
                    return (f, key, value);
                }
                let read = written
                    .get(&key)
                    .or_else(|| self.values.get(&key).map(|(_, v)| v))
                    .cloned()
                    .unwrap_or(Value::Null);
                (f, key, read)
            })
            .collect();
        if !written.is_empty() {
            self.clock = self
                .clock
                .checked_add(1)
                .ok_or("the Lamport clock is exhausted; the transaction was not run")?;
            let stamp = (self.clock, self.me.clone());
            let writes: Vec<(u64, Value)> = written.into_iter().collect();
            self.apply(&stamp, &writes);
            for peer in &self.peers {
                let unacked = self.unacked.entry(peer.clone()).or_default();
                unacked.insert(stamp.clone(), writes.clone());
            }
        }
        Ok(done)
    }

    /// The pushes due at `now`: to each peer with no push in flight (or an
    /// overdue one), every batch it has not acknowledged.
    pub fn pushes(&mut self, now: Duration) -> Vec<(String, Vec<Batch>)> {
        let mut out = Vec::new();
        for (peer, unacked) in &self.unacked {
            let waiting = self.pushes.window(peer, now) == Window::Waiting;
            if waiting || unacked.is_empty() {
                continue;
            }
            let batches = unacked
                .iter()
                .map(|(stamp, writes)| Batch {
                    stamp: stamp.clone(),
                    writes: writes.clone(),
                })
                .collect();
            out.push((peer.clone(), batches));
        }
        for (peer, _) in &out {
            self.pushes.sent(peer, now);
        }
        out
    }

    /// Applies batches from a peer; returns their stamps to acknowledge.
    pub fn receive(&mut self, batches: Vec<Batch>) -> Vec<Stamp> {
        batches
            .into_iter()
            // A stamp of 2^64 - 1 would leave no stamp for the next local
            // transaction: refused (and not acknowledged).
            .filter(|batch| batch.stamp.0 < u64::MAX)
            .map(|batch| {
                self.clock = self.clock.max(batch.stamp.0);
                self.apply(&batch.stamp, &batch.writes);
                batch.stamp
            })
            .collect()
    }

    /// Takes a peer's acknowledgement of the batches stamped `stamps`.
    pub fn acknowledge(&mut self, peer: &str, stamps: &[Stamp]) {
        if let Some(unacked) = self.unacked.get_mut(peer) {
            for stamp in stamps {
                unacked.remove(stamp);
            }
        }
        self.pushes.acknowledged(peer);
    }

    /// Keeps each written value whose stamp beats the one held.
    fn apply(&mut self, stamp: &Stamp, writes: &[(u64, Value)]) {
        for (key, value) in writes {
            let newer = self.values.get(key).is_none_or(|(held, _)| held < stamp);
            if newer {
                self.values.insert(*key, (stamp.clone(), value.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push_window::RESEND_AFTER;
    use serde_json::json;

    fn cluster() -> (Store, Store) {
        let nodes = vec!["n1".to_owned(), "n2".to_owned()];
        (Store::new("n1", &nodes), Store::new("n2", &nodes))
    }

    fn txn(ops: Value) -> Vec<MicroOp> {
        serde_json::from_value(ops).unwrap()
    }

    #[test]
    fn a_transaction_reads_its_own_writes_and_shows_only_final_ones() {
        let (mut n1, _) = cluster();
        let done = n1
            .run(txn(json!([
                ["r", 1, null],
                ["w", 1, 5],
                ["r", 1, null],
                ["w", 1, 6]
            ])))
            .unwrap();
        assert_eq!(
            done,
            txn(json!([
                ["r", 1, null],
                ["w", 1, 5],
                ["r", 1, 5],
                ["w", 1, 6]
            ]))
        );
        let (_, batches) = n1.pushes(Duration::ZERO).pop().unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(
            batches[0].writes,
            vec![(1, json!(6))],
            "only the final write"
        );
        assert_eq!(n1.run(txn(json!([["r", 1, null]]))).unwrap()[0].2, json!(6));
        assert!(n1.run(txn(json!([["append", 1, 2]]))).is_err());
    }

    #[test]
    fn the_highest_stamp_wins_whatever_the_arrival_order() {
        let (mut n1, mut n2) = cluster();
        n1.run(txn(json!([["w", 1, 10]]))).unwrap();
        n2.run(txn(json!([["w", 1, 20]]))).unwrap();
        n2.run(txn(json!([["w", 1, 21]]))).unwrap(); // stamp (2, n2)
        let (_, from_n1) = n1.pushes(Duration::ZERO).pop().unwrap();
        let (_, from_n2) = n2.pushes(Duration::ZERO).pop().unwrap();
        n1.receive(from_n2);
        n2.receive(from_n1);
        for store in [&mut n1, &mut n2] {
            assert_eq!(
                store.run(txn(json!([["r", 1, null]]))).unwrap()[0].2,
                json!(21)
            );
        }
        // n1 has seen stamp 2: its next write wins over everything so far.
        n1.run(txn(json!([["w", 1, 30]]))).unwrap();
        let (_, batches) = n1.pushes(RESEND_AFTER).pop().unwrap();
        assert_eq!(batches.last().unwrap().stamp, (3, "n1".to_owned()));
    }

    #[test]
    fn forged_stamps_near_2_pow_64_never_overflow_the_clock() {
        let (mut n1, _) = cluster();
        let forged = |clock| Batch {
            stamp: (clock, "n2".to_owned()),
            writes: vec![(1, json!(9))],
        };
        assert!(n1.receive(vec![forged(u64::MAX)]).is_empty(), "refused");
        assert_eq!(
            n1.run(txn(json!([["r", 1, null]]))).unwrap()[0].2,
            json!(null)
        );
        assert_eq!(n1.receive(vec![forged(u64::MAX - 1)]).len(), 1);
        n1.run(txn(json!([["w", 2, 1]]))).unwrap(); // the last stamp there is
        let exhausted = n1.run(txn(json!([["w", 2, 2], ["r", 1, null]])));
        assert!(exhausted.is_err());
        assert_eq!(n1.run(txn(json!([["r", 2, null]]))).unwrap()[0].2, json!(1));
    }

    #[test]
    fn batches_are_resent_until_acknowledged() {
        let (mut n1, mut n2) = cluster();
        n1.run(txn(json!([["w", 7, 1]]))).unwrap();
        let (peer, lost) = n1.pushes(Duration::ZERO).pop().unwrap();
        assert_eq!(peer, "n2");
        n1.run(txn(json!([["w", 8, 1]]))).unwrap();
        assert!(
            n1.pushes(Duration::from_millis(10)).is_empty(),
            "one push in flight"
        );
        let (_, resent) = n1.pushes(RESEND_AFTER).pop().unwrap();
        assert_eq!(resent.len(), 2);
        assert_eq!(resent[0], lost[0]);
        let stamps = n2.receive(resent);
        n1.acknowledge("n2", &stamps);
        assert!(n1.pushes(RESEND_AFTER * 3).is_empty(), "all acknowledged");
        assert_eq!(n2.run(txn(json!([["r", 8, null]]))).unwrap()[0].2, json!(1));
    }
}
