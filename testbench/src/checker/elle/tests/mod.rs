//! Tests of the Elle checker on small hand-written histories, plus large
//! generated ones.

mod large;
mod list_append;
mod rw_register;

use super::{check, Model, Workload};
use crate::history::{History, OpType};
use serde_json::{json, Value};

/// Builds histories entry by entry; times and indices follow insertion.
#[derive(Default)]
pub(super) struct Builder {
    history: History,
}

/// The invocation value matching a completion: reads with unknown values.
fn invocation_of(completion: &Value) -> Value {
    match completion {
        Value::Array(mops) => Value::Array(
            mops.iter()
                .map(|m| match m.as_array().map(Vec::as_slice) {
                    Some([f, k, _]) if f == "r" => json!([f, k, null]),
                    _ => m.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

impl Builder {
    /// Records an invocation by `process`.
    pub(super) fn invoke(&mut self, process: u64, value: Value) -> &mut Self {
        let time = self.history.ops.len() as u64 * 1000;
        self.history
            .push(time, OpType::Invoke, process, "txn", value, None);
        self
    }

    /// Records the completion of `process`'s open invocation.
    pub(super) fn complete(&mut self, process: u64, kind: OpType, value: Value) -> &mut Self {
        let time = self.history.ops.len() as u64 * 1000;
        self.history.push(time, kind, process, "txn", value, None);
        self
    }

    /// Invocation then completion, back to back.
    pub(super) fn txn(
        &mut self,
        process: u64,
        invoke: Value,
        kind: OpType,
        completion: Value,
    ) -> &mut Self {
        self.invoke(process, invoke)
            .complete(process, kind, completion)
    }

    /// A committed transaction, given its completion value.
    pub(super) fn ok(&mut self, process: u64, completion: Value) -> &mut Self {
        self.txn(process, invocation_of(&completion), OpType::Ok, completion)
    }

    /// A failed transaction.
    pub(super) fn fail(&mut self, process: u64, value: Value) -> &mut Self {
        self.txn(process, value.clone(), OpType::Fail, value)
    }

    /// An indeterminate (`info`) transaction.
    pub(super) fn info(&mut self, process: u64, value: Value) -> &mut Self {
        self.txn(process, value.clone(), OpType::Info, value)
    }

    /// Invokes the completion value's invocation (to be completed later
    /// with [`Builder::complete`]).
    pub(super) fn start(&mut self, process: u64, completion: &Value) -> &mut Self {
        self.invoke(process, invocation_of(completion))
    }

    /// Index the next entry will get.
    pub(super) fn next_index(&self) -> usize {
        self.history.ops.len()
    }

    /// Runs the checker.
    pub(super) fn check(&self, workload: Workload, models: &[Model]) -> Value {
        check(&self.history, workload, models)
    }
}

/// Every model.
pub(super) const ALL: &[Model] = &Model::ALL;

/// The result's anomaly types.
pub(super) fn types(result: &Value) -> Vec<String> {
    strings(&result["anomaly-types"])
}

/// The result's ruled-out models.
pub(super) fn not(result: &Value) -> Vec<String> {
    strings(&result["not"])
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the exact anomaly types and ruled-out models, and that
/// `valid?` agrees (false iff a model is ruled out or the data is corrupt).
#[track_caller]
pub(super) fn assert_verdict(result: &Value, expected_types: &[&str], expected_not: &[&str]) {
    assert_eq!(types(result), expected_types, "anomaly types in {result:#}");
    assert_eq!(not(result), expected_not, "ruled-out models in {result:#}");
    let corrupt = expected_types.iter().any(|t| super::CORRUPT.contains(t));
    assert_eq!(
        result["valid?"],
        json!(expected_not.is_empty() && !corrupt),
        "validity in {result:#}"
    );
}

/// Asserts the history is valid with no anomaly at all.
#[track_caller]
pub(super) fn assert_valid(result: &Value) {
    assert_verdict(result, &[], &[]);
    assert_eq!(result["valid?"], json!(true));
}

/// The models at least as strong as read-committed.
pub(super) const RC_UP: &[&str] = &["read-committed", "serializable", "strict-serializable"];
/// Every model's name, sorted.
pub(super) const EVERY: &[&str] = &[
    "read-committed",
    "read-uncommitted",
    "serializable",
    "strict-serializable",
];
/// Serializable and strict serializable.
pub(super) const SER_UP: &[&str] = &["serializable", "strict-serializable"];

#[test]
fn model_names_round_trip() {
    for m in Model::ALL {
        assert_eq!(Model::parse(m.name()), Some(m));
    }
    assert_eq!(Model::parse("snapshot-isolation"), None);
    assert_eq!(Model::ReadUncommitted.name(), "read-uncommitted");
    assert_eq!(Model::StrictSerializable.name(), "strict-serializable");
}

#[test]
fn model_forbids_by_strength() {
    assert!(Model::ReadUncommitted.forbids("G0"));
    assert!(!Model::ReadUncommitted.forbids("G1c"));
    assert!(Model::ReadCommitted.forbids("G1a"));
    assert!(Model::ReadCommitted.forbids("internal"));
    assert!(!Model::ReadCommitted.forbids("G-single"));
    assert!(Model::Serializable.forbids("G2-item"));
    assert!(!Model::Serializable.forbids("G-single-realtime"));
    assert!(Model::StrictSerializable.forbids("G0-realtime"));
    assert!(Model::ReadUncommitted.forbids("incompatible-order"));
}

#[test]
fn empty_history_is_valid() {
    let r = Builder::default().check(Workload::ListAppend, ALL);
    assert_valid(&r);
    assert_eq!(r["txn-count"], json!(0));
    assert!(r["check-seconds"].is_f64());
    assert_eq!(r["anomalies"], json!({}));
}

#[test]
fn only_requested_models_are_ruled_out() {
    // Write skew: G2-item, which read-committed allows.
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, null], ["append", 2, 1]]))
        .ok(2, json!([["r", 2, null], ["append", 1, 1]]))
        .ok(3, json!([["r", 1, [1]], ["r", 2, [1]]]));
    let weak = h.check(Workload::ListAppend, &[Model::ReadCommitted]);
    assert_eq!(types(&weak), ["G2-item"]);
    assert_eq!(weak["valid?"], json!(true));
    assert!(not(&weak).is_empty());
    let strong = h.check(
        Workload::ListAppend,
        &[Model::ReadCommitted, Model::Serializable],
    );
    assert_eq!(strong["valid?"], json!(false));
    assert_eq!(not(&strong), ["serializable"]);
}

#[test]
fn malformed_micro_ops_are_reported_not_fatal() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", "k", null], ["w", 1, 1]]))
        .ok(
            2,
            json!([["r", 1, 1], ["w", 1, "two"], ["x", 1, 3], ["w", 1]]),
        )
        .ok(3, json!("not a list"))
        .invoke(4, json!(17));
    let r = h.check(Workload::RwRegister, &[Model::ReadUncommitted]);
    assert_eq!(types(&r), ["malformed"]);
    assert_eq!(r["valid?"], json!(false));
    // Four bad micro-ops; T3's completion and invocation are not lists;
    // nor is the never-completed invocation.
    assert_eq!(r["anomaly-counts"]["malformed"], json!(7));
    // Appends are malformed in the register workload and vice versa.
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]));
    assert_eq!(types(&h.check(Workload::RwRegister, ALL)), ["malformed"]);
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1], ["r", 1, 5]]));
    assert_eq!(types(&h.check(Workload::ListAppend, ALL)), ["malformed"]);
}

