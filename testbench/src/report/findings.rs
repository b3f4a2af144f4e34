//! What made a run invalid, as a list a page can link from: each anomaly
//! a checker reported, with the history entries it names and the values
//! whose messages are worth showing (a lost broadcast value).
//!
//! Checkers report in several shapes (Elle's `anomalies`, kafka's error
//! types, set-full's `lost` values, lin-kv's per-key results, lists of
//! operations); an operation is recognised anywhere by its shape (an
//! object with a numeric `index` and a `process` or `f`).

use serde_json::Value;

use super::data::RunData;
use crate::history::OpType;

/// One anomaly, error or failed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// Its kind: `lost`, `G2-item`, `inconsistent-offsets`, `node`, ...
    pub kind: String,
    /// One line that says what is wrong.
    pub text: String,
    /// History indices of the entries it names (invocations or
    /// completions), in the order named.
    pub ops: Vec<u64>,
    /// Values whose carrying messages the diagram should mark.
    pub values: Vec<Value>,
    /// A file of the run it points at (a node's log).
    pub file: Option<String>,
}

impl Finding {
    fn new(kind: &str, text: String) -> Finding {
        Finding {
            kind: kind.to_owned(),
            text,
            ops: Vec::new(),
            values: Vec::new(),
            file: None,
        }
    }
}

/// The log of the node a node error or note names: they start with the
/// node's id, and its log is `<id>.log`.
fn node_log(text: &str) -> Option<String> {
    let node = text.split_whitespace().next().unwrap_or_default();
    let is_id = !node.is_empty() && node.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    is_id.then(|| format!("{node}.log"))
}

/// The most findings of one kind listed.
pub const MAX_PER_KIND: usize = 50;

/// Everything the run's results hold against it (nothing for a valid run
/// beyond what its checkers still report).
pub fn findings(run: &RunData) -> Vec<Finding> {
    let results = &run.results;
    let mut found = Vec::new();
    for error in results["nodes"]["errors"].as_array().into_iter().flatten() {
        let text = error
            .as_str()
            .map_or_else(|| error.to_string(), str::to_owned);
        let mut finding = Finding::new("node", text.clone());
        finding.file = node_log(&text);
        found.push(finding);
    }
    // Notes do not fail the run, but explain what follows them (a silenced
    // node's clients time out).
    for note in results["nodes"]["notes"].as_array().into_iter().flatten() {
        let text = note
            .as_str()
            .map_or_else(|| note.to_string(), str::to_owned);
        let mut finding = Finding::new("silenced node", text.clone());
        finding.file = node_log(&text);
        found.push(finding);
    }
    let workload = &results["workload"];
    if workload["valid?"] != Value::Bool(true) {
        found.extend(workload_findings(run, workload));
    }
    for (section, what) in [
        ("stats", "some operation never succeeded"),
        ("availability", "too few operations succeeded"),
    ] {
        if results[section]["valid?"] == Value::Bool(false) {
            let text = match section {
                "stats" => {
                    let never: Vec<&String> = results["stats"]["by-f"]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(_, v)| v["valid?"] == Value::Bool(false))
                        .map(|(f, _)| f)
                        .collect();
                    let names: Vec<&str> = never.iter().map(|f| f.as_str()).collect();
                    format!("{what}: {}", names.join(", "))
                }
                _ => format!(
                    "{what}: ok fraction {}",
                    results["availability"]["ok-fraction"]
                ),
            };
            found.push(Finding::new(section, text));
        }
    }
    found
}

