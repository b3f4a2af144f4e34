//! The simulated network, delivering as Maelstrom's does: per-message
//! latency, one receiver per endpoint with head-of-line blocking,
//! partitions checked when a message is taken off its queue, Maelstrom's
//! message counts, and the journal of every message's fate.
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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::{BufWriter, Write};
use std::time::Duration;

use serde::Serialize;

use crate::config::LatencyDist;
use crate::reach::Time;

/// Who an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

impl Endpoint {
    fn is_client(self) -> bool {
        matches!(self, Endpoint::Client(_))
    }
}

/// Sorts ids into endpoints.
#[derive(Debug, Clone)]
pub struct Directory {
    nodes: Vec<String>,
    index: HashMap<String, usize>,
}

impl Directory {
    pub fn new(nodes: Vec<String>) -> Self {
        let index = nodes
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i))
            .collect();
        Directory { nodes, index }
    }

    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    pub fn resolve(&self, id: &str) -> Endpoint {
        if let Some(&index) = self.index.get(id) {
            return Endpoint::Node(index);
        }
        if let Some(number) = id.strip_prefix('c').and_then(|n| n.parse().ok()) {
            return Endpoint::Client(number);
        }
        crate::services::Service::from_id(id).map_or(Endpoint::Unknown, Endpoint::Service)
    }
}

/// A message in flight: who from, who to, and the whole line.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub src: Endpoint,
    pub dest: Endpoint,
    pub line: String,
}

/// A message handed over to its receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When it was handed over.
    pub at: Time,
    /// Its message id (Maelstrom's top-level `id`).
    pub id: u64,
    /// The message.
    pub packet: Packet,
}

/// A message queued for its receiver.
#[derive(Debug)]
struct Pending {
    deadline: Time,
    /// The network's message id (Maelstrom's top-level `id`), which also
    /// orders messages with the same deadline.
    id: u64,
    sent: Time,
    packet: Packet,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.id) == (other.deadline, other.id)
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
        (self.deadline, self.id).cmp(&(other.deadline, other.id))
    }
}

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
    /// Receivers asleep until a message's deadline that then wait for a
    /// core (see [`HostDelay`]): (wake time, message id, endpoint).
    wakes: BinaryHeap<Reverse<(Time, u64, Endpoint)>>,
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
    /// When each node's output thread is free again.
    reader_free: HashMap<usize, Time>,
    cores: Cores,
}

/// Maelstrom's own time on a message, beyond the network's latency.
///
/// Maelstrom's JVM reads, parses and sends the lines a node prints on one
/// thread per node, a client's request leaves once its worker thread runs,
/// and a receiver that sleeps until a message's deadline must wake up and
/// get a core before it hands the message over. The bench models each:
///
/// - a node's output thread, idle, takes an exponential time of mean
///   `line_ms` to wake for a line; lines that queue behind it follow
///   [`HostDelay::LINE_PARSE`] apart;
/// - a client's request takes an exponential time of mean `request_ms`;
/// - a receiver waking from a sleep (sleeps are whole milliseconds,
///   rounded down, as `Thread/sleep` takes them) waits for one of `cores`
///   shared cores and holds it for an exponential time of mean `wake_ms`.
///   So when a wave of gossip reaches many nodes at once, their inboxes
///   stay blocked a few milliseconds past the deadline, while traffic
///   spread out in time meets little wait.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostDelay {
    /// Mean time for an idle node output thread to take a line.
    pub line_ms: f64,
    /// Mean time for a client's request to leave.
    pub request_ms: f64,
    /// Mean time a waking receiver holds a core.
    pub wake_ms: f64,
    /// The cores waking receivers share (0: none is modelled, and sleeps
    /// end at the deadline).
    pub cores: usize,
}

impl HostDelay {
    /// What each line queued behind another on a node's output thread
    /// adds.
    pub const LINE_PARSE: Duration = Duration::from_micros(50);

