//! The bench's generators against the real Maelstrom's: the bench's engine
//! runs each workload, on a virtual clock, against nodes in memory that
//! answer every request correctly ([`Memory`]), with the flags of a
//! reference run in `testbench/maelstrom-reference/`; the statistics of the
//! resulting history must match those of Maelstrom's history.
//!
//! The rate is the one Maelstrom achieved (its operations over its time
//! limit), so that both runs have as many operations. A statistic matches
//! when it is within 10 % of Maelstrom's, or within three standard errors
//! of Maelstrom's when that is wider (one reference run of 4 crashes or
//! 300 assigns cannot pin its mean closer than that). The bench's side is
//! the mean of several seeded runs. Every row is printed
//! (`cargo test --test generators -- --nocapture`).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use testbench::config::Concurrency;
use testbench::history::{History, Op, OpType};
use testbench::reach::{Cluster, Event, Time};
use testbench::services::{Service, Services};
use testbench::workload;
use testbench::{Config, Workload as Kind};

fn reference(name: &str) -> History {
    testbench::reference::history(name).unwrap_or_else(|err| panic!("{err}"))
}

/// What the nodes in memory do with a client's request: the reply body
/// and how long it takes, or `None` for a request never answered.
trait Server {
    fn handle(&mut self, body: &Value, rng: &mut fastrand::Rng) -> Option<(Value, Duration)>;
}

/// A cluster of nodes in memory sharing one [`Server`], on a virtual clock.
struct Memory<S> {
    ids: Vec<String>,
    server: S,
    rng: fastrand::Rng,
    now: Time,
    /// Lines the nodes will write: (when, order, node, line).
    outbox: BinaryHeap<Reverse<(Time, u64, usize, String)>>,
    written: u64,
}

impl<S: Server> Memory<S> {
    fn new(ids: Vec<String>, server: S, seed: u64) -> Self {
        Memory {
            ids,
            server,
            rng: fastrand::Rng::with_seed(seed),
            now: Duration::ZERO,
            outbox: BinaryHeap::new(),
            written: 0,
        }
    }
}

impl<S: Server> Cluster for Memory<S> {
    fn now(&self) -> Time {
        self.now
    }

    fn send(&mut self, node: usize, line: String) {
        let message: Value = serde_json::from_str(&line).unwrap();
        let body = &message["body"];
        let answer = if body["type"] == "init" {
            Some((json!({"type": "init_ok"}), Duration::ZERO))
        } else {
            self.server.handle(body, &mut self.rng)
        };
        if let Some((mut reply, delay)) = answer {
            reply["in_reply_to"] = body["msg_id"].clone();
            let reply = json!({"src": self.ids[node], "dest": message["src"], "body": reply});
            self.written += 1;
            self.outbox.push(Reverse((
                self.now + delay,
                self.written,
                node,
                reply.to_string(),
            )));
        }
    }

    fn wait(&mut self, until: Time, events: &mut Vec<Event>) {
        let next = self.outbox.peek().map(|Reverse((due, ..))| *due);
        self.now = self.now.max(next.map_or(until, |due| due.min(until)));
        while let Some(Reverse((due, ..))) = self.outbox.peek() {
            if *due > self.now {
                break;
            }
            let Reverse((_, _, node, line)) = self.outbox.pop().unwrap();
            events.push(Event::Line { node, line });
        }
    }

    fn ending(&mut self, _node: usize) -> String {
        "still running".to_owned()
    }

    fn kill(&mut self, _node: usize) {}

    fn restart(&mut self, _node: usize) -> Result<(), String> {
        Ok(())
    }

    fn pause(&mut self, _node: usize) {}

    fn resume(&mut self, _node: usize) {}

    fn stop(&mut self) {}
}

