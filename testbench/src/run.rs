//! One test run: start the nodes, drive the workload through the simulated
//! network, inject partitions, do the final reads, and check the history.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::config::Config;
use crate::history::{History, OpType};
use crate::nemesis::Nemesis;
use crate::net::{Directory, Endpoint, Network, Packet};
use crate::process::{Event, NodeProcess};
use crate::services::Services;
use crate::workload::{self, Invocation, Step, Workload};

/// How long a client waits for a reply before the operation is indefinite.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long every node has to answer `init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// What a finished run produced.
#[derive(Debug)]
pub struct Outcome {
    /// Everything `results.json` holds.
    pub results: Value,
    /// Whether every checker found the run valid.
    pub valid: bool,
    /// The run's folder under the store.
    pub store: PathBuf,
}

/// Runs the test `config` describes. `Err` means the run could not happen
/// (a binary that does not start, a node that does not answer `init`);
/// a run that happened but failed its checks is an `Ok` with `valid: false`.
pub fn run(config: &Config) -> Result<Outcome, String> {
    let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
    let store = crate::store::create_run_dir(&config.store, config.workload.name())?;
    crate::analyze::save_config(&store, config, seed)?;
    let mut engine = match Engine::start(config, seed, &store) {
        Ok(engine) => engine,
        Err(err) => {
            let _ = std::fs::remove_file(store.join(crate::analyze::CONFIG_FILE));
            crate::store::remove_if_empty(&store);
            return Err(err);
        }
    };
    let result = engine.drive();
    engine.stop();
    result?;
    engine
        .net
        .close_journal()
        .map_err(|err| format!("cannot write to {}: {err}", store.display()))?;
    let results = engine.results(seed);
    let valid = results["valid?"] == json!(true);
    std::fs::write(store.join("history.jsonl"), engine.history.to_jsonl())
        .and_then(|()| {
            std::fs::write(
                store.join("results.json"),
                serde_json::to_string_pretty(&results).expect("results serialize"),
            )
        })
        .map_err(|err| format!("cannot write to {}: {err}", store.display()))?;
    crate::report::draw_or_warn(&store);
    if let Err(err) = crate::store::link_latest(&config.store, &store) {
        eprintln!("testbench: {err}");
    }
    Ok(Outcome {
        results,
        valid,
        store,
    })
}

/// A client process of the generator, bound to one node.
struct Slot {
    process: u64,
    client: u64,
    node: usize,
    busy: Option<InFlight>,
}

struct InFlight {
    msg_id: u64,
    op: Invocation,
    deadline: Instant,
    is_final: bool,
}

/// The minimal view of a line a node wrote.
#[derive(Deserialize)]
struct Line<'a> {
    src: &'a str,
    dest: &'a str,
    #[serde(borrow)]
    body: &'a RawValue,
}

struct Engine<'c> {
    config: &'c Config,
    start: Instant,
    nodes: Vec<NodeProcess>,
    running: Vec<bool>,
    events: Receiver<Event>,
    directory: Directory,
    net: Network,
    services: Services,
    workload: Box<dyn Workload>,
    nemesis: Nemesis,
    history: History,
    rng: fastrand::Rng,
    slots: Vec<Slot>,
    by_client: HashMap<u64, usize>,
    next_client: u64,
    next_msg_id: u64,
    /// Requests outside the history (init, setup): (client, msg_id) → reply.
    side_requests: HashMap<(u64, u64), Option<Value>>,
    /// Things the nodes did wrong that make the run invalid.
    errors: Vec<String>,
    progress: bool,
    last_progress: Instant,
    cpu_start: Option<Duration>,
}

impl<'c> Engine<'c> {
    fn start(config: &'c Config, seed: u64, store: &std::path::Path) -> Result<Self, String> {
        let ids = config.node_ids();
        let (tx, events) = mpsc::channel();
        let mut nodes = Vec::new();
        for (index, id) in ids.iter().enumerate() {
            let log = store.join(format!("{id}.log"));
            nodes.push(NodeProcess::spawn(
                &config.bin,
                &config.args,
                index,
                id,
                &log,
                config.log_stderr,
                tx.clone(),
            )?);
        }
        let processes = config.processes();
        let slots = (0..processes)
            .map(|i| Slot {
                process: i as u64,
                client: 0,
                node: i % ids.len(),
                busy: None,
            })
            .collect();
        let journal = std::fs::File::create(store.join("messages.jsonl"))
            .map_err(|err| format!("cannot write to {}: {err}", store.display()))?;
        let mut engine = Engine {
            config,
            start: Instant::now(),
            running: vec![true; nodes.len()],
            nodes,
            events,
            directory: Directory::new(ids.clone()),
            net: Network::new(config.latency, config.latency_dist, seed),
            services: Services::new(seed ^ 0x5e41_1ce5),
            workload: workload::for_config(config),
            nemesis: Nemesis::new(config, seed ^ 0x6e_6d65),
            history: History::default(),
            rng: fastrand::Rng::with_seed(seed),
            slots,
            by_client: HashMap::new(),
            next_client: 1,
            next_msg_id: 1,
            side_requests: HashMap::new(),
            errors: Vec::new(),
            progress: std::io::stderr().is_terminal(),
            last_progress: Instant::now(),
            cpu_start: crate::results::cpu_time(),
        };
        engine.net.journal_to(journal);
        for slot in 0..engine.slots.len() {
            engine.new_client(slot);
        }
        Ok(engine)
    }

