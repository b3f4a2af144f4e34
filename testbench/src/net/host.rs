//! Maelstrom's own time on a message, beyond the network's latency: the
//! model ([`HostDelay`]), the nodes' output threads and the shared cores
//! that parse their lines and wake the receivers, and the network's part
//! in scheduling that work.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use super::{Endpoint, Network, Packet};
use crate::reach::Time;

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
    pub(super) fn wake_time(&self, deadline: Time, now: Time) -> Option<Time> {
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
    pub(super) fn draw(rng: &mut fastrand::Rng, mean_ms: f64) -> Duration {
        if mean_ms <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(-mean_ms * (1.0 - rng.f64()).ln() / 1000.0)
    }
}

/// Work for one of Maelstrom's cores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Job {
    /// A receiver wakes from its sleep to hand over message `id`.
    Wake { id: u64, dest: Endpoint },
    /// Node `node`'s output thread parses the next line it printed.
    Parse { node: usize },
}

/// A node's output thread and the lines it has not parsed yet.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    /// The lines, with when they were printed.
    lines: VecDeque<(Time, Packet)>,
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
pub(super) struct Cores {
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
    pub(super) fn next_done(&self) -> Option<Time> {
        self.booked.peek().map(|Reverse((at, ..))| *at)
    }

    /// The next piece of work done, and when.
    pub(super) fn finish(&mut self) -> Option<(Time, Job)> {
        self.booked.pop().map(|Reverse((at, _, job))| (at, job))
    }

    /// Drops the wake-ups of `dest`.
    pub(super) fn forget(&mut self, dest: Endpoint) {
        self.booked
            .retain(|Reverse((_, _, job))| !matches!(job, Job::Wake { dest: d, .. } if *d == dest));
    }
}

impl Network {
    /// Delays messages on their way into the network as Maelstrom's own
    /// threads do (see [`HostDelay`]).
    pub fn set_host_delay(&mut self, host: HostDelay) {
        self.host = host;
        self.cores = Cores::new(host.cores);
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
    pub(super) fn schedule(&mut self, ready: Time, job: Job) {
        self.jobs.push(Reverse((ready, self.next_job, job)));
        self.next_job += 1;
    }

    /// Starts `job`, ready at `ready`, on the cores: a node's output
    /// thread parses its next line; a receiver that woke gets its turn.
    pub(super) fn start_job(&mut self, ready: Time, job: Job) {
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
    pub(super) fn finish_job(&mut self, done: Time, job: Job) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LatencyDist;
    use crate::net::tests::{drain, ms, packet};

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
}
