//! `lin-kv`: reads, writes and compare-and-sets on a handful of keys at a
//! time; each key's history must be linearizable.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{field, Invocation, Step, Workload};
use crate::checker::linearizable::{self, Operation, RegisterOp, Verdict};
use crate::history::{History, OpType};

/// How many keys are in play at once, and how many operations each key
/// gets before the window moves on.
const KEYS_AT_ONCE: u64 = 5;
const OPS_PER_WINDOW: u64 = 150;

/// Random operations on a moving window of keys, values 0 to 4.
pub struct LinKv {
    generated: u64,
    timeout: Duration,
}

impl LinKv {
    /// Client timeouts follow Maelstrom: ten mean latencies, at least 1 s.
    pub fn new(latency_ms: f64) -> Self {
        LinKv {
            generated: 0,
            timeout: Duration::from_millis((latency_ms * 10.0).max(1000.0) as u64),
        }
    }
}

impl Workload for LinKv {
    fn next_op(&mut self, _process: u64, rng: &mut fastrand::Rng) -> Invocation {
        let key = self.generated / OPS_PER_WINDOW + rng.u64(..KEYS_AT_ONCE);
        self.generated += 1;
        match rng.u8(..3) {
            0 => Invocation::new("read", json!([key, null])),
            1 => Invocation::new("write", json!([key, rng.u8(..5)])),
            _ => Invocation::new("cas", json!([key, [rng.u8(..5), rng.u8(..5)]])),
        }
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Option<Value> {
        Some({
            let key = &op.value[0];
            match op.f {
                "read" => json!({"type": "read", "key": key}),
                "write" => json!({"type": "write", "key": key, "value": op.value[1]}),
                _ => {
                    json!({"type": "cas", "key": key, "from": op.value[1][0], "to": op.value[1][1]})
                }
            }
        })
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        Ok(Step::Done(match op.f {
            "read" => json!([op.value[0], field(reply, "value")?]),
            _ => op.value.clone(),
        }))
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
