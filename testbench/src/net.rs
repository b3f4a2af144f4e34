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

/// Maelstrom's own time on a message, beyond the network's latency.
///
/// Maelstrom's JVM reads, parses and sends the lines a node prints on one
/// thread per node, a client's request leaves once its worker thread runs,
/// and a receiver that sleeps until a message's deadline must wake up and
/// get a core before it hands the message over. All of it runs on the
/// machine's few cores. The bench models each:
///
/// - a node's output thread, idle, takes an exponential time of mean
///   `line_ms` to wake for a line; it then parses the line on one of the
///   shared cores, for `parse_us` plus `parse_ns_per_byte` a byte (a
///   `read_ok` of a thousand values costs far more than a `broadcast_ok`),
///   and the line enters the network when that is done; the lines queued
///   behind it follow, one parse after the other;
/// - a client's request takes an exponential time of mean `request_ms`;
/// - a receiver waking from a sleep (sleeps are whole milliseconds,
///   rounded down, as `Thread/sleep` takes them) waits for a shared core
///   and holds it for an exponential time of mean `wake_ms`.
///
/// The cores serve work in the order it becomes ready. So when a wave of
/// gossip reaches many nodes at once, their inboxes stay blocked a few
/// milliseconds past the deadline and their replies leave late, while
/// traffic spread out in time meets little wait.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostDelay {
    /// Mean time for an idle node output thread to take a line.
    pub line_ms: f64,
    /// Core time to parse any printed line.
    pub parse_us: f64,
    /// Core time to parse each byte of a printed line.
    pub parse_ns_per_byte: f64,
    /// Mean time for a client's request to leave.
    pub request_ms: f64,
    /// Mean time a waking receiver holds a core.
    pub wake_ms: f64,
    /// The cores that this work shares (0: none is modelled: sleeps end at
    /// the deadline, and parses take their time without waiting).
    pub cores: usize,
}

impl HostDelay {
    /// Maelstrom's times on a 2-core machine running `nodes` nodes, fitted
    /// to the runs it recorded on one (`testbench/maelstrom-reference/`; see
    /// README, "Maelstrom's own time"): a client round trip that meets no
    /// queue takes about 0.4 ms with 2 nodes (the kafka and txn runs) and
    /// 1.5 ms with 25 (the broadcast runs), a `read_ok` of a thousand
    /// values about 1 ms more, and the times grow with the number of
    /// nodes, each of which costs the JVM three threads and the machine a
    /// process.
    pub fn maelstrom(nodes: usize) -> Self {
        // One hop of Maelstrom's work: the base cost plus the cost every
        // node's threads and process add to the machine.
        let hop_ms = 0.03 + 0.035 * nodes as f64;
        HostDelay {
            line_ms: 0.7 * hop_ms,
            parse_us: 10.0,
            parse_ns_per_byte: 250.0,
            request_ms: 0.7 * hop_ms,
            wake_ms: 0.85 * hop_ms,
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

    /// The core time to parse a printed line of `bytes` bytes.
    fn parse_time(&self, bytes: usize) -> Duration {
        Duration::from_secs_f64((self.parse_us * 1e3 + self.parse_ns_per_byte * bytes as f64) / 1e9)
    }

    /// Whether printed lines enter the network as soon as they are read.
    fn lines_are_free(&self) -> bool {
        self.line_ms == 0.0 && self.parse_us == 0.0 && self.parse_ns_per_byte == 0.0
    }

    /// An exponential draw of mean `mean_ms`.
    fn draw(rng: &mut fastrand::Rng, mean_ms: f64) -> Duration {
        if mean_ms <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(-mean_ms * (1.0 - rng.f64()).ln() / 1000.0)
    }
}

/// Work for one of Maelstrom's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Job {
    /// A receiver wakes from its sleep to hand over message `id`.
    Wake { id: u64, dest: Endpoint },
    /// Node `node`'s output thread parses the next line it printed.
    Parse { node: usize },
}

/// A node's output thread and the lines it has not parsed yet.
#[derive(Debug, Default)]
struct Outbox {
    /// The lines, with when they were printed.
    lines: std::collections::VecDeque<(Time, Packet)>,
    /// Whether the thread has a parse scheduled (it then takes the next
    /// line as soon as that one is done, without waking).
    busy: bool,
    /// When its last parse ended.
    free: Time,
}

/// The cores that Maelstrom's work shares: each piece of work waits for a
/// core of its own, first come first served, and holds it for its cost.
/// With no cores, work never waits.
#[derive(Debug, Default)]
struct Cores {
    /// When each core is free.
    free: Vec<Time>,
    /// The work under way, by when it is done (then by start order).
    booked: BinaryHeap<Reverse<(Time, u64, Job)>>,
    next: u64,
}

impl Cores {
    fn new(count: usize) -> Self {
        Cores {
            free: vec![Time::ZERO; count],
            ..Cores::default()
        }
    }

