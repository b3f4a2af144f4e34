//! The simulated network, delivering as Maelstrom's does: per-message
//! latency, one receiver per endpoint with head-of-line blocking,
//! partitions checked when a message is taken off its queue, Maelstrom's
//! message counts, and the journal of every message's fate.
//!
//! This file holds the [`Network`] and its delivery (queues, receivers,
//! partitions, nodes that are down, message counts); beside it are the ids
//! it sorts (`endpoint`), the messages it carries (`message`), Maelstrom's
//! own time on a message (`host`), the journal (`journal`) and the faults
//! beyond Maelstrom's (`chaos`).
//!
//! # Delivery
//!
//! Every endpoint (node, client, service) has a queue ordered by delivery
//! deadline, and one receiver. An idle receiver takes the head of its queue
//! at once, checks it against the partitions in force at that moment
//! (dropping it if its receiver holds a grudge against its sender, then
//! taking the next), and holds it until its deadline before handing it
//! over; only then does it take the next. So a message that arrives while
//! the receiver holds another waits behind it even if its own deadline is
//! earlier: a client request (no latency) reaching a node that is waiting
//! on a peer's message (100 ms) waits up to 100 ms. This is what Maelstrom's
//! `net/recv!` does (a thread per node that polls its priority queue, then
//! sleeps until the message's deadline), and it decides the latencies
//! clients see.
//!
//! All times are [`Time`]s on the cluster's clock (durations since its
//! origin), so the network runs the same on real and virtual time.

mod chaos;
mod endpoint;
mod host;
mod journal;
mod message;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;

use crate::config::LatencyDist;
use crate::reach::Time;

pub use chaos::Chaos;
pub use endpoint::{Directory, Endpoint};
pub use host::HostDelay;
pub use message::{Delivery, Packet};

use host::{Cores, Job, Outbox};
use journal::Journal;
use message::Pending;

/// One endpoint's queue and receiver.
#[derive(Debug, Default)]
struct Receiver {
    queue: BinaryHeap<Reverse<Pending>>,
    /// The message taken off the queue, held until its release time.
    holding: Option<(Time, Pending)>,
}

/// Message counts, as Maelstrom's `net` results give them.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Counts {
    #[serde(rename = "send-count")]
    pub send: u64,
    #[serde(rename = "recv-count")]
    pub recv: u64,
    #[serde(rename = "msg-count")]
    pub msgs: u64,
}

/// Counts over all messages, those that involve a client, and the rest.
#[derive(Debug, Default, Clone, Copy)]
pub struct NetStats {
    pub all: Counts,
    pub clients: Counts,
    pub servers: Counts,
}

/// The network between nodes, clients and services.
pub struct Network {
    latency: Duration,
    dist: LatencyDist,
    rng: fastrand::Rng,
    receivers: HashMap<Endpoint, Receiver>,
    /// Receivers holding a message: (release time, message id, endpoint).
    releases: BinaryHeap<Reverse<(Time, u64, Endpoint)>>,
    /// Work waiting for one of Maelstrom's cores (see [`HostDelay`]), by
    /// the time it is ready and then the order it was scheduled in.
    jobs: BinaryHeap<Reverse<(Time, u64, Job)>>,
    next_job: u64,
    next_id: u64,
    /// `(receiver, sender)` pairs of nodes: the receiver drops what the
    /// sender sends it (Jepsen's "grudge"; it need not be symmetric).
    grudge: HashSet<(usize, usize)>,
    /// Nodes that are down (killed): whatever is taken off their queue is
    /// lost.
    down: HashSet<Endpoint>,
    pub stats: NetStats,
    journal: Option<Journal>,
    /// Whether to log each send and each delivery on stderr
    /// (`--log-net-send`, `--log-net-recv`).
    log: (bool, bool),
    /// Faults beyond Maelstrom's, on messages between servers.
    chaos: Chaos,
    /// Maelstrom's own time on a message before it enters the network.
    host: HostDelay,
    /// Messages on their way into the network (see [`HostDelay`]), ordered
    /// by the time they enter it (their `deadline` here) and by the order
    /// they were written in (their `id` here, until the network numbers
    /// them).
    staged: BinaryHeap<Reverse<Pending>>,
    next_staged: u64,
    /// Each node's output thread: the lines it has yet to parse.
    outboxes: HashMap<usize, Outbox>,
    cores: Cores,
}