fn workload_findings(run: &RunData, workload: &Value) -> Vec<Finding> {
    let mut found = Vec::new();
    // Elle: {"anomalies": {"G2-item": [{"cycle": [ops], "text": ...}]}}
    if let Some(anomalies) = workload["anomalies"].as_object() {
        for (kind, items) in anomalies {
            for item in items.as_array().into_iter().flatten().take(MAX_PER_KIND) {
                found.push(described(kind, item));
            }
        }
    }
    // Kafka: {"error-types": [...], "<type>": {"count", "errors": [...]}}
    for kind in workload["error-types"].as_array().into_iter().flatten() {
        let Some(kind) = kind.as_str() else { continue };
        for item in workload[kind]["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .take(MAX_PER_KIND)
        {
            found.push(described(kind, item));
        }
    }
    // Set-full: values lost, read without being added, or added twice.
    for kind in ["lost", "unexpected", "duplicated"] {
        for item in workload[kind]
            .as_array()
            .into_iter()
            .flatten()
            .take(MAX_PER_KIND)
        {
            found.push(value_finding(run, kind, item));
        }
    }
    // Lin-kv: {"results": {key: {"valid?": false, "stuck-op": op}}}
    if let Some(keys) = workload["results"].as_object() {
        for (key, result) in keys
            .iter()
            .filter(|(_, r)| r["valid?"] == Value::Bool(false))
        {
            let mut finding = described("not linearizable", result);
            let stuck = &result["stuck-op"];
            finding.text = if is_op(stuck) {
                format!(
                    "key {key}: no linearizable order reaches {}",
                    op_text(stuck)
                )
            } else {
                format!("key {key}: {}", compact(result, 200))
            };
            found.push(finding);
        }
    }
    // Echo, counters: {"errors": [...]} of operations or of comparisons.
    for item in workload["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .take(MAX_PER_KIND)
    {
        found.push(described("error", item));
    }
    if found.is_empty() && workload["valid?"] == Value::Bool(false) {
        found.push(Finding::new("workload", compact(workload, 300)));
    }
    found
}

/// A finding from a report item: its `text` if it has one, else its
/// fields that are not operations; the operations it names.
fn described(kind: &str, item: &Value) -> Finding {
    let mut finding = Finding::new(kind, String::new());
    collect_ops(item, &mut finding.ops);
    if let Some(index) = item["invoke"].as_u64() {
        finding.ops.push(index);
    }
    finding.text = match item["text"].as_str() {
        Some(text) => text.to_owned(),
        None if is_op(item) => op_text(item),
        None => match item.as_object() {
            Some(fields) => fields
                .iter()
                .filter(|(_, v)| !is_op(v) && !v.as_array().is_some_and(|a| a.iter().any(is_op)))
                .map(|(k, v)| format!("{k} {}", compact(v, 80)))
                .collect::<Vec<_>>()
                .join(", "),
            None => compact(item, 200),
        },
    };
    if finding.text.is_empty() {
        let named: Vec<Value> = item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(_, v)| is_op(v))
            .map(|(_, v)| v.clone())
            .collect();
        finding.text = named.iter().map(op_text).collect::<Vec<_>>().join("; ");
    }
    finding
}

/// A finding about one value (set-full's `lost` or `unexpected`, or an
/// id given twice): the operations that added it or that read it.
fn value_finding(run: &RunData, kind: &str, item: &Value) -> Finding {
    let value = item
        .get("id")
        .or_else(|| item.get("element"))
        .unwrap_or(item)
        .clone();
    let text = match kind {
        "lost" => format!("{value} was acknowledged, then missing from the final reads"),
        "unexpected" => format!("{value} was read but never added"),
        _ => match item["count"].as_u64() {
            Some(count) => format!("{value} was given {count} times"),
            None => format!("{value} was given more than once"),
        },
    };
    let mut finding = Finding::new(kind, text);
    for (invoke, done) in run.pairs() {
        let adds = invoke.f != "read" && invoke.value == value;
        let gives =
            kind == "duplicated" && done.is_some_and(|d| d.kind == OpType::Ok && d.value == value);
        let reads = kind == "unexpected"
            && done.is_some_and(|d| d.value.as_array().is_some_and(|a| a.contains(&value)));
        if adds || gives || reads {
            finding.ops.push(invoke.index as u64);
        }
        if finding.ops.len() >= 20 {
            break;
        }
    }
    finding.values.push(value);
    finding
}

fn is_op(value: &Value) -> bool {
    value["index"].is_u64() && (value.get("process").is_some() || value.get("f").is_some())
}

fn collect_ops(value: &Value, into: &mut Vec<u64>) {
    if is_op(value) {
        into.extend(value["index"].as_u64());
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| collect_ops(v, into)),
        Value::Object(map) => map.values().for_each(|v| collect_ops(v, into)),
        _ => {}
    }
}

