//! Reading the history into transactions: pairing invocations with
//! completions, deciding each transaction's fate, parsing micro-ops, and
//! indexing who wrote which value.

use super::Workload;
use crate::checker::anomalies::{op_json, Anomalies};
use crate::history::{History, Op, OpType};
use serde_json::{json, Value};
use std::collections::HashMap;

/// What became of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Committed; its reads are known.
    Ok,
    /// Indeterminate (`info` or never completed); its writes may be visible.
    Info,
    /// Surely did not happen.
    Fail,
}

/// One parsed micro-operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mop {
    /// A register read; `None` is the initial (never written) value.
    ReadReg {
        /// The key read.
        key: i64,
        /// The value observed.
        value: Option<i64>,
    },
    /// A list read; null and `[]` both read as empty.
    ReadList {
        /// The key read.
        key: i64,
        /// The whole list observed.
        value: Vec<i64>,
    },
    /// A register write (`w`) or a list append (`append`).
    Write {
        /// The key written.
        key: i64,
        /// The value written or appended.
        value: i64,
    },
}

impl Mop {
    /// The key this micro-op touches.
    pub(super) fn key(&self) -> i64 {
        match self {
            Mop::ReadReg { key, .. } | Mop::ReadList { key, .. } | Mop::Write { key, .. } => *key,
        }
    }
}

/// A transaction: an invocation, its completion if any, and its micro-ops.
#[derive(Debug, Clone)]
pub(super) struct Txn<'a> {
    /// The invocation entry.
    pub(super) invoke: &'a Op,
    /// The completion entry, if the history has one.
    pub(super) complete: Option<&'a Op>,
    /// Committed, indeterminate or failed.
    pub(super) status: Status,
    /// Well-formed micro-ops, in order. Reads are only kept for `ok`
    /// transactions (the others' reads are unknown).
    pub(super) mops: Vec<Mop>,
}

impl Txn<'_> {
    /// The entry that best represents the transaction in reports: its
    /// completion, or its invocation if it never completed.
    pub(super) fn op(&self) -> &Op {
        self.complete.unwrap_or(self.invoke)
    }

    /// A short name for reports: `T` and the index of [`Txn::op`].
    pub(super) fn name(&self) -> String {
        format!("T{}", self.op().index)
    }

    /// The value the transaction finally wrote to a key (its last write),
    /// if it wrote the key.
    pub(super) fn last_write(&self, key: i64) -> Option<i64> {
        self.mops.iter().rev().find_map(|m| match m {
            Mop::Write { key: k, value } if *k == key => Some(*value),
            _ => None,
        })
    }

    /// Indices (into `mops`) of the external reads: for each key, the first
    /// read of it when it comes before any write of that key.
    pub(super) fn external_reads(&self) -> Vec<usize> {
        let mut touched: Vec<i64> = Vec::new();
        let mut out = Vec::new();
        for (i, mop) in self.mops.iter().enumerate() {
            let key = mop.key();
            if touched.contains(&key) {
                continue;
            }
            touched.push(key);
            if !matches!(mop, Mop::Write { .. }) {
                out.push(i);
            }
        }
        out
    }
}

/// Pairs the history's `txn` operations into transactions, reporting
/// malformed values and micro-ops as `malformed` anomalies. Operations whose
/// `f` is not `"txn"` are skipped.
pub(super) fn read_txns<'a>(
    history: &'a History,
    workload: Workload,
    found: &mut Anomalies,
) -> Vec<Txn<'a>> {
    let mut txns = Vec::new();
    for (invoke, complete) in history.pairs() {
        if invoke.f != "txn" {
            continue;
        }
        let status = match complete.map(|c| c.kind) {
            Some(OpType::Ok) => Status::Ok,
            Some(OpType::Fail) => Status::Fail,
            _ => Status::Info,
        };
        // An ok completion says what was read; otherwise only the
        // invocation says what was attempted.
        let (source, keep_reads) = match (status, complete) {
            (Status::Ok, Some(done)) if done.value.is_array() => (done, true),
            (Status::Ok, Some(done)) => {
                found.add("malformed", || {
                    json!({
                        "op": op_json(done),
                        "text": format!("T{}: completion value is not a list of micro-ops", done.index),
                    })
                });
                (invoke, false)
            }
            _ => (invoke, false),
        };
        let mops = parse_mops(source, workload, keep_reads, found);
        txns.push(Txn {
            invoke,
            complete,
            status,
            mops,
        });
    }
    txns
}