impl Network {
    pub fn new(latency_ms: f64, dist: LatencyDist, seed: u64) -> Self {
        Network {
            latency: Duration::from_secs_f64(latency_ms / 1000.0),
            dist,
            rng: fastrand::Rng::with_seed(seed),
            receivers: HashMap::new(),
            releases: BinaryHeap::new(),
            jobs: BinaryHeap::new(),
            next_job: 0,
            next_id: 0,
            grudge: HashSet::new(),
            down: HashSet::new(),
            stats: NetStats::default(),
            journal: None,
            log: (false, false),
            chaos: Chaos::default(),
            host: HostDelay::default(),
            staged: BinaryHeap::new(),
            next_staged: 0,
            outboxes: HashMap::new(),
            cores: Cores::default(),
        }
    }

    /// Logs every message sent (`send`) and delivered (`recv`) on stderr,
    /// as Maelstrom's `--log-net-send` and `--log-net-recv` do.
    pub fn log_to_stderr(&mut self, send: bool, recv: bool) {
        self.log = (send, recv);
    }

    /// Sends `packet`, written at `now` by a client or a service: a
    /// client's request enters the network after [`HostDelay::request_ms`],
    /// anything else at once; then it is counted, numbered and queued.
    pub fn send(&mut self, packet: Packet, now: Time) {
        let delay = if packet.src.is_client() {
            HostDelay::draw(&mut self.rng, self.host.request_ms)
        } else {
            Duration::ZERO
        };
        self.stage(packet, now, now + delay);
    }

    /// Transmits `packet` at `at` (at once if that is not after `now`).
    fn stage(&mut self, packet: Packet, now: Time, at: Time) {
        if at <= now {
            self.transmit(packet, now);
            return;
        }
        let seq = self.next_staged;
        self.next_staged += 1;
        self.staged.push(Reverse(Pending {
            deadline: at,
            id: seq,
            sent: now,
            packet,
        }));
    }

    /// Puts `packet` into the network at `now`: counted, given the next
    /// message id, and queued for its receiver with a deadline after its
    /// latency. Messages to and from clients take no time; every other hop
    /// (node to node, node to service) takes a latency drawn from the
    /// distribution. Returns the message id.
    fn transmit(&mut self, packet: Packet, now: Time) -> u64 {
        let involves_client = packet.src.is_client() || packet.dest.is_client();
        if !involves_client && self.chaos != Chaos::default() {
            if self.chaos.duplicate > 0.0 && self.rng.f64() < self.chaos.duplicate {
                let lost = self.chaos.loss > 0.0 && self.rng.f64() < self.chaos.loss;
                self.enqueue(packet.clone(), now, lost);
            }
            let lost = self.chaos.loss > 0.0 && self.rng.f64() < self.chaos.loss;
            return self.enqueue(packet, now, lost);
        }
        self.enqueue(packet, now, false)
    }

    /// Counts and queues one message (or journals it lost at once).
    fn enqueue(&mut self, packet: Packet, now: Time, lost: bool) -> u64 {
        let involves_client = packet.src.is_client() || packet.dest.is_client();
        self.stats.all.send += 1;
        self.stats.all.msgs += 1;
        let class = if involves_client {
            &mut self.stats.clients
        } else {
            &mut self.stats.servers
        };
        class.send += 1;
        class.msgs += 1;
        let mut delay = if involves_client {
            Duration::ZERO
        } else {
            self.sample_latency()
        };
        if !involves_client
            && self.chaos.delay_spikes > 0.0
            && self.rng.f64() < self.chaos.delay_spikes
        {
            delay += self.latency.max(Duration::from_millis(10)) * 10;
        }
        let id = self.next_id;
        self.next_id += 1;
        if self.log.0 {
            crate::console::stderr(&format!(":send {id} {}\n", packet.line));
        }
        if lost {
            if let Some(journal) = &mut self.journal {
                let pending = Pending {
                    deadline: now,
                    id,
                    sent: now,
                    packet,
                };
                journal.record(&pending, "dropped", Some(now));
            }
            return id;
        }
        let dest = packet.dest;
        let receiver = self.receivers.entry(dest).or_default();
        receiver.queue.push(Reverse(Pending {
            deadline: now + delay,
            id,
            sent: now,
            packet,
        }));
        if receiver.holding.is_none() {
            self.take(dest, now);
        }
        id
    }

