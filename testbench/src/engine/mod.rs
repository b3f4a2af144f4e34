//! The engine: runs one test on a cluster and returns what happened. It
//! starts the nodes, drives the workload's clients through the simulated
//! network, injects faults, does the final operations, and judges the
//! history; it writes nothing but the network journal, to the sink it is
//! given (the store decides where runs are kept).
//!
//! The engine reaches the nodes through a [`Cluster`] and reads time only
//! from it, so the same engine runs node processes on the real clock and
//! in-process nodes on a virtual one.
//!
//! One concern a file: this one holds the main loop; `clients` the
//! workload's operations and their replies, `nemesis` the faults applied to
//! nodes, `lines` what the nodes print and what the network delivers.

mod clients;
mod lines;
mod nemesis;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use serde_json::{json, Value};

use crate::clients::Clients;
use crate::config::Config;
use crate::faults::Faults;
use crate::history::{History, OpType};
use crate::nemesis::Nemesis;
use crate::net::{Directory, Network};
use crate::reach::{Cluster, Event, Time};
use crate::services::Services;
use crate::workload::{self, Workload};

/// How long a client waits for a reply before the operation is indefinite.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long every node has to answer `init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the engine waits without looking at the clock again (for
/// progress and signals).
const MAX_WAIT: Duration = Duration::from_millis(100);

/// What a run recorded, judged: everything but the network journal, which
/// went to the sink the run was given as it happened.
#[derive(Debug)]
pub struct Recording {
    /// Everything `results.json` holds.
    pub results: Value,
    /// Whether every checker found the run valid.
    pub valid: bool,
    /// Every client and nemesis entry.
    pub history: History,
    /// The signal that stopped the run early, if one did (the results then
    /// judge what was recorded until then).
    pub interrupted: Option<i32>,
    /// Why the journal could not be written in full, if it could not.
    pub journal_error: Option<std::io::Error>,
}

/// How the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On node processes and the real clock: shows progress on a terminal
    /// and takes the bench's own CPU and teardown figures.
    Measured,
    /// Repeatable (the simulator's): no figure that depends on the machine,
    /// so that one seed gives the same results byte for byte.
    Repeatable,
}

/// Runs the test `config` describes on `cluster` (whose nodes are
/// `config.node_ids()`, in that order) with the random `seed`, writing the
/// network journal to `journal` as messages go. `Err` means the run could
/// not happen (a node that does not answer `init`); a run that happened
/// but failed its checks is an `Ok` with `valid: false`.
pub fn record<C: Cluster>(
    config: &Config,
    cluster: C,
    seed: u64,
    journal: Box<dyn std::io::Write>,
    mode: Mode,
) -> Result<Recording, String> {
    let mut engine = Engine::new(config, cluster, seed, journal, mode == Mode::Measured)?;
    let driven = engine.drive();
    engine.stop();
    driven?;
    let now = engine.cluster.now();
    let journal_error = engine.net.close_journal(now).err();
    let results = engine.results(seed);
    Ok(Recording {
        valid: results["valid?"] == json!(true),
        results,
        history: std::mem::take(&mut engine.history),
        interrupted: engine.interrupted,
        journal_error,
    })
}

/// A run kept in memory, as the simulator makes them: its results, history
/// and network journal (`messages.jsonl`'s lines).
#[derive(Debug)]
pub struct Simulation {
    /// What `results.json` would hold (without the bench's CPU figure).
    pub results: Value,
    /// Whether every checker found the run valid.
    pub valid: bool,
    /// Every client and nemesis entry.
    pub history: History,
    /// The network journal, one JSON object a line.
    pub journal: String,
}

/// Runs the test `config` describes on `cluster`, with the random `seed`,
/// and keeps everything in memory. With a cluster on a virtual clock (the
/// simulator's), the same seed gives the same run, byte for byte.
pub fn simulate<C: Cluster>(config: &Config, cluster: C, seed: u64) -> Result<Simulation, String> {
    let journal = SharedBuffer::default();
    let recording = record(
        config,
        cluster,
        seed,
        Box::new(journal.clone()),
        Mode::Repeatable,
    )?;
    if let Some(err) = recording.journal_error {
        return Err(format!("the journal in memory failed: {err}"));
    }
    let journal = String::from_utf8_lossy(&journal.0.borrow()).into_owned();
    Ok(Simulation {
        results: recording.results,
        valid: recording.valid,
        history: recording.history,
        journal,
    })
}