    /// Starts `job`, ready at `at`, on the core that is free first.
    fn start(&mut self, at: Time, cost: Duration, job: Job) {
        let seq = self.next;
        self.next += 1;
        let done = match self.free.iter_mut().min() {
            Some(free) => {
                *free = (*free).max(at) + cost;
                *free
            }
            None => at + cost,
        };
        self.booked.push(Reverse((done, seq, job)));
    }

    /// When the next piece of work is done.
    fn next_done(&self) -> Option<Time> {
        self.booked.peek().map(|Reverse((at, ..))| *at)
    }

    /// The next piece of work done, and when.
    fn finish(&mut self) -> Option<(Time, Job)> {
        self.booked.pop().map(|Reverse((at, _, job))| (at, job))
    }

    /// Drops the wake-ups of `dest`.
    fn forget(&mut self, dest: Endpoint) {
        self.booked
            .retain(|Reverse((_, _, job))| !matches!(job, Job::Wake { dest: d, .. } if *d == dest));
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

    /// Delays messages on their way into the network as Maelstrom's own
    /// threads do (see [`HostDelay`]).
    pub fn set_host_delay(&mut self, host: HostDelay) {
        self.host = host;
        self.cores = Cores::new(host.cores);
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
        if self.host.lines_are_free() {
            self.transmit(packet, now);
            return;
        }
        let outbox = self.outboxes.entry(node).or_default();
        outbox.lines.push_back((now, packet));
        if outbox.busy {
            return;
        }
        outbox.busy = true;
        let ready = if outbox.free > now {
            outbox.free
        } else {
            now + HostDelay::draw(&mut self.rng, self.host.line_ms)
        };
        self.schedule(ready, Job::Parse { node });
    }

    /// Queues `job` for a core from `ready` on.
    fn schedule(&mut self, ready: Time, job: Job) {
        self.jobs.push(Reverse((ready, self.next_job, job)));
        self.next_job += 1;
    }

    /// Starts `job`, ready at `ready`, on the cores: a node's output
    /// thread parses its next line; a receiver that woke gets its turn.
    fn start_job(&mut self, ready: Time, job: Job) {
        let cost = match job {
            Job::Parse { node } => {
                let outbox = self.outboxes.get(&node).expect("a parse has its outbox");
                let bytes = outbox.lines.front().map_or(0, |(_, p)| p.line.len());
                self.host.parse_time(bytes)
            }
            Job::Wake { .. } => HostDelay::draw(&mut self.rng, self.host.wake_ms),
        };
        self.cores.start(ready, cost, job);
    }

    /// `job` is done at `done`: the parsed line enters the network (and
    /// the thread goes on to the line after it, if any), or the receiver
    /// that woke hands its message over.
    fn finish_job(&mut self, done: Time, job: Job) {
        match job {
            Job::Parse { node } => {
                let outbox = self
                    .outboxes
                    .get_mut(&node)
                    .expect("a parse has its outbox");
                let Some((_, packet)) = outbox.lines.pop_front() else {
                    outbox.busy = false;
                    return;
                };
                outbox.free = done;
                let more = !outbox.lines.is_empty();
                outbox.busy = more;
                if more {
                    self.schedule(done, Job::Parse { node });
                }
                self.transmit(packet, done);
            }
            Job::Wake { id, dest } => {
                if let Some((at, _)) = self
                    .receivers
                    .get_mut(&dest)
                    .and_then(|r| r.holding.as_mut())
                {
                    *at = done;
                }
                self.releases.push(Reverse((done, id, dest)));
            }
        }
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
            ..HostDelay::default()
        }
    }