    /// `dest`'s receiver takes the head of its queue at `now`: dropped if
    /// its receiver holds a grudge against its sender (and the next one
    /// taken), else held until its deadline.
    fn take(&mut self, dest: Endpoint, now: Time) {
        let Some(receiver) = self.receivers.get_mut(&dest) else {
            return;
        };
        while let Some(Reverse(pending)) = receiver.queue.pop() {
            // A receiver freed at `now` takes a message no earlier than it
            // was sent (when the engine delivers late, `now` is the past).
            let now = now.max(pending.sent);
            let cut = match (pending.packet.src, dest) {
                (Endpoint::Node(from), Endpoint::Node(to)) => self.grudge.contains(&(to, from)),
                _ => false,
            };
            let dropped = cut || self.down.contains(&dest);
            if dropped {
                if let Some(journal) = &mut self.journal {
                    journal.record(&pending, "dropped", Some(now));
                }
                continue;
            }
            match self.host.wake_time(pending.deadline, now) {
                Some(awake) if self.host.cores > 0 => {
                    receiver.holding = Some((awake, pending));
                    let id = receiver.holding.as_ref().map_or(0, |(_, p)| p.id);
                    self.schedule(awake, Job::Wake { id, dest });
                }
                wake => {
                    let release = wake.unwrap_or(now);
                    self.releases.push(Reverse((release, pending.id, dest)));
                    receiver.holding = Some((release, pending));
                }
            }
            return;
        }
    }

    /// When the next message is handed over, if any is held.
    pub fn next_due(&self) -> Option<Time> {
        let release = self.releases.peek().map(|Reverse((at, ..))| *at);
        let job = self.jobs.peek().map(|Reverse((at, ..))| *at);
        let staged = self.staged.peek().map(|Reverse(s)| s.deadline);
        let done = self.cores.next_done();
        [release, job, staged, done].into_iter().flatten().min()
    }

    /// The next message handed over by `now`, in the order of release
    /// times, counted as received; its receiver then takes the next one
    /// at the release time.
    pub fn deliver(&mut self, now: Time) -> Option<Delivery> {
        // Messages enter the network, and work gets a core and gets done,
        // in time order with the releases.
        loop {
            let release = self.releases.peek().map(|Reverse((at, ..))| *at);
            let events = [
                self.staged.peek().map(|Reverse(s)| s.deadline),
                self.cores.next_done(),
                self.jobs.peek().map(|Reverse((at, ..))| *at),
            ];
            let Some((kind, at)) = (0..events.len())
                .filter_map(|k| events[k].map(|at| (k, at)))
                .min_by_key(|&(k, at)| (at, k))
            else {
                break;
            };
            if at > now || release.is_some_and(|r| r < at) {
                break;
            }
            match kind {
                0 => {
                    let Reverse(Pending { packet, .. }) = self.staged.pop().expect("peeked");
                    self.transmit(packet, at);
                }
                1 => {
                    let (done, job) = self.cores.finish().expect("work is running");
                    self.finish_job(done, job);
                }
                _ => {
                    let Reverse((ready, _, job)) = self.jobs.pop().expect("peeked");
                    self.start_job(ready, job);
                }
            }
        }
        let Reverse((release, _, dest)) = *self.releases.peek()?;
        if release > now {
            return None;
        }
        self.releases.pop();
        let (_, pending) = self
            .receivers
            .get_mut(&dest)
            .and_then(|r| r.holding.take())
            .expect("a release is scheduled only for a held message");
        if let Some(journal) = &mut self.journal {
            journal.record(&pending, "received", Some(release));
        }
        if self.log.1 {
            crate::console::stderr(&format!(":recv {} {}\n", pending.id, pending.packet.line));
        }
        self.take(dest, release);
        let id = pending.id;
        Some(Delivery {
            at: release,
            id,
            packet: self.received(pending),
        })
    }

