//! Replicated append-only logs for the kafka challenge.
//!
//! Each key has one *owner*, chosen by a hash of the key that every node
//! computes alike. Only the owner appends to a key, so it numbers the key's
//! messages 0, 1, 2 ... with no coordination and no gaps. Every other node
//! keeps a copy of the log that is always a prefix of the owner's: the owner
//! pushes the entries a peer has not acknowledged, at most one push in
//! flight per peer ([`crate::push_window`]), and a copy only ever
//! grows by the entries right after its end. A poll can so be answered from
//! any node's copy: it may lag, but it never skips or reorders an offset.
//! Committed offsets ride along with the pushes and merge by maximum.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::push_window::{PushWindow, Window};

/// A run of entries of one key's log, starting at offset `start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub start: u64,
    pub msgs: Vec<Value>,
}

/// What an owner pushes to a peer: new entries of the keys it owns, and
/// the committed offsets it knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub entries: BTreeMap<String, Run>,
    pub committed: BTreeMap<String, u64>,
}

/// A peer's answer to a push: the length of its copy of each key pushed.
pub type Lengths = BTreeMap<String, u64>;

/// This node's logs, copies and replication state.
#[derive(Debug, Default)]
pub struct Logs {
    me: String,
    nodes: Vec<String>,
    /// Messages by offset, for every key this node has heard of.
    logs: BTreeMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
    /// Per peer: how many entries of each owned key it has acknowledged.
    acked: BTreeMap<String, BTreeMap<String, u64>>,
    pushes: PushWindow,
    /// Per peer: whether it may not know the latest committed offsets.
    committed_dirty: BTreeMap<String, bool>,
}

impl Logs {
    /// The logs of node `me` in a cluster of `nodes` (the same list, in the
    /// same order, on every node).
    pub fn new(me: &str, nodes: &[String]) -> Self {
        Logs {
            me: me.to_owned(),
            nodes: nodes.to_vec(),
            ..Logs::default()
        }
    }

    /// The node that owns `key`.
    pub fn owner(&self, key: &str) -> &str {
        if self.nodes.is_empty() {
            return &self.me;
        }
        // FNV-1a: stable across nodes, runs and platforms.
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        &self.nodes[(hash % self.nodes.len() as u64) as usize]
    }

    /// Whether this node owns `key`.
    pub fn owns(&self, key: &str) -> bool {
        self.owner(key) == self.me
    }

    /// Appends `msg` to `key`, which this node owns, and returns its offset.
    pub fn append(&mut self, key: &str, msg: Value) -> u64 {
        let log = self.logs.entry(key.to_owned()).or_default();
        log.push(msg);
        log.len() as u64 - 1
    }

    /// The entries of each key from the offset asked for to the end of
    /// this node's copy; keys with nothing there are left out.
    pub fn poll(&self, offsets: &BTreeMap<String, u64>) -> BTreeMap<String, Vec<(u64, Value)>> {
        let mut out = BTreeMap::new();
        for (key, &from) in offsets {
            let Some(log) = self.logs.get(key) else {
                continue;
            };
            let entries: Vec<(u64, Value)> = (from..log.len() as u64)
                .map(|offset| (offset, log[offset as usize].clone()))
                .collect();
            if !entries.is_empty() {
                out.insert(key.clone(), entries);
            }
        }
        out
    }

    /// Raises the committed offsets to those given (never lowers them).
    pub fn commit(&mut self, offsets: &BTreeMap<String, u64>) {
        if raise(&mut self.committed, offsets) {
            for peer in self.peers() {
                self.committed_dirty.insert(peer, true);
            }
        }
    }

    /// The committed offsets of `keys` that are known.
    pub fn committed(&self, keys: &[String]) -> BTreeMap<String, u64> {
        keys.iter()
            .filter_map(|key| Some((key.clone(), *self.committed.get(key)?)))
            .collect()
    }

