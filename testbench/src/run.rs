//! One test run: start the nodes, drive the workload through the simulated
//! network, inject faults, do the final operations, and check the history.
//!
//! The engine reaches the nodes through a [`Cluster`] and reads time only
//! from it, so the same engine runs node processes on the real clock
//! ([`run`]) and in-process nodes on a virtual one ([`run_on`]).

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::clients::{Clients, InFlight};
use crate::config::Config;
use crate::faults::Faults;
use crate::history::{History, Op, OpType};
use crate::nemesis::{Action, Nemesis};
use crate::net::{Delivery, Directory, Endpoint, Network, Packet};
use crate::reach::{Cluster, Event, Processes, Time};
use crate::services::Services;
use crate::workload::{self, Invocation, Request, Step, Workload};

/// How long a client waits for a reply before the operation is indefinite.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long every node has to answer `init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the engine waits without looking at the clock again (for
/// progress and signals).
const MAX_WAIT: Duration = Duration::from_millis(100);

/// What a finished run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Everything `results.json` holds.
    pub results: Value,
    /// Whether every checker found the run valid.
    pub valid: bool,
    /// The run's folder under the store.
    pub store: PathBuf,
    /// The signal that stopped the run early, if one did (the results then
    /// judge what was recorded until then).
    pub interrupted: Option<i32>,
    /// What could not be written to the store; the verdict stands anyway.
    pub store_errors: Vec<String>,
}

/// Runs the test `config` describes on node processes. `Err` means the run
/// could not happen (a binary that does not start, a node that does not
/// answer `init`); a run that happened but failed its checks is an `Ok`
/// with `valid: false`.
pub fn run(config: &Config) -> Result<Outcome, String> {
    config.validate()?;
    if config.clock_skew > 0.0 {
        return Err(
            "--clock-skew needs the simulator: node processes share the machine's clock".to_owned(),
        );
    }
    workload::validate(config)?;
    let bin = resolve_bin(&config.bin)?;
    let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
    let store = crate::store::create_run_dir(&config.store, config.workload.name())?;
    crate::analyze::save_config(&store, config, seed)?;
    let cluster = match Processes::start(
        &bin,
        &config.args,
        &config.node_ids(),
        &store,
        config.log_stderr,
    ) {
        Ok(cluster) => cluster,
        Err(err) => {
            let _ = std::fs::remove_file(store.join(crate::analyze::CONFIG_FILE));
            crate::store::remove_if_empty(&store);
            return Err(err);
        }
    };
    run_on(config, cluster, seed, store)
}

/// Runs the test `config` describes on `cluster` (whose nodes are
/// `config.node_ids()`, in that order), with the random `seed`, storing the
/// run in `store` (an existing directory).
pub fn run_on<C: Cluster>(
    config: &Config,
    cluster: C,
    seed: u64,
    store: PathBuf,
) -> Result<Outcome, String> {
    let journal = std::fs::File::create(store.join("messages.jsonl"))
        .map_err(|err| format!("cannot write to {}: {err}", store.display()))?;
    let mut engine = Engine::new(config, cluster, seed, Box::new(journal), true)?;
    let driven = engine.drive();
    engine.stop();
    driven?;
    let mut store_errors = Vec::new();
    let mut note = |what: &str, result: std::io::Result<()>| {
        if let Err(err) = result {
            store_errors.push(format!("cannot write {what} to {}: {err}", store.display()));
        }
    };
    let now = engine.cluster.now();
    note("messages.jsonl", engine.net.close_journal(now));
    let results = engine.results(seed);
    let valid = results["valid?"] == json!(true);
    note(
        "history.jsonl",
        std::fs::write(store.join("history.jsonl"), engine.history.to_jsonl()),
    );
    note(
        "results.json",
        std::fs::write(
            store.join("results.json"),
            serde_json::to_string_pretty(&results).unwrap_or_default(),
        ),
    );
    crate::report::draw_or_warn(&store);
    if let Err(err) = crate::store::link_latest(&config.store, &store) {
        store_errors.push(err);
    }
    Ok(Outcome {
        results,
        valid,
        store,
        interrupted: engine.interrupted,
        store_errors,
    })
}

