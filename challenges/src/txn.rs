//! A totally available, read-committed key-value store for the txn
//! challenge: every node runs transactions on its own copy and replicates
//! their effects, last writer wins.
//!
//! A node runs a whole transaction at once, reading its own copy and its
//! own earlier writes, then stamps the transaction with a Lamport clock
//! (one more than every stamp it has seen) and applies the final value of
//! each written key. Peers receive the writes of many transactions in one
//! push and apply them at once, keeping for every key the value with the
//! highest stamp. So:
//! - every value a read returns is some transaction's final write to that
//!   key: no one ever sees an intermediate write (G1b) or an aborted one
//!   (G1a: nothing aborts);
//! - a transaction's stamp exceeds the stamps of all it read, and each key's
//!   versions follow stamp order, so write-write and write-read
//!   dependencies all go forward in stamp order and cannot close a cycle
//!   (G0, G1c);
//! - no request waits for another node, so partitions cost nothing but
//!   staleness. Concurrent transactions on two nodes may both read a value
//!   and overwrite it (a lost update): the store is not serializable, and
//!   does not claim to be.
//!
//! Each node pushes to every peer, at most once per interval, one message
//! with the final writes of every transaction of its own the peer has not
//! confirmed (only the latest write of each key: an older one would lose
//! to it anyway), and how many of the peer's transactions it has applied,
//! which confirms them. Under load the confirmations ride on the pushes
//! going the other way; a lost push needs no repair, since the next carries
//! its writes again ([`crate::push_window`]). A partition only delays.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::push_window::{Pacing, Pending, PushClock};

/// A Lamport stamp: the clock, then the node id to break ties.
pub type Stamp = (u64, String);

/// One micro-operation, as the workload sends it: `["r", key, null]` or
/// `["w", key, value]`; reads come back with the value read.
pub type MicroOp = (String, u64, Value);

/// What a node pushes to a peer: the writes of its transactions `from`
/// (how many the peer confirmed) up to `upto` (how many it has run), as
/// `(key, clock, value)` with the latest write of each key only, and
/// `have`, how many of the peer's transactions it has applied.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub from: u64,
    pub upto: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub writes: Vec<(u64, u64, Value)>,
    pub have: u64,
}

/// One peer: how many of this node's transactions it confirmed and was
/// last sent, how many of its own this node has, and whether that is owed
/// to it.
#[derive(Debug, Default)]
struct Link {
    confirmed: u64,
    sent: u64,
    have: u64,
    owed: bool,
}

/// A node's copy of the store and what its peers have not confirmed.
#[derive(Debug)]
pub struct Store {
    me: String,
    clock: u64,
    values: BTreeMap<u64, (Stamp, Value)>,
    /// This node's writing transactions that some peer has not confirmed:
    /// transaction `dropped + i` (counted from 0) at index `i`, as its clock
    /// and final writes.
    own: VecDeque<(u64, Vec<(u64, Value)>)>,
    dropped: u64,
    links: BTreeMap<String, Link>,
    pushes: PushClock,
}

impl Store {
    /// The store of node `me` in the cluster `nodes`, pushing as `pacing`
    /// says.
    pub fn new(me: &str, nodes: &[String], pacing: Pacing) -> Self {
        Store {
            me: me.to_owned(),
            clock: 0,
            values: BTreeMap::new(),
            own: VecDeque::new(),
            dropped: 0,
            links: nodes
                .iter()
                .filter(|n| *n != me)
                .map(|n| (n.clone(), Link::default()))
                .collect(),
            pushes: PushClock::new(pacing),
        }
    }

