//! Collecting anomalies, explaining cycles, and the final JSON verdict.

use super::cycles::Cycle;
use super::graph::{Graph, Kind, Label};
use super::txn::Txn;
use super::{Model, CORRUPT};
use crate::checker::anomalies::{op_json, Anomalies};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// An example of an anomaly that one read of `txn` shows: the transaction,
/// the key, what was read and an explanation. Callers add what else matters
/// (the writer, the value expected ...).
pub(super) fn read_example(txn: &Txn<'_>, key: i64, value: impl Serialize, text: String) -> Value {
    json!({"op": op_json(txn.op()), "key": key, "value": value, "text": text})
}

/// A register value or list element for explanations: `nil` for none.
pub(super) fn show(value: Option<i64>) -> String {
    value.map_or_else(|| "nil".to_owned(), |v| v.to_string())
}

/// A list for explanations, Clojure style: `[1 2 3]`.
pub(super) fn show_list(list: &[i64]) -> String {
    let items: Vec<String> = list.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(" "))
}

/// One dependency between two consecutive transactions of a cycle (gadget
/// hops folded into the edge that entered the gadget).
struct Step {
    from: usize,
    to: usize,
    kind: Kind,
    label: Option<Label>,
}

/// Turns a cycle into `{"cycle": [ops], "steps": [...], "text": ...}`.
pub(super) fn render_cycle(graph: &Graph, txns: &[Txn<'_>], cycle: &Cycle) -> Value {
    let mut steps: Vec<Step> = Vec::new();
    let mut i = 0;
    while i < cycle.edges.len() {
        let first = cycle.edges[i];
        let mut last = first;
        while graph.to(last) >= graph.real && i + 1 < cycle.edges.len() {
            i += 1;
            last = cycle.edges[i];
        }
        steps.push(Step {
            from: graph.from(first),
            to: graph.to(last),
            kind: graph.kind(first),
            label: graph.label(first),
        });
        i += 1;
    }
    let name = |t: usize| txns.get(t).map_or_else(|| format!("node{t}"), Txn::name);
    let mut ops = Vec::new();
    let mut json_steps = Vec::new();
    let mut text = String::new();
    for step in &steps {
        ops.push(txns.get(step.from).map_or(Value::Null, |t| op_json(t.op())));
        let (json, words) = describe(txns, step);
        json_steps.push(json);
        text.push_str(&format!("{} -{}-> ", name(step.from), words));
    }
    text.push_str(&steps.first().map_or_else(String::new, |s| name(s.from)));
    json!({"cycle": ops, "steps": json_steps, "text": text})
}

/// A step as JSON and as a few words for the text.
fn describe(txns: &[Txn<'_>], step: &Step) -> (Value, String) {
    let kind = step.kind.name();
    if step.kind == Kind::Realtime {
        let completed = txns.get(step.from).map(|t| t.op().index);
        let invoked = txns.get(step.to).map(|t| t.invoke.index);
        let json = json!({"type": kind, "completed": completed, "invoked": invoked});
        return (json, kind.to_owned());
    }
    let Some(label) = step.label else {
        return (json!({"type": kind}), kind.to_owned());
    };
    let key = label.key;
    let to = label
        .to
        .or_else(|| txns.get(step.to).and_then(|t| t.last_write(key)));
    match step.kind {
        Kind::Wr => (
            json!({"type": kind, "key": key, "value": label.from}),
            format!("wr(k {key} = {})", show(label.from)),
        ),
        Kind::Ww => (
            json!({"type": kind, "key": key, "value": to, "prev": label.from}),
            format!("ww(k {key}: {} -> {})", show(label.from), show(to)),
        ),
        _ => (
            json!({"type": kind, "key": key, "value": to, "read": label.from}),
            format!("rw(k {key}: {} -> {})", show(label.from), show(to)),
        ),
    }
}

/// Builds the final verdict from the anomalies found.
pub(super) fn finish(
    found: Anomalies,
    models: &[Model],
    txn_count: usize,
    elapsed: Duration,
) -> Value {
    let types: Vec<&str> = found.types();
    let mut not: Vec<&str> = models
        .iter()
        .filter(|m| types.iter().any(|t| m.forbids(t)))
        .map(|m| m.name())
        .collect();
    not.sort_unstable();
    not.dedup();
    let corrupt = types.iter().any(|t| CORRUPT.contains(t));
    let mut anomalies = Map::new();
    let mut counts = Map::new();
    for (kind, count, examples) in found.into_types() {
        anomalies.insert(kind.to_owned(), Value::Array(examples));
        counts.insert(kind.to_owned(), json!(count));
    }
    json!({
        "valid?": not.is_empty() && !corrupt,
        "anomaly-types": types,
        "anomalies": anomalies,
        "anomaly-counts": counts,
        "not": not,
        "txn-count": txn_count,
        "check-seconds": elapsed.as_secs_f64(),
    })
}
