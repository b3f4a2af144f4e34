//! Inference for the `txn-list-append` workload.
//!
//! Per committed transaction: internal consistency, duplicates in reads,
//! and each element's appender (garbage, aborted, intermediate, or its own
//! later append). Per key: every committed read must be a prefix of the
//! longest one, which gives the version order; consecutive elements give
//! `ww` edges, each external read gives a `wr` edge from the appender of its
//! last element and an `rw` edge to the appender of the next element.

use super::graph::{GraphBuilder, Kind, Label};
use super::report::{read_example, show_list};
use super::txn::{Mop, Status, Txn, WriteIndex};
use crate::checker::anomalies::{op_json, Anomalies};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

/// A committed read: transaction, micro-op position, whether external.
#[derive(Debug, Clone, Copy)]
struct ReadRef {
    txn: usize,
    mop: usize,
    external: bool,
}

impl ReadRef {
    /// The list read.
    fn list<'t>(&self, txns: &'t [Txn<'_>]) -> &'t [i64] {
        match &txns[self.txn].mops[self.mop] {
            Mop::ReadList { value, .. } => value,
            _ => &[],
        }
    }
}

/// Adds the list workload's edges to `graph` and its non-cycle anomalies to
/// `found`.
pub(super) fn infer(
    txns: &[Txn<'_>],
    writes: &WriteIndex,
    graph: &mut GraphBuilder,
    found: &mut Anomalies,
) {
    let mut reads: BTreeMap<i64, Vec<ReadRef>> = BTreeMap::new();
    for (t, txn) in txns.iter().enumerate() {
        if txn.status != Status::Ok {
            continue;
        }
        check_internal(txn, found);
        let external = txn.external_reads();
        for (i, mop) in txn.mops.iter().enumerate() {
            let Mop::ReadList { key, value } = mop else {
                continue;
            };
            if has_duplicates(txn, *key, value, found) {
                continue;
            }
            check_elements(txns, writes, t, i, *key, value, found);
            reads.entry(*key).or_default().push(ReadRef {
                txn: t,
                mop: i,
                external: external.contains(&i),
            });
        }
    }

    // The appender of an element, if edges may be drawn from it.
    let appender = |key: i64, element: i64| {
        writes
            .get(key, element)
            .filter(|w| !w.ambiguous && txns[w.txn].status != Status::Fail)
            .map(|w| w.txn)
    };

    for (&key, key_reads) in &reads {
        let Some(longest) = key_reads.iter().copied().reduce(|best, r| {
            if r.list(txns).len() > best.list(txns).len() {
                r
            } else {
                best
            }
        }) else {
            continue;
        };
        let order = longest.list(txns);
        let mut reported = false;
        for r in key_reads {
            if !reported && !order.starts_with(r.list(txns)) {
                reported = true;
                report_incompatible(txns, key, *r, longest, found);
            }
        }
        for pair in order.windows(2) {
            if let (Some(a), Some(b)) = (appender(key, pair[0]), appender(key, pair[1])) {
                let label = graph.label(Label {
                    key,
                    from: Some(pair[0]),
                    to: Some(pair[1]),
                });
                graph.link(a, b, Kind::Ww, label);
            }
        }
        for r in key_reads.iter().filter(|r| r.external) {
            let list = r.list(txns);
            let last = list.last().copied();
            if let Some(w) = last.and_then(|e| appender(key, e)) {
                let label = graph.label(Label {
                    key,
                    from: last,
                    to: last,
                });
                graph.link(w, r.txn, Kind::Wr, label);
            }
            if order.starts_with(list) {
                if let Some(&next) = order.get(list.len()) {
                    if let Some(w) = appender(key, next) {
                        let label = graph.label(Label {
                            key,
                            from: last,
                            to: Some(next),
                        });
                        graph.link(r.txn, w, Kind::Rw, label);
                    }
                }
            }
        }
    }
}

/// Reports two reads of a key of which neither is a prefix of the other.
fn report_incompatible(txns: &[Txn<'_>], key: i64, a: ReadRef, b: ReadRef, found: &mut Anomalies) {
    let (ta, tb) = (&txns[a.txn], &txns[b.txn]);
    let (la, lb) = (a.list(txns), b.list(txns));
    found.add("incompatible-order", || {
        json!({
            "key": key,
            "values": [la, lb],
            "ops": [op_json(ta.op()), op_json(tb.op())],
            "text": format!(
                "{} read k {key} = {} and {} read k {key} = {}: neither is a prefix of the other",
                ta.name(), show_list(la), tb.name(), show_list(lb)
            ),
        })
    });
}

/// Reports (and returns true for) a read holding some element twice.
fn has_duplicates(txn: &Txn<'_>, key: i64, list: &[i64], found: &mut Anomalies) -> bool {
    let mut seen = HashSet::with_capacity(list.len());
    let mut dups: Vec<i64> = list.iter().copied().filter(|e| !seen.insert(*e)).collect();
    if dups.is_empty() {
        return false;
    }
    dups.sort_unstable();
    dups.dedup();
    found.add("duplicate-elements", || {
        let mut example = read_example(
            txn,
            key,
            list,
            format!(
                "{} read k {key} = {}, which holds {} more than once",
                txn.name(),
                show_list(list),
                show_list(&dups)
            ),
        );
        example["duplicates"] = json!(dups);
        example
    });
    true
}

/// Checks the appender of each element of the list read by mop `i` of txn
/// `t`: garbage (nobody), aborted (a failed txn), the reader's own later
/// append; and whether the last element is an intermediate append.
fn check_elements(
    txns: &[Txn<'_>],
    writes: &WriteIndex,
    t: usize,
    i: usize,
    key: i64,
    list: &[i64],
    found: &mut Anomalies,
) {
    let txn = &txns[t];
    let (mut garbage, mut aborted, mut future) = (false, false, false);
    for &e in list {
        let Some(w) = writes.get(key, e) else {
            if !garbage {
                garbage = true;
                found.add("garbage-read", || {
                    read_example(
                        txn,
                        key,
                        e,
                        format!(
                            "{} read k {key} = {}, but no transaction appended {e}",
                            txn.name(),
                            show_list(list)
                        ),
                    )
                });
            }
            continue;
        };
        if w.ambiguous {
            continue;
        }
        let writer = &txns[w.txn];
        if w.txn == t && w.mop > i && !future {
            future = true;
            found.add("internal", || {
                read_example(
                    txn,
                    key,
                    list,
                    format!(
                        "{} read k {key} = {}, holding {e} before appending it itself",
                        txn.name(),
                        show_list(list)
                    ),
                )
            });
        } else if writer.status == Status::Fail && !aborted {
            aborted = true;
            found.add("G1a", || {
                let mut example = read_example(
                    txn,
                    key,
                    e,
                    format!(
                        "{} read k {key} = {}, holding {e}, appended by {}, which failed",
                        txn.name(),
                        show_list(list),
                        writer.name()
                    ),
                );
                example["writer"] = op_json(writer.op());
                example
            });
        }
    }
    let Some(&last) = list.last() else {
        return;
    };
    if let Some(w) = writes.get(key, last) {
        let writer = &txns[w.txn];
        if !w.last && !w.ambiguous && w.txn != t && writer.status != Status::Fail {
            found.add("G1b", || {
                {
                    let mut example = read_example(txn, key, last, format!(
                        "{} read k {key} = {}, ending in {last}, which {} followed with another append to k {key}",
                        txn.name(), show_list(list), writer.name()
                    ));
                    example["writer"] = op_json(writer.op());
                    example
                }
            });
        }
    }
}

/// What a transaction's own earlier ops say a key's list must look like.
enum Expect {
    /// Exactly this list (it was read).
    Exactly(Vec<i64>),
    /// Some list ending with these elements (appended, not yet read).
    EndsWith(Vec<i64>),
}

/// Reports a read that disagrees with the transaction's own earlier reads
/// and appends of the key.
fn check_internal(txn: &Txn<'_>, found: &mut Anomalies) {
    let mut state: Vec<(i64, Expect)> = Vec::new();
    for mop in &txn.mops {
        match mop {
            Mop::Write { key, value } => match state.iter_mut().find(|(k, _)| k == key) {
                Some((_, Expect::Exactly(l) | Expect::EndsWith(l))) => l.push(*value),
                None => state.push((*key, Expect::EndsWith(vec![*value]))),
            },
            Mop::ReadList { key, value } => {
                let key = *key;
                match state.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, expect)) => {
                        let (ok, shown) = match expect {
                            Expect::Exactly(l) => (l == value, show_list(l)),
                            Expect::EndsWith(l) => {
                                (value.ends_with(l), format!("[... {}", &show_list(l)[1..]))
                            }
                        };
                        if !ok {
                            found.add("internal", || {
                                {
                                    let mut example = read_example(txn, key, value, format!(
                                        "{} read k {key} = {}, but its own earlier ops leave {shown}",
                                        txn.name(), show_list(value)
                                    ));
                                    example["expected"] = json!(shown);
                                    example
                                }
                            });
                        }
                        *expect = Expect::Exactly(value.clone());
                    }
                    None => state.push((key, Expect::Exactly(value.clone()))),
                }
            }
            Mop::ReadReg { .. } => {}
        }
    }
}
