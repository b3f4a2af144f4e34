//! Reliable, batched dissemination of a grow-only set of values (the
//! broadcast and g-set challenges), as a pure state machine: the node feeds
//! it client values, peer messages and clock ticks, and sends what it
//! returns.
//!
//! # Overlay and batching
//!
//! With a batching interval `T > 0` the nodes form a star around the first
//! node id (the hub). A leaf sends the values its clients gave it to the hub
//! at wall-clock multiples of `T`, one message per interval at most, and only
//! when it has something new. Since every leaf flushes on the same boundary,
//! their batches reach the hub together, one network latency `L` later; the
//! hub waits a short `debounce` for the rest of that wave and sends each leaf
//! one message with everything the leaf does not have. A value thus takes
//! `U(0, T) + L + debounce + L`, and the cluster costs, per interval with new
//! values, one message per leaf that had any plus `N - 1` from the hub.
//!
//! With `T = 0` (latency first) the node that receives a value sends it to
//! every peer at once: `L` to be everywhere, `N - 1` messages per value.
//!
//! # Repair
//!
//! Every directed link numbers its batches. A receiver that sees a gap asks
//! for a resend from the first missing batch (`Nack`). A lost tail (the last
//! batches of a link, with nothing after them) is found by the coordinator
//! (the first node id): a node that has neither sent nor received a batch
//! for `report_after` sends it one `Report` of how many batches it sent on
//! each link and how many it received on each, and again every
//! `report_every` while idle. The coordinator compares a receiver's report
//! with the senders' earlier ones and asks a sender to resend what a
//! receiver lacks (`Resend`), or resends itself. Nothing is acknowledged
//! when nothing is lost: the price of reliability is a couple of reports per
//! node once traffic stops, whatever the number of links.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

/// A value being disseminated.
pub type Value = u64;

/// What one node sends another. It travels as one field of a node's own
/// message type, tagged by `kind`:
/// `{"type": "gossip", "gossip": {"kind": "batch", "first": 1, ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Batches `first..=last` of the link, merged.
    #[serde(rename = "batch")]
    Gossip {
        first: u64,
        last: u64,
        values: Vec<Value>,
    },
    /// "Send me your batches from `from` on."
    Nack { from: u64 },
    /// To the coordinator: the last batch sent on each link, and the next
    /// batch expected on each.
    Report {
        sent: Vec<(String, u64)>,
        expected: Vec<(String, u64)>,
    },
    /// From the coordinator: "resend your batches to `to` from `from` on".
    Resend { to: String, from: u64 },
}

/// Timing of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The batching interval; zero sends every value to every peer at once.
    pub interval: Duration,
    /// How long the hub waits for the rest of a wave of leaf batches.
    pub debounce: Duration,
    /// Time without batches after which a node reports to the coordinator.
    pub report_after: Duration,
    /// Time between two reports of an idle node.
    pub report_every: Duration,
    /// How much newer a receiver's report must be than a sender's for the
    /// coordinator to take a difference as a loss, not as batches in flight.
    pub settle: Duration,
    /// Time between two resend requests on one link.
    pub nack_every: Duration,
}

impl Timing {
    /// The protocol's timing for a batching interval.
    pub fn with_interval(interval: Duration) -> Self {
        Timing {
            interval,
            debounce: Duration::from_millis(15),
            report_after: Duration::from_secs(2),
            report_every: Duration::from_secs(5),
            settle: Duration::from_secs(1),
            nack_every: Duration::from_secs(1),
        }
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Client,
    Peer(String),
}

/// One neighbour: what was sent to it and what came from it.
#[derive(Debug)]
struct Link {
    /// How much of the node's log this link has been offered.
    cursor: usize,
    /// The batches sent, batch `n` at index `n - 1`, and when.
    sent: Vec<Vec<Value>>,
    sent_at: Vec<Duration>,
    /// The next batch number expected from the neighbour.
    next_expected: u64,
    last_nack: Option<Duration>,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            cursor: 0,
            sent: Vec::new(),
            sent_at: Vec::new(),
            next_expected: 1, // batches are numbered from 1
            last_nack: None,
        }
    }
}