/// Runs `config` on the bench's engine against `server`; the history.
fn run(mut config: Config, server: impl Server, seed: u64) -> (History, Value) {
    config.seed = Some(seed);
    let cluster = Memory::new(config.node_ids(), server, seed);
    let run = testbench::simulate(&config, cluster, seed).unwrap();
    (run.history, run.results)
}

/// How long the nodes in memory take to answer (as the project's nodes
/// did in the reference runs: about half a millisecond).
const REPLY: Duration = Duration::from_micros(500);

fn reference_results(name: &str) -> Value {
    testbench::reference::results(name).unwrap_or_else(|err| panic!("{err}"))
}

/// Messages to and from clients per operation, after checking that they
/// are what the history implies: a request and a reply for each send, poll,
/// commit (after a poll that brought messages) and assign that does not
/// seek to the beginning, plus `init` and `init_ok` for each of 2 nodes.
/// Crashes and final assigns send nothing.
fn client_messages(history: &History, results: &Value) -> f64 {
    let invokes = history.ops.iter().filter(|op| op.kind == OpType::Invoke);
    let requests = invokes
        .filter(|op| {
            op.f == "send" || op.f == "poll" || (op.f == "assign" && op.time < 25_000_000_000)
        })
        .count();
    let commits = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Ok && op.f == "poll")
        .filter(|op| {
            op.value[0][1].as_object().is_some_and(|m| {
                m.values()
                    .any(|v| v.as_array().is_some_and(|l| !l.is_empty()))
            })
        })
        .count();
    let messages = results["net"]["clients"]["msg-count"].as_u64().unwrap();
    assert_eq!(messages as usize, 2 * (requests + commits) + 4);
    share(
        messages as usize,
        history
            .ops
            .iter()
            .filter(|op| op.kind == OpType::Invoke)
            .count(),
    )
}

/// A kafka node on one machine: one log per key, offsets 0, 1, 2 ...
#[derive(Default)]
struct Kafka {
    logs: HashMap<String, Vec<Value>>,
    committed: HashMap<String, i64>,
}

impl Server for Kafka {
    fn handle(&mut self, body: &Value, _rng: &mut fastrand::Rng) -> Option<(Value, Duration)> {
        let offsets = body["offsets"].as_object().cloned().unwrap_or_default();
        let reply = match body["type"].as_str()? {
            "send" => {
                let log = self
                    .logs
                    .entry(body["key"].as_str()?.to_owned())
                    .or_default();
                log.push(body["msg"].clone());
                json!({"type": "send_ok", "offset": log.len() - 1})
            }
            "poll" => {
                let mut msgs = serde_json::Map::new();
                for (key, from) in offsets {
                    let log = self.logs.get(&key).map_or(&[][..], Vec::as_slice);
                    let from = from.as_u64()? as usize;
                    let pairs: Vec<Value> = (from..log.len()).map(|o| json!([o, log[o]])).collect();
                    if !pairs.is_empty() {
                        msgs.insert(key, json!(pairs));
                    }
                }
                json!({"type": "poll_ok", "msgs": msgs})
            }
            "commit_offsets" => {
                for (key, offset) in offsets {
                    let committed = self.committed.entry(key).or_insert(0);
                    *committed = (*committed).max(offset.as_i64()?);
                }
                json!({"type": "commit_offsets_ok"})
            }
            "list_committed_offsets" => {
                let known: serde_json::Map<String, Value> = body["keys"]
                    .as_array()?
                    .iter()
                    .filter_map(|k| {
                        let k = k.as_str()?;
                        Some((k.to_owned(), json!(self.committed.get(k)?)))
                    })
                    .collect();
                json!({"type": "list_committed_offsets_ok", "offsets": known})
            }
            _ => return None,
        };
        Some((reply, REPLY))
    }
}

/// A serializable transaction node: one map of registers.
#[derive(Default)]
struct Registers(HashMap<String, Value>);