    /// Maelstrom's times on a 2-core machine running `nodes` nodes, fitted
    /// to the runs it recorded on one (`shared/maelstrom-reference/`; see
    /// README, "Maelstrom's own time"): a client round trip that meets no
    /// queue takes about 0.4 ms with 2 nodes (the kafka and txn runs) and
    /// 2 ms with 25 (the broadcast runs), and the times grow with the
    /// number of nodes, each of which costs the JVM three threads and the
    /// machine a process.
    pub fn maelstrom(nodes: usize) -> Self {
        let per_hop = 0.03 + 0.035 * nodes as f64;
        HostDelay {
            line_ms: per_hop,
            request_ms: per_hop,
            wake_ms: per_hop / 2.0,
            cores: 2,
        }
    }

    /// When a receiver that takes a message due at `deadline` at `now`
    /// wakes up: `None` if it does not sleep (the message is due, or due in
    /// less than the whole millisecond `Thread/sleep` would take), else
    /// when its sleep ends. With no cores modelled it sleeps exactly.
    fn wake_time(&self, deadline: Time, now: Time) -> Option<Time> {
        let sleep = deadline.checked_sub(now).filter(|s| !s.is_zero())?;
        if self.cores == 0 {
            return Some(deadline);
        }
        let sleep = Duration::from_millis(sleep.as_millis() as u64);
        (!sleep.is_zero()).then(|| now + sleep)
    }

    /// An exponential draw of mean `mean_ms`.
    fn draw(rng: &mut fastrand::Rng, mean_ms: f64) -> Duration {
        if mean_ms <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(-mean_ms * (1.0 - rng.f64()).ln() / 1000.0)
    }
}

/// The cores that receivers waking from a sleep share.
#[derive(Debug, Default)]
struct Cores {
    /// When each core is free.
    free: Vec<Time>,
}

impl Cores {
    /// When a receiver that wakes at `awake` (in the order of wake times)
    /// has had its turn on a core.
    fn serve(&mut self, host: &HostDelay, rng: &mut fastrand::Rng, awake: Time) -> Time {
        self.free.resize(host.cores.max(1), Time::ZERO);
        let core = (0..self.free.len())
            .min_by_key(|&i| self.free[i])
            .expect("at least one core");
        let done = self.free[core].max(awake) + HostDelay::draw(rng, host.wake_ms);
        self.free[core] = done;
        done
    }
}

/// Faults beyond Maelstrom's on messages between servers (never on client
/// messages): each a probability per message.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Chaos {
    /// The message is lost (journaled as dropped).
    pub loss: f64,
    /// The message is delivered twice (the copy has its own id).
    pub duplicate: f64,
    /// The message takes ten times the mean latency more.
    pub delay_spikes: f64,
}

/// Where each message's fate is written, one JSON object a line:
/// `{"id": n, "sent": ns, "fate": "received" | "dropped" | "in-flight",
/// "at": ns, "message": {...}}`, times in nanoseconds from the origin, the
/// start of the main phase as in the history (negative before it, as for
/// `init`). A dropped message's `at` is when its receiver took it off the
/// queue. Until the origin is set, entries wait in memory.
struct Journal {
    out: BufWriter<Box<dyn Write>>,
    origin: Option<Time>,
    early: Vec<Entry>,
    failed: Option<std::io::Error>,
}

/// One message's fate.
struct Entry {
    id: u64,
    sent: Time,
    fate: &'static str,
    at: Option<Time>,
    line: String,
}

impl Journal {
    fn record(&mut self, pending: &Pending, fate: &'static str, at: Option<Time>) {
        let entry = Entry {
            id: pending.id,
            sent: pending.sent,
            fate,
            at,
            line: String::new(),
        };
        match self.origin {
            Some(origin) => self.write(origin, &entry, &pending.packet.line),
            None => self.early.push(Entry {
                line: pending.packet.line.clone(),
                ..entry
            }),
        }
    }

    fn set_origin(&mut self, origin: Time) {
        self.origin = Some(origin);
        for entry in std::mem::take(&mut self.early) {
            self.write(origin, &entry, &entry.line);
        }
    }