    fn new_client(&mut self, slot: usize) {
        let client = self.next_client;
        self.next_client += 1;
        let old = std::mem::replace(&mut self.slots[slot].client, client);
        self.by_client.remove(&old);
        self.by_client.insert(client, slot);
    }

    /// Init, setup, the main phase, the final reads.
    fn drive(&mut self) -> Result<(), String> {
        self.init()?;
        let setup = self.workload.setup(self.directory.nodes());
        self.side_calls(setup, "setup")?;
        self.start = Instant::now();
        self.net.set_journal_origin(self.start);
        self.cpu_start = crate::results::cpu_time();
        let end = self.start + self.config.time_limit();
        let mut next_op = self.start;
        while Instant::now() < end && self.errors.is_empty() {
            let now = Instant::now();
            self.nemesis.tick(now - self.start, &mut self.net);
            let mut all_busy = false;
            while next_op <= now {
                let Some(slot) = self.idle_slot() else {
                    all_busy = true; // the next operation waits for a free process
                    break;
                };
                let process = self.slots[slot].process;
                let op = self.workload.next_op(process, &mut self.rng);
                self.invoke(slot, op, false);
                next_op += self.stagger();
            }
            self.show_progress(end);
            let wake = if all_busy { end } else { next_op.min(end) };
            self.step(Some(wake.min(self.start + self.nemesis.next_event())));
        }
        self.drain_in_flight();
        if let Some(phase) = self.workload.final_phase() {
            self.nemesis.heal(&mut self.net);
            let quiet_end = Instant::now() + phase.quiet;
            while Instant::now() < quiet_end {
                self.step(Some(quiet_end));
            }
            self.final_ops(phase.limit);
        }
        if self.progress {
            eprintln!();
        }
        Ok(())
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
        self.side_calls(calls, "init")
    }

