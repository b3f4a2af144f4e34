//! Maelstrom's `lww-kv`: an eventually consistent key-value store of two
//! last-write-wins replicas, merged one into the other before each request.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::kv::{apply, KvOp};
use super::print::{pr_str, str_of};
use crate::protocol::error_body as error;

/// How many replicas `lww-kv` has (Maelstrom's default).
const LWW_REPLICAS: usize = 2;

/// Maelstrom's `lww-kv` (its `Eventual` service over last-write-wins
/// replicas): two replicas, each with a Lamport clock that stamps its
/// writes. Before each request one random replica is merged into another
/// (newer stamp wins; on a tie, the one merged in), then the request runs
/// on a random replica. A `cas` on a missing key is error 20 even with
/// `create_if_not_exists`.
///
/// Maelstrom computes that merge and then throws it away (the next line
/// starts again from the unmerged replicas), so its replicas never
/// converge: a key written on one replica is never read on the other. The
/// bench keeps the merge, so its replicas do converge, as Maelstrom's
/// documentation promises.
///
/// A merge takes in only the entries the source changed since it was last
/// merged into the same replica: every other entry would leave the target
/// as it is (the target took it then, or has since written the key with a
/// newer stamp). So a request costs the same however large the store has
/// grown; taking in every entry each time made a node that writes many
/// keys (Maelstrom's Datomic demo) slower and slower as its run went on.
pub struct LwwKv {
    replicas: Vec<Replica>,
    /// `merged[from][into]`: `from`'s change count when it was last merged
    /// into `into`.
    merged: Vec<Vec<u64>>,
}

/// One replica of `lww-kv`.
#[derive(Default)]
struct Replica {
    clock: u64,
    entries: HashMap<String, Entry>,
    /// How many changes this replica has had.
    changes: u64,
    /// Each key by the number of its latest change.
    changed: BTreeMap<u64, String>,
}

/// A replica's entry: the value, its Lamport stamp, and the number of the
/// replica's change that set it.
struct Entry {
    stamp: u64,
    value: Value,
    change: u64,
}

impl Default for LwwKv {
    fn default() -> Self {
        LwwKv {
            replicas: (0..LWW_REPLICAS).map(|_| Replica::default()).collect(),
            merged: vec![vec![0; LWW_REPLICAS]; LWW_REPLICAS],
        }
    }
}

impl LwwKv {
    pub(super) fn handle(&mut self, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
        let (from, into) = (rng.usize(..LWW_REPLICAS), rng.usize(..LWW_REPLICAS));
        if from != into {
            let source = std::mem::take(&mut self.replicas[from]);
            self.replicas[into].merge(&source, self.merged[from][into]);
            self.merged[from][into] = source.changes;
            self.replicas[from] = source;
        }
        let replica = &mut self.replicas[rng.usize(..LWW_REPLICAS)];
        let current = replica.entries.get(op.key()).map(|entry| &entry.value);
        let (_, mut reply) = apply(op, current, false);
        if let (KvOp::Cas { from, .. }, Some(value)) = (op, current) {
            if reply["code"] == 22 {
                // Maelstrom's lww-kv prints `from` with `str`, not `pr-str`.
                let text = format!("current value {} is not {}", pr_str(value), str_of(from));
                reply = error(22, &text);
            }
        }
        let written = match op {
            KvOp::Write { value, .. } => Some(value.clone()),
            KvOp::Cas { to, .. } if reply["type"] == "cas_ok" => Some(to.clone()),
            _ => None,
        };
        if let Some(value) = written {
            let stamp = replica.clock;
            replica.set(op.key(), stamp, value);
            replica.clock += 1;
        }
        reply
    }
}

impl Replica {
    /// Sets `key` to `value` with `stamp`, as this replica's next change.
    fn set(&mut self, key: &str, stamp: u64, value: Value) {
        self.changes += 1;
        let change = self.changes;
        let entry = Entry {
            stamp,
            value,
            change,
        };
        if let Some(old) = self.entries.insert(key.to_owned(), entry) {
            self.changed.remove(&old.change);
        }
        self.changed.insert(change, key.to_owned());
    }