    fn write(&mut self, origin: Time, entry: &Entry, line: &str) {
        if self.failed.is_some() {
            return;
        }
        let nanos = |t: Time| t.as_nanos() as i128 - origin.as_nanos() as i128;
        let at = entry
            .at
            .map_or_else(|| "null".to_owned(), |t| nanos(t).to_string());
        // The line is a message the bench parsed or built: valid JSON.
        if let Err(err) = writeln!(
            self.out,
            r#"{{"id":{},"sent":{},"fate":"{}","at":{at},"message":{line}}}"#,
            entry.id,
            nanos(entry.sent),
            entry.fate,
        ) {
            self.failed = Some(err);
        }
    }
}

impl Network {
    pub fn new(latency_ms: f64, dist: LatencyDist, seed: u64) -> Self {
        Network {
            latency: Duration::from_secs_f64(latency_ms / 1000.0),
            dist,
            rng: fastrand::Rng::with_seed(seed),
            receivers: HashMap::new(),
            releases: BinaryHeap::new(),
            wakes: BinaryHeap::new(),
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
            reader_free: HashMap::new(),
            cores: Cores::default(),
        }
    }

    /// Delays messages on their way into the network as Maelstrom's own
    /// threads do (see [`HostDelay`]).
    pub fn set_host_delay(&mut self, host: HostDelay) {
        self.host = host;
    }

    /// Applies `chaos` to every message between servers sent from now on
    /// (`Chaos::default()` to stop).
    pub fn set_chaos(&mut self, chaos: Chaos) {
        self.chaos = chaos;
    }

    /// Logs every message sent (`send`) and delivered (`recv`) on stderr,
    /// as Maelstrom's `--log-net-send` and `--log-net-recv` do.
    pub fn log_to_stderr(&mut self, send: bool, recv: bool) {
        self.log = (send, recv);
    }

    /// Writes the fate of every message from now on to `out` (see
    /// [`Network::set_journal_origin`] and [`Network::close_journal`]).
    pub fn journal_to(&mut self, out: impl Write + 'static) {
        self.journal = Some(Journal {
            out: BufWriter::new(Box::new(out)),
            origin: None,
            early: Vec::new(),
            failed: None,
        });
    }

    /// Sets the journal's time 0 (the start of the main phase); what was
    /// recorded before is written now, with negative times.
    pub fn set_journal_origin(&mut self, origin: Time) {
        if let Some(journal) = &mut self.journal {
            journal.set_origin(origin);
        }
    }