    /// Sends each request from a client of its own and waits (up to
    /// [`INIT_TIMEOUT`]) for every reply to be `<type>_ok`.
    fn side_calls(&mut self, calls: Vec<(usize, Value)>, what: &str) -> Result<(), String> {
        let mut waiting = Vec::new();
        for (node, mut body) in calls {
            let client = self.next_client;
            self.next_client += 1;
            let msg_id = self.fresh_msg_id();
            let kind = body["type"].as_str().unwrap_or_default().to_owned();
            body["msg_id"] = json!(msg_id);
            self.side_requests.insert((client, msg_id), None);
            self.send_from_client(client, node, &body);
            waiting.push((node, client, msg_id, kind));
        }
        let deadline = Instant::now() + INIT_TIMEOUT;
        loop {
            if let Some(error) = self.errors.first() {
                return Err(format!("{what} failed: {error}"));
            }
            let missing: Vec<_> = waiting
                .iter()
                .filter(|(_, client, msg_id, _)| self.side_requests[&(*client, *msg_id)].is_none())
                .collect();
            if missing.is_empty() {
                break;
            }
            if Instant::now() >= deadline {
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

    fn idle_slot(&mut self) -> Option<usize> {
        let idle: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].busy.is_none())
            .collect();
        (!idle.is_empty()).then(|| idle[self.rng.usize(..idle.len())])
    }

    /// The pause before the next operation: uniform with mean 1/rate.
    fn stagger(&mut self) -> Duration {
        Duration::from_secs_f64(self.rng.f64() * 2.0 / self.config.rate)
    }

    fn elapsed_nanos(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A message id no client request has used.
    fn fresh_msg_id(&mut self) -> u64 {
        let msg_id = self.next_msg_id;
        self.next_msg_id += 1;
        msg_id
    }

    /// Records `op`'s invocation by `slot`'s process (marked final in the
    /// final phase) and sends its first request.
    fn invoke(&mut self, slot: usize, op: Invocation, is_final: bool) {
        let msg_id = self.fresh_msg_id();
        let (process, client, node) = {
            let s = &self.slots[slot];
            (s.process, s.client, s.node)
        };
        let mut body = self.workload.request(process, &op);
        body["msg_id"] = json!(msg_id);
        self.history.push(
            self.elapsed_nanos(),
            OpType::Invoke,
            process,
            op.f,
            op.value.clone(),
            None,
        );
        self.history.ops.last_mut().expect("just pushed").is_final = is_final;
        self.slots[slot].busy = Some(InFlight {
            msg_id,
            op,
            deadline: Instant::now() + self.client_timeout(),
            is_final,
        });
        self.send_from_client(client, node, &body);
    }

    fn send_from_client(&mut self, client: u64, node: usize, body: &Value) {
        let line = json!({"src": format!("c{client}"), "dest": self.directory.nodes()[node], "body": body});
        self.net.send(
            Packet {
                src: Endpoint::Client(client),
                dest: Endpoint::Node(node),
                line: line.to_string(),
            },
            Instant::now(),
        );
    }

    /// Records how `slot`'s operation ended; an indefinite end retires the
    /// process, as Jepsen does, and the slot continues as a new one.
    fn complete(&mut self, slot: usize, kind: OpType, value: Value, error: Option<Value>) {
        let Some(in_flight) = self.slots[slot].busy.take() else {
            return;
        };
        let process = self.slots[slot].process;
        self.history.push(
            self.elapsed_nanos(),
            kind,
            process,
            in_flight.op.f,
            value,
            error,
        );
        self.history.ops.last_mut().expect("just pushed").is_final = in_flight.is_final;
        if kind == OpType::Info {
            self.slots[slot].process += self.slots.len() as u64;
            self.new_client(slot);
        }
    }

    /// Waits for one batch of events (or until `wake`), then delivers every
    /// message that is due and times out overdue operations.
    fn step(&mut self, wake: Option<Instant>) {
        let now = Instant::now();
        let deadlines = self
            .slots
            .iter()
            .filter_map(|s| s.busy.as_ref().map(|b| b.deadline));
        let next = [
            wake,
            self.net.next_due(),
            deadlines.min(),
            Some(now + Duration::from_millis(100)),
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("one is always set");
        match self
            .events
            .recv_timeout(next.saturating_duration_since(now))
        {
            Ok(event) => {
                self.on_event(event);
                while let Ok(event) = self.events.try_recv() {
                    self.on_event(event);
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {}
        }
        let now = Instant::now();
        while let Some(packet) = self.net.deliver(now) {
            self.deliver(packet);
        }
        for slot in 0..self.slots.len() {
            let Some(in_flight) = self.slots[slot].busy.as_ref().filter(|b| b.deadline <= now)
            else {
                continue;
            };
            let kind = if self.workload.idempotent(in_flight.op.f) {
                OpType::Fail
            } else {
                OpType::Info
            };
            let value = in_flight.op.value.clone();
            self.complete(slot, kind, value, Some(json!("net-timeout")));
        }
    }

    fn on_event(&mut self, event: Event) {
        match event {
            Event::Line { node, line } => self.on_line(node, line),
            Event::Closed { node } => {
                if self.running[node] {
                    self.running[node] = false;
                    let status = self.nodes[node].exit_status().map_or_else(
                        || "closed its stdout".to_owned(),
                        |s| format!("exited ({s})"),
                    );
                    self.errors
                        .push(format!("{} {status} during the run", self.nodes[node].id));
                }
            }
        }
    }

    fn on_line(&mut self, node: usize, line: String) {
        let parsed: Result<Line, _> = serde_json::from_str(&line);
        let dest = match parsed {
            Ok(message) => {
                if message.src != self.directory.nodes()[node] {
                    self.errors.push(format!(
                        "{} sent a message with src {:?}: {line}",
                        self.directory.nodes()[node],
                        message.src
                    ));
                }
                if !message.body.get().starts_with('{') {
                    self.errors.push(format!(
                        "{} sent a message whose body is not an object: {line}",
                        self.directory.nodes()[node]
                    ));
                    return;
                }
                self.directory.resolve(message.dest)
            }
            Err(err) => {
                self.errors.push(format!(
                    "{} wrote a line on stdout that is not a message ({err}): {line}",
                    self.directory.nodes()[node]
                ));
                return;
            }
        };
        if dest == Endpoint::Unknown {
            self.errors.push(format!(
                "{} sent a message to an id that does not exist: {line}",
                self.directory.nodes()[node]
            ));
            return;
        }
        self.net.send(
            Packet {
                src: Endpoint::Node(node),
                dest,
                line,
            },
            Instant::now(),
        );
    }

    fn deliver(&mut self, packet: Packet) {
        match packet.dest {
            Endpoint::Node(node) => self.nodes[node].send(packet.line),
            Endpoint::Client(client) => self.deliver_to_client(client, &packet.line),
            Endpoint::Service(service) => {
                let Ok(message) = serde_json::from_str::<Value>(&packet.line) else {
                    return;
                };
                let src = message["src"].as_str().unwrap_or_default().to_owned();
                if let Some(reply) = self.services.handle(service, &src, &message["body"]) {
                    let line = json!({"src": service.id(), "dest": src, "body": reply});
                    self.net.send(
                        Packet {
                            src: packet.dest,
                            dest: packet.src,
                            line: line.to_string(),
                        },
                        Instant::now(),
                    );
                }
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
        let Some(&slot) = self.by_client.get(&client) else {
            return; // a late reply to a retired client
        };
        let Some(in_flight) = &self.slots[slot].busy else {
            return;
        };
        if in_flight.msg_id != in_reply_to {
            return;
        }
        if body["type"] == "error" {
            let code = body["code"].as_u64().unwrap_or(13);
            let kind =
                if crate::results::is_definite(code) || self.workload.idempotent(in_flight.op.f) {
                    OpType::Fail
                } else {
                    OpType::Info
                };
            let error = json!([crate::results::error_name(code), body["text"]]);
            let value = in_flight.op.value.clone();
            self.complete(slot, kind, value, Some(error));
            return;
        }
        let op = in_flight.op.clone();
        let process = self.slots[slot].process;
        match self.workload.complete(process, &op, body) {
            Ok(Step::Done(value)) => self.complete(slot, OpType::Ok, value, None),
            Ok(Step::Then(mut next)) => {
                let msg_id = self.fresh_msg_id();
                next["msg_id"] = json!(msg_id);
                let deadline = Instant::now() + self.client_timeout();
                if let Some(in_flight) = &mut self.slots[slot].busy {
                    in_flight.msg_id = msg_id;
                    in_flight.deadline = deadline;
                }
                let (client, node) = (self.slots[slot].client, self.slots[slot].node);
                self.send_from_client(client, node, &next);
            }
            Err(problem) => {
                let value = in_flight.op.value.clone();
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
        while self.slots.iter().any(|s| s.busy.is_some()) {
            self.step(None);
        }
    }

    /// How long a client waits for a reply to each request.
    fn client_timeout(&self) -> Duration {
        self.workload.timeout().unwrap_or(CLIENT_TIMEOUT)
    }

    /// Every client process runs the workload's final operations, marked
    /// final, one after another until it has none left; after `limit` no
    /// new one starts.
    fn final_ops(&mut self, limit: Duration) {
        let end = Instant::now() + limit;
        let mut done: HashMap<u64, usize> = HashMap::new();
        let mut finished = vec![false; self.slots.len()];
        while Instant::now() < end {
            for (slot, finished) in finished.iter_mut().enumerate() {
                if *finished || self.slots[slot].busy.is_some() {
                    continue;
                }
                let process = self.slots[slot].process;
                let count = done.entry(process).or_insert(0);
                match self.workload.final_op(process, *count) {
                    Some(op) => {
                        *count += 1;
                        self.invoke(slot, op, true);
                    }
                    None => *finished = true,
                }
            }
            if finished.iter().all(|&f| f) {
                break;
            }
            self.step(Some(end));
        }
        self.drain_in_flight();
    }

    fn show_progress(&mut self, end: Instant) {
        if !self.progress || self.last_progress.elapsed() < Duration::from_millis(250) {
            return;
        }
        self.last_progress = Instant::now();
        let invoked = self
            .history
            .ops
            .iter()
            .filter(|o| o.kind == OpType::Invoke)
            .count();
        let ok = self
            .history
            .ops
            .iter()
            .filter(|o| o.kind == OpType::Ok)
            .count();
        let left = end.saturating_duration_since(Instant::now()).as_secs_f64();
        eprint!(
            "\r{:>6.1}s left  ops {invoked:>7}  ok {ok:>7}  msgs {:>9}  {}   ",
            left,
            self.net.stats.all.msgs,
            if self.net.is_partitioned() {
                "partitioned"
            } else {
                "           "
            }
        );
    }

    fn stop(&mut self) {
        for node in self.nodes.drain(..) {
            node.stop(Duration::from_secs(1));
        }
    }

    fn results(&self, seed: u64) -> Value {
        let wall = self.start.elapsed();
        let cpu = match (self.cpu_start, crate::results::cpu_time()) {
            (Some(before), Some(after)) => Some(after.saturating_sub(before)),
            _ => None,
        };
        crate::results::assemble(crate::results::Inputs {
            config: self.config,
            seed,
            workload: self.workload.check(&self.history),
            history: &self.history,
            net: self.net.stats,
            errors: &self.errors,
            nemesis: self.nemesis.log(),
            wall,
            cpu,
        })
    }
}