    fn received(&mut self, pending: Pending) -> Packet {
        let packet = pending.packet;
        let involves_client = packet.src.is_client() || packet.dest.is_client();
        self.stats.all.recv += 1;
        if involves_client {
            self.stats.clients.recv += 1;
        } else {
            self.stats.servers.recv += 1;
        }
        packet
    }

    /// Marks `dest` down (a killed node: what is queued for it and what
    /// comes while it is down is lost, journaled as dropped) or up again.
    pub fn set_down(&mut self, dest: Endpoint, down: bool, now: Time) {
        if !down {
            self.down.remove(&dest);
            return;
        }
        self.down.insert(dest);
        let Some(receiver) = self.receivers.get_mut(&dest) else {
            return;
        };
        let mut lost: Vec<Pending> = receiver
            .holding
            .take()
            .map(|(_, p)| p)
            .into_iter()
            .collect();
        lost.extend(
            std::mem::take(&mut receiver.queue)
                .into_iter()
                .map(|Reverse(p)| p),
        );
        self.releases.retain(|Reverse((_, _, d))| *d != dest);
        self.jobs
            .retain(|Reverse((_, _, job))| !matches!(job, Job::Wake { dest: d, .. } if *d == dest));
        self.cores.forget(dest);
        if let Some(journal) = &mut self.journal {
            for pending in &lost {
                journal.record(pending, "dropped", Some(now));
            }
        }
    }

    /// Adds grudges: each `(receiver, sender)` pair drops messages.
    pub fn partition(&mut self, grudges: impl IntoIterator<Item = (usize, usize)>) {
        self.grudge.extend(grudges);
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        self.grudge.clear();
    }

    /// Whether any link is cut.
    pub fn is_partitioned(&self) -> bool {
        !self.grudge.is_empty()
    }