impl Link {
    /// How many batches were sent at least `settle` before `now`.
    fn settled(&self, now: Duration, settle: Duration) -> u64 {
        self.sent_at
            .iter()
            .filter(|at| **at + settle <= now)
            .count() as u64
    }
}

/// The node's role in the overlay.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role {
    /// Sends its own clients' values to every peer at once.
    Direct,
    /// The centre of the star.
    Hub,
    /// A leaf of the star.
    Leaf,
}

/// One node's dissemination state.
#[derive(Debug)]
pub struct Gossip {
    role: Role,
    timing: Timing,
    log: Vec<(Value, Source)>,
    seen: HashSet<Value>,
    links: BTreeMap<String, Link>,
    /// Leaves: the last interval boundary flushed.
    last_boundary: u64,
    /// Hub: when the current wave of leaf batches began.
    wave_start: Option<Duration>,
    /// Hub: when it last flushed, and how much of the log that covered.
    last_flush: Duration,
    flushed: usize,
    /// The coordinator's id.
    coordinator: String,
    /// When a batch was last sent or received, and a report last sent.
    last_batch: Option<Duration>,
    last_report: Option<Duration>,
    /// Coordinator: the latest report of each node, with its arrival time.
    reports: BTreeMap<String, Report>,
}

/// A node's report, as the coordinator keeps it.
#[derive(Debug)]
struct Report {
    at: Duration,
    sent: BTreeMap<String, u64>,
    expected: BTreeMap<String, u64>,
}

impl Gossip {
    /// The state of node `me` among `node_ids` (the same list on every node).
    pub fn new(me: &str, node_ids: &[String], timing: Timing) -> Self {
        let peers = node_ids.iter().filter(|id| *id != me);
        let hub = node_ids.first().map(String::as_str).unwrap_or(me);
        let (role, neighbours): (Role, Vec<&String>) = if timing.interval.is_zero() {
            (Role::Direct, peers.collect())
        } else if me == hub {
            (Role::Hub, peers.collect())
        } else {
            (
                Role::Leaf,
                node_ids.iter().filter(|id| *id == hub).collect(),
            )
        };
        Gossip {
            role,
            timing,
            log: Vec::new(),
            seen: HashSet::new(),
            links: neighbours
                .into_iter()
                .map(|n| (n.clone(), Link::default()))
                .collect(),
            last_boundary: 0,
            wave_start: None,
            last_flush: Duration::ZERO,
            flushed: 0,
            coordinator: hub.to_owned(),
            last_batch: None,
            last_report: None,
            reports: BTreeMap::new(),
        }
    }

