//! `timeline.html`: each client process's operations as bars over time,
//! coloured by outcome, one column per client slot (a process retired
//! after an indefinite outcome hands its slot to the next).

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::data::RunData;
use super::nemesis::Period;
use crate::history::OpType;

/// The most characters of an operation's text the page shows.
const TEXT_CHARS: usize = 160;

/// The column each process's bars stand in: `process mod slots` when the
/// run's concurrency is known (the bench numbers a retired process's
/// successor `process + slots`), else one column per process.
pub fn column_of(run: &RunData) -> (Vec<String>, impl Fn(u64) -> usize) {
    let processes: BTreeSet<u64> = run.history.ops.iter().map(|op| op.process).collect();
    let slots = run
        .config
        .as_ref()
        .map(|c| c.processes() as u64)
        .filter(|&s| s > 0);
    let ranks: Vec<u64> = processes.iter().copied().collect();
    let names: Vec<String> = match slots {
        Some(slots) => (0..slots).map(|s| format!("process {s}")).collect(),
        None => ranks.iter().map(|p| format!("process {p}")).collect(),
    };
    let column = move |process: u64| match slots {
        Some(slots) => (process % slots) as usize,
        None => ranks.binary_search(&process).unwrap_or(0),
    };
    (names, column)
}

/// The page's data: `ops` flat, seven numbers per operation (invocation
/// entry, completion entry or -1, column, start µs, end µs or -1, outcome
/// 0 ok / 1 fail / 2 info / 3 none, index into `fs`); `texts` one line per
/// operation; `periods` the nemesis periods `[start, end, text]`.
pub fn to_json(run: &RunData, periods: &[Period]) -> Value {
    let (columns, column) = column_of(run);
    let mut fs: Vec<String> = Vec::new();
    let mut flat = Vec::new();
    let mut texts = Vec::new();
    for (invoke, done) in run.pairs() {
        let f = match fs.iter().position(|f| *f == invoke.f) {
            Some(at) => at,
            None => {
                fs.push(invoke.f.clone());
                fs.len() - 1
            }
        };
        let outcome = match done.map(|d| d.kind) {
            Some(OpType::Ok) => 0,
            Some(OpType::Fail) => 1,
            Some(OpType::Info) => 2,
            _ => 3,
        };
        flat.extend([
            invoke.index as i64,
            done.map_or(-1, |d| d.index as i64),
            column(invoke.process) as i64,
            (invoke.time / 1000) as i64,
            done.map_or(-1, |d| (d.time / 1000) as i64),
            outcome,
            f as i64,
        ]);
        let mut text = format!("{} {} {}", invoke.process, invoke.f, invoke.value);
        if let Some(done) = done {
            text.push_str(&format!(
                " → {} {}",
                super::data::outcome(done.kind),
                done.value
            ));
            if let Some(error) = &done.error {
                text.push_str(&format!(" {error}"));
            }
        }
        if text.chars().count() > TEXT_CHARS {
            text = text.chars().take(TEXT_CHARS).collect::<String>() + "…";
        }
        texts.push(text);
    }
    let periods: Vec<Value> = periods
        .iter()
        .map(|p| json!([p.start / 1000, p.end / 1000, p.describe()]))
        .collect();
    json!({
        "columns": columns,
        "fs": fs,
        "ops": flat,
        "texts": texts,
        "periods": periods,
        "length": run.end() / 1000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Workload};

    #[test]
    fn operations_become_bars_in_their_slots_column() {
        let mut run = RunData::default();
        let mut config = Config::new(Workload::Broadcast, "b");
        config.node_count = Some(2); // two client slots
        run.config = Some(config);
        let h = &mut run.history;
        h.push(1_000_000, OpType::Invoke, 1, "read", json!(null), None);
        h.push(
            3_000_000,
            OpType::Info,
            1,
            "read",
            json!(null),
            Some(json!("net-timeout")),
        );
        h.push(4_000_000, OpType::Invoke, 3, "broadcast", json!(7), None);
        h.push(5_000_000, OpType::Ok, 3, "broadcast", json!(7), None);
        h.push(6_000_000, OpType::Invoke, 0, "read", json!(null), None);
        let data = to_json(&run, &[]);
        assert_eq!(data["columns"], json!(["process 0", "process 1"]));
        assert_eq!(
            data["ops"],
            json!([0, 1, 1, 1000, 3000, 2, 0, 2, 3, 1, 4000, 5000, 0, 1, 4, -1, 0, 6000, -1, 3, 0])
        );
        assert_eq!(data["fs"], json!(["read", "broadcast"]));
        assert_eq!(data["texts"][0], r#"1 read null → info null "net-timeout""#);
        assert_eq!(data["length"], 6000);
    }
}