/// Parses an entry's value as micro-ops; bad ones are reported and dropped.
fn parse_mops(op: &Op, workload: Workload, keep_reads: bool, found: &mut Anomalies) -> Vec<Mop> {
    let Some(items) = op.value.as_array() else {
        found.add("malformed", || {
            json!({
                "op": op_json(op),
                "text": format!("op {}: value is not a list of micro-ops", op.index),
            })
        });
        return Vec::new();
    };
    let mut mops = Vec::with_capacity(items.len());
    for item in items {
        match parse_mop(item, workload) {
            // A read in an invocation has no known value: drop it.
            Ok(mop) => {
                if keep_reads || matches!(mop, Mop::Write { .. }) {
                    mops.push(mop);
                }
            }
            Err(why) => found.add("malformed", || {
                json!({
                    "op": op_json(op),
                    "mop": item,
                    "text": format!("op {}: micro-op {item}: {why}", op.index),
                })
            }),
        }
    }
    mops
}

/// Parses one micro-op, or says what is wrong with it.
fn parse_mop(item: &Value, workload: Workload) -> Result<Mop, &'static str> {
    let parts = item.as_array().ok_or("not a list")?;
    let [f, key, value] = parts.as_slice() else {
        return Err("not a [f key value] triple");
    };
    let f = f.as_str().ok_or("function is not a string")?;
    let key = key.as_i64().ok_or("key is not an integer")?;
    match (workload, f) {
        (Workload::RwRegister, "r") => match value {
            Value::Null => Ok(Mop::ReadReg { key, value: None }),
            v => v
                .as_i64()
                .map(|v| Mop::ReadReg {
                    key,
                    value: Some(v),
                })
                .ok_or("read value is neither null nor an integer"),
        },
        (Workload::ListAppend, "r") => match value {
            Value::Null => Ok(Mop::ReadList {
                key,
                value: Vec::new(),
            }),
            Value::Array(elems) => elems
                .iter()
                .map(Value::as_i64)
                .collect::<Option<Vec<i64>>>()
                .map(|value| Mop::ReadList { key, value })
                .ok_or("read list holds a non-integer"),
            _ => Err("read value is neither null nor a list"),
        },
        (Workload::RwRegister, "w") | (Workload::ListAppend, "append") => value
            .as_i64()
            .map(|value| Mop::Write { key, value })
            .ok_or("written value is not an integer"),
        _ => Err("unknown function for this workload"),
    }
}

/// Who wrote a given value of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Writer {
    /// The writing transaction (index into the transaction list).
    pub(super) txn: usize,
    /// Position of the write among the transaction's micro-ops.
    pub(super) mop: usize,
    /// Whether it is the transaction's last write to the key.
    pub(super) last: bool,
    /// Whether another transaction wrote the same value too (then the
    /// writer is not known and no edges are drawn from it).
    pub(super) ambiguous: bool,
}

/// Index of every write in the history (of any status): (key, value) →
/// writer.
#[derive(Debug, Default)]
pub(super) struct WriteIndex {
    by_value: HashMap<(i64, i64), Writer>,
}

impl WriteIndex {
    /// Indexes the writes of all transactions.
    pub(super) fn build(txns: &[Txn<'_>]) -> WriteIndex {
        let mut by_value: HashMap<(i64, i64), Writer> = HashMap::new();
        for (t, txn) in txns.iter().enumerate() {
            for (i, mop) in txn.mops.iter().enumerate() {
                let Mop::Write { key, value } = *mop else {
                    continue;
                };
                let last = !txn.mops[i + 1..]
                    .iter()
                    .any(|m| matches!(m, Mop::Write { key: k, .. } if *k == key));
                by_value
                    .entry((key, value))
                    .and_modify(|w| {
                        if w.txn == t {
                            // The same value written twice by one txn: the
                            // later write is the one that counts.
                            w.mop = i;
                            w.last |= last;
                        } else {
                            w.ambiguous = true;
                        }
                    })
                    .or_insert(Writer {
                        txn: t,
                        mop: i,
                        last,
                        ambiguous: false,
                    });
            }
        }
        WriteIndex { by_value }
    }

    /// Who wrote `value` to `key`, if anyone did.
    pub(super) fn get(&self, key: i64, value: i64) -> Option<&Writer> {
        self.by_value.get(&(key, value))
    }
}