    /// How many writing transactions this node has run.
    fn ran(&self) -> u64 {
        self.dropped + self.own.len() as u64
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
                .filter(|c| *c < u64::MAX)
                .ok_or("the Lamport clock is exhausted; the transaction was not run")?;
            let stamp = (self.clock, self.me.clone());
            let writes: Vec<(u64, Value)> = written.into_iter().collect();
            self.apply(&stamp, &writes);
            if !self.links.is_empty() {
                self.own.push_back((self.clock, writes));
            }
        }
        Ok(done)
    }

    /// The pushes due at `now`, one per peer at most.
    pub fn pushes(&mut self, now: Duration) -> Vec<(String, Push)> {
        let ran = self.ran();
        let mut out = Vec::new();
        for (peer, link) in &mut self.links {
            let pending = if ran > link.sent {
                Pending::Fresh
            } else if link.owed {
                Pending::Ack
            } else if ran > link.confirmed {
                Pending::Unconfirmed
            } else {
                Pending::Nothing
            };
            if !self.pushes.due(peer, now, pending) {
                continue;
            }
            let mut latest: BTreeMap<u64, (u64, &Value)> = BTreeMap::new();
            let skip = (link.confirmed - self.dropped) as usize;
            for (clock, writes) in self.own.iter().skip(skip) {
                for (key, value) in writes {
                    latest.insert(*key, (*clock, value));
                }
            }
            let writes = latest
                .into_iter()
                .map(|(key, (clock, value))| (key, clock, value.clone()))
                .collect();
            out.push((
                peer.clone(),
                Push {
                    from: link.confirmed,
                    upto: ran,
                    writes,
                    have: link.have,
                },
            ));
            link.sent = ran;
            link.owed = false;
        }
        out
    }

    /// Takes a push from `peer`: applies its writes (unless it would leave
    /// a hole) and its confirmation. Pushes from unknown nodes, and pushes
    /// with a clock of 2^64 - 1 (which would leave no stamp for the next
    /// local transaction), are ignored.
    pub fn receive(&mut self, peer: &str, push: Push) {
        let ran = self.ran();
        let Some(link) = self.links.get_mut(peer) else {
            return;
        };
        if push.from > push.upto || push.writes.iter().any(|(_, c, _)| *c == u64::MAX) {
            return;
        }
        if push.from <= link.have {
            link.have = link.have.max(push.upto);
            for (key, clock, value) in push.writes {
                self.clock = self.clock.max(clock);
                let stamp = (clock, peer.to_owned());
                let newer = self.values.get(&key).is_none_or(|(held, _)| *held < stamp);
                if newer {
                    self.values.insert(key, (stamp, value));
                }
            }
        }
        let link = self.links.get_mut(peer).expect("found above");
        link.owed |= push.upto > push.from;
        // Never more than this node ran (or a forged count would stop its
        // resends).
        link.confirmed = link.confirmed.max(push.have.min(ran));
        let everywhere = self.links.values().map(|l| l.confirmed).min().unwrap_or(0);
        while self.dropped < everywhere {
            self.own.pop_front();
            self.dropped += 1;
        }
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
    use serde_json::json;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    fn cluster(n: usize) -> Vec<Store> {
        let ids = ids(n);
        ids.iter()
            .map(|me| Store::new(me, &ids, Pacing::with_interval(ms(50))))
            .collect()
    }

    fn txn(ops: Value) -> Vec<MicroOp> {
        serde_json::from_value(ops).unwrap()
    }

    fn read(store: &mut Store, key: u64) -> Value {
        store.run(txn(json!([["r", key, null]]))).unwrap()[0]
            .2
            .clone()
    }

    /// Every push due at `now` from node `from`, delivered at once.
    fn exchange(nodes: &mut [Store], from: usize, now: Duration) -> usize {
        let ids = ids(nodes.len());
        let pushes = nodes[from].pushes(now);
        let count = pushes.len();
        for (to, push) in pushes {
            let to = ids.iter().position(|id| *id == to).unwrap();
            nodes[to].receive(&ids[from], push);
        }
        count
    }

    #[test]
    fn a_transaction_reads_its_own_writes_and_shows_only_final_ones() {
        let mut nodes = cluster(2);
        let done = nodes[0]
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
        let (_, push) = nodes[0].pushes(Duration::ZERO).pop().unwrap();
        assert_eq!((push.from, push.upto), (0, 1));
        assert_eq!(push.writes, vec![(1, 1, json!(6))], "only the final write");
        assert_eq!(read(&mut nodes[0], 1), json!(6));
        assert!(nodes[0].run(txn(json!([["append", 1, 2]]))).is_err());
        assert!(cluster(1)[0].pushes(Duration::ZERO).is_empty(), "no peers");
    }

    #[test]
    fn the_highest_stamp_wins_whatever_the_arrival_order() {
        let mut nodes = cluster(2);
        nodes[0].run(txn(json!([["w", 1, 10]]))).unwrap();
        nodes[1].run(txn(json!([["w", 1, 20]]))).unwrap();
        nodes[1].run(txn(json!([["w", 1, 21]]))).unwrap(); // stamp (2, n2)
        let (_, from_n1) = nodes[0].pushes(Duration::ZERO).pop().unwrap();
        let (_, from_n2) = nodes[1].pushes(Duration::ZERO).pop().unwrap();
        assert_eq!(from_n2.writes, vec![(1, 2, json!(21))], "the latest of two");
        nodes[0].receive("n2", from_n2);
        nodes[1].receive("n1", from_n1);
        for node in &mut nodes {
            assert_eq!(read(node, 1), json!(21));
        }
        // n1 has seen clock 2: its next write wins over everything so far.
        nodes[0].run(txn(json!([["w", 1, 30]]))).unwrap();
        let (_, push) = nodes[0].pushes(ms(50)).pop().unwrap();
        assert_eq!(push.writes, vec![(1, 3, json!(30))]);
    }

    #[test]
    fn forged_clocks_near_2_pow_64_never_overflow_the_clock() {
        let mut nodes = cluster(2);
        let forged = |clock| Push {
            from: 0,
            upto: 1,
            writes: vec![(1, clock, json!(9))],
            have: 0,
        };
        nodes[0].receive("n2", forged(u64::MAX));
        assert_eq!(read(&mut nodes[0], 1), json!(null), "refused");
        nodes[0].receive("n2", forged(u64::MAX - 2));
        assert_eq!(read(&mut nodes[0], 1), json!(9));
        nodes[0].run(txn(json!([["w", 2, 1]]))).unwrap(); // the last clock there is
        let exhausted = nodes[0].run(txn(json!([["w", 2, 2], ["r", 1, null]])));
        assert!(exhausted.is_err());
        assert_eq!(read(&mut nodes[0], 2), json!(1));
        // Pushes from strangers, and backwards ranges, change nothing.
        nodes[1].receive("n3", forged(1));
        let backwards = Push {
            from: 2,
            upto: 1,
            ..forged(1)
        };
        nodes[1].receive("n1", backwards);
        assert_eq!(read(&mut nodes[1], 1), json!(null));
    }

    #[test]
    fn pushes_batch_per_interval_and_confirm_each_other() {
        let mut nodes = cluster(2);
        nodes[0].run(txn(json!([["w", 7, 1]]))).unwrap();
        assert_eq!(exchange(&mut nodes, 0, ms(0)), 1);
        nodes[0].run(txn(json!([["w", 8, 1]]))).unwrap();
        assert_eq!(exchange(&mut nodes, 0, ms(49)), 0, "within the interval");
        nodes[1].run(txn(json!([["w", 9, 1]]))).unwrap();
        // n2's push carries its write and confirms n1's first.
        let (_, push) = nodes[1].pushes(ms(1)).pop().unwrap();
        assert_eq!((push.have, push.writes.len()), (1, 1));
        nodes[0].receive("n2", push);
        let (_, push) = nodes[0].pushes(ms(50)).pop().unwrap();
        assert_eq!((push.from, push.upto, push.have), (1, 2, 1));
        assert_eq!(
            push.writes,
            vec![(8, 2, json!(1))],
            "only what is unconfirmed"
        );
        nodes[1].receive("n1", push);
        // n2 owes n1 a confirmation: alone, it waits.
        assert_eq!(exchange(&mut nodes, 1, ms(60)), 0);
        assert_eq!(exchange(&mut nodes, 1, ms(201)), 1);
        for t in [1_000, 5_000] {
            assert_eq!(
                exchange(&mut nodes, 0, ms(t)) + exchange(&mut nodes, 1, ms(t)),
                0
            );
        }
        for node in &mut nodes {
            for key in [7, 8, 9] {
                assert_eq!(read(node, key), json!(1));
            }
        }
        assert!(
            nodes[0].own.is_empty() && nodes[1].own.is_empty(),
            "all confirmed"
        );
    }

    #[test]
    fn a_lost_push_is_carried_again_by_the_next_or_resent() {
        let mut nodes = cluster(2);
        nodes[0].run(txn(json!([["w", 7, 1]]))).unwrap();
        assert_eq!(nodes[0].pushes(ms(0)).len(), 1); // lost
        nodes[0].run(txn(json!([["w", 8, 1]]))).unwrap();
        let (_, next) = nodes[0].pushes(ms(50)).pop().unwrap();
        assert_eq!((next.from, next.writes.len()), (0, 2));
        // Lost too; with nothing new, n1 resends after a while.
        assert!(nodes[0].pushes(ms(500)).is_empty());
        let (_, resent) = nodes[0].pushes(ms(1_050)).pop().unwrap();
        assert_eq!(resent, next);
        nodes[1].receive("n1", resent);
        assert_eq!(read(&mut nodes[1], 7), json!(1));
        assert_eq!(read(&mut nodes[1], 8), json!(1));
    }

    #[test]
    fn replicas_converge_on_the_highest_stamps_through_loss_and_reordering() {
        for seed in 0..100 {
            let n = 2 + (seed % 2) as usize;
            let ids = ids(n);
            let mut nodes = cluster(n);
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut flight: Vec<(usize, usize, Push)> = Vec::new();
            let mut now = Duration::ZERO;
            let mut value = 0;
            // Every write: (stamp, key, value).
            let mut writes: Vec<(Stamp, u64, u64)> = Vec::new();
            for _ in 0..400 {
                match rng.u32(..6) {
                    0 | 1 => {
                        let at = rng.usize(..n);
                        let key = rng.u64(..4);
                        value += 1;
                        let ops = json!([["r", key, null], ["w", key, value], ["w", 9, value]]);
                        let read = nodes[at].run(txn(ops)).unwrap()[0].2.clone();
                        let clock = nodes[at].clock;
                        for k in [key, 9] {
                            writes.push(((clock, ids[at].clone()), k, value));
                        }
                        // A read never sees a write with a higher stamp.
                        if let Some(v) = read.as_u64() {
                            let (stamp, ..) =
                                writes.iter().find(|w| w.1 == key && w.2 == v).unwrap();
                            assert!(stamp.0 < clock, "seed {seed}");
                        }
                    }
                    2 => {
                        now += ms(rng.u64(..60));
                        let at = rng.usize(..n);
                        for (to, push) in nodes[at].pushes(now) {
                            let to = ids.iter().position(|id| *id == to).unwrap();
                            flight.push((at, to, push));
                        }
                    }
                    _ if flight.is_empty() => {}
                    _ => {
                        let (from, to, push) = flight.swap_remove(rng.usize(..flight.len()));
                        if rng.u32(..6) == 0 {
                            continue; // lost
                        }
                        if rng.u32(..6) == 0 {
                            flight.push((from, to, push.clone())); // again, later
                        }
                        nodes[to].receive(&ids[from], push);
                    }
                }
            }
            flight.clear(); // the last pushes are lost too
            for _ in 0..100 {
                now += ms(50);
                for at in 0..n {
                    for (to, push) in nodes[at].pushes(now) {
                        let to = ids.iter().position(|id| *id == to).unwrap();
                        nodes[to].receive(&ids[at], push);
                    }
                }
            }
            for key in [0, 1, 2, 3, 9] {
                let last = writes
                    .iter()
                    .filter(|w| w.1 == key)
                    .max_by(|a, b| a.0.cmp(&b.0));
                let want = last.map_or(json!(null), |w| json!(w.2));
                for node in &mut nodes {
                    assert_eq!(read(node, key), want, "seed {seed}, key {key}");
                }
            }
            for node in &mut nodes {
                assert!(node.own.is_empty(), "seed {seed}: all confirmed");
                assert!(
                    node.pushes(now + ms(10_000)).is_empty(),
                    "seed {seed}: quiet"
                );
            }
        }
    }

    #[test]
    fn under_load_two_nodes_exchange_one_push_each_way_per_interval() {
        let mut nodes = cluster(2);
        let mut pushes = 0;
        // 1 s of 5 ms ticks, a transaction per node per tick.
        for tick in 0..200 {
            for node in nodes.iter_mut() {
                node.run(txn(json!([["w", tick % 7, tick]]))).unwrap();
            }
            for at in 0..2 {
                pushes += exchange(&mut nodes, at, ms(tick * 5));
            }
        }
        assert_eq!(pushes, 40, "20 intervals of 50 ms, a push each way in each");
        assert!(nodes[0].own.len() <= 20, "confirmed as they go");
    }
}
