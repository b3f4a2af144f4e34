//! The simulated network: per-message latency, partitions, Maelstrom's
//! message counts, and the journal of every message.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::config::LatencyDist;

/// Who an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// A node under test, by index.
    Node(usize),
    /// A client, by number (`c7` is 7).
    Client(u64),
    /// One of the bench's services.
    Service(crate::services::Service),
    /// An id nobody has.
    Unknown,
}

/// Sorts ids into endpoints.
#[derive(Debug, Clone)]
pub struct Directory {
    nodes: Vec<String>,
}

impl Directory {
    pub fn new(nodes: Vec<String>) -> Self {
        Directory { nodes }
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    pub fn resolve(&self, id: &str) -> Endpoint {
        if let Some(index) = self.nodes.iter().position(|n| n == id) {
            return Endpoint::Node(index);
        }
        if let Some(number) = id.strip_prefix('c').and_then(|n| n.parse().ok()) {
            return Endpoint::Client(number);
        }
        crate::services::Service::from_id(id).map_or(Endpoint::Unknown, Endpoint::Service)
    }
}

/// A message in flight: who from, who to, and the whole line.
#[derive(Debug)]
pub struct Packet {
    pub src: Endpoint,
    pub dest: Endpoint,
    pub line: String,
}

struct Pending {
    at: Instant,
    seq: u64,
    sent: Instant,
    packet: Packet,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
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
    queue: BinaryHeap<Reverse<Pending>>,
    seq: u64,
    /// `(receiver, sender)` pairs of nodes: the receiver drops what the
    /// sender sends it (Jepsen's "grudge"; it need not be symmetric).
    grudge: HashSet<(usize, usize)>,
    pub stats: NetStats,
    journal: Option<Journal>,
}

/// Where each message's fate is written, one JSON object a line:
/// `{"sent": ns, "fate": "received" | "dropped" | "in-flight", "at": ns,
/// "message": {...}}`, times in nanoseconds from the origin, the start of
/// the main phase as in the history (negative before it, as for `init`).
/// Until the origin is set, entries wait in memory.
struct Journal {
    out: BufWriter<Box<dyn Write>>,
    origin: Option<Instant>,
    early: Vec<Entry>,
}

/// One message's fate.
struct Entry {
    sent: Instant,
    fate: &'static str,
    at: Option<Instant>,
    line: String,
}

impl Journal {
    fn record(&mut self, pending: &Pending, fate: &'static str, at: Option<Instant>) {
        match self.origin {
            Some(origin) => {
                Self::write(
                    &mut self.out,
                    origin,
                    pending.sent,
                    fate,
                    at,
                    &pending.packet.line,
                );
            }
            None => self.early.push(Entry {
                sent: pending.sent,
                fate,
                at,
                line: pending.packet.line.clone(),
            }),
        }
    }

    fn set_origin(&mut self, origin: Instant) {
        self.origin = Some(origin);
        for e in std::mem::take(&mut self.early) {
            Self::write(&mut self.out, origin, e.sent, e.fate, e.at, &e.line);
        }
    }

    fn write(
        out: &mut impl Write,
        origin: Instant,
        sent: Instant,
        fate: &str,
        at: Option<Instant>,
        line: &str,
    ) {
        let nanos = |t: Instant| match t.checked_duration_since(origin) {
            Some(after) => after.as_nanos() as i128,
            None => -(origin.duration_since(t).as_nanos() as i128),
        };
        let at = at.map_or_else(|| "null".to_owned(), |t| nanos(t).to_string());
        // The line is a message the bench parsed or built: valid JSON.
        let _ = writeln!(
            out,
            r#"{{"sent":{},"fate":"{fate}","at":{at},"message":{line}}}"#,
            nanos(sent)
        );
    }
}

impl Network {
    pub fn new(latency_ms: f64, dist: LatencyDist, seed: u64) -> Self {
        Network {
            latency: Duration::from_secs_f64(latency_ms / 1000.0),
            dist,
            rng: fastrand::Rng::with_seed(seed),
            queue: BinaryHeap::new(),
            seq: 0,
            grudge: HashSet::new(),
            stats: NetStats::default(),
            journal: None,
        }
    }

    /// Writes the fate of every message from now on to `out` (see
    /// [`Network::set_journal_origin`] and [`Network::close_journal`]).
    pub fn journal_to(&mut self, out: impl Write + 'static) {
        self.journal = Some(Journal {
            out: BufWriter::new(Box::new(out)),
            origin: None,
            early: Vec::new(),
        });
    }

    /// Sets the journal's time 0 (the start of the main phase); what was
    /// recorded before is written now, with negative times.
    pub fn set_journal_origin(&mut self, origin: Instant) {
        if let Some(journal) = &mut self.journal {
            journal.set_origin(origin);
        }
    }

