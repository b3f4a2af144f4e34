//! `lin-kv`: reads, writes and compare-and-sets of small values on a few
//! keys at a time; each key's history must be linearizable.
//!
//! The generator is Jepsen's `linearizable-register` as Maelstrom runs it:
//! client threads work in groups of 2N (N nodes), each group on one key
//! (group g starts on key g). Threads 0 to N-1 only read (Jepsen reserves
//! them by their number in the whole test, so only the first group reads);
//! every other thread writes (1/3) or compare-and-sets (2/3), values 0 to
//! 4. A group leaves its key for the next unused one once more than 20
//! client processes have worked on it (each `info` gives a thread a new
//! process). Maelstrom crashes unless the concurrency is a multiple of 2N;
//! the bench says so before the run ([`LinKv::validate`]). (Jepsen counts a
//! thread's new process as soon as the thread has it; the bench, at the
//! thread's next operation, which comes a moment later.)
//!
//! History values: `[key, null]` for reads (`[key, value]` when done),
//! `[key, value]` for writes, `[key, [from, to]]` for compare-and-sets.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::{Invocation, Request, Step, Workload};
use crate::checker::linearizable::{self, Operation, RegisterOp, Verdict};
use crate::config::Config;
use crate::history::{History, OpType};

/// How many distinct processes a key sees before its group moves on.
const PROCESSES_PER_KEY: usize = 20;

/// Per-key groups of client threads, as Jepsen's concurrent generator.
pub struct LinKv {
    /// N: threads `0..readers` only read, and groups have `2N` threads.
    readers: u64,
    groups: Vec<Group>,
    /// The latest process seen on each thread.
    latest: Vec<u64>,
    next_key: u64,
    timeout: Duration,
}

/// One group of threads and its key.
struct Group {
    key: u64,
    /// The processes that have worked on `key`.
    processes: BTreeSet<u64>,
}

impl LinKv {
    /// The generator for `config`'s nodes and concurrency (see
    /// [`LinKv::validate`]). Client timeouts follow Maelstrom: ten mean
    /// latencies, at least 1 s.
    pub fn new(config: &Config) -> Self {
        let readers = config.node_total().max(1) as u64;
        let threads = config.processes().max(1) as u64;
        let groups = threads.div_ceil(2 * readers);
        LinKv {
            readers,
            groups: (0..groups)
                .map(|key| Group {
                    key,
                    processes: (key * 2 * readers..((key + 1) * 2 * readers).min(threads))
                        .collect(),
                })
                .collect(),
            latest: (0..threads).collect(),
            next_key: groups,
            timeout: Duration::from_millis((config.latency * 10.0).max(1000.0) as u64),
        }
    }

    /// Maelstrom runs each key with 2N client threads, so the concurrency
    /// must be a multiple of 2N (Maelstrom itself fails with an assertion).
    pub fn validate(config: &Config) -> Result<(), String> {
        let group = 2 * config.node_total();
        let processes = config.processes();
        if processes % group == 0 {
            return Ok(());
        }
        Err(format!(
            "--concurrency: lin-kv runs each key with 2 × {} nodes = {group} client processes, \
             so the concurrency must be a multiple of {group} (such as --concurrency 2n), \
             not {processes}; Maelstrom crashes on this",
            config.node_total()
        ))
    }

    /// The key `thread` works on now that it runs `process`.
    fn key_for(&mut self, thread: u64, process: u64) -> u64 {
        let size = 2 * self.readers;
        let group = (thread / size) as usize;
        self.latest[thread as usize] = process;
        let members =
            group as u64 * size..((group as u64 + 1) * size).min(self.latest.len() as u64);
        let current: Vec<u64> = members.map(|t| self.latest[t as usize]).collect();
        let g = &mut self.groups[group];
        g.processes.extend(current.iter().copied());
        if g.processes.len() > PROCESSES_PER_KEY {
            g.key = self.next_key;
            self.next_key += 1;
            g.processes = current.into_iter().collect();
        }
        g.key
    }
}

impl Workload for LinKv {
    fn reuses_clients(&self) -> bool {
        true
    }