    /// The pushes due at `now`: to each peer with no push in flight (or one
    /// overdue), the entries of owned keys it lacks and, if they changed,
    /// the committed offsets.
    pub fn pushes(&mut self, now: Duration) -> Vec<(String, Push)> {
        let mut out = Vec::new();
        for peer in self.peers() {
            match self.pushes.window(&peer, now) {
                Window::Waiting => continue,
                // Maybe lost, committed offsets included.
                Window::Overdue => {
                    self.committed_dirty.insert(peer.clone(), true);
                }
                Window::Open => {}
            }
            let acked = self.acked.get(&peer);
            let mut entries = BTreeMap::new();
            for (key, log) in &self.logs {
                let start = acked.and_then(|a| a.get(key)).copied().unwrap_or(0);
                if self.owns(key) && (start as usize) < log.len() {
                    let msgs = log[start as usize..].to_vec();
                    entries.insert(key.clone(), Run { start, msgs });
                }
            }
            let dirty = self.committed_dirty.get(&peer).copied().unwrap_or(false);
            if entries.is_empty() && !dirty {
                continue;
            }
            let committed = if dirty {
                self.committed.clone()
            } else {
                BTreeMap::new()
            };
            self.pushes.sent(&peer, now);
            self.committed_dirty.insert(peer.clone(), false);
            out.push((peer, Push { entries, committed }));
        }
        out
    }

    /// Takes a push from a peer; returns the lengths to acknowledge.
    pub fn receive(&mut self, push: Push) -> Lengths {
        raise(&mut self.committed, &push.committed);
        let mut lengths = Lengths::new();
        for (key, run) in push.entries {
            let log = self.logs.entry(key.clone()).or_default();
            let have = log.len() as u64;
            // A run whose end is past 2^64 cannot follow any copy.
            let end = run.start.checked_add(run.msgs.len() as u64).unwrap_or(0);
            if run.start <= have && have < end {
                log.extend(run.msgs.into_iter().skip((have - run.start) as usize));
            }
            lengths.insert(key, log.len() as u64);
        }
        lengths
    }

    /// Takes a peer's acknowledgement of a push.
    pub fn acknowledge(&mut self, peer: &str, lengths: Lengths) {
        let acked = self.acked.entry(peer.to_owned()).or_default();
        for (key, length) in lengths {
            let known = acked.entry(key).or_insert(0);
            *known = (*known).max(length);
        }
        self.pushes.acknowledged(peer);
    }

    fn peers(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| **n != self.me)
            .cloned()
            .collect()
    }
}