/// An in-memory sink for the journal that stays readable after the
/// network is done with it.
#[derive(Clone, Default)]
struct SharedBuffer(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Engine<'c, C> {
    config: &'c Config,
    cluster: C,
    /// The start of the main phase, time 0 of the history and journal.
    origin: Time,
    /// What each node is doing.
    nodes: Vec<NodeState>,
    directory: Directory,
    net: Network,
    services: Services,
    workload: Box<dyn Workload>,
    nemesis: Nemesis,
    history: History,
    rng: fastrand::Rng,
    clients: Clients,
    /// Requests outside the history (init, setup): (client, msg_id) → reply.
    side_requests: HashMap<(u64, u64), Option<Value>>,
    /// Client ids Maelstrom has closed (an init or setup client once
    /// answered, a process's client once its operation ended
    /// indefinitely), with when: a node's line to one of them is a line to
    /// an id Maelstrom no longer knows (see [`lines`]).
    closed_clients: HashMap<u64, Time>,
    /// Nodes whose output is no longer read, as Maelstrom stops reading a
    /// node after a line to an unknown id (until a restart).
    silenced: Vec<bool>,
    /// Things the nodes did wrong that make the run invalid.
    faults: Faults,
    /// The signal that stopped the run early, if one did.
    interrupted: Option<i32>,
    /// How long stopping the nodes took.
    teardown: Duration,
    progress: bool,
    last_progress: Time,
    cpu_start: Option<Duration>,
    /// Whether to take the bench's CPU and teardown figures.
    measured: bool,
    events: Vec<Event>,
}

impl<'c, C: Cluster> Engine<'c, C> {
    /// An engine for `config` on `cluster`, journaling to `journal`;
    /// `measured` runs take the bench's own CPU and teardown figures (which
    /// a simulation leaves out, so that its results repeat exactly).
    fn new(
        config: &'c Config,
        cluster: C,
        seed: u64,
        journal: Box<dyn std::io::Write>,
        measured: bool,
    ) -> Result<Self, String> {
        let ids = config.node_ids();
        let mut net = Network::new(config.latency, config.latency_dist, seed);
        net.journal_to(journal);
        net.log_to_stderr(config.log_net_send, config.log_net_recv);
        net.set_chaos(crate::net::Chaos {
            loss: config.loss,
            duplicate: config.duplicate,
            delay_spikes: config.delay_spikes,
        });
        if config.host_timing == crate::config::HostTiming::Maelstrom {
            net.set_host_delay(crate::net::HostDelay::maelstrom(ids.len()));
        }
        let now = cluster.now();
        Ok(Engine {
            config,
            cluster,
            origin: now,
            nodes: vec![NodeState::Up; ids.len()],
            directory: Directory::new(ids.clone()),
            net,
            services: Services::new(seed ^ 0x5e41_1ce5),
            workload: workload::for_config(config)?,
            nemesis: Nemesis::new(config, seed ^ 0x6e_6d65),
            history: History::default(),
            rng: fastrand::Rng::with_seed(seed),
            // As in Maelstrom: `c0 … c(N-1)` send init, `cN … c(2N-1)` the
            // setup requests, and the generator's clients come after.
            clients: Clients::new(config.processes(), ids.len(), 2 * ids.len() as u64),
            side_requests: HashMap::new(),
            closed_clients: HashMap::new(),
            silenced: vec![false; ids.len()],
            faults: Faults::default(),
            interrupted: None,
            teardown: Duration::ZERO,
            progress: measured && std::io::stderr().is_terminal(),
            last_progress: now,
            cpu_start: if measured {
                crate::results::cpu_time()
            } else {
                None
            },
            measured,
            events: Vec::new(),
        })
    }

    fn now(&self) -> Time {
        self.cluster.now()
    }

