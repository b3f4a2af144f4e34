//! Inference for the `txn-rw-register` workload.
//!
//! Per committed transaction: internal consistency, then each read's
//! writer (garbage, aborted, intermediate, or its own later write). Edges:
//! `wr` from the writer of each external read; `rw` from every reader of the
//! initial (null) version to every writer of the key; and, where a
//! transaction externally read `v1` and then wrote the key (writes follow
//! reads), `ww` from `v1`'s writer and `rw` from `v1`'s other readers to it.

use super::graph::{GraphBuilder, Kind, Label};
use super::report::{read_example, show};
use super::txn::{Mop, Status, Txn, WriteIndex};
use crate::checker::anomalies::{op_json, Anomalies};
use serde_json::json;
use std::collections::BTreeMap;

/// A version of a key: `None` is the initial value.
type Version = (i64, Option<i64>);

/// Adds the register workload's edges to `graph` and its non-cycle
/// anomalies to `found`.
pub(super) fn infer(
    txns: &[Txn<'_>],
    writes: &WriteIndex,
    graph: &mut GraphBuilder,
    found: &mut Anomalies,
) {
    // Transactions that externally read each version.
    let mut readers: BTreeMap<Version, Vec<usize>> = BTreeMap::new();
    // Committed transactions that externally read a version, then wrote
    // the key: the version directly before theirs.
    let mut successors: BTreeMap<Version, Vec<usize>> = BTreeMap::new();
    // Transactions (ok or info) that left a version of each key.
    let mut writers: BTreeMap<i64, Vec<usize>> = BTreeMap::new();

    for (t, txn) in txns.iter().enumerate() {
        if txn.status == Status::Fail {
            continue;
        }
        for mop in &txn.mops {
            if let Mop::Write { key, value } = *mop {
                let usable = writes
                    .get(key, value)
                    .is_some_and(|w| w.txn == t && w.last && !w.ambiguous);
                if usable {
                    writers.entry(key).or_default().push(t);
                }
            }
        }
        if txn.status != Status::Ok {
            continue;
        }
        check_internal(txn, found);
        let external = txn.external_reads();
        for (i, mop) in txn.mops.iter().enumerate() {
            let Mop::ReadReg { key, value } = *mop else {
                continue;
            };
            let writer = value.and_then(|v| check_read(txns, writes, t, i, key, v, found));
            if !external.contains(&i) {
                continue;
            }
            readers.entry((key, value)).or_default().push(t);
            if let (Some(w), Some(v)) = (writer, value) {
                let label = graph.label(Label {
                    key,
                    from: Some(v),
                    to: Some(v),
                });
                graph.link(w, t, Kind::Wr, label);
            }
            if let Some(next) = txn.last_write(key) {
                if Some(next) != value {
                    successors.entry((key, value)).or_default().push(t);
                }
            }
        }
    }

    // The initial version precedes every written one.
    for (&key, ws) in &writers {
        if let Some(rs) = readers.get(&(key, None)) {
            let label = graph.label(Label {
                key,
                from: None,
                to: None,
            });
            graph.link_all_to_all(rs, ws, Kind::Rw, label);
        }
    }
    // Writes follow reads: v1 directly precedes each successor's write.
    for (&(key, v1), next) in &successors {
        let Some(v1) = v1 else {
            // Already covered: successors of nil are writers of the key.
            continue;
        };
        let prior = writes
            .get(key, v1)
            .filter(|w| w.last && !w.ambiguous && txns[w.txn].status != Status::Fail);
        if let Some(w) = prior {
            for &s in next {
                let label = graph.label(Label {
                    key,
                    from: Some(v1),
                    to: txns[s].last_write(key),
                });
                graph.link(w.txn, s, Kind::Ww, label);
            }
        }
        if let Some(rs) = readers.get(&(key, Some(v1))) {
            let label = graph.label(Label {
                key,
                from: Some(v1),
                to: None,
            });
            graph.link_all_to_all(rs, next, Kind::Rw, label);
        }
    }
}

/// Checks who wrote the value read by mop `i` of txn `t`; reports garbage,
/// aborted, intermediate and future reads. Returns the writer to draw a `wr`
/// edge from, if there is a usable one other than `t`.
fn check_read(
    txns: &[Txn<'_>],
    writes: &WriteIndex,
    t: usize,
    i: usize,
    key: i64,
    value: i64,
    found: &mut Anomalies,
) -> Option<usize> {
    let txn = &txns[t];
    let Some(w) = writes.get(key, value) else {
        found.add("garbage-read", || {
            read_example(
                txn,
                key,
                value,
                format!(
                    "{} read k {key} = {value}, which no transaction wrote",
                    txn.name()
                ),
            )
        });
        return None;
    };
    if w.ambiguous {
        return None;
    }
    let writer = &txns[w.txn];
    if w.txn == t {
        if w.mop > i {
            found.add("internal", || {
                read_example(
                    txn,
                    key,
                    value,
                    format!(
                        "{} read k {key} = {value} before writing that value itself",
                        txn.name()
                    ),
                )
            });
        }
        return None;
    }
    if writer.status == Status::Fail {
        found.add("G1a", || {
            let mut example = read_example(
                txn,
                key,
                value,
                format!(
                    "{} read k {key} = {value}, written by {}, which failed",
                    txn.name(),
                    writer.name()
                ),
            );
            example["writer"] = op_json(writer.op());
            example
        });
        return None;
    }
    if !w.last {
        found.add("G1b", || {
            {
                let mut example = read_example(txn, key, value, format!(
                    "{} read k {key} = {value}, an intermediate write of {} (whose last write to k {key} was {})",
                    txn.name(), writer.name(), show(writer.last_write(key))
                ));
                example["writer"] = op_json(writer.op());
                example
            }
        });
    }
    Some(w.txn)
}

/// Reports a read that disagrees with the transaction's own earlier write
/// or read of the key.
fn check_internal(txn: &Txn<'_>, found: &mut Anomalies) {
    let mut state: Vec<(i64, Option<i64>)> = Vec::new();
    for mop in &txn.mops {
        let (key, now, is_read) = match *mop {
            Mop::Write { key, value } => (key, Some(value), false),
            Mop::ReadReg { key, value } => (key, value, true),
            Mop::ReadList { .. } => continue,
        };
        match state.iter_mut().find(|(k, _)| *k == key) {
            Some((_, expected)) => {
                if is_read && *expected != now {
                    let expected_value = *expected;
                    found.add("internal", || {
                        let mut example = read_example(
                            txn,
                            key,
                            now,
                            format!(
                                "{} read k {key} = {}, but its own earlier ops leave {}",
                                txn.name(),
                                show(now),
                                show(expected_value)
                            ),
                        );
                        example["expected"] = json!(expected_value);
                        example
                    });
                }
                *expected = now;
            }
            None => state.push((key, now)),
        }
    }
}