#[test]
fn corrupt_data_is_invalid_even_without_models() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, [7]]]));
    let r = h.check(Workload::ListAppend, &[]);
    assert_eq!(types(&r), ["garbage-read"]);
    assert_eq!(r["valid?"], json!(false));
    assert!(not(&r).is_empty());
}

#[test]
fn cycle_examples_name_ops_steps_and_text() {
    // G1c: each reads the other's write.
    let mut h = Builder::default();
    let a = h.next_index() + 1;
    h.ok(1, json!([["w", 1, 10], ["r", 2, 20]]));
    let b = h.next_index() + 1;
    h.ok(2, json!([["w", 2, 20], ["r", 1, 10]]));
    let r = h.check(Workload::RwRegister, ALL);
    assert_verdict(&r, &["G1c"], RC_UP);
    let example = &r["anomalies"]["G1c"][0];
    let cycle = example["cycle"].as_array().expect("cycle list");
    assert_eq!(cycle.len(), 2);
    assert_eq!(cycle[0]["index"], json!(a));
    assert_eq!(cycle[0]["type"], json!("ok"));
    assert_eq!(cycle[1]["index"], json!(b));
    assert_eq!(
        example["steps"],
        json!([
            {"type": "wr", "key": 1, "value": 10},
            {"type": "wr", "key": 2, "value": 20},
        ])
    );
    assert_eq!(
        example["text"],
        json!(format!("T{a} -wr(k 1 = 10)-> T{b} -wr(k 2 = 20)-> T{a}"))
    );
}

#[test]
fn at_most_eight_examples_are_kept() {
    let mut h = Builder::default();
    for i in 0..20 {
        h.ok(i, json!([["r", i, 1000 + i]]));
    }
    let r = h.check(Workload::RwRegister, ALL);
    assert_eq!(
        r["anomalies"]["garbage-read"].as_array().map(Vec::len),
        Some(8)
    );
    assert_eq!(r["anomaly-counts"]["garbage-read"], json!(20));
    assert_eq!(r["txn-count"], json!(20));
}
