//! Results as Maelstrom gives them: per-checker verdicts, availability,
//! network statistics, and a printed summary.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use crate::config::{Availability, Config};
use crate::history::{History, OpType};
use crate::net::NetStats;

/// Everything the results of a run are made of.
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub seed: u64,
    pub workload: Value,
    pub history: &'a History,
    pub net: NetStats,
    pub faults: &'a crate::faults::Faults,
    /// The signal that stopped the run early, if one did.
    pub interrupted: Option<i32>,
    pub nemesis: &'a [Value],
    pub wall: Duration,
    pub cpu: Option<Duration>,
    /// How long stopping the nodes took.
    pub teardown: Duration,
}

/// The results object, with the overall `valid?`.
pub fn assemble(inputs: Inputs<'_>) -> Value {
    let cpu_cores = inputs
        .cpu
        .map(|cpu| cpu.as_secs_f64() / inputs.wall.as_secs_f64().max(1e-9));
    let facts = Facts {
        net: json!({
            "all": inputs.net.all,
            "clients": inputs.net.clients,
            "servers": inputs.net.servers,
        }),
        nodes: inputs.faults.to_json(),
        interrupted: inputs
            .interrupted
            .map(|s| crate::interrupt::name(s).to_owned()),
        nemesis: json!(inputs.nemesis),
        bench: json!({
            "seed": inputs.seed,
            "wall-seconds": inputs.wall.as_secs_f64(),
            "teardown-seconds": inputs.teardown.as_secs_f64(),
            "cpu-cores": cpu_cores,
        }),
    };
    judge(inputs.config, inputs.workload, inputs.history, facts)
}

/// What a run's results hold that its history cannot tell: the message
/// counts, what the nodes did wrong, whether the run was interrupted, what
/// the nemesis did and the bench's own figures. `glomers analyze` takes
/// them from the stored results.
#[derive(Debug, Clone)]
pub struct Facts {
    /// `{"all", "clients", "servers"}`, each with Maelstrom's counts.
    pub net: Value,
    /// The `nodes` section: what the nodes did wrong (each fault makes the
    /// run invalid), counted by kind with examples.
    pub nodes: Value,
    /// The signal that stopped the run early (`SIGINT` ...), if one did.
    pub interrupted: Option<String>,
    /// The nemesis log.
    pub nemesis: Value,
    /// The bench's seed, wall time, teardown time and CPU.
    pub bench: Value,
}

impl Facts {
    /// The facts a stored `results.json` recorded.
    pub fn from_results(results: &Value) -> Facts {
        let mut nodes = results["nodes"].clone();
        if !nodes.is_object() {
            nodes = json!({"valid?": true, "errors": []});
        }
        Facts {
            net: results["net"].clone(),
            nodes,
            interrupted: results["interrupted"].as_str().map(str::to_owned),
            nemesis: results["nemesis"].clone(),
            bench: results["bench"].clone(),
        }
    }
}

/// The results object from the workload checker's verdict on `history` and
/// the run's facts: statistics, availability, `msgs-per-op` and the overall
/// `valid?`, as a run writes them to `results.json`.
pub fn judge(config: &Config, workload: Value, history: &History, facts: Facts) -> Value {
    let stats = stats(history);
    let availability = availability(history, config.availability);
    let invoked = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Invoke)
        .count() as f64;
    let mut net = facts.net;
    for class in ["all", "servers"] {
        let msgs = net[class]["msg-count"].as_u64().unwrap_or(0) as f64;
        if net[class].is_object() {
            net[class]["msgs-per-op"] = json!(if invoked > 0.0 { msgs / invoked } else { 0.0 });
        }
    }
    net["valid?"] = json!(true);
    let mut nodes_ok = facts.nodes;
    let no_faults = nodes_ok["errors"].as_array().is_none_or(Vec::is_empty)
        && nodes_ok["error-count"].as_u64().unwrap_or(0) == 0;
    nodes_ok["valid?"] = json!(no_faults);
    let verdicts = [
        &workload["valid?"],
        &stats["valid?"],
        &availability["valid?"],
        &nodes_ok["valid?"],
    ];
    // A run stopped early is judged on what it recorded: a fault found is
    // real, but an absence of faults proves nothing.
    let valid = if verdicts.iter().any(|v| **v == json!(false)) {
        json!(false)
    } else if facts.interrupted.is_none() && verdicts.iter().all(|v| **v == json!(true)) {
        json!(true)
    } else {
        json!("unknown")
    };
    let mut results = json!({
        "workload": workload,
        "latencies": latencies(history),
        "stats": stats,
        "availability": availability,
        "net": net,
        "nodes": nodes_ok,
        "nemesis": facts.nemesis,
        "bench": facts.bench,
        "valid?": valid,
    });
    if let Some(signal) = facts.interrupted {
        results["interrupted"] = json!(signal);
    }
    results
}

/// Quantiles of the time from invocation to `ok`, in whole milliseconds.
fn latencies(history: &History) -> Value {
    let times: Vec<u64> = history
        .pairs()
        .into_iter()
        .filter_map(|(invoke, done)| {
            let done = done.filter(|d| d.kind == OpType::Ok)?;
            Some(done.time.saturating_sub(invoke.time) / 1_000_000)
        })
        .collect();
    crate::checker::set_full::quantiles(times).unwrap_or(Value::Null)
}