    fn next_op(&mut self, process: u64, _elapsed: Duration, rng: &mut fastrand::Rng) -> Invocation {
        let thread = process % self.latest.len() as u64;
        let key = self.key_for(thread, process);
        if thread < self.readers {
            return Invocation::new("read", json!([key, null]));
        }
        match rng.u8(..3) {
            0 => Invocation::new("write", json!([key, rng.u8(..5)])),
            _ => Invocation::new("cas", json!([key, [rng.u8(..5), rng.u8(..5)]])),
        }
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        let key = &op.value[0];
        Request::Send(match op.f {
            "read" => json!({"type": "read", "key": key}),
            "write" => json!({"type": "write", "key": key, "value": op.value[1]}),
            _ => {
                json!({"type": "cas", "key": key, "from": op.value[1][0], "to": op.value[1][1]})
            }
        })
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        match op.f {
            "read" => {
                schema::check(reply, "read_ok", &[("value", Shape::Any)])?;
                Ok(Step::Done(json!([op.value[0], reply["value"]])))
            }
            "write" => {
                schema::check(reply, "write_ok", &[])?;
                Ok(Step::Done(op.value.clone()))
            }
            _ => {
                schema::check(reply, "cas_ok", &[])?;
                Ok(Step::Done(op.value.clone()))
            }
        }
    }

    fn idempotent(&self, f: &str) -> bool {
        f == "read"
    }

    fn timeout(&self) -> Option<Duration> {
        Some(self.timeout)
    }

    fn check(&self, history: &History) -> Value {
        check(history, linearizable::DEFAULT_BUDGET)
    }
}