    /// Nanoseconds since the start of the main phase (0 before it).
    fn elapsed_nanos(&self) -> u64 {
        u64::try_from(self.now().saturating_sub(self.origin).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Init, setup, the main phase, the final operations.
    fn drive(&mut self) -> Result<(), String> {
        self.init()?;
        let setup = self.workload.setup(self.directory.nodes());
        let first_setup_client = self.directory.nodes().len() as u64;
        self.side_calls(setup, "setup", first_setup_client)?;
        self.origin = self.now();
        self.net.set_journal_origin(self.origin);
        if self.measured {
            self.cpu_start = crate::results::cpu_time();
        }
        let end = self.origin + self.config.time_limit();
        // With `--rate 0` no client operation runs, as in Maelstrom (the
        // nemesis still does).
        let mut next_op = (self.config.rate > 0.0).then_some(self.origin);
        while self.now() < end && self.faults.is_empty() && !self.must_end() {
            let now = self.now();
            for event in self.nemesis.due(now - self.origin) {
                self.apply_nemesis(event);
            }
            let mut all_busy = false;
            while let Some(due) = next_op.filter(|due| *due <= now) {
                let Some(slot) = self.clients.idle_slot(&mut self.rng) else {
                    all_busy = true; // the next operation waits for a free process
                    break;
                };
                let _ = due;
                let process = self.clients.slot(slot).process;
                let elapsed = now - self.origin;
                let op = self.workload.next_op(process, elapsed, &mut self.rng);
                self.invoke(slot, op, false);
                // Like Jepsen's stagger, the next pause counts from when
                // this operation went out, not from when it was due.
                next_op = Some(self.now() + self.stagger());
            }
            self.show_progress(end);
            let wake = match next_op {
                Some(due) if !all_busy => due.min(end),
                _ => end,
            };
            self.step(Some(wake.min(self.origin + self.nemesis.next_event())));
        }
        // Faults beyond Maelstrom's end with the main phase: the cluster
        // must converge once the network behaves.
        self.net.set_chaos(crate::net::Chaos::default());
        self.drain_in_flight();
        if let Some(phase) = self.workload.final_phase() {
            let elapsed = self.now() - self.origin;
            for event in self.nemesis.finish(elapsed) {
                self.apply_nemesis(event);
            }
            let quiet_end = self.now() + phase.quiet;
            while self.now() < quiet_end && !self.must_end() {
                self.step(Some(quiet_end));
            }
            self.final_ops(&phase);
        }
        self.end_in_flight();
        if self.progress {
            crate::console::stderr("\n");
        }
        Ok(())
    }

    /// Whether the run must end now: a signal asked for it, or no node is
    /// left to talk to.
    fn must_end(&mut self) -> bool {
        if self.interrupted.is_none() {
            self.interrupted = crate::interrupt::received();
        }
        self.interrupted.is_some() || self.nodes.iter().all(|n| *n == NodeState::Gone)
    }

    /// Waits for one batch of events (or until `wake`), then delivers every
    /// message that is due and times out overdue operations.
    fn step(&mut self, wake: Option<Time>) {
        let now = self.now();
        let next = [
            wake,
            self.net.next_due(),
            self.clients.next_deadline(),
            Some(now + MAX_WAIT),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("one is always set");
        let mut events = std::mem::take(&mut self.events);
        self.cluster.wait(next, &mut events);
        for event in events.drain(..) {
            self.on_event(event);
        }
        self.events = events;
        let now = self.now();
        while let Some(delivery) = self.net.deliver(now) {
            self.deliver(delivery);
        }
        self.check_restarts(now);
        for slot in self.clients.overdue(now) {
            let Some(in_flight) = &self.clients.slot(slot).busy else {
                continue;
            };
            let kind = self.unsure(in_flight.op.f);
            let value = in_flight.op.value.clone();
            self.complete(slot, kind, value, Some(json!("net-timeout")));
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Line { node, line } => self.on_line(node, line),
            Event::Oversized { node } => self.faults.record(
                "oversized-line",
                format!(
                    "{} wrote a line longer than {} bytes on stdout; it was skipped",
                    self.directory.nodes()[node],
                    crate::process::MAX_LINE_BYTES
                ),
            ),
            Event::Closed { node } => {
                // A killed node's end is the nemesis's doing.
                if self.nodes[node] != NodeState::Killed && self.nodes[node] != NodeState::Gone {
                    self.nodes[node] = NodeState::Gone;
                    let ending = self.cluster.ending(node);
                    self.faults.record(
                        "node-ended",
                        format!("{} {ending} during the run", self.directory.nodes()[node]),
                    );
                }
            }
        }
    }

    fn show_progress(&mut self, end: Time) {
        let now = self.now();
        if !self.progress || now.saturating_sub(self.last_progress) < Duration::from_millis(250) {
            return;
        }
        self.last_progress = now;
        let count = |kind| self.history.ops.iter().filter(|o| o.kind == kind).count();
        let (invoked, ok) = (count(OpType::Invoke), count(OpType::Ok));
        let left = end.saturating_sub(now).as_secs_f64();
        crate::console::stderr(&format!(
            "\r{:>6.1}s left  ops {invoked:>7}  ok {ok:>7}  msgs {:>9}  {}   ",
            left,
            self.net.stats.all.msgs,
            if self.net.is_partitioned() {
                "partitioned"
            } else {
                "           "
            }
        ));
    }

    fn stop(&mut self) {
        let started = std::time::Instant::now();
        self.cluster.stop();
        if self.measured {
            self.teardown = started.elapsed();
        }
    }

    fn results(&self, seed: u64) -> Value {
        let wall = self.now().saturating_sub(self.origin);
        let cpu = match (
            self.cpu_start,
            self.measured.then(crate::results::cpu_time).flatten(),
        ) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        };
        crate::results::assemble(crate::results::Inputs {
            config: self.config,
            seed,
            workload: self.workload.check(&self.history),
            history: &self.history,
            net: self.net.stats,
            faults: &self.faults,
            interrupted: self.interrupted,
            nemesis: self.nemesis.log(),
            wall,
            cpu,
            teardown: self.teardown,
        })
    }
}

/// What a node is doing, as far as the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeState {
    /// Running and reachable.
    Up,
    /// Stopped by the nemesis; its input waits.
    Paused,
    /// Killed by the nemesis; what is sent to it is lost.
    Killed,
    /// Restarted by the nemesis, waiting for its `init_ok` (sent by
    /// `client`, given up on at `deadline`).
    Starting { client: u64, deadline: Time },
    /// Exited or closed its output by itself.
    Gone,
}