/// A run kept in memory, as the simulator makes them: its results, history
/// and network journal (`messages.jsonl`'s lines), and no store.
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
    let mut engine = Engine::new(config, cluster, seed, Box::new(journal.clone()), false)?;
    let driven = engine.drive();
    engine.stop();
    driven?;
    let now = engine.cluster.now();
    engine
        .net
        .close_journal(now)
        .map_err(|err| format!("the journal in memory failed: {err}"))?;
    let results = engine.results(seed);
    let valid = results["valid?"] == json!(true);
    let journal = String::from_utf8_lossy(&journal.0.borrow()).into_owned();
    Ok(Simulation {
        results,
        valid,
        history: std::mem::take(&mut engine.history),
        journal,
    })
}

/// Writes a simulated run into a fresh run directory under the store of
/// `config`, with the usual artefacts (configuration, history, journal,
/// results, pictures); returns the directory.
pub fn store_simulation(config: &Config, seed: u64, run: &Simulation) -> Result<PathBuf, String> {
    let store = crate::store::create_run_dir(&config.store, config.workload.name())?;
    crate::analyze::save_config(&store, config, seed)?;
    let write = |name: &str, text: &str| {
        std::fs::write(store.join(name), text)
            .map_err(|err| format!("cannot write {name} to {}: {err}", store.display()))
    };
    write("history.jsonl", &run.history.to_jsonl())?;
    write("messages.jsonl", &run.journal)?;
    write(
        "results.json",
        &serde_json::to_string_pretty(&run.results).unwrap_or_default(),
    )?;
    crate::report::draw_or_warn(&store);
    let _ = crate::store::link_latest(&config.store, &store);
    Ok(store)
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

/// The node binary as a path. Like Maelstrom, `--bin NAME` names a file
/// (relative to the current directory), never a command looked up in
/// `PATH`.
fn resolve_bin(bin: &Path) -> Result<PathBuf, String> {
    let path = if bin.is_absolute() {
        bin.to_path_buf()
    } else {
        Path::new(".").join(bin)
    };
    let meta = std::fs::metadata(&path).map_err(|err| {
        let here = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "the current directory".to_owned());
        format!(
            "--bin {}: no such file ({err}); the path is taken from {here}, not looked up in PATH",
            bin.display()
        )
    })?;
    use std::os::unix::fs::PermissionsExt;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "--bin {}: not an executable file (try `chmod +x {}`)",
            bin.display(),
            bin.display()
        ));
    }
    Ok(path)
}