/// `process 3 read ok [1 2] (index 17)`.
fn op_text(op: &Value) -> String {
    format!(
        "process {} {} {} {} (entry {})",
        op["process"],
        op["f"].as_str().unwrap_or("?"),
        op["type"].as_str().unwrap_or("?"),
        compact(&op["value"], 80),
        op["index"]
    )
}

/// JSON text cut to `max` characters.
fn compact(value: &Value, max: usize) -> String {
    let text = value.to_string();
    if text.chars().count() <= max {
        text
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run_with(results: Value) -> RunData {
        RunData {
            results,
            ..RunData::default()
        }
    }

    fn op(index: u64, f: &str, value: Value) -> Value {
        json!({"index": index, "process": 1, "f": f, "type": "ok", "time": 5, "value": value})
    }

    #[test]
    fn a_lost_broadcast_value_names_the_broadcast_that_added_it() {
        let mut run =
            run_with(json!({"workload": {"valid?": false, "lost": [19], "lost-count": 1}}));
        let h = &mut run.history;
        h.push(1, OpType::Invoke, 0, "broadcast", json!(18), None);
        h.push(2, OpType::Ok, 0, "broadcast", json!(18), None);
        h.push(3, OpType::Invoke, 1, "broadcast", json!(19), None);
        h.push(4, OpType::Ok, 1, "broadcast", json!(19), None);
        h.push(5, OpType::Invoke, 1, "read", json!(null), None);
        h.push(6, OpType::Ok, 1, "read", json!([18]), None);
        let found = findings(&run);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, "lost");
        assert_eq!(found[0].ops, [2], "the invocation of broadcast 19");
        assert_eq!(found[0].values, [json!(19)]);
        assert!(found[0].text.starts_with("19 was acknowledged"));
    }

    #[test]
    fn elle_cycles_and_kafka_errors_name_their_operations() {
        let run = run_with(json!({"workload": {
            "valid?": false,
            "anomalies": {"G2-item": [{"cycle": [op(1, "txn", json!([])), op(3, "txn", json!([]))],
                                       "steps": [], "text": "T1 -rw-> T3 -rw-> T1"}]},
            "error-types": ["inconsistent-offsets"],
            "inconsistent-offsets": {"count": 1, "errors": [
                {"key": "0", "offset": 2, "messages": [8, 39], "ops": [op(35, "send", json!([])), op(165, "send", json!([]))]}]},
        }}));
        let found = findings(&run);
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].kind.as_str(), found[0].ops.as_slice()),
            ("G2-item", &[1, 3][..])
        );
        assert_eq!(found[0].text, "T1 -rw-> T3 -rw-> T1");
        assert_eq!(found[1].kind, "inconsistent-offsets");
        assert_eq!(found[1].ops, [35, 165]);
        assert_eq!(found[1].text, r#"key "0", messages [8,39], offset 2"#);
    }

    #[test]
    fn other_checkers_shapes_are_understood() {
        let run = run_with(json!({
            "workload": {"valid?": false,
                "results": {"0": {"valid?": false, "stuck-op": op(50, "read", json!([0, null]))}, "1": {"valid?": true}},
                "errors": [{"expected": "a", "invoke": 4, "received": {"type": "ok", "value": "a!"}}, op(9, "read", json!(19))],
                "duplicated": [{"id": 1, "count": 3}]},
            "nodes": {"valid?": false, "errors": ["n1 exited (exit status: 3) during the run"]},
            "stats": {"valid?": false, "by-f": {"read": {"valid?": false}, "add": {"valid?": true}}},
        }));
        let found = findings(&run);
        let kinds: Vec<&str> = found.iter().map(|f| f.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "node",
                "duplicated",
                "not linearizable",
                "error",
                "error",
                "stats"
            ]
        );
        assert_eq!(found[0].file.as_deref(), Some("n1.log"));
        assert_eq!(found[1].text, "1 was given 3 times");
        assert_eq!(found[2].ops, [50]);
        assert!(found[2]
            .text
            .starts_with("key 0: no linearizable order reaches process 1 read"));
        assert_eq!(found[3].ops, [4]);
        assert_eq!(found[4].ops, [9]);
        assert_eq!(found[5].text, "some operation never succeeded: read");
        assert!(findings(&run_with(json!({"workload": {"valid?": true}}))).is_empty());
    }
}