/// Splits the history by key and checks each key's register.
pub fn check(history: &History, budget: u64) -> Value {
    let started = Instant::now();
    let mut by_key: BTreeMap<String, Vec<Operation>> = BTreeMap::new();
    for (invoke, done) in history.pairs() {
        let kind = done.map_or(OpType::Info, |d| d.kind);
        let op = match (invoke.f.as_str(), kind) {
            (_, OpType::Fail) | ("read", OpType::Info) => continue,
            ("read", _) => RegisterOp::Read(done.expect("ok").value[1].clone()),
            ("write", _) => RegisterOp::Write(invoke.value[1].clone()),
            ("cas", _) => RegisterOp::Cas {
                from: invoke.value[1][0].clone(),
                to: invoke.value[1][1].clone(),
            },
            _ => continue,
        };
        let ret = done
            .filter(|d| d.kind == OpType::Ok)
            .map(|d| d.index as u64);
        by_key
            .entry(invoke.value[0].to_string())
            .or_default()
            .push(Operation {
                index: invoke.index,
                call: invoke.index as u64,
                ret,
                op,
            });
    }
    let mut results = serde_json::Map::new();
    let mut failures = Vec::new();
    let mut unknown = false;
    for (key, ops) in &by_key {
        let verdict = linearizable::check(ops, budget);
        let result = match verdict {
            Verdict::Linearizable => json!({"valid?": true}),
            Verdict::NotLinearizable { stuck } => {
                failures.push(json!(key));
                json!({"valid?": false, "stuck-op": history.ops[stuck]})
            }
            Verdict::Unknown => {
                unknown = true;
                json!({"valid?": "unknown", "error": format!("gave up after {budget} search steps")})
            }
        };
        results.insert(key.clone(), result);
    }
    let valid = if !failures.is_empty() {
        json!(false)
    } else if unknown {
        json!("unknown")
    } else {
        json!(true)
    };
    json!({
        "valid?": valid,
        "key-count": by_key.len(),
        "failures": failures,
        "results": results,
        "check-seconds": started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &str) -> Config {
        Config::from_flags(&format!("-w lin-kv {args}")).unwrap()
    }

    #[test]
    fn the_concurrency_must_be_a_multiple_of_twice_the_nodes() {
        assert!(LinKv::validate(&config("--node-count 3 --concurrency 2n")).is_ok());
        assert!(LinKv::validate(&config("--node-count 3 --concurrency 12")).is_ok());
        let err = LinKv::validate(&config("--node-count 3 --concurrency 1n")).unwrap_err();
        assert!(
            err.contains("multiple of 6") && err.contains("not 3"),
            "{err}"
        );
        assert!(LinKv::validate(&config("--node-count 2 --concurrency 5")).is_err());
    }

    #[test]
    fn only_the_first_n_threads_read_and_the_others_write_or_cas() {
        let mut kv = LinKv::new(&config("--node-count 3 --concurrency 4n"));
        let mut rng = fastrand::Rng::with_seed(1);
        let mut by_thread = [[0u32; 3]; 12];
        for i in 0..12_000u64 {
            let op = kv.next_op(i % 12, Duration::ZERO, &mut rng);
            let f = ["read", "write", "cas"]
                .iter()
                .position(|f| *f == op.f)
                .unwrap();
            by_thread[(i % 12) as usize][f] += 1;
            match op.f {
                "read" => assert!(op.value[1].is_null()),
                "write" => assert!(op.value[1].as_u64().unwrap() < 5),
                _ => assert!(op.value[1]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|v| v.as_u64() < Some(5))),
            }
            // Threads 0-5 work on key 0, threads 6-11 on key 1.
            assert_eq!(op.value[0], json!((i % 12) / 6), "thread {}", i % 12);
        }
        for (thread, counts) in by_thread.iter().enumerate() {
            if thread < 3 {
                assert_eq!(counts, &[1000, 0, 0], "thread {thread}");
            } else {
                assert_eq!(counts[0], 0, "thread {thread} reads");
                assert!(
                    (270..400).contains(&counts[1]),
                    "thread {thread}: {counts:?}"
                );
            }
        }
    }

    #[test]
    fn a_group_moves_to_a_fresh_key_after_twenty_processes() {
        let mut kv = LinKv::new(&config("--node-count 1 --concurrency 4"));
        let mut rng = fastrand::Rng::with_seed(2);
        // Two groups of two threads: keys 0 and 1. Thread 1 keeps failing:
        // each op under a new process (1, 5, 9 ...).
        let key = |kv: &mut LinKv, process: u64, rng: &mut fastrand::Rng| {
            kv.next_op(process, Duration::ZERO, rng).value[0]
                .as_u64()
                .unwrap()
        };
        for n in 0..19 {
            assert_eq!(
                key(&mut kv, 1 + 4 * n, &mut rng),
                0,
                "process {}",
                1 + 4 * n
            );
        }
        // Thread 0's process and 19 of thread 1 make 20: still key 0. The
        // 21st process moves the group to key 2, the next unused one.
        assert_eq!(key(&mut kv, 0, &mut rng), 0);
        assert_eq!(key(&mut kv, 1 + 4 * 19, &mut rng), 2);
        assert_eq!(key(&mut kv, 0, &mut rng), 2);
        assert_eq!(key(&mut kv, 3, &mut rng), 1, "the other group stays");
    }

    #[test]
    fn replies_must_fit_maelstroms_schemas() {
        let mut kv = LinKv::new(&config("--node-count 1 --concurrency 2"));
        let read = Invocation::new("read", json!([3, null]));
        let ok = json!({"type": "read_ok", "value": null, "in_reply_to": 1});
        assert_eq!(kv.complete(0, &read, &ok), Ok(Step::Done(json!([3, null]))));
        let missing = json!({"type": "read_ok", "in_reply_to": 1});
        assert!(kv.complete(0, &read, &missing).is_err());
        let write = Invocation::new("write", json!([3, 1]));
        let extra = json!({"type": "write_ok", "value": 1, "in_reply_to": 1});
        assert!(kv.complete(0, &write, &extra).is_err());
        let cas = Invocation::new("cas", json!([3, [1, 2]]));
        let wrong = json!({"type": "write_ok", "in_reply_to": 1});
        assert!(kv.complete(0, &cas, &wrong).is_err());
        assert_eq!(kv.timeout(), Some(Duration::from_secs(1)));
    }
}