impl Server for Registers {
    fn handle(&mut self, body: &Value, _rng: &mut fastrand::Rng) -> Option<(Value, Duration)> {
        let mut txn = Vec::new();
        for mop in body["txn"].as_array()? {
            let key = mop[1].to_string();
            if mop[0] == "r" {
                let value = self.0.get(&key).cloned().unwrap_or(Value::Null);
                txn.push(json!(["r", mop[1], value]));
            } else {
                self.0.insert(key, mop[2].clone());
                txn.push(mop.clone());
            }
        }
        Some((json!({"type": "txn_ok", "txn": txn}), REPLY))
    }
}

/// A linearizable key-value node (the bench's own `lin-kv` service) whose
/// writes and compare-and-sets time out with probability `timeouts`.
struct LinKv {
    store: Services,
    timeouts: f64,
}

impl Server for LinKv {
    fn handle(&mut self, body: &Value, rng: &mut fastrand::Rng) -> Option<(Value, Duration)> {
        if body["type"] != "read" && rng.f64() < self.timeouts {
            return None;
        }
        let mut reply = self.store.handle(Service::LinKv, "n0", body);
        reply.as_object_mut()?.remove("in_reply_to");
        Some((reply, REPLY))
    }
}

/// How a statistic may differ from Maelstrom's.
#[derive(Clone, Copy)]
enum Spread {
    /// A fraction measured on `n` trials of Maelstrom's run.
    Share(f64),
    /// A count of rare events in Maelstrom's run.
    Count,
    /// Anything else: 10 %.
    Fixed,
}

/// The comparison table.
#[derive(Default)]
struct Table {
    rows: Vec<String>,
    failures: Vec<String>,
}

impl Table {
    fn row(&mut self, name: &str, reference: f64, bench: f64, spread: Spread) {
        let sigma = match spread {
            Spread::Share(n) => (reference * (1.0 - reference) / n).sqrt(),
            Spread::Count => reference.sqrt(),
            Spread::Fixed => 0.0,
        };
        let allowed = (0.10 * reference.abs()).max(3.0 * sigma);
        let ok = (bench - reference).abs() <= allowed + 1e-12;
        let off = if reference == 0.0 {
            0.0
        } else {
            100.0 * (bench - reference) / reference
        };
        let row = format!(
            "| {name} | {reference:.4} | {bench:.4} | {off:+.1} % | ±{:.1} % | {} |",
            100.0 * allowed / reference.abs().max(1e-12),
            if ok { "ok" } else { "FAIL" }
        );
        if !ok {
            self.failures.push(row.clone());
        }
        self.rows.push(row);
    }

    fn check(self, title: &str) {
        eprintln!("\n{title}\n| statistic | Maelstrom | bench | off | allowed | |\n| --- | --- | --- | --- | --- | --- |");
        for row in &self.rows {
            eprintln!("{row}");
        }
        assert!(
            self.failures.is_empty(),
            "{title}: statistics off Maelstrom's:\n{}",
            self.failures.join("\n")
        );
    }
}