    /// Every value this node knows, in the order it learned them.
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.log.iter().map(|(value, _)| *value)
    }

    /// Records a value a client gave this node.
    pub fn add(&mut self, value: Value, now: Duration) -> Vec<(String, Message)> {
        if !self.learn(value, Source::Client) {
            return Vec::new();
        }
        match self.role {
            Role::Direct => self.flush(now),
            Role::Hub | Role::Leaf => Vec::new(),
        }
    }

    /// Handles a message from `peer`.
    pub fn receive(
        &mut self,
        peer: &str,
        message: Message,
        now: Duration,
    ) -> Vec<(String, Message)> {
        let nack_every = self.timing.nack_every;
        match message {
            Message::Gossip {
                first,
                last,
                values,
            } => {
                if first == 0 || first > last || last == u64::MAX {
                    return Vec::new(); // not a batch range any link can have
                }
                self.last_batch = Some(now);
                let mut learned = false;
                for value in values {
                    learned |= self.learn(value, Source::Peer(peer.to_owned()));
                }
                if learned && self.role == Role::Hub {
                    self.wave_start.get_or_insert(now);
                }
                let link = self.link(peer);
                if first <= link.next_expected && last >= link.next_expected {
                    link.next_expected = last + 1;
                    Vec::new()
                } else if first > link.next_expected {
                    nack(peer, link, now, nack_every)
                } else {
                    Vec::new() // all seen before
                }
            }
            Message::Nack { from } => self.resend(peer, from, now),
            Message::Resend { to, from } => self.resend(&to, from, now),
            Message::Report { sent, expected } => {
                let report = Report {
                    at: now,
                    sent: sent.into_iter().collect(),
                    expected: expected.into_iter().collect(),
                };
                self.reports.insert(peer.to_owned(), report);
                self.repair(peer, now)
            }
        }
    }

    /// Resends the batches of the link to `peer` from `from` on, merged.
    fn resend(&mut self, peer: &str, from: u64, now: Duration) -> Vec<(String, Message)> {
        let link = self.link(peer);
        let from = from.max(1);
        let Some(batches) = link.sent.get(from as usize - 1..).filter(|b| !b.is_empty()) else {
            return Vec::new();
        };
        let values: Vec<Value> = batches.iter().flatten().copied().collect();
        let last = link.sent.len() as u64;
        self.last_batch = Some(now);
        vec![(
            peer.to_owned(),
            Message::Gossip {
                first: from,
                last,
                values,
            },
        )]
    }

    /// Coordinator: compares the report `reporter` just sent with the other
    /// nodes' latest ones (and with its own links) and has every batch a
    /// receiver lacks resent. Reports count only batches sent at least
    /// `settle` before them, so a receiver's report is compared with a
    /// sender's only when it is no older than that.
    fn repair(&mut self, reporter: &str, now: Duration) -> Vec<(String, Message)> {
        let settle = self.timing.settle;
        let mut lost: Vec<(String, String, u64)> = Vec::new(); // (sender, receiver, from)
        for (sender, theirs) in &self.reports {
            for (receiver, ours) in &self.reports {
                let involved = sender == reporter || receiver == reporter;
                if sender == receiver || !involved || ours.at + settle < theirs.at {
                    continue;
                }
                let from = ours.expected.get(sender).copied().unwrap_or(1);
                if theirs.sent.get(receiver).is_some_and(|last| *last >= from) {
                    lost.push((sender.clone(), receiver.clone(), from));
                }
            }
        }
        let report = &self.reports[reporter];
        let from_me = report.expected.get(&self.coordinator).copied().unwrap_or(1);
        let to_me = report.sent.get(&self.coordinator).copied().unwrap_or(0);
        let mut out = Vec::new();
        if let Some(link) = self.links.get_mut(reporter) {
            if to_me >= link.next_expected {
                link.last_nack = Some(now);
                out.push((
                    reporter.to_owned(),
                    Message::Nack {
                        from: link.next_expected,
                    },
                ));
            }
            if link.settled(now, settle) >= from_me {
                lost.push((self.coordinator.clone(), reporter.to_owned(), from_me));
            }
        }
        for (sender, receiver, from) in lost {
            if sender == self.coordinator {
                out.extend(self.resend(&receiver, from, now));
            } else {
                out.push((sender, Message::Resend { to: receiver, from }));
            }
        }
        out
    }

    /// Advances the clock: flushes batches that are due and announces the
    /// last batch on idle links.
    pub fn tick(&mut self, now: Duration) -> Vec<(String, Message)> {
        let mut out = match self.role {
            Role::Direct => Vec::new(),
            Role::Leaf => {
                let boundary = (now.as_nanos() / self.timing.interval.as_nanos()) as u64;
                if boundary > self.last_boundary {
                    self.last_boundary = boundary;
                    self.flush(now)
                } else {
                    Vec::new()
                }
            }
            Role::Hub => {
                let interval = self.timing.interval;
                let pending = self.log.len() > self.flushed;
                // A wave of leaf batches is sent on once it is complete; the
                // hub's own clients' values ride along with the next wave
                // (or go alone if no wave comes for two intervals).
                let wave_done = self
                    .wave_start
                    .is_some_and(|start| now >= start + self.timing.debounce)
                    && now >= self.last_flush + interval / 2;
                let overdue = now >= self.last_flush + interval * 2;
                if pending && (wave_done || overdue) {
                    self.wave_start = None;
                    self.last_flush = now;
                    self.flushed = self.log.len();
                    self.flush(now)
                } else {
                    Vec::new()
                }
            }
        };
        out.extend(self.report(now));
        out
    }

    /// A report to the coordinator, if this node has been idle long enough.
    fn report(&mut self, now: Duration) -> Vec<(String, Message)> {
        let Some(last_batch) = self.last_batch else {
            return Vec::new(); // nothing ever moved
        };
        let idle = now >= last_batch + self.timing.report_after;
        let due = self
            .last_report
            .is_none_or(|at| now >= at + self.timing.report_every);
        // The coordinator itself has no link to itself, and never reports.
        if !idle || !due || !self.links.contains_key(&self.coordinator) {
            return Vec::new();
        }
        self.last_report = Some(now);
        let settle = self.timing.settle;
        let sent = self
            .links
            .iter()
            .map(|(peer, link)| (peer.clone(), link.settled(now, settle)))
            .collect();
        let expected = self
            .links
            .iter()
            .map(|(peer, link)| (peer.clone(), link.next_expected))
            .collect();
        vec![(self.coordinator.clone(), Message::Report { sent, expected })]
    }

    /// Adds a value to the log; `false` if it was known.
    fn learn(&mut self, value: Value, source: Source) -> bool {
        if !self.seen.insert(value) {
            return false;
        }
        self.log.push((value, source));
        true
    }

    fn link(&mut self, peer: &str) -> &mut Link {
        self.links.entry(peer.to_owned()).or_default()
    }

    /// Sends each neighbour, as one new batch, the values it has not been
    /// offered yet and did not itself send (a direct node relays only its
    /// own clients' values).
    fn flush(&mut self, now: Duration) -> Vec<(String, Message)> {
        let relay = self.role != Role::Direct;
        let mut out = Vec::new();
        for (peer, link) in &mut self.links {
            let values: Vec<Value> = self.log[link.cursor..]
                .iter()
                .filter(|(_, source)| match source {
                    Source::Client => true,
                    Source::Peer(from) => relay && from != peer,
                })
                .map(|(value, _)| *value)
                .collect();
            link.cursor = self.log.len();
            if values.is_empty() {
                continue;
            }
            link.sent.push(values.clone());
            link.sent_at.push(now);
            self.last_batch = Some(now);
            let seq = link.sent.len() as u64;
            out.push((
                peer.clone(),
                Message::Gossip {
                    first: seq,
                    last: seq,
                    values,
                },
            ));
        }
        out
    }
}

