use super::*;
use serde_json::json;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ids(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("n{i}")).collect()
}

fn cluster(n: usize) -> Vec<Logs> {
    let ids = ids(n);
    ids.iter()
        .map(|me| Logs::new(me, &ids, Pacing::with_interval(ms(10))))
        .collect()
}

fn offsets(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, o)| (k.to_string(), *o)).collect()
}

/// Every push due at `now` from node `from`, delivered at once.
fn exchange(nodes: &mut [Logs], from: usize, now: Duration) -> usize {
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
fn a_single_node_numbers_densely_and_serves_its_messages_at_once() {
    let mut n1 = cluster(1).pop().unwrap();
    assert_eq!(n1.append("a", json!(10)), Ok(0));
    assert_eq!(n1.append("a", json!(11)), Ok(1));
    assert_eq!(n1.append("b", json!(12)), Ok(0));
    let polled = n1.poll(&offsets(&[("a", 1), ("b", 1), ("nobody", 0)]));
    assert_eq!(polled, [("a".to_owned(), vec![(1, json!(11))])].into());
    assert!(n1.pushes(ms(0)).is_empty(), "no peers");
}

#[test]
fn nodes_number_in_their_own_spaces_and_jump_past_what_they_hear() {
    let mut nodes = cluster(3);
    assert_eq!(nodes[0].append("k", json!(1)), Ok(0));
    assert_eq!(nodes[1].append("k", json!(2)), Ok(1));
    assert_eq!(nodes[2].append("k", json!(3)), Ok(2));
    assert_eq!(nodes[2].append("k", json!(4)), Ok(5));
    // n3's next is 6; once n1 hears it, n1's next message goes to 6.
    exchange(&mut nodes, 2, ms(0));
    assert_eq!(nodes[0].append("k", json!(5)), Ok(6));
    assert_eq!(nodes[1].append("k", json!(6)), Ok(7));
}

#[test]
fn a_message_shows_once_every_node_has_raised_its_next_past_it() {
    let mut nodes = cluster(2);
    assert_eq!(nodes[0].append("k", json!(1)), Ok(0));
    assert!(
        nodes[0].poll(&offsets(&[("k", 0)])).is_empty(),
        "n1 does not know yet that n2 numbers nothing below 1"
    );
    assert_eq!(exchange(&mut nodes, 0, ms(0)), 1);
    // n2 has n1's message, and its own next is now past it.
    assert_eq!(nodes[1].watermark("k"), 1);
    assert_eq!(
        nodes[1].poll(&offsets(&[("k", 0)]))["k"],
        vec![(0, json!(1))]
    );
    assert_eq!(nodes[0].watermark("k"), 0);
    assert_eq!(exchange(&mut nodes, 1, ms(0)), 1, "n2 tells its new next");
    assert_eq!(
        nodes[0].poll(&offsets(&[("k", 0)]))["k"],
        vec![(0, json!(1))]
    );
    // n2's next was raised to 1, which is in its space: no hole.
    assert_eq!(nodes[1].append("k", json!(2)), Ok(1));
}

#[test]
fn pushes_batch_per_interval_and_carry_acknowledgements_both_ways() {
    let mut nodes = cluster(2);
    nodes[0].append("a", json!(1)).unwrap();
    assert_eq!(exchange(&mut nodes, 0, ms(0)), 1);
    nodes[0].append("a", json!(2)).unwrap();
    assert_eq!(exchange(&mut nodes, 0, ms(5)), 0, "within the interval");
    // n2 answers with its raised next and the acknowledgement, in one.
    let (_, answer) = nodes[1].pushes(ms(1)).pop().unwrap();
    assert_eq!(answer.runs["a"].next, 1);
    assert_eq!(answer.acks["a"].have, 1);
    nodes[0].receive("n2", answer);
    // n1's next push starts where n2 confirmed: the second message only.
    let (_, push) = nodes[0].pushes(ms(10)).pop().unwrap();
    assert_eq!(push.runs["a"].from, 1);
    assert_eq!(push.runs["a"].msgs, vec![(2, json!(2))]);
    assert_eq!(push.acks["a"].have, 1, "n2's run is acknowledged too");
    nodes[1].receive("n1", push);
    let (_, answer) = nodes[1].pushes(ms(11)).pop().unwrap();
    nodes[0].receive("n2", answer);
    // n1 owes an acknowledgement of n2's last run: alone, it waits.
    assert!(nodes[0].pushes(ms(20)).is_empty());
    let (_, ack) = nodes[0].pushes(ms(210)).pop().unwrap();
    assert!(ack.runs.is_empty());
    nodes[1].receive("n1", ack);
    for t in [1_000, 5_000] {
        assert!(nodes[0].pushes(ms(t)).is_empty() && nodes[1].pushes(ms(t)).is_empty());
    }
    for node in &nodes {
        assert_eq!(
            node.poll(&offsets(&[("a", 0)]))["a"],
            vec![(0, json!(1)), (2, json!(2))]
        );
    }
}

#[test]
fn a_lost_push_is_carried_again_by_the_next_or_resent() {
    let mut nodes = cluster(2);
    nodes[0].append("k", json!(1)).unwrap();
    let lost = nodes[0].pushes(ms(0));
    assert_eq!(lost.len(), 1);
    nodes[0].append("k", json!(2)).unwrap();
    let (_, next) = nodes[0].pushes(ms(10)).pop().unwrap();
    assert_eq!(next.runs["k"].from, 0, "from what n2 confirmed: nothing");
    assert_eq!(next.runs["k"].msgs.len(), 2);
    // That one is lost too; with nothing new, n1 resends after a while.
    assert!(nodes[0].pushes(ms(500)).is_empty());
    let (_, resent) = nodes[0].pushes(ms(1_010)).pop().unwrap();
    assert_eq!(resent, next);
    nodes[1].receive("n1", resent);
    assert_eq!(nodes[1].poll(&offsets(&[("k", 0)]))["k"].len(), 2);
}

#[test]
fn committed_offsets_only_rise_and_reach_every_node() {
    let mut nodes = cluster(2);
    nodes[0].commit(&offsets(&[("a", 4)]));
    nodes[0].commit(&offsets(&[("a", 2), ("b", 0)]));
    let keys = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
    assert_eq!(nodes[0].committed(&keys), offsets(&[("a", 4), ("b", 0)]));
    nodes[1].commit(&offsets(&[("a", 7)]));
    for t in [0, 10, 20, 30, 300, 600] {
        exchange(&mut nodes, 0, ms(t));
        exchange(&mut nodes, 1, ms(t));
    }
    for node in &nodes {
        assert_eq!(node.committed(&keys), offsets(&[("a", 7), ("b", 0)]));
    }
    assert!(nodes[0].pushes(ms(5_000)).is_empty() && nodes[1].pushes(ms(5_000)).is_empty());
}

#[test]
fn forged_runs_and_acks_change_nothing() {
    let mut nodes = cluster(2);
    let n2 = &mut nodes[1];
    let forged = |from, next, msgs: Vec<(u64, Value)>| Push {
        runs: [(
            "k".to_owned(),
            Run {
                from,
                next,
                msgs,
                committed: None,
            },
        )]
        .into(),
        acks: BTreeMap::new(),
    };
    // Past the last offset; backwards; starting beyond what n2 has; a
    // message in n2's own space or outside the run.
    n2.receive("n1", forged(0, u64::MAX, vec![(0, json!(1))]));
    n2.receive("n1", forged(5, 3, vec![(4, json!(1))]));
    n2.receive("n1", forged(3, 9, vec![(4, json!(1))]));
    n2.receive("n1", forged(0, 4, vec![(1, json!(1)), (6, json!(1))]));
    n2.receive("n3", forged(0, 4, vec![(0, json!(1))]));
    assert!(n2.poll(&offsets(&[("k", 0)])).is_empty());
    assert_eq!(n2.watermark("k"), 4, "the honest part of the last run");
    assert_eq!(n2.append("k", json!(2)), Ok(5));
    // An acknowledgement beyond what n1 announced confirms no more than
    // that: later messages still go.
    nodes[0].append("j", json!(1)).unwrap();
    nodes[0].pushes(ms(0));
    let ack = Push {
        runs: BTreeMap::new(),
        acks: [(
            "j".to_owned(),
            Ack {
                have: u64::MAX,
                committed: Some(9),
            },
        )]
        .into(),
    };
    nodes[0].receive("n2", ack);
    nodes[0].append("j", json!(2)).unwrap();
    let (_, push) = nodes[0].pushes(ms(2_000)).pop().unwrap();
    assert_eq!(push.runs["j"].from, 1);
    assert_eq!(push.runs["j"].msgs, vec![(2, json!(2))]);
}

/// Messages of one key by offset, as a poll returns them.
type Entries = Vec<(u64, Value)>;

/// A cluster driven at random: sends, polls by consumers, commits, ticks
/// and deliveries in any order, with messages lost and duplicated.
struct Random {
    nodes: Vec<Logs>,
    ids: Vec<String>,
    flight: Vec<(usize, usize, Push)>,
    now: Duration,
    rng: fastrand::Rng,
    /// Every acknowledged send: (key, offset, message).
    sent: Vec<(String, u64, Value)>,
    /// Every poll from offset 0: (key, watermark, what it returned).
    snapshots: Vec<(String, u64, Entries)>,
    /// Per consumer (bound to node `c % n`): its position and the offsets
    /// it polled on each key, in order.
    consumers: Vec<BTreeMap<String, (u64, Vec<u64>)>>,
    committed: BTreeMap<String, u64>,
}

const KEYS: [&str; 3] = ["a", "b", "c"];

impl Random {
    fn new(n: usize, seed: u64) -> Self {
        Random {
            nodes: cluster(n),
            ids: ids(n),
            flight: Vec::new(),
            now: Duration::ZERO,
            rng: fastrand::Rng::with_seed(seed),
            sent: Vec::new(),
            snapshots: Vec::new(),
            consumers: vec![BTreeMap::new(); 2 * n],
            committed: BTreeMap::new(),
        }
    }

    fn tick(&mut self, at: usize) {
        for (to, push) in self.nodes[at].pushes(self.now) {
            let to = self.ids.iter().position(|id| *id == to).unwrap();
            self.flight.push((at, to, push));
        }
    }

    fn deliver(&mut self, index: usize) {
        let (from, to, push) = self.flight.swap_remove(index);
        self.nodes[to].receive(&self.ids[from], push);
    }

    fn step(&mut self, msg: u64, faults: bool) {
        let n = self.nodes.len();
        let key = KEYS[self.rng.usize(..KEYS.len())];
        match self.rng.u32(..10) {
            0..=2 => {
                let at = self.rng.usize(..n);
                let offset = self.nodes[at].append(key, json!(msg)).unwrap();
                self.sent.push((key.to_owned(), offset, json!(msg)));
            }
            3 => {
                let at = self.rng.usize(..n);
                let msgs = self.nodes[at].poll(&offsets(&[(key, 0)]));
                let watermark = self.nodes[at].watermark(key);
                let got = msgs.get(key).cloned().unwrap_or_default();
                assert!(got.iter().all(|(o, _)| *o < watermark));
                self.snapshots.push((key.to_owned(), watermark, got));
            }
            4 => {
                let c = self.rng.usize(..self.consumers.len());
                let (from, _) = self.consumers[c].get(key).cloned().unwrap_or_default();
                let msgs = self.nodes[c % n].poll(&offsets(&[(key, from)]));
                if let Some(got) = msgs.get(key) {
                    let (position, polled) = self.consumers[c].entry(key.to_owned()).or_default();
                    polled.extend(got.iter().map(|(o, _)| *o));
                    *position = got.last().unwrap().0 + 1;
                    let offset = got.last().unwrap().0;
                    self.nodes[c % n].commit(&offsets(&[(key, offset)]));
                    let top = self.committed.entry(key.to_owned()).or_default();
                    *top = (*top).max(offset);
                }
            }
            5 | 6 => {
                self.now += ms(self.rng.u64(..15));
                let at = self.rng.usize(..n);
                self.tick(at);
            }
            _ => {
                if self.flight.is_empty() {
                    return;
                }
                let index = self.rng.usize(..self.flight.len());
                if faults && self.rng.u32(..8) == 0 {
                    self.flight.swap_remove(index); // lost
                } else if faults && self.rng.u32(..8) == 0 {
                    let copy = self.flight[index].clone();
                    self.deliver(index);
                    self.flight.push(copy); // delivered twice, later
                } else {
                    self.deliver(index);
                }
            }
        }
    }

    /// No more faults: ticks and in-order deliveries until all is quiet.
    fn heal(&mut self) {
        for _ in 0..400 {
            self.now += ms(10);
            for at in 0..self.nodes.len() {
                self.tick(at);
            }
            while !self.flight.is_empty() {
                self.deliver(0);
            }
        }
    }

    fn check(&self, case: &str) {
        // Every message at one offset, everywhere: the final log.
        let mut logs: BTreeMap<&str, BTreeMap<u64, &Value>> = BTreeMap::new();
        for (key, offset, msg) in &self.sent {
            let old = logs.entry(key).or_default().insert(*offset, msg);
            assert!(
                old.is_none(),
                "{case}: offset {offset} of {key} given twice"
            );
        }
        for node in &self.nodes {
            for key in KEYS {
                let all = node.poll(&offsets(&[(key, 0)]));
                let all: Vec<(u64, &Value)> = all
                    .get(key)
                    .into_iter()
                    .flatten()
                    .map(|(o, m)| (*o, m))
                    .collect();
                let want: Vec<(u64, &Value)> = logs
                    .get(key)
                    .into_iter()
                    .flatten()
                    .map(|(o, m)| (*o, *m))
                    .collect();
                assert_eq!(all, want, "{case}: a node does not serve every message");
            }
            let keys: Vec<String> = KEYS.iter().map(|k| k.to_string()).collect();
            let committed: BTreeMap<String, u64> = self
                .committed
                .iter()
                .map(|(k, o)| (k.clone(), *o))
                .collect();
            assert_eq!(node.committed(&keys), committed, "{case}: commits");
        }
        // What a poll returned below its watermark is all there ever was.
        for (key, watermark, got) in &self.snapshots {
            let now: Vec<(u64, Value)> = logs
                .get(key.as_str())
                .into_iter()
                .flatten()
                .filter(|(o, _)| **o < *watermark)
                .map(|(o, m)| (*o, (*m).clone()))
                .collect();
            assert_eq!(&now, got, "{case}: a message showed up below a watermark");
        }
        // Consumers read every key's offsets in order, skipping none (the
        // checker's poll-skip, in offsets known to hold a message).
        for consumer in &self.consumers {
            for (key, (_, polled)) in consumer {
                let known: Vec<u64> = logs[key.as_str()].keys().copied().collect();
                let start = known.iter().position(|o| *o == polled[0]).unwrap();
                assert_eq!(
                    polled[..],
                    known[start..start + polled.len()],
                    "{case}: a consumer skipped on {key}"
                );
                assert_eq!(start, 0, "{case}: a consumer's first poll skipped");
            }
        }
    }
}

#[test]
fn the_watermark_never_lets_a_poll_skip_on_random_interleavings() {
    for n in [2, 3] {
        for seed in 0..150 {
            let faults = seed % 2 == 1;
            let mut cluster = Random::new(n, seed);
            for msg in 0..300 {
                cluster.step(msg, faults);
            }
            if faults {
                cluster.flight.clear(); // the last pushes are lost too
            }
            cluster.heal();
            cluster.check(&format!("{n} nodes, seed {seed}, faults {faults}"));
        }
    }
}

#[test]
fn under_load_two_nodes_exchange_one_push_each_way_per_interval() {
    let mut nodes = cluster(2);
    let mut pushes = 0;
    let mut msg = 0;
    // 1 s of 5 ms ticks, two sends per node per tick.
    for tick in 0..200 {
        for node in nodes.iter_mut() {
            for _ in 0..2 {
                msg += 1;
                node.append(KEYS[msg % KEYS.len()], json!(msg)).unwrap();
            }
        }
        for at in 0..2 {
            pushes += exchange(&mut nodes, at, ms(tick * 5));
        }
    }
    // 100 intervals of 10 ms, one push each way in each.
    assert_eq!(pushes, 200);
    let caught_up = nodes[0].watermark("a") + 4 >= nodes[1].watermark("a");
    assert!(caught_up && nodes[0].watermark("a") > 100);
}