/// The mean of each statistic over several runs.
fn mean_stats(runs: &[BTreeMap<&'static str, f64>]) -> BTreeMap<&'static str, f64> {
    let mut mean: BTreeMap<&'static str, f64> = BTreeMap::new();
    for run in runs {
        for (name, value) in run {
            *mean.entry(name).or_default() += value / runs.len() as f64;
        }
    }
    mean
}

/// A run of `workload` with Maelstrom's flags, at the rate that gives `ops`
/// operations in `seconds`.
fn config(
    workload: Kind,
    nodes: u64,
    concurrency: Concurrency,
    ops: usize,
    seconds: f64,
) -> Config {
    let mut config = Config::new(workload, "unused");
    config.node_count = Some(nodes);
    config.concurrency = concurrency;
    config.time_limit = seconds;
    config.rate = ops as f64 / seconds;
    config
}

/// The invocations of the main phase (before the final phase, which
/// begins at least 10 s after `time_limit`).
fn main_invokes(history: &History, time_limit: Duration) -> Vec<&Op> {
    let end = (time_limit + Duration::from_secs(5)).as_nanos() as u64;
    history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Invoke && op.time < end)
        .collect()
}

fn share(part: usize, whole: usize) -> f64 {
    part as f64 / whole.max(1) as f64
}

/// kafka: what fraction of operations does what, how many keys and how
/// full, how big assigns are, how often clients crash.
fn kafka_stats(history: &History) -> BTreeMap<&'static str, f64> {
    let main = main_invokes(history, Duration::from_secs(20));
    let count = |f: &str| main.iter().filter(|op| op.f == f).count();
    let mut sends: HashMap<&str, usize> = HashMap::new();
    for op in main.iter().filter(|op| op.f == "send") {
        *sends.entry(op.value[0][1].as_str().unwrap()).or_default() += 1;
    }
    let assigns: Vec<usize> = main
        .iter()
        .filter(|op| op.f == "assign")
        .map(|op| op.value.as_array().unwrap().len())
        .collect();
    let polls: Vec<&Op> = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Ok && op.f == "poll" && op.time < 25_000_000_000)
        .collect();
    let non_empty = polls
        .iter()
        .filter(|op| op.value[0][1].as_object().is_some_and(|m| !m.is_empty()))
        .count();
    let finals: Vec<&Op> = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Invoke && op.time >= 25_000_000_000)
        .collect();
    let final_assign = finals.iter().find(|op| op.f == "assign");
    BTreeMap::from([
        ("main-phase operations", main.len() as f64),
        ("poll share", share(count("poll"), main.len())),
        ("send share", share(count("send"), main.len())),
        ("assign share", share(assigns.len(), main.len())),
        ("crashes in the main phase", count("crash") as f64),
        ("distinct send keys", sends.len() as f64),
        ("sends per key", share(count("send"), sends.len())),
        (
            "keys with 16 sends",
            share(sends.values().filter(|&&n| n == 16).count(), sends.len()),
        ),
        (
            "assigns of more than one key",
            share(assigns.iter().filter(|&&n| n > 1).count(), assigns.len()),
        ),
        (
            "keys per assign",
            share(assigns.iter().sum(), assigns.len()),
        ),
        ("polls that bring messages", share(non_empty, polls.len())),
        (
            "final crashes",
            finals.iter().filter(|op| op.f == "crash").count() as f64,
        ),
        (
            "final assigns",
            finals.iter().filter(|op| op.f == "assign").count() as f64,
        ),
        (
            "keys in a final assign",
            final_assign.map_or(0, |op| op.value.as_array().unwrap().len()) as f64,
        ),
    ])
}

#[test]
fn kafka_matches_maelstroms_kafka_glomers_run() {
    // --node-count 2 --concurrency 2n --time-limit 20 --rate 1000
    let history = reference("kafka-glomers");
    let mut theirs = kafka_stats(&history);
    let results = reference_results("kafka-glomers");
    theirs.insert(
        "client messages per operation",
        client_messages(&history, &results),
    );
    let ops = main_invokes(&history, Duration::from_secs(20)).len();
    let runs: Vec<_> = (0..4)
        .map(|seed| {
            let config = config(Kind::Kafka, 2, Concurrency::PerNode(2), ops, 20.0);
            let (history, results) = run(config, Kafka::default(), seed);
            assert_eq!(results["valid?"], true, "{}", results["workload"]);
            let mut stats = kafka_stats(&history);
            stats.insert(
                "client messages per operation",
                client_messages(&history, &results),
            );
            stats
        })
        .collect();
    let ours = mean_stats(&runs);
    let assigns = theirs["assign share"] * ops as f64;
    let polls = theirs["poll share"] * ops as f64;
    let mut table = Table::default();
    for (name, spread) in [
        ("main-phase operations", Spread::Fixed),
        ("poll share", Spread::Share(ops as f64)),
        ("send share", Spread::Share(ops as f64)),
        ("assign share", Spread::Share(ops as f64)),
        ("crashes in the main phase", Spread::Count),
        ("distinct send keys", Spread::Fixed),
        ("sends per key", Spread::Fixed),
        ("keys with 16 sends", Spread::Fixed),
        ("assigns of more than one key", Spread::Share(assigns)),
        ("keys per assign", Spread::Fixed),
        ("polls that bring messages", Spread::Share(polls)),
        ("final crashes", Spread::Fixed),
        ("final assigns", Spread::Fixed),
        ("keys in a final assign", Spread::Fixed),
        ("client messages per operation", Spread::Fixed),
    ] {
        table.row(name, theirs[name], ours[name], spread);
    }
    table.check("kafka-glomers (2 nodes, concurrency 2n, rate 1000, 20 s)");
}