/// A resend request for `link`, unless one went out too recently.
fn nack(peer: &str, link: &mut Link, now: Duration, every: Duration) -> Vec<(String, Message)> {
    if link.last_nack.is_some_and(|at| now < at + every) {
        return Vec::new();
    }
    link.last_nack = Some(now);
    vec![(
        peer.to_owned(),
        Message::Nack {
            from: link.next_expected,
        },
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    /// A deterministic cluster: constant latency, 5 ms ticks, clients adding
    /// a value every 20 ms at a random node, and optional cut links.
    struct Cluster {
        nodes: Vec<Gossip>,
        ids: Vec<String>,
        queue: BinaryHeap<Reverse<InFlight>>,
        messages: u64,
        seq: u64,
        latency: Duration,
        /// Until when each value was still missing somewhere: (added, complete).
        added: Vec<(Value, Duration)>,
    }

    /// A message on its way: (arrival, sequence, from, to, message).
    type InFlight = (Duration, u64, usize, usize, MessageKey);

    /// `Message` in the heap, ordered by nothing but insertion.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct MessageKey(Message);
    impl PartialOrd for MessageKey {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for MessageKey {
        fn cmp(&self, _: &Self) -> std::cmp::Ordering {
            std::cmp::Ordering::Equal
        }
    }

    impl Cluster {
        fn new(n: usize, interval_ms: u64) -> Self {
            let ids: Vec<String> = (1..=n).map(|i| format!("n{i}")).collect();
            let timing = Timing::with_interval(Duration::from_millis(interval_ms));
            Cluster {
                nodes: ids.iter().map(|id| Gossip::new(id, &ids, timing)).collect(),
                ids,
                queue: BinaryHeap::new(),
                messages: 0,
                seq: 0,
                latency: Duration::from_millis(100),
                added: Vec::new(),
            }
        }

        fn index(&self, id: &str) -> usize {
            self.ids.iter().position(|i| i == id).unwrap()
        }

        fn send(&mut self, from: usize, out: Vec<(String, Message)>, now: Duration) {
            for (to, message) in out {
                self.messages += 1;
                self.seq += 1;
                let to = self.index(&to);
                self.queue.push(Reverse((
                    now + self.latency,
                    self.seq,
                    from,
                    to,
                    MessageKey(message),
                )));
            }
        }

        /// Runs until `end`; `cut(now, from, to)` drops a message.
        fn run(
            &mut self,
            end: Duration,
            add_until: Duration,
            rng: &mut fastrand::Rng,
            cut: impl Fn(Duration, usize, usize) -> bool,
        ) {
            let mut now = Duration::ZERO;
            let mut next_add = Duration::ZERO;
            let mut value = self.added.len() as u64;
            while now < end {
                while let Some(Reverse((at, ..))) = self.queue.peek() {
                    if *at > now {
                        break;
                    }
                    let Reverse((_, _, from, to, MessageKey(message))) = self.queue.pop().unwrap();
                    if cut(now, from, to) {
                        continue;
                    }
                    let from_id = self.ids[from].clone();
                    let out = self.nodes[to].receive(&from_id, message, now);
                    self.send(to, out, now);
                }
                if now >= next_add && now < add_until {
                    let at = rng.usize(..self.nodes.len());
                    let out = self.nodes[at].add(value, now);
                    self.send(at, out, now);
                    self.added.push((value, now));
                    value += 1;
                    next_add = now + Duration::from_millis(20);
                }
                for i in 0..self.nodes.len() {
                    let out = self.nodes[i].tick(now);
                    self.send(i, out, now);
                }
                now += Duration::from_millis(5);
            }
        }

        fn converged(&self) -> bool {
            let all: HashSet<Value> = self.added.iter().map(|(v, _)| *v).collect();
            self.nodes
                .iter()
                .all(|n| n.values().collect::<HashSet<_>>() == all)
        }
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_star_delivers_everything_in_about_two_hops_plus_a_batch() {
        let mut cluster = Cluster::new(25, 150);
        cluster.run(
            secs(30),
            secs(20),
            &mut fastrand::Rng::with_seed(1),
            |_, _, _| false,
        );
        assert!(cluster.converged());
        let values = cluster.added.len() as f64;
        // Per 150 ms interval: the hub's 24 messages and about one per active
        // leaf; heartbeats only at the end.
        let per_value = cluster.messages as f64 / values;
        assert!(per_value < 4.5, "{per_value} messages per value");
    }

    #[test]
    fn direct_mode_costs_one_message_per_peer_and_value() {
        let mut cluster = Cluster::new(5, 0);
        cluster.run(
            secs(15),
            secs(5),
            &mut fastrand::Rng::with_seed(2),
            |_, _, _| false,
        );
        assert!(cluster.converged());
        let values = cluster.added.len() as u64;
        let heartbeats = 5 * 4 * 2; // every link announces twice in the 10 s quiet
        assert!(
            cluster.messages <= values * 4 + heartbeats,
            "{} messages",
            cluster.messages
        );
        assert!(cluster.messages >= values * 4);
    }

    #[test]
    fn lost_batches_and_lost_tails_are_repaired() {
        for interval in [0, 150, 500] {
            let mut cluster = Cluster::new(7, interval);
            // n2 and n3 are cut off from everyone from 2 s to 12 s, and all
            // values added in that time stop flowing.
            let cut = |now: Duration, from: usize, to: usize| {
                let isolated = |i: usize| i == 1 || i == 2;
                now >= secs(2) && now < secs(12) && isolated(from) != isolated(to)
            };
            cluster.run(secs(30), secs(10), &mut fastrand::Rng::with_seed(3), cut);
            assert!(cluster.converged(), "interval {interval}: not converged");
        }
    }

    #[test]
    fn a_single_node_sends_nothing() {
        let mut cluster = Cluster::new(1, 100);
        cluster.run(
            secs(3),
            secs(2),
            &mut fastrand::Rng::with_seed(4),
            |_, _, _| false,
        );
        assert!(cluster.converged());
        assert_eq!(cluster.messages, 0);
    }

    #[test]
    fn gaps_are_asked_for_once_per_second() {
        let ids: Vec<String> = vec!["n1".into(), "n2".into()];
        let mut node = Gossip::new("n1", &ids, Timing::with_interval(Duration::ZERO));
        let gap = Message::Gossip {
            first: 3,
            last: 3,
            values: vec![9],
        };
        let out = node.receive("n2", gap.clone(), secs(1));
        assert_eq!(out, vec![("n2".to_owned(), Message::Nack { from: 1 })]);
        assert!(node
            .receive("n2", gap, secs(1) + Duration::from_millis(10))
            .is_empty());
        assert_eq!(
            node.values().collect::<Vec<_>>(),
            [9],
            "values apply even out of order"
        );
        let resend = Message::Gossip {
            first: 1,
            last: 3,
            values: vec![7, 8, 9],
        };
        assert!(node.receive("n2", resend, secs(2)).is_empty());
        assert_eq!(node.values().collect::<Vec<_>>(), [9, 7, 8]);
    }

    #[test]
    fn forged_batch_numbers_change_nothing() {
        let ids: Vec<String> = vec!["n1".into(), "n2".into()];
        let mut node = Gossip::new("n1", &ids, Timing::with_interval(Duration::ZERO));
        for (first, last) in [(1, u64::MAX), (u64::MAX, u64::MAX), (5, 3), (0, 0)] {
            let forged = Message::Gossip {
                first,
                last,
                values: vec![7],
            };
            assert!(node.receive("n2", forged, secs(1)).is_empty());
        }
        assert_eq!(node.values().count(), 0);
        // The link still expects batch 1, and still takes it.
        let honest = Message::Gossip {
            first: 1,
            last: 1,
            values: vec![8],
        };
        assert!(node.receive("n2", honest, secs(2)).is_empty());
        assert_eq!(node.values().collect::<Vec<_>>(), [8]);
        let huge = [
            Message::Nack { from: u64::MAX },
            Message::Resend {
                to: "n2".into(),
                from: u64::MAX,
            },
        ];
        for message in huge {
            assert!(node.receive("n2", message, secs(3)).is_empty());
        }
    }

    #[test]
    fn the_coordinator_has_lost_tails_resent() {
        let ids: Vec<String> = vec!["n1".into(), "n2".into(), "n3".into()];
        let timing = Timing::with_interval(Duration::ZERO);
        let mut n1 = Gossip::new("n1", &ids, timing);
        // n3 sent n2 three batches; n2 has only the first.
        let n3_report = Message::Report {
            sent: vec![("n1".into(), 3), ("n2".into(), 3)],
            expected: vec![("n1".into(), 1), ("n2".into(), 1)],
        };
        let out = n1.receive("n3", n3_report, secs(10));
        // n1 never got n3's batches either: it asks n3 directly.
        assert_eq!(out, vec![("n3".to_owned(), Message::Nack { from: 1 })]);
        let n2_report = Message::Report {
            sent: vec![],
            expected: vec![("n3".into(), 2)],
        };
        let out = n1.receive("n2", n2_report, secs(12));
        assert_eq!(
            out,
            vec![(
                "n3".to_owned(),
                Message::Resend {
                    to: "n2".into(),
                    from: 2
                }
            )]
        );
        // A receiver's report older than the sender's (by more than the
        // settling time) says nothing of the batches the sender counted.
        let mut n1 = Gossip::new("n1", &ids, timing);
        let stale = Message::Report {
            sent: vec![],
            expected: vec![("n3".into(), 2)],
        };
        assert!(n1.receive("n2", stale, secs(5)).is_empty());
        let n3_report = Message::Report {
            sent: vec![("n2".into(), 3)],
            expected: vec![],
        };
        assert!(n1.receive("n3", n3_report, secs(10)).is_empty());
    }

    #[test]
    fn idle_nodes_report_twice_in_ten_quiet_seconds() {
        let ids: Vec<String> = vec!["n1".into(), "n2".into()];
        let mut n2 = Gossip::new("n2", &ids, Timing::with_interval(Duration::ZERO));
        assert_eq!(n2.add(1, secs(20)).len(), 1);
        let reports: usize = (0..2000)
            .map(|ms| n2.tick(secs(20) + Duration::from_millis(ms * 5)).len())
            .sum();
        assert_eq!(reports, 2);
    }
}