    /// Records the messages still in flight (queued or held) and flushes
    /// the journal (whose origin defaults to `now` if it was never set).
    /// The first write error, if any, is returned.
    pub fn close_journal(&mut self, now: Time) -> std::io::Result<()> {
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        if journal.origin.is_none() {
            journal.set_origin(now);
        }
        let mut left: Vec<Pending> = Vec::new();
        for receiver in self.receivers.values_mut() {
            left.extend(receiver.holding.take().map(|(_, p)| p));
            left.extend(
                std::mem::take(&mut receiver.queue)
                    .into_iter()
                    .map(|Reverse(p)| p),
            );
        }
        left.sort_by_key(|p| p.id);
        for pending in &left {
            journal.record(pending, "in-flight", None);
        }
        match journal.failed.take() {
            Some(err) => Err(err),
            None => journal.out.flush(),
        }
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

    /// Sends a line that node `node` printed (whatever its `src` says),
    /// once the node's output thread takes it (see [`HostDelay`]).
    pub fn send_printed(&mut self, node: usize, packet: Packet, now: Time) {
        if self.host.line_ms == 0.0 {
            self.transmit(packet, now);
            return;
        }
        let at = match self.reader_free.get(&node) {
            Some(&free) if free > now => free + HostDelay::LINE_PARSE,
            _ => now + HostDelay::draw(&mut self.rng, self.host.line_ms),
        };
        self.reader_free.insert(node, at);
        self.stage(packet, now, at);
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
                    self.wakes.push(Reverse((awake, pending.id, dest)));
                    receiver.holding = Some((awake, pending));
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
        let wake = self.wakes.peek().map(|Reverse((at, ..))| *at);
        let staged = self.staged.peek().map(|Reverse(s)| s.deadline);
        [release, wake, staged].into_iter().flatten().min()
    }

    /// The next message handed over by `now`, in the order of release
    /// times, counted as received; its receiver then takes the next one
    /// at the release time.
    pub fn deliver(&mut self, now: Time) -> Option<Delivery> {
        // Messages enter the network, and sleepers wake and get a core, in
        // time order with the releases.
        loop {
            let release = self.releases.peek().map(|Reverse((at, ..))| *at);
            let wake = self.wakes.peek().map(|Reverse((at, ..))| *at);
            let staged = self.staged.peek().map(|Reverse(s)| s.deadline);
            let before_release = |t: Time| t <= now && release.is_none_or(|r| t <= r);
            match (staged, wake) {
                (Some(at), _) if before_release(at) && wake.is_none_or(|w| at <= w) => {
                    let Reverse(Pending { packet, .. }) = self.staged.pop().expect("peeked");
                    self.transmit(packet, at);
                }
                (_, Some(awake)) if before_release(awake) => {
                    let Reverse((_, id, dest)) = self.wakes.pop().expect("peeked");
                    let done = self.cores.serve(&self.host, &mut self.rng, awake);
                    if let Some((at, _)) = self
                        .receivers
                        .get_mut(&dest)
                        .and_then(|r| r.holding.as_mut())
                    {
                        *at = done;
                    }
                    self.releases.push(Reverse((done, id, dest)));
                }
                _ => break,
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
        self.wakes.retain(|Reverse((_, _, d))| *d != dest);
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

    fn packet(src: Endpoint, dest: Endpoint) -> Packet {
        Packet {
            src,
            dest,
            line: String::new(),
        }
    }

    fn ms(n: u64) -> Time {
        Duration::from_millis(n)
    }

    /// Every delivery up to `now`: (time, from, to).
    fn drain(net: &mut Network, now: Time) -> Vec<(Time, Endpoint, Endpoint)> {
        std::iter::from_fn(|| net.deliver(now))
            .map(|d| (d.at, d.packet.src, d.packet.dest))
            .collect()
    }

    fn host(line_ms: f64, request_ms: f64, wake_ms: f64, cores: usize) -> HostDelay {
        HostDelay {
            line_ms,
            request_ms,
            wake_ms,
            cores,
        }
    }

    #[test]
    fn a_nodes_lines_enter_the_network_one_after_another() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.set_host_delay(host(1.0, 0.0, 0.0, 0));
        for _ in 0..3 {
            net.send_printed(0, packet(Endpoint::Node(0), Endpoint::Client(1)), ms(10));
        }
        assert!(net.deliver(ms(10)).is_none(), "nothing enters at once");
        let times: Vec<Time> = drain(&mut net, ms(1000)).iter().map(|d| d.0).collect();
        assert_eq!(times.len(), 3);
        assert!(times[0] > ms(10));
        assert_eq!(times[1] - times[0], HostDelay::LINE_PARSE);
        assert_eq!(times[2] - times[1], HostDelay::LINE_PARSE);
        // Another node's output thread is not held up by this one's.
        net.send_printed(1, packet(Endpoint::Node(1), Endpoint::Client(1)), ms(2000));
        net.send_printed(0, packet(Endpoint::Node(0), Endpoint::Client(1)), ms(2000));
        let times: Vec<Time> = drain(&mut net, ms(3000)).iter().map(|d| d.0).collect();
        assert_eq!(times.len(), 2);
        assert_ne!(times[1] - times[0], HostDelay::LINE_PARSE);
    }

    #[test]
    fn host_delays_average_their_means() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 5);
        net.set_host_delay(host(0.0, 2.0, 0.0, 0));
        let mut total = Duration::ZERO;
        for i in 0..2000 {
            let at = ms(10_000 * i);
            net.send(packet(Endpoint::Client(1), Endpoint::Node(0)), at);
            let delivered = drain(&mut net, at + ms(5000));
            total += delivered[0].0 - at;
        }
        let mean_ms = total.as_secs_f64() * 1000.0 / 2000.0;
        assert!(
            (1.8..2.2).contains(&mean_ms),
            "mean request delay {mean_ms} ms"
        );
        // Replies and node messages take no request delay.
        net.send(
            packet(Endpoint::Node(0), Endpoint::Client(1)),
            ms(100_000_000),
        );
        assert_eq!(drain(&mut net, ms(100_000_000)).len(), 1);
    }

    #[test]
    fn sleeps_are_whole_milliseconds_and_waking_receivers_share_the_cores() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 1);
        net.set_host_delay(host(0.0, 0.0, 1.0, 1));
        // Sent at 0.5 ms, due at 10.5: the receiver sleeps 9 ms and then
        // waits for the one core.
        let half = Duration::from_micros(500);
        for to in 1..=3 {
            net.send(packet(Endpoint::Node(0), Endpoint::Node(to)), half);
        }
        let times: Vec<Time> = drain(&mut net, ms(1000)).iter().map(|d| d.0).collect();
        assert_eq!(times.len(), 3);
        assert!(times.iter().all(|&t| t > ms(10) + half), "{times:?}");
        assert!(times[0] < times[1] && times[1] < times[2], "{times:?}");
        // A message due in less than a millisecond needs no sleep.
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.set_host_delay(host(0.0, 0.0, 1.0, 1));
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(3));
        assert_eq!(drain(&mut net, ms(3)).len(), 1);
    }

    #[test]
    fn cores_serve_wakes_in_the_order_of_wake_times() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 1);
        net.set_host_delay(host(0.0, 0.0, 0.001, 1));
        // n2 holds a message due at 10 with another due at 13 behind it.
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), ms(0));
        net.send(packet(Endpoint::Node(0), Endpoint::Node(2)), ms(3));
        // n1 falls asleep at 5 until 15, before n2 falls asleep again (just
        // after 10, for 2 whole ms): n2 still wakes first.
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(5));
        let order: Vec<(u128, Endpoint)> = drain(&mut net, ms(100))
            .into_iter()
            .map(|(at, _, dest)| (at.as_millis(), dest))
            .collect();
        assert_eq!(
            order,
            [
                (10, Endpoint::Node(2)),
                (12, Endpoint::Node(2)),
                (15, Endpoint::Node(1))
            ]
        );
    }

    #[test]
    fn maelstroms_host_times_grow_with_the_node_count() {
        let small = HostDelay::maelstrom(2);
        let large = HostDelay::maelstrom(25);
        assert!(small.line_ms < large.line_ms && small.wake_ms < large.wake_ms);
        assert_eq!(small.cores, 2);
        assert_eq!(HostDelay::default().cores, 0);
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
    fn chaos_loses_duplicates_and_delays_server_messages_only() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 3);
        net.set_chaos(Chaos {
            loss: 0.3,
            duplicate: 0.2,
            delay_spikes: 0.1,
        });
        for i in 0..1000 {
            net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(i));
            net.send(packet(Endpoint::Client(1), Endpoint::Node(1)), ms(i));
        }
        let delivered = drain(&mut net, ms(1_000_000));
        let servers = delivered
            .iter()
            .filter(|d| d.1 == Endpoint::Node(0))
            .count();
        let clients = delivered
            .iter()
            .filter(|d| d.1 == Endpoint::Client(1))
            .count();
        assert_eq!(clients, 1000, "client messages are never touched");
        // 1000 sent, 20 % copied, 30 % of the 1200 lost: about 840 arrive.
        assert!((780..=900).contains(&servers), "{servers}");
        assert!(net.stats.servers.send > 1150);
        net.set_chaos(Chaos::default());
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(2_000_000));
        assert_eq!(drain(&mut net, ms(3_000_000)).len(), 1);
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