/// The envelope of a line a node wrote, parsed once; the body stays raw
/// until a client or service needs its fields. As in Maelstrom, no other
/// top-level field is allowed, `src` and `dest` are strings, and a missing
/// or null body is an empty one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    src: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    dest: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    /// A top-level `id` the node set itself (the network sets its own).
    #[serde(default)]
    id: Option<u64>,
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

    /// Carries out a nemesis event and records it in the history: an `info`
    /// invocation and an `info` completion whose value says what happened.
    fn apply_nemesis(&mut self, event: crate::nemesis::Event) {
        let time = self.elapsed_nanos();
        self.history
            .push_nemesis(time, event.f, event.value.clone());
        let now = self.now();
        let outcome = match event.action {
            Action::Partition(grudges) => {
                let map = self.nemesis.grudge_map(&grudges);
                self.net.partition(grudges);
                json!(["isolated", map])
            }
            Action::Heal => {
                self.net.heal();
                json!("network-healed")
            }
            Action::Kill(targets) => self.each_node(&targets, |engine, node| {
                if matches!(
                    engine.nodes[node],
                    NodeState::Up | NodeState::Starting { .. }
                ) {
                    engine.cluster.kill(node);
                    engine.net.set_down(Endpoint::Node(node), true, now);
                    engine.nodes[node] = NodeState::Killed;
                    "killed"
                } else {
                    "not-running"
                }
            }),
            Action::Start(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] != NodeState::Killed {
                    return "already-running";
                }
                match engine.cluster.restart(node) {
                    Ok(()) => {
                        engine.net.set_down(Endpoint::Node(node), false, now);
                        engine.reinit(node);
                        "started"
                    }
                    Err(err) => {
                        engine.faults.record("restart-failed", err);
                        engine.nodes[node] = NodeState::Gone;
                        "failed"
                    }
                }
            }),
            Action::Pause(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] == NodeState::Up {
                    engine.cluster.pause(node);
                    engine.nodes[node] = NodeState::Paused;
                    "paused"
                } else {
                    "not-running"
                }
            }),
            Action::Resume(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] == NodeState::Paused {
                    engine.cluster.resume(node);
                    engine.nodes[node] = NodeState::Up;
                    "resumed"
                } else {
                    "not-paused"
                }
            }),
        };
        let time = self.elapsed_nanos();
        self.history.push_nemesis(time, event.f, outcome);
    }

    /// `{node id: result}` of `act` on each target.
    fn each_node(
        &mut self,
        targets: &[usize],
        mut act: impl FnMut(&mut Self, usize) -> &'static str,
    ) -> Value {
        let mut results = serde_json::Map::new();
        for &node in targets {
            let result = act(self, node);
            results.insert(self.directory.nodes()[node].clone(), json!(result));
        }
        Value::Object(results)
    }

    /// Sends `init` again to a restarted node, from a fresh client; the
    /// node is `Starting` until it answers.
    fn reinit(&mut self, node: usize) {
        let client = self.clients.fresh_client();
        let ids = self.directory.nodes().to_vec();
        let body = json!({"type": "init", "node_id": ids[node], "node_ids": ids, "msg_id": 1});
        self.side_requests.insert((client, 1), None);
        self.send_from_client(client, node, &body);
        self.nodes[node] = NodeState::Starting {
            client,
            deadline: self.now() + INIT_TIMEOUT,
        };
    }

    /// Marks restarted nodes up once they answered `init`, and gives up on
    /// those that did not within [`INIT_TIMEOUT`].
    fn check_restarts(&mut self, now: Time) {
        for node in 0..self.nodes.len() {
            let NodeState::Starting { client, deadline } = self.nodes[node] else {
                continue;
            };
            match self.side_requests.get(&(client, 1)) {
                Some(Some(reply)) => {
                    if reply["type"] == "init_ok" {
                        self.nodes[node] = NodeState::Up;
                    } else {
                        self.faults.record(
                            "restart-failed",
                            format!(
                                "{} answered init after its restart with {reply}",
                                self.directory.nodes()[node]
                            ),
                        );
                        self.nodes[node] = NodeState::Up;
                    }
                    self.side_requests.remove(&(client, 1));
                }
                _ if now >= deadline => {
                    self.faults.record(
                        "restart-failed",
                        format!(
                            "{} did not answer init within {INIT_TIMEOUT:?} of its restart",
                            self.directory.nodes()[node]
                        ),
                    );
                    self.side_requests.remove(&(client, 1));
                    self.nodes[node] = NodeState::Up;
                }
                _ => {}
            }
        }
    }

    /// Ends every operation still in flight when the run stops early: it
    /// may or may not have happened.
    fn end_in_flight(&mut self) {
        let why = match self.interrupted {
            Some(signal) => format!("interrupted by {}", crate::interrupt::name(signal)),
            None => "no node left to answer".to_owned(),
        };
        for slot in 0..self.clients.len() {
            if let Some(in_flight) = &self.clients.slot(slot).busy {
                let kind = self.unsure(in_flight.op.f);
                let value = in_flight.op.value.clone();
                self.complete(slot, kind, value, Some(json!(why)));
            }
        }
    }

    /// How an operation that may or may not have happened ends: `fail` if
    /// repeating it is harmless (a read), else `info`.
    fn unsure(&self, f: &str) -> OpType {
        if self.workload.idempotent(f) {
            OpType::Fail
        } else {
            OpType::Info
        }
    }

    /// Sends `init` to every node and waits for every `init_ok`.
    fn init(&mut self) -> Result<(), String> {
        let ids = self.directory.nodes().to_vec();
        let calls = ids
            .iter()
            .enumerate()
            .map(|(index, id)| {
                (
                    index,
                    json!({"type": "init", "node_id": id, "node_ids": ids}),
                )
            })
            .collect();
        self.side_calls(calls, "init", 0)
    }

    /// Sends each request from a client of its own and waits (up to
    /// [`INIT_TIMEOUT`]) for every reply to be `<type>_ok`.
    fn side_calls(
        &mut self,
        calls: Vec<(usize, Value)>,
        what: &str,
        first_client: u64,
    ) -> Result<(), String> {
        let mut waiting = Vec::new();
        for (node, mut body) in calls {
            // The client that talks to node i is the i-th of these.
            let client = first_client + node as u64;
            let msg_id = 1;
            let kind = body["type"].as_str().unwrap_or_default().to_owned();
            body["msg_id"] = json!(msg_id);
            self.side_requests.insert((client, msg_id), None);
            self.send_from_client(client, node, &body);
            waiting.push((node, client, msg_id, kind));
        }
        let deadline = self.now() + INIT_TIMEOUT;
        loop {
            if let Some(error) = self.faults.first() {
                return Err(format!("{what} failed: {error}"));
            }
            if self.must_end() {
                return match self.interrupted {
                    Some(signal) => Err(format!(
                        "{what} interrupted by {}",
                        crate::interrupt::name(signal)
                    )),
                    None => Err(format!("{what} failed: every node has stopped")),
                };
            }
            let missing: Vec<_> = waiting
                .iter()
                .filter(|(_, client, msg_id, _)| self.side_requests[&(*client, *msg_id)].is_none())
                .collect();
            if missing.is_empty() {
                break;
            }
            if self.now() >= deadline {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|(node, ..)| self.directory.nodes()[*node].as_str())
                    .collect();
                return Err(format!(
                    "no reply to {what} within {INIT_TIMEOUT:?} from {}",
                    names.join(", ")
                ));
            }
            self.step(Some(deadline));
        }
        for (node, client, msg_id, kind) in waiting {
            let reply = self.side_requests.remove(&(client, msg_id)).flatten();
            let reply = reply.unwrap_or_default();
            let expected = format!("{kind}_ok");
            if reply["type"] != json!(expected) {
                return Err(format!(
                    "{} answered {what} `{kind}` with {reply} instead of `{expected}`",
                    self.directory.nodes()[node]
                ));
            }
        }
        Ok(())
    }

    /// The pause before the next operation: uniform with mean 1/rate.
    fn stagger(&mut self) -> Duration {
        Duration::from_secs_f64(self.rng.f64() * 2.0 / self.config.rate)
    }

    /// Records `op`'s invocation by `slot`'s process (marked final in the
    /// final phase) and sends its first request; an operation without one
    /// ends at once as `info`.
    fn invoke(&mut self, slot: usize, op: Invocation, is_final: bool) {
        let (process, client, node) = {
            let s = self.clients.slot(slot);
            (s.process, s.client, s.node)
        };
        let request = self.workload.request(process, &op);
        self.history.push_op(Op {
            index: 0,
            time: self.elapsed_nanos(),
            kind: OpType::Invoke,
            process,
            f: op.f.to_owned(),
            value: op.value.clone(),
            error: None,
            is_final,
        });
        let deadline = self.now() + self.client_timeout();
        let mut body = match request {
            Request::Send(body) => body,
            Request::Ok(_) | Request::Crash => {
                let (kind, value) = match request {
                    Request::Ok(value) => (OpType::Ok, value),
                    _ => (OpType::Info, op.value.clone()),
                };
                self.clients.slot_mut(slot).busy = Some(InFlight {
                    msg_id: 0,
                    op,
                    deadline,
                    is_final,
                });
                return self.complete(slot, kind, value, None);
            }
        };
        let msg_id = self.clients.next_msg_id(slot);
        body["msg_id"] = json!(msg_id);
        self.clients.slot_mut(slot).busy = Some(InFlight {
            msg_id,
            op,
            deadline,
            is_final,
        });
        self.send_from_client(client, node, &body);
    }

    fn send_from_client(&mut self, client: u64, node: usize, body: &Value) {
        let line = json!({"src": format!("c{client}"), "dest": self.directory.nodes()[node], "body": body});
        let packet = Packet {
            src: Endpoint::Client(client),
            dest: Endpoint::Node(node),
            line: line.to_string(),
        };
        let now = self.now();
        self.net.send(packet, now);
    }

    /// Records how `slot`'s operation ended; an indefinite end retires the
    /// process, as Jepsen does, and the slot continues as a new one.
    fn complete(&mut self, slot: usize, kind: OpType, value: Value, error: Option<Value>) {
        let Some(in_flight) = self.clients.slot_mut(slot).busy.take() else {
            return;
        };
        let process = self.clients.slot(slot).process;
        self.history.push_op(Op {
            index: 0,
            time: self.elapsed_nanos(),
            kind,
            process,
            f: in_flight.op.f.to_owned(),
            value,
            error,
            is_final: in_flight.is_final,
        });
        if kind == OpType::Info {
            self.clients.retire(slot);
        }
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

    /// Sends a line a node wrote into the network, addressed by its `dest`.
    fn on_line(&mut self, node: usize, line: String) {
        let me = &self.directory.nodes()[node];
        let message: Line = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(err) => {
                return self.faults.record(
                    "not-a-message",
                    format!("{me} wrote a line on stdout that is not a message ({err}): {line}"),
                );
            }
        };
        let body = message.body.map(RawValue::get).filter(|b| *b != "null");
        if body.is_some_and(|b| !b.starts_with('{')) {
            return self.faults.record(
                "body-not-an-object",
                format!("{me} sent a message whose body is not an object: {line}"),
            );
        }
        // Like Maelstrom, route by `dest` whatever `src` says: a node may
        // forward a client's request with the client's `src`.
        let src = self.directory.resolve(&message.src);
        if src == Endpoint::Unknown {
            return self.faults.record(
                "unknown-src",
                format!("{me} sent a message whose src is no known id: {line}"),
            );
        }
        let dest = self.directory.resolve(&message.dest);
        if dest == Endpoint::Unknown {
            return self.faults.record(
                "unknown-dest",
                format!("{me} sent a message to an id that does not exist: {line}"),
            );
        }
        let line = if message.id.is_some() || body.is_none() {
            // The network's `id` replaces the node's own; no body is `{}`.
            let mut value: Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.remove("id");
                if body.is_none() {
                    object.insert("body".to_owned(), json!({}));
                }
            }
            value.to_string()
        } else {
            line
        };
        let now = self.now();
        self.net.send_printed(node, Packet { src, dest, line }, now);
    }

    fn deliver(&mut self, delivery: Delivery) {
        let Delivery { id, packet, .. } = delivery;
        match packet.dest {
            Endpoint::Node(node) => {
                if self.nodes[node] != NodeState::Gone {
                    self.cluster.send(node, with_id(&packet.line, id));
                }
            }
            Endpoint::Client(client) => self.deliver_to_client(client, &packet.line),
            Endpoint::Service(service) => {
                let Ok(message) = serde_json::from_str::<Value>(&packet.line) else {
                    return;
                };
                let src = message["src"].as_str().unwrap_or_default().to_owned();
                let reply = self.services.handle(service, &src, &message["body"]);
                let line = json!({"src": service.id(), "dest": src, "body": reply});
                let packet = Packet {
                    src: packet.dest,
                    dest: packet.src,
                    line: line.to_string(),
                };
                let now = self.now();
                self.net.send(packet, now);
            }
            Endpoint::Unknown => {}
        }
    }

    fn deliver_to_client(&mut self, client: u64, line: &str) {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            return;
        };
        let body = &message["body"];
        let Some(in_reply_to) = body["in_reply_to"].as_u64() else {
            return;
        };
        if let Some(waiting) = self.side_requests.get_mut(&(client, in_reply_to)) {
            *waiting = Some(body.clone());
            return;
        }
        let Some(slot) = self.clients.slot_of_client(client) else {
            return; // a late reply to a retired client
        };
        let Some(in_flight) = &self.clients.slot(slot).busy else {
            return;
        };
        if in_flight.msg_id != in_reply_to {
            return;
        }
        if body["type"] == "error" {
            let code = body["code"].as_u64().unwrap_or(13);
            let kind = if crate::protocol::is_definite(code) && self.workload.sorts_errors() {
                OpType::Fail
            } else {
                self.unsure(in_flight.op.f)
            };
            let error = json!([crate::protocol::error_name(code), body["text"]]);
            let value = in_flight.op.value.clone();
            self.complete(slot, kind, value, Some(error));
            return;
        }
        let op = in_flight.op.clone();
        let process = self.clients.slot(slot).process;
        match self.workload.complete(process, &op, body) {
            Ok(Step::Done(value)) => self.complete(slot, OpType::Ok, value, None),
            Ok(Step::Then(mut next)) => {
                let msg_id = self.clients.next_msg_id(slot);
                next["msg_id"] = json!(msg_id);
                let deadline = self.now() + self.client_timeout();
                if let Some(in_flight) = &mut self.clients.slot_mut(slot).busy {
                    in_flight.msg_id = msg_id;
                    in_flight.deadline = deadline;
                }
                let (client, node) = (self.clients.slot(slot).client, self.clients.slot(slot).node);
                self.send_from_client(client, node, &next);
            }
            Err(problem) => {
                let value = op.value.clone();
                self.complete(
                    slot,
                    OpType::Info,
                    value,
                    Some(json!(format!("indeterminate: {problem}"))),
                );
            }
        }
    }

    /// Lets every operation in flight finish or time out.
    fn drain_in_flight(&mut self) {
        while self.clients.any_busy() && !self.must_end() {
            self.step(None);
        }
    }

    /// How long a client waits for a reply to each request.
    fn client_timeout(&self) -> Duration {
        self.workload.timeout().unwrap_or(CLIENT_TIMEOUT)
    }

    /// Every client process runs the workload's final operations, marked
    /// final, one after another (spaced by the phase's stagger) until it
    /// has none left; after the phase's limit no new one starts.
    fn final_ops(&mut self, phase: &crate::workload::FinalPhase) {
        let end = self.now() + phase.limit;
        // Operations done by each slot in this phase, and when it may
        // start the next.
        let mut done = vec![0usize; self.clients.len()];
        let mut not_before = vec![self.now(); self.clients.len()];
        let mut finished = vec![false; self.clients.len()];
        while self.now() < end && !self.must_end() {
            let now = self.now();
            for slot in 0..self.clients.len() {
                if finished[slot]
                    || self.clients.slot(slot).busy.is_some()
                    || not_before[slot] > now
                {
                    continue;
                }
                let process = self.clients.slot(slot).process;
                match self.workload.final_op(process, done[slot]) {
                    Some(op) => {
                        done[slot] += 1;
                        self.invoke(slot, op, true);
                        let pause = phase.stagger.as_secs_f64() * 2.0 * self.rng.f64();
                        not_before[slot] = self.now() + Duration::from_secs_f64(pause);
                    }
                    None => finished[slot] = true,
                }
            }
            if finished.iter().all(|&f| f) {
                break;
            }
            let next = not_before.iter().copied().filter(|t| *t > now).min();
            self.step(Some(next.unwrap_or(end).min(end)));
        }
        self.drain_in_flight();
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

/// `line` (a JSON object) with Maelstrom's top-level message `id` first.
fn with_id(line: &str, id: u64) -> String {
    match line.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"id\":{id}}}"),
        Some(rest) => format!("{{\"id\":{id},{rest}"),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_id_goes_first_in_a_delivered_line() {
        let line = r#"{"src":"c1","dest":"n0","body":{"type":"echo"}}"#;
        let out = with_id(line, 42);
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["id"], 42);
        assert_eq!(value["body"]["type"], "echo");
        assert_eq!(with_id("{}", 1), r#"{"id":1}"#);
    }
}