/// txn: transaction lengths, reads and writes, keys per transaction, key
/// rotation and how hot the hottest keys are.
fn txn_stats(history: &History) -> BTreeMap<&'static str, f64> {
    let txns: Vec<&Vec<Value>> = main_invokes(history, Duration::from_secs(20))
        .into_iter()
        .map(|op| op.value.as_array().unwrap())
        .collect();
    let mops: Vec<&Value> = txns.iter().flat_map(|t| t.iter()).collect();
    let length = |n: usize| share(txns.iter().filter(|t| t.len() == n).count(), txns.len());
    let keys_in = |t: &Vec<Value>| {
        t.iter()
            .map(|m| m[1].as_u64().unwrap())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let keys_per_txn =
        |n: usize| share(txns.iter().filter(|t| keys_in(t) == n).count(), txns.len());
    let mut writes: HashMap<u64, Vec<u64>> = HashMap::new();
    for mop in mops.iter().filter(|m| m[0] == "w") {
        writes
            .entry(mop[1].as_u64().unwrap())
            .or_default()
            .push(mop[2].as_u64().unwrap());
    }
    let keys: BTreeSet<u64> = mops.iter().map(|m| m[1].as_u64().unwrap()).collect();
    let in_order = writes
        .values()
        .all(|v| *v == (1..=v.len() as u64).collect::<Vec<_>>());
    // The share of micro-operations on the hottest and fourth-hottest key
    // within windows of 200 transactions.
    let mut hottest = [0.0; 4];
    let windows = txns.len() / 200;
    for window in txns.chunks_exact(200) {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for mop in window.iter().flat_map(|t| t.iter()) {
            *counts.entry(mop[1].as_u64().unwrap()).or_default() += 1;
        }
        let total: usize = counts.values().sum();
        let mut counts: Vec<usize> = counts.into_values().collect();
        counts.sort_unstable_by(|a, b| b.cmp(a));
        for (i, slot) in hottest.iter_mut().enumerate() {
            *slot += share(counts.get(i).copied().unwrap_or(0), total) / windows as f64;
        }
    }
    BTreeMap::from([
        ("transactions", txns.len() as f64),
        ("1 micro-op", length(1)),
        ("2 micro-ops", length(2)),
        ("3 micro-ops", length(3)),
        ("4 micro-ops", length(4)),
        (
            "read share",
            share(mops.iter().filter(|m| m[0] == "r").count(), mops.len()),
        ),
        ("1 key per txn", keys_per_txn(1)),
        ("2 keys per txn", keys_per_txn(2)),
        ("3 keys per txn", keys_per_txn(3)),
        ("4 keys per txn", keys_per_txn(4)),
        ("distinct keys", keys.len() as f64),
        ("micro-ops per key", share(mops.len(), keys.len())),
        (
            "keys with 16 writes",
            share(
                writes.values().filter(|v| v.len() == 16).count(),
                writes.len(),
            ),
        ),
        ("writes 1..n in order", f64::from(u8::from(in_order))),
        ("hottest key share", hottest[0]),
        ("4th hottest key share", hottest[3]),
    ])
}