/// Raises each offset of `known` to the one in `offsets` if higher (or
/// new); returns whether any changed.
fn raise(known: &mut BTreeMap<String, u64>, offsets: &BTreeMap<String, u64>) -> bool {
    let mut changed = false;
    for (key, &offset) in offsets {
        if known.get(key).is_none_or(|&k| k < offset) {
            known.insert(key.clone(), offset);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push_window::RESEND_AFTER;
    use serde_json::json;

    fn cluster() -> (Logs, Logs) {
        let nodes = vec!["n1".to_owned(), "n2".to_owned()];
        (Logs::new("n1", &nodes), Logs::new("n2", &nodes))
    }

    /// A key that `logs` owns.
    fn owned_key(logs: &Logs) -> String {
        (0..100)
            .map(|k| k.to_string())
            .find(|k| logs.owns(k))
            .unwrap()
    }

    fn offsets(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(k, o)| (k.to_string(), *o)).collect()
    }

    #[test]
    fn every_node_agrees_on_owners_and_both_own_some_keys() {
        let (n1, n2) = cluster();
        let keys: Vec<String> = (0..20).map(|k| k.to_string()).collect();
        for key in &keys {
            assert_eq!(n1.owner(key), n2.owner(key));
            assert_ne!(n1.owns(key), n2.owns(key));
        }
        assert!(keys.iter().any(|k| n1.owns(k)) && keys.iter().any(|k| n2.owns(k)));
    }

    #[test]
    fn owners_number_messages_densely_and_polls_start_where_asked() {
        let (mut n1, _) = cluster();
        let key = owned_key(&n1);
        assert_eq!(n1.append(&key, json!(10)), 0);
        assert_eq!(n1.append(&key, json!(11)), 1);
        assert_eq!(n1.append(&key, json!(12)), 2);
        let polled = n1.poll(&offsets(&[(&key, 1), ("nobody", 0)]));
        assert_eq!(polled.len(), 1);
        assert_eq!(polled[&key], vec![(1, json!(11)), (2, json!(12))]);
        assert!(n1.poll(&offsets(&[(&key, 3)])).is_empty());
    }

    #[test]
    fn copies_grow_only_contiguously_and_catch_up_after_a_lost_push() {
        let (mut n1, mut n2) = cluster();
        let key = owned_key(&n1);
        n1.append(&key, json!(1));
        let mut pushes = n1.pushes(Duration::ZERO);
        assert_eq!(pushes.len(), 1);
        let (peer, first) = pushes.pop().unwrap();
        assert_eq!(peer, "n2");
        n1.append(&key, json!(2));
        assert!(
            n1.pushes(Duration::from_millis(10)).is_empty(),
            "one push in flight per peer"
        );
        // The first push is lost; after the resend delay everything goes.
        let (_, resent) = n1.pushes(RESEND_AFTER).pop().unwrap();
        assert_eq!(resent.entries[&key].start, 0);
        assert_eq!(resent.entries[&key].msgs, vec![json!(1), json!(2)]);
        // A stale run that would leave a gap is ignored ...
        let gap = Push {
            entries: [(
                key.clone(),
                Run {
                    start: 5,
                    msgs: vec![json!(9)],
                },
            )]
            .into(),
            committed: BTreeMap::new(),
        };
        assert_eq!(n2.receive(gap)[&key], 0);
        // ... an overlapping one adds only what is new.
        let lengths = n2.receive(resent);
        assert_eq!(lengths[&key], 2);
        assert_eq!(n2.receive(first)[&key], 2);
        assert_eq!(
            n2.poll(&offsets(&[(&key, 0)]))[&key],
            vec![(0, json!(1)), (1, json!(2))]
        );
        n1.acknowledge("n2", lengths);
        assert!(
            n1.pushes(RESEND_AFTER * 3).is_empty(),
            "nothing left to send"
        );
    }

    #[test]
    fn forged_offsets_near_2_pow_64_change_nothing() {
        let (mut n1, mut n2) = cluster();
        let key = owned_key(&n1);
        let forged = Push {
            entries: [(
                key.clone(),
                Run {
                    start: u64::MAX,
                    msgs: vec![json!(1), json!(2)],
                },
            )]
            .into(),
            committed: [(key.clone(), u64::MAX)].into(),
        };
        assert_eq!(n2.receive(forged)[&key], 0);
        assert!(n2.poll(&offsets(&[(&key, 0)])).is_empty());
        assert!(n2.poll(&offsets(&[(&key, u64::MAX)])).is_empty());
        n1.append(&key, json!(3));
        n1.acknowledge("n2", [(key.clone(), u64::MAX)].into());
        assert!(
            n1.pushes(Duration::ZERO).is_empty(),
            "nothing to push past the end"
        );
    }

    #[test]
    fn committed_offsets_only_rise_and_travel_with_pushes() {
        let (mut n1, mut n2) = cluster();
        n1.commit(&offsets(&[("a", 4)]));
        n1.commit(&offsets(&[("a", 2), ("b", 0)]));
        let keys = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(n1.committed(&keys), offsets(&[("a", 4), ("b", 0)]));
        let (_, push) = n1
            .pushes(Duration::ZERO)
            .pop()
            .expect("committed offsets to share");
        assert!(push.entries.is_empty());
        n2.commit(&offsets(&[("a", 7)]));
        n2.receive(push);
        assert_eq!(n2.committed(&keys), offsets(&[("a", 7), ("b", 0)]));
        n1.acknowledge("n2", Lengths::new());
        assert!(n1.pushes(Duration::from_secs(5)).is_empty());
    }
}