    /// Records the messages still in flight and flushes the journal (whose
    /// origin defaults to now if it was never set).
    pub fn close_journal(&mut self) -> std::io::Result<()> {
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        if journal.origin.is_none() {
            journal.set_origin(Instant::now());
        }
        let mut left: Vec<_> = self.queue.drain().map(|Reverse(p)| p).collect();
        left.sort();
        for pending in &left {
            journal.record(pending, "in-flight", None);
        }
        journal.out.flush()
    }

    /// Sends `packet` at `now`: counted, and queued for delivery after its
    /// latency. Messages to and from clients take no time; every other hop
    /// (node to node, node to service) takes a latency drawn from the
    /// distribution, in whole milliseconds, as Maelstrom does.
    pub fn send(&mut self, packet: Packet, now: Instant) {
        let involves_client =
            matches!(packet.src, Endpoint::Client(_)) || matches!(packet.dest, Endpoint::Client(_));
        self.stats.all.send += 1;
        self.stats.all.msgs += 1;
        let class = if involves_client {
            &mut self.stats.clients
        } else {
            &mut self.stats.servers
        };
        class.send += 1;
        class.msgs += 1;
        let delay = if involves_client {
            Duration::ZERO
        } else {
            self.sample_latency()
        };
        self.seq += 1;
        self.queue.push(Reverse(Pending {
            at: now + delay,
            seq: self.seq,
            sent: now,
            packet,
        }));
    }

    /// When the next message is due, if any is queued.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse(pending)| pending.at)
    }

    /// The next message due by `now`, counted as received. A message is
    /// judged against the partitions in force when it arrives, not when it
    /// was sent: one its receiver holds a grudge against is dropped.
    pub fn deliver(&mut self, now: Instant) -> Option<Packet> {
        loop {
            if self.next_due()? > now {
                return None;
            }
            let Reverse(pending) = self.queue.pop()?;
            let dropped = match (pending.packet.src, pending.packet.dest) {
                (Endpoint::Node(from), Endpoint::Node(to)) => self.grudge.contains(&(to, from)),
                _ => false,
            };
            if let Some(journal) = &mut self.journal {
                let fate = if dropped { "dropped" } else { "received" };
                journal.record(&pending, fate, Some(pending.at));
            }
            if dropped {
                continue;
            }
            return Some(self.received(pending.packet));
        }
    }

    fn received(&mut self, packet: Packet) -> Packet {
        let involves_client =
            matches!(packet.src, Endpoint::Client(_)) || matches!(packet.dest, Endpoint::Client(_));
        self.stats.all.recv += 1;
        if involves_client {
            self.stats.clients.recv += 1;
        } else {
            self.stats.servers.recv += 1;
        }
        packet
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

    fn packet(src: Endpoint, dest: Endpoint) -> Packet {
        Packet {
            src,
            dest,
            line: String::new(),
        }
    }

    #[test]
    fn node_messages_wait_their_latency_and_client_ones_do_not() {
        let mut net = Network::new(100.0, LatencyDist::Constant, 1);
        let t0 = Instant::now();
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), t0);
        net.send(packet(Endpoint::Client(1), Endpoint::Node(1)), t0);
        let first = net.deliver(t0).expect("client hop is immediate");
        assert_eq!(first.src, Endpoint::Client(1));
        assert!(net.deliver(t0 + Duration::from_millis(99)).is_none());
        assert!(net.deliver(t0 + Duration::from_millis(100)).is_some());
        assert_eq!(net.stats.servers.send, 1);
        assert_eq!(net.stats.clients.recv, 1);
        assert_eq!(net.stats.all.msgs, 2);
    }

    #[test]
    fn partitions_drop_messages_on_arrival_between_nodes_only() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 1);
        let t0 = Instant::now();
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), t0); // in flight when cut
        net.partition([(2, 0), (0, 2), (2, 1), (1, 2)]);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), t0);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), t0);
        net.send(packet(Endpoint::Node(2), Endpoint::Client(1)), t0);
        net.send(
            packet(
                Endpoint::Node(2),
                Endpoint::Service(crate::services::Service::LinKv),
            ),
            t0,
        );
        let later = t0 + Duration::from_secs(1);
        let delivered: Vec<_> = std::iter::from_fn(|| net.deliver(later))
            .map(|p| p.dest)
            .collect();
        assert_eq!(
            delivered,
            [
                Endpoint::Client(1),
                Endpoint::Node(1),
                Endpoint::Service(crate::services::Service::LinKv)
            ]
        );
        assert_eq!(net.stats.servers.send, 4);
        assert_eq!(net.stats.servers.recv, 2);
        net.heal();
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), later);
        assert!(net.deliver(later + Duration::from_secs(1)).is_some());
    }

    #[test]
    fn grudges_can_be_one_way() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        let t0 = Instant::now();
        net.partition([(1, 0)]);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), t0);
        net.send(packet(Endpoint::Node(1), Endpoint::Node(0)), t0);
        let delivered: Vec<_> = std::iter::from_fn(|| net.deliver(t0))
            .map(|p| p.dest)
            .collect();
        assert_eq!(delivered, [Endpoint::Node(0)]);
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