/// Counts by outcome, overall and per operation; valid when every kind of
/// operation succeeded at least once (Jepsen's stats checker).
fn stats(history: &History) -> Value {
    let mut by_f: BTreeMap<&str, [u64; 3]> = BTreeMap::new();
    for op in &history.ops {
        let counts = by_f.entry(op.f.as_str()).or_default();
        match op.kind {
            OpType::Invoke => {}
            OpType::Ok => counts[0] += 1,
            OpType::Fail => counts[1] += 1,
            OpType::Info => counts[2] += 1,
        }
    }
    let entry = |[ok, fail, info]: [u64; 3]| {
        json!({
            "valid?": ok > 0,
            "count": ok + fail + info,
            "ok-count": ok,
            "fail-count": fail,
            "info-count": info,
        })
    };
    let total = by_f.values().fold([0; 3], |acc, c| {
        [acc[0] + c[0], acc[1] + c[1], acc[2] + c[2]]
    });
    let mut result = entry(total);
    let by_f: serde_json::Map<String, Value> = by_f
        .into_iter()
        .map(|(f, counts)| (f.to_owned(), entry(counts)))
        .collect();
    // As Maelstrom (which wraps Jepsen's stats in kafka's), operations that
    // never succeed by design, a client's `crash`, do not count.
    result["valid?"] = json!(by_f
        .iter()
        .filter(|(f, _)| !matches!(f.as_str(), "crash" | "debug-topic-partitions"))
        .all(|(_, v)| v["valid?"] == json!(true)));
    result["by-f"] = Value::Object(by_f);
    result
}

/// The fraction of operations that succeeded, judged by `--availability`.
fn availability(history: &History, required: Option<Availability>) -> Value {
    let invoked = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Invoke)
        .count();
    let ok = history
        .ops
        .iter()
        .filter(|op| op.kind == OpType::Ok)
        .count();
    let fraction = if invoked == 0 {
        1.0
    } else {
        ok as f64 / invoked as f64
    };
    let valid = match required {
        None => true,
        Some(Availability::Total) => ok == invoked,
        Some(Availability::Fraction(min)) => fraction >= min,
    };
    json!({"valid?": valid, "ok-fraction": fraction})
}

/// The process's CPU time (user and system, all threads) so far, from
/// `/proc/self/stat`; `None` off Linux.
pub fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start at ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// The summary printed at the end of a run.
pub fn summary(results: &Value, store: &std::path::Path) -> String {
    let mut out = String::new();
    let line = |out: &mut String, text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let workload = &results["workload"];
    line(&mut out, format!(":workload {}", compact(workload)));
    line(
        &mut out,
        format!(
            ":stats {{:count {}, :ok-count {}, :fail-count {}, :info-count {}}}",
            results["stats"]["count"],
            results["stats"]["ok-count"],
            results["stats"]["fail-count"],
            results["stats"]["info-count"]
        ),
    );
    line(
        &mut out,
        format!(
            ":availability {{:valid? {}, :ok-fraction {:.4}}}",
            results["availability"]["valid?"],
            results["availability"]["ok-fraction"]
                .as_f64()
                .unwrap_or(0.0)
        ),
    );
    let net = &results["net"];
    line(
        &mut out,
        format!(
            ":net {{:all {{:msg-count {}, :msgs-per-op {:.3}}}, :servers {{:msg-count {}, :msgs-per-op {:.3}}}}}",
            net["all"]["msg-count"],
            net["all"]["msgs-per-op"].as_f64().unwrap_or(0.0),
            net["servers"]["msg-count"],
            net["servers"]["msgs-per-op"].as_f64().unwrap_or(0.0)
        ),
    );
    for error in results["nodes"]["errors"].as_array().into_iter().flatten() {
        line(
            &mut out,
            format!(":node-error {}", error.as_str().unwrap_or_default()),
        );
    }
    if let Some(cores) = results["bench"]["cpu-cores"].as_f64() {
        line(
            &mut out,
            format!(
                ":bench {{:cpu-cores {cores:.3}, :seed {}}}",
                results["bench"]["seed"]
            ),
        );
    }
    if let Some(signal) = results["interrupted"].as_str() {
        line(
            &mut out,
            format!(":interrupted {signal} (the results judge what was recorded until then)"),
        );
    }
    line(&mut out, format!(":store {}", store.display()));
    line(&mut out, format!(":valid? {}", results["valid?"]));
    // Jepsen's closing lines, one for each verdict.
    let closing = match &results["valid?"] {
        Value::Bool(true) => "Everything looks good! ヽ(‘ー`)ノ",
        Value::Bool(false) => "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻",
        _ => "Errors occurred during analysis, but no anomalies found. ಠ~ಠ",
    };
    line(&mut out, format!("\n{closing}"));
    out
}

/// A checker result on one line: long lists shortened, and objects nested
/// deeper than [`SUMMARY_DEPTH`] (such as an anomaly's operations) left to
/// `results.json`.
fn compact(value: &Value) -> String {
    compact_at(value, 0)
}

/// How deep the printed summary shows a checker's result.
const SUMMARY_DEPTH: usize = 5;

fn compact_at(value: &Value, depth: usize) -> String {
    match value {
        Value::Object(_) | Value::Array(_) if depth >= SUMMARY_DEPTH => "...".to_owned(),
        Value::Array(items) if items.len() > 8 => {
            let shown: Vec<String> = items[..8]
                .iter()
                .map(|v| compact_at(v, depth + 1))
                .collect();
            format!("[{} ... {} more]", shown.join(", "), items.len() - 8)
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|v| compact_at(v, depth + 1))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => {
            let fields: Vec<String> = map
                .iter()
                .map(|(k, v)| format!(":{k} {}", compact_at(v, depth + 1)))
                .collect();
            format!("{{{}}}", fields.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read() {
        assert!(cpu_time().is_some());
    }
}