    /// A line of `bytes` bytes printed by node `from` for client `to`.
    fn printed(from: usize, bytes: usize) -> Packet {
        Packet {
            line: "x".repeat(bytes),
            ..packet(Endpoint::Node(from), Endpoint::Client(1))
        }
    }

    /// When each line printed at `at` enters the network, in order.
    fn entries(net: &mut Network, lines: &[(usize, usize)], at: Time) -> Vec<Time> {
        for &(from, bytes) in lines {
            net.send_printed(from, printed(from, bytes), at);
        }
        drain(net, at + ms(1000)).iter().map(|d| d.0).collect()
    }

    #[test]
    fn a_nodes_lines_are_parsed_one_after_another() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        let parse = Duration::from_micros(100);
        net.set_host_delay(HostDelay {
            parse_us: 100.0,
            ..host(1.0, 0.0, 0.0, 2)
        });
        net.send_printed(0, printed(0, 10), ms(10));
        assert!(net.deliver(ms(10)).is_none(), "nothing enters at once");
        let times = entries(&mut net, &[(0, 10), (0, 10)], ms(10));
        assert_eq!(times.len(), 3);
        assert!(times[0] > ms(10) + parse);
        assert_eq!(times[1] - times[0], parse);
        assert_eq!(times[2] - times[1], parse);
        // Another node's output thread is not held up by this one's.
        let times = entries(&mut net, &[(1, 10), (0, 10)], ms(2000));
        assert_eq!(times.len(), 2);
        assert_ne!(times[1] - times[0], parse);
    }

    #[test]
    fn a_longer_line_takes_longer_to_parse() {
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.set_host_delay(HostDelay {
            parse_us: 10.0,
            parse_ns_per_byte: 1000.0,
            ..host(0.0, 0.0, 0.0, 2)
        });
        // Printed together: the second follows the first by its own parse.
        let times = entries(&mut net, &[(0, 1), (0, 1000), (0, 10)], ms(0));
        assert_eq!(times[0], Duration::from_nanos(11_000));
        assert_eq!(times[1] - times[0], Duration::from_nanos(1_010_000));
        assert_eq!(times[2] - times[1], Duration::from_nanos(20_000));
    }

    #[test]
    fn parses_and_wakes_wait_for_the_same_cores() {
        let parse = HostDelay {
            parse_us: 1000.0,
            ..host(0.0, 0.0, 0.0, 1)
        };
        // One core: three nodes' lines, printed at once, go one at a time.
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.set_host_delay(parse);
        let times = entries(&mut net, &[(0, 0), (1, 0), (2, 0)], ms(0));
        assert_eq!(times, [ms(1), ms(2), ms(3)]);
        // Two cores: two at a time.
        let mut net = Network::new(0.0, LatencyDist::Constant, 1);
        net.set_host_delay(HostDelay { cores: 2, ..parse });
        let times = entries(&mut net, &[(0, 0), (1, 0), (2, 0)], ms(0));
        assert_eq!(times, [ms(1), ms(1), ms(2)]);
        // A line printed while a waking receiver holds the one core waits
        // for it.
        let mut net = Network::new(5.0, LatencyDist::Constant, 1);
        net.set_host_delay(HostDelay {
            wake_ms: 1000.0,
            ..parse
        });
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), ms(0));
        assert!(drain(&mut net, ms(5)).is_empty(), "n1 is waking");
        net.send_printed(2, printed(2, 0), ms(6));
        let delivered = drain(&mut net, ms(100_000));
        assert_eq!(delivered.len(), 2);
        assert!(delivered[0].0 > ms(6), "the wake outlasts the print");
        assert_eq!(delivered[1].1, Endpoint::Node(2));
        assert!(delivered[1].0 >= delivered[0].0 + ms(1));
    }

    #[test]
    fn ideal_timing_delivers_at_the_deadline() {
        let mut net = Network::new(10.0, LatencyDist::Constant, 1);
        net.set_host_delay(HostDelay::default());
        let half = Duration::from_micros(500);
        net.send_printed(0, printed(0, 500), half);
        net.send(packet(Endpoint::Node(0), Endpoint::Node(1)), half);
        let delivered = drain(&mut net, ms(100));
        assert_eq!(delivered.len(), 2);
        assert_eq!(delivered[0].0, half, "a printed line enters at once");
        assert_eq!(delivered[1].0, ms(10) + half, "no sleep is rounded");
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