#[test]
fn txn_rw_register_matches_maelstroms_txn_glomers_run() {
    // --node-count 2 --concurrency 2n --time-limit 20 --rate 1000
    let history = reference("txn-rw-register-glomers");
    let theirs = txn_stats(&history);
    let txns = main_invokes(&history, Duration::from_secs(20)).len() as f64;
    let runs: Vec<_> = (0..4)
        .map(|seed| {
            let config = config(
                Kind::TxnRwRegister,
                2,
                Concurrency::PerNode(2),
                txns as usize,
                20.0,
            );
            let (history, results) = run(config, Registers::default(), seed);
            assert_eq!(results["valid?"], true, "{}", results["workload"]);
            txn_stats(&history)
        })
        .collect();
    let ours = mean_stats(&runs);
    let mops = txns * 2.5;
    let mut table = Table::default();
    for (name, spread) in [
        ("transactions", Spread::Fixed),
        ("1 micro-op", Spread::Share(txns)),
        ("2 micro-ops", Spread::Share(txns)),
        ("3 micro-ops", Spread::Share(txns)),
        ("4 micro-ops", Spread::Share(txns)),
        ("read share", Spread::Share(mops)),
        ("1 key per txn", Spread::Share(txns)),
        ("2 keys per txn", Spread::Share(txns)),
        ("3 keys per txn", Spread::Share(txns)),
        ("4 keys per txn", Spread::Share(txns)),
        ("distinct keys", Spread::Fixed),
        ("micro-ops per key", Spread::Fixed),
        ("keys with 16 writes", Spread::Fixed),
        ("writes 1..n in order", Spread::Fixed),
        ("hottest key share", Spread::Fixed),
        ("4th hottest key share", Spread::Fixed),
    ] {
        table.row(name, theirs[name], ours[name], spread);
    }
    table.check("txn-rw-register-glomers (2 nodes, concurrency 2n, rate 1000, 20 s)");
}

/// lin-kv: the operation mix, who reads, the values, how keys rotate.
fn lin_kv_stats(history: &History, threads: u64, readers: u64) -> BTreeMap<&'static str, f64> {
    let invokes: Vec<&Op> = main_invokes(history, Duration::from_secs(60));
    let count = |f: &str| invokes.iter().filter(|op| op.f == f).count();
    let reads_elsewhere = invokes
        .iter()
        .filter(|op| op.f == "read" && op.process % threads >= readers)
        .count();
    let mut processes: HashMap<String, BTreeSet<u64>> = HashMap::new();
    for op in &invokes {
        processes
            .entry(op.value[0].to_string())
            .or_default()
            .insert(op.process);
    }
    let values: Vec<u64> = invokes
        .iter()
        .flat_map(|op| match op.f.as_str() {
            "write" => vec![op.value[1].as_u64().unwrap()],
            "cas" => op.value[1]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .collect(),
            _ => vec![],
        })
        .collect();
    let mean_value = share(values.iter().sum::<u64>() as usize, values.len());
    let all: BTreeSet<u64> = invokes.iter().map(|op| op.process).collect();
    BTreeMap::from([
        ("operations", invokes.len() as f64),
        ("read share", share(count("read"), invokes.len())),
        ("write share", share(count("write"), invokes.len())),
        ("cas share", share(count("cas"), invokes.len())),
        ("reads by threads N and up", reads_elsewhere as f64),
        ("mean written value", mean_value),
        (
            "largest value",
            values.iter().copied().max().unwrap_or(0) as f64,
        ),
        ("distinct keys", processes.len() as f64),
        (
            "most processes on a key",
            processes.values().map(BTreeSet::len).max().unwrap_or(0) as f64,
        ),
        ("processes", all.len() as f64),
    ])
}