    fn sample_latency(&mut self) -> Duration {
        let mean = self.latency.as_secs_f64() * 1000.0;
        if mean == 0.0 {
            return Duration::ZERO;
        }
        let ms = match self.dist {
            LatencyDist::Constant => mean,
            LatencyDist::Uniform => self.rng.u64(0..(2.0 * mean).ceil() as u64) as f64,
            LatencyDist::Exponential => -mean * (1.0 - self.rng.f64()).ln(),
        };
        Duration::from_millis(ms as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::Service;

    pub(super) fn packet(src: Endpoint, dest: Endpoint) -> Packet {
        Packet {
            src,
            dest,
            line: String::new(),
        }
    }

    pub(super) fn ms(n: u64) -> Time {
        Duration::from_millis(n)
    }

    /// Every delivery up to `now`: (time, from, to).
    pub(super) fn drain(net: &mut Network, now: Time) -> Vec<(Time, Endpoint, Endpoint)> {
        std::iter::from_fn(|| net.deliver(now))
            .map(|d| (d.at, d.packet.src, d.packet.dest))
            .collect()
    }

    #[test]
    fn node_messages_wait_their_latency_and_client_ones_do_not() {
        let mut net = Network::new(100.0, LatencyDist::Constant, 1);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        net.send(packet(Endpoint::Client(1), Endpoint::Node(2)), ms(0));
        assert_eq!(
            drain(&mut net, ms(0)),
            [(ms(0), Endpoint::Client(1), Endpoint::Node(2))]
        );
        assert!(net.deliver(ms(99)).is_none());
        assert_eq!(net.next_due(), Some(ms(100)));
        assert!(net.deliver(ms(100)).is_some());
        assert_eq!(net.stats.servers.send, 1);
        assert_eq!(net.stats.clients.recv, 1);
        assert_eq!(net.stats.all.msgs, 2);
    }

    #[test]
    fn a_client_message_waits_behind_the_message_its_receiver_holds() {
        let mut net = Network::new(100.0, LatencyDist::Constant, 1);
        // n0 → n1 takes 100 ms; n1's receiver holds it from t = 0.
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        // A client request at t = 30 is due at once, but waits behind it.
        net.send(packet(Endpoint::Client(5), Endpoint::Node(1)), ms(30));
        assert!(net.deliver(ms(99)).is_none());
        assert_eq!(
            drain(&mut net, ms(200)),
            [
                (ms(100), Endpoint::Node(0), Endpoint::Node(1)),
                (ms(100), Endpoint::Client(5), Endpoint::Node(1)),
            ]
        );
        // Another node's queue was never blocked.
        net.send(packet(Endpoint::Client(5), Endpoint::Node(2)), ms(210));
        assert_eq!(
            drain(&mut net, ms(210)),
            [(ms(210), Endpoint::Client(5), Endpoint::Node(2))]
        );
    }

    #[test]
    fn an_idle_receiver_takes_the_earliest_deadline_first() {
        let mut net = Network::new(100.0, LatencyDist::Constant, 1);
        // Held from t = 0 until 100; meanwhile two more queue up.
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        net.send(packet(Endpoint::Node(2), Endpoint::Node(1)), ms(50)); // due 150
        net.send(packet(Endpoint::Client(1), Endpoint::Node(1)), ms(60)); // due 60
        let order: Vec<_> = drain(&mut net, ms(1000));
        assert_eq!(
            order,
            [
                (ms(100), Endpoint::Node(0), Endpoint::Node(1)),
                (ms(100), Endpoint::Client(1), Endpoint::Node(1)),
                (ms(150), Endpoint::Node(2), Endpoint::Node(1)),
            ]
        );
    }

    #[test]
    fn partitions_are_checked_when_a_message_is_taken_off_its_queue() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 1);
        // Taken at once (receiver idle), so the later cut does not drop it.
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), ms(0));
        // Queued behind it; taken at t = 10, after the cut: dropped.
        net.send(packet(Endpoint::Node(1), Endpoint::Node(2)), ms(0));
        net.partition([(2, 0), (0, 2), (2, 1), (1, 2)]);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        net.send(packet(Endpoint::Node(2), Endpoint::Client(1)), ms(0));
        net.send(
            packet(Endpoint::Node(2), Endpoint::Service(Service::LinKv)),
            ms(0),
        );
        let delivered: Vec<_> = drain(&mut net, ms(1000))
            .into_iter()
            .map(|(_, src, dest)| (src, dest))
            .collect();
        assert_eq!(
            delivered,
            [
                (Endpoint::Node(2), Endpoint::Client(1)),
                (Endpoint::Node(0), Endpoint::Node(2)),
                (Endpoint::Node(0), Endpoint::Node(1)),
                (Endpoint::Node(2), Endpoint::Service(Service::LinKv)),
            ]
        );
        assert_eq!(net.stats.servers.send, 4);
        assert_eq!(net.stats.servers.recv, 3);
        net.heal();
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), ms(1000));
        assert!(net.deliver(ms(2000)).is_some());
    }

    #[test]
    fn grudges_can_be_one_way() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.partition([(1, 0)]);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        net.send(packet(Endpoint::Node(1), Endpoint::Node(0)), ms(0));
        let delivered: Vec<_> = drain(&mut net, ms(0))
            .into_iter()
            .map(|(_, _, dest)| dest)
            .collect();
        assert_eq!(delivered, [Endpoint::Node(0)]);
    }

    #[test]
    fn messages_to_a_node_that_is_down_are_lost_until_it_is_up() {
        let mut net = Network::new(100.0, LatencyDist::Constant, 1);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        assert_eq!(net.next_id, 2, "each message takes the next id");
        net.set_down(Endpoint::Node(1), true, ms(10));
        assert_eq!(net.next_due(), None);
        net.send(packet(Endpoint::Client(3), Endpoint::Node(1)), ms(20));
        assert!(net.deliver(ms(1000)).is_none());
        net.set_down(Endpoint::Node(1), false, ms(1000));
        net.send(packet(Endpoint::Client(3), Endpoint::Node(1)), ms(1000));
        assert!(net.deliver(ms(1000)).is_some());
        assert_eq!(net.stats.all.send, 4);
        assert_eq!(net.stats.all.recv, 1);
    }

    #[test]
    fn latency_distributions_have_the_asked_mean() {
        for dist in [LatencyDist::Uniform, LatencyDist::Exponential] {
            let mut net = Network::new(100.0, dist, 7);
            let n = 20_000;
            let total: f64 = (0..n).map(|_| net.sample_latency().as_secs_f64()).sum();
            let mean_ms = total / n as f64 * 1000.0;
            assert!((mean_ms - 100.0).abs() < 5.0, "{dist:?}: {mean_ms}");
        }
    }
}