    /// Takes in the entries `other` changed after its change `since`: the
    /// newer stamp wins, a tie goes to `other`.
    fn merge(&mut self, other: &Replica, since: u64) {
        self.clock = self.clock.max(other.clock);
        for key in other.changed.range(since + 1..).map(|(_, key)| key) {
            let theirs = &other.entries[key];
            let take = match self.entries.get(key) {
                Some(mine) if mine.stamp > theirs.stamp => false,
                // The same stamp and value: taking it would change nothing.
                Some(mine) => mine.stamp < theirs.stamp || mine.value != theirs.value,
                None => true,
            };
            if take {
                self.set(key, theirs.stamp, theirs.value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::services::kv::parse_kv;
    use crate::services::tests::kv;
    use crate::services::{Service, Services};

    use super::*;

    /// `lww-kv` as its doc describes it, merging every entry each time.
    struct FullMergeLww {
        clocks: [u64; LWW_REPLICAS],
        replicas: [HashMap<String, (u64, Value)>; LWW_REPLICAS],
    }

    impl FullMergeLww {
        fn handle(&mut self, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
            let (from, into) = (rng.usize(..LWW_REPLICAS), rng.usize(..LWW_REPLICAS));
            if from != into {
                self.clocks[into] = self.clocks[into].max(self.clocks[from]);
                for (key, (stamp, value)) in self.replicas[from].clone() {
                    let mine = self.replicas[into].get(&key);
                    if mine.is_none_or(|(mine, _)| *mine <= stamp) {
                        self.replicas[into].insert(key, (stamp, value));
                    }
                }
            }
            let at = rng.usize(..LWW_REPLICAS);
            let current = self.replicas[at].get(op.key()).map(|(_, v)| v.clone());
            let (_, reply) = apply(op, current.as_ref(), false);
            let written = match op {
                KvOp::Write { value, .. } => Some(value.clone()),
                KvOp::Cas { to, .. } if reply["type"] == "cas_ok" => Some(to.clone()),
                _ => None,
            };
            if let Some(value) = written {
                let stamp = self.clocks[at];
                self.replicas[at].insert(op.key().to_owned(), (stamp, value));
                self.clocks[at] += 1;
            }
            reply
        }
    }

    #[test]
    fn lww_kv_merging_only_changes_answers_as_merging_everything() {
        let mut ours = LwwKv::default();
        let mut full = FullMergeLww {
            clocks: [0; LWW_REPLICAS],
            replicas: Default::default(),
        };
        let (mut ours_rng, mut full_rng) =
            (fastrand::Rng::with_seed(9), fastrand::Rng::with_seed(9));
        let mut ops = fastrand::Rng::with_seed(10);
        let mut stale = 0;
        for i in 0..5_000 {
            let key = ops.usize(..8);
            let body = match ops.u8(..3) {
                0 => json!({"type": "read", "key": key}),
                1 => json!({"type": "write", "key": key, "value": i % 3}),
                _ => json!({"type": "cas", "key": key, "from": ops.u8(..3), "to": i % 3}),
            };
            let op = parse_kv(&body).unwrap();
            let reply = ours.handle(&op, &mut ours_rng);
            assert_eq!(
                reply,
                full.handle(&op, &mut full_rng),
                "request {i}: {body}"
            );
            stale += i32::from(reply["code"] == 22);
        }
        assert!(
            stale > 100,
            "the replicas never disagreed ({stale} failed cas)"
        );
        for (ours, full) in ours.replicas.iter().zip(&full.replicas) {
            assert_eq!(ours.entries.len(), full.len());
            for (key, entry) in &ours.entries {
                assert_eq!(full[key], (entry.stamp, entry.value.clone()), "{key}");
            }
            assert!(ours.changed.len() <= ours.entries.len());
        }
    }

    #[test]
    fn lww_kv_serves_stale_replicas_but_converges() {
        let mut s = Services::new(5);
        let lww = Service::LwwKv;
        let mut stale = 0;
        for i in 0..200 {
            kv(
                &mut s,
                lww,
                "n1",
                json!({"type": "write", "key": "k", "value": i}),
            );
            let read = kv(&mut s, lww, "n1", json!({"type": "read", "key": "k"}));
            stale += i32::from(read["value"] != i);
        }
        assert!(stale > 20, "lww-kv behaved linearizably");
        // With no more writes, merges bring both replicas to one value.
        for _ in 0..50 {
            kv(&mut s, lww, "n1", json!({"type": "read", "key": "k"}));
        }
        let value = kv(&mut s, lww, "n2", json!({"type": "read", "key": "k"}))["value"].clone();
        for _ in 0..20 {
            assert_eq!(
                kv(&mut s, lww, "n2", json!({"type": "read", "key": "k"}))["value"],
                value
            );
        }
        let cas =
            json!({"type": "cas", "key": "new", "from": 0, "to": 1, "create_if_not_exists": true});
        assert_eq!(kv(&mut s, lww, "n1", cas)["code"], 20);
        let cas = json!({"type": "cas", "key": "k", "from": "x", "to": 1});
        let text = kv(&mut s, lww, "n1", cas)["text"].clone();
        assert_eq!(text, format!("current value {value} is not x"));
    }
}