#[test]
fn lin_kv_matches_maelstroms_raft_demo_run() {
    // --node-count 3 --concurrency 10n --rate 100 --time-limit 60; the
    // server times writes and compare-and-sets out as often as the Raft
    // demo did (its reads only failed, which moves nothing).
    let history = reference("lin-kv-python-raft-demo");
    let theirs = lin_kv_stats(&history, 30, 3);
    let invokes = main_invokes(&history, Duration::from_secs(60));
    let changes = invokes.iter().filter(|op| op.f != "read").count();
    let infos = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Info)
        .count();
    let timeouts = share(infos, changes);
    let runs: Vec<_> = (0..4)
        .map(|seed| {
            let config = config(
                Kind::LinKv,
                3,
                Concurrency::PerNode(10),
                invokes.len(),
                60.0,
            );
            let server = LinKv {
                store: Services::new(seed),
                timeouts,
            };
            let (history, results) = run(config, server, seed);
            assert_eq!(
                results["workload"]["valid?"], true,
                "{}",
                results["workload"]
            );
            lin_kv_stats(&history, 30, 3)
        })
        .collect();
    let ours = mean_stats(&runs);
    let n = invokes.len() as f64;
    let mut table = Table::default();
    for (name, spread) in [
        ("operations", Spread::Fixed),
        ("read share", Spread::Share(n)),
        ("write share", Spread::Share(n)),
        ("cas share", Spread::Share(n)),
        ("reads by threads N and up", Spread::Fixed),
        ("mean written value", Spread::Fixed),
        ("largest value", Spread::Fixed),
        ("distinct keys", Spread::Count),
        ("most processes on a key", Spread::Fixed),
        ("processes", Spread::Fixed),
    ] {
        table.row(name, theirs[name], ours[name], spread);
    }
    table.check("lin-kv-python-raft-demo (3 nodes, concurrency 10n, rate 100, 60 s)");
}

#[test]
fn maelstroms_kafka_history_passes_the_kafka_checker() {
    let history = reference("kafka-glomers");
    let config = config(Kind::Kafka, 2, Concurrency::PerNode(2), 1, 20.0);
    let result = workload::for_config(&config).unwrap().check(&history);
    assert_eq!(result["valid?"], true, "{result}");
}

/// Every request answered with error 11 (temporarily unavailable).
struct Unavailable;

impl Server for Unavailable {
    fn handle(&mut self, _body: &Value, _rng: &mut fastrand::Rng) -> Option<(Value, Duration)> {
        let error = json!({"type": "error", "code": 11, "text": "not now"});
        Some((error, REPLY))
    }
}

#[test]
fn definite_errors_fail_only_where_maelstroms_client_sorts_them() {
    // Maelstrom's lin-kv client sorts errors (`with-errors`): a definite
    // one fails the operation. Its echo and g-counter clients do not: any
    // error reply is an exception there, and the operation is `info`.
    for (workload, kind) in [
        (Kind::LinKv, OpType::Fail),
        (Kind::Echo, OpType::Info),
        (Kind::GCounter, OpType::Info),
    ] {
        let mut config = config(workload, 1, Concurrency::PerNode(2), 20, 1.0);
        config.time_limit = 1.0;
        let (history, _) = run(config, Unavailable, 1);
        let ends: Vec<OpType> = history
            .ops
            .iter()
            .filter(|op| op.kind != OpType::Invoke)
            .map(|op| op.kind)
            .collect();
        assert!(
            !ends.is_empty() && ends.iter().all(|&k| k == kind),
            "{workload:?}: {ends:?}"
        );
    }
}

#[test]
fn a_lin_kv_concurrency_maelstrom_cannot_run_is_a_usage_error_before_any_node_starts() {
    let mut config = config(Kind::LinKv, 3, Concurrency::Total(4), 10, 1.0);
    config.bin = PathBuf::from("/nonexistent/node");
    let err = testbench::run(&config).unwrap_err();
    assert!(err.contains("multiple of 6"), "{err}");
}
