//! An Elle-style checker for transactional histories of the
//! `txn-rw-register` and `txn-list-append` workloads.
//!
//! The checker turns the history into transactions, infers which
//! transaction must precede which (a *dependency graph*), and looks for
//! cycles in that graph: a cycle means no order of the transactions can
//! explain what the clients saw. It also reports anomalies visible in single
//! transactions or single reads. This is a clean-room reimplementation of the
//! ideas of Kingsbury and Alvaro's Elle (VLDB 2020), not a port.
//!
//! # Reading the history
//!
//! Each invocation is paired with its completion. An `ok` transaction
//! committed and its completion says what its reads returned. A `fail`
//! transaction surely did not happen: its writes are *aborted writes* and it
//! takes no part in the graph. An `info` transaction, or one that never
//! completed, may or may not have committed: its writes (taken from the
//! invocation) may legitimately be read, but its reads are unknown. Micro-ops
//! that are not well-formed (`["r", k, v]`, `["w", k, v]`, `["append", k,
//! v]` with integer keys and values) are reported as `malformed` and ignored.
//! Written values are assumed unique per key (the generator guarantees it);
//! if two transactions write the same value, reads of it give no edges.
//!
//! # What a single transaction or read shows
//!
//! * `internal`: a read disagrees with what the same transaction wrote or
//!   read of that key before (a register read that is not the value last
//!   written or read; a list read that does not end with the transaction's
//!   own earlier appends, or differs from its earlier read), or it observes a
//!   write the transaction only makes later.
//! * `garbage-read`: a value (or list element) nobody ever wrote.
//! * `G1a` (aborted read): a value written only by a `fail` transaction.
//! * `G1b` (intermediate read): a value that its writer overwrote (or
//!   appended after) within the same transaction; for lists, the *last*
//!   element of the read is such an intermediate append.
//! * `duplicate-elements` (lists): a read holding an element twice.
//! * `incompatible-order` (lists): two committed reads of a key of which
//!   neither is a prefix of the other, so they cannot come from one history
//!   of that key.
//!
//! Only the first read of a key in a transaction, made before the
//! transaction writes that key, is *external*: it is the one that tells
//! which other transaction's write was seen. The value a transaction leaves
//! in a key is its last write to it.
//!
//! # Dependency edges
//!
//! * `wr`: T1 wrote the value T2 externally read, so T1 precedes T2. For
//!   lists, the writer of the last element read.
//! * `ww`: T1's version of a key directly precedes T2's version.
//! * `rw`: T1 externally read a version and T2 wrote the next version, so T1
//!   did not see T2 and precedes it.
//! * `realtime` (only when strict serializability is requested): T1's `ok`
//!   completion came before T2's invocation. To avoid a quadratic number of
//!   edges, each transaction is linked only from the *frontier*: the
//!   completed transactions that no later completed transaction is already
//!   known to follow. Every real-time precedence is then a path of such
//!   edges.
//!
//! ## List-append version order
//!
//! A list read shows the whole order of appends up to that point, so the
//! longest committed read of a key gives its version order (elements never
//! read have no known place and are left out). Consecutive elements give
//! `ww` edges between their appenders; a read ending at element *i* (or
//! empty) gives an `rw` edge to the appender of element *i + 1*.
//!
//! ## Read-write register version order
//!
//! Registers keep no history, so the version order is only partly known.
//! The checker infers, as Elle does:
//!
//! * the initial (null) version precedes every written version, so every
//!   transaction that read null precedes (`rw`) every writer of that key;
//! * writes follow reads: a committed transaction that externally read
//!   `v1` of a key and then wrote `v2` to it puts `v1` directly before `v2`;
//!   the writer of `v1` precedes it (`ww`) and every other reader of `v1`
//!   precedes it (`rw`).
//!
//! It does *not* infer version orders from real time or process order
//! (Elle's optional `linearizable-keys?` / `sequential-keys?`), nor does it
//! iterate between version and transaction orders. Two writes of a key that
//! no transaction read-then-overwrote stay unordered, so some anomalies
//! (e.g. lost writes nobody observed) are invisible. All-to-all edge sets
//! (many readers to many writers) are built through small chains of helper
//! nodes so their size stays linear.
//!
//! # Cycles
//!
//! Strongly connected components are found with an iterative Tarjan search;
//! inside each one a breadth-first search looks for a shortest cycle of each
//! kind, classified by its edges:
//!
//! * `G0`: `ww` edges only;
//! * `G1c`: `ww` and `wr` edges, at least one `wr`;
//! * `G-single`: exactly one `rw` edge;
//! * `G2-item`: two or more `rw` edges;
//! * `G0-realtime`, `G1c-realtime`, `G-single-realtime`, `G2-item-realtime`:
//!   the same with at least one `realtime` edge, reported only when the
//!   cycle needs it: not all its transactions are in one component of the
//!   data edges alone (else a plain cycle already explains them). Searched
//!   only when strict serializability is requested.
//!
//! Each component yields at most one example of each kind. The search has a
//! work budget per component and kind, so in a huge tangled component a
//! cycle of some kind may go unreported (a cycle found is always real).
//!
//! # Models
//!
//! `read-uncommitted` forbids G0; `read-committed` adds G1a, G1b, G1c and
//! `internal`; `serializable` adds G-single and G2-item; `strict-serializable`
//! adds the `-realtime` cycles. `garbage-read`, `duplicate-elements`,
//! `incompatible-order` and `malformed` mean the data itself is corrupt and
//! make the history invalid whatever the models.

mod cycles;
mod graph;
mod list_append;
mod realtime;
mod report;
mod rw_register;
mod txn;

#[cfg(test)]
mod tests;

use crate::history::History;
use serde_json::Value;
use std::time::Instant;

/// Which transactional workload produced the history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// `txn-rw-register`: micro-ops `["r", k, v]` and `["w", k, v]`.
    RwRegister,
    /// `txn-list-append`: micro-ops `["r", k, list]` and `["append", k, v]`.
    ListAppend,
}

/// A consistency model the history can be checked against, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// Forbids G0 (write cycles).
    ReadUncommitted,
    /// Also forbids G1a, G1b, G1c and internal inconsistency.
    ReadCommitted,
    /// Also forbids G-single and G2-item.
    Serializable,
    /// Also forbids cycles that need real-time order.
    StrictSerializable,
}

impl Model {
    /// Every model, weakest first.
    pub const ALL: [Model; 4] = [
        Model::ReadUncommitted,
        Model::ReadCommitted,
        Model::Serializable,
        Model::StrictSerializable,
    ];

    /// The model's name as Jepsen spells it, e.g. `"read-committed"`.
    pub fn name(self) -> &'static str {
        match self {
            Model::ReadUncommitted => "read-uncommitted",
            Model::ReadCommitted => "read-committed",
            Model::Serializable => "serializable",
            Model::StrictSerializable => "strict-serializable",
        }
    }

    /// Reads a model name as [`Model::name`] writes it.
    pub fn parse(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.name() == s)
    }

    /// Whether a history showing this anomaly type violates the model.
    /// Unknown anomaly names are taken as forbidden by every model.
    pub fn forbids(self, anomaly: &str) -> bool {
        match anomaly {
            "G0" => true,
            "G1a" | "G1b" | "G1c" | "internal" => self >= Model::ReadCommitted,
            "G-single" | "G2-item" => self >= Model::Serializable,
            "G0-realtime" | "G1c-realtime" | "G-single-realtime" | "G2-item-realtime" => {
                self >= Model::StrictSerializable
            }
            _ => true,
        }
    }
}

/// Anomaly types that mean the recorded data is corrupt: they make the
/// history invalid whatever models were requested.
const CORRUPT: [&str; 4] = [
    "garbage-read",
    "duplicate-elements",
    "incompatible-order",
    "malformed",
];

/// Checks a `txn` history of the given workload against the requested
/// models.
///
/// Returns a JSON object with `"valid?"` (false iff an anomaly was found
/// that a requested model forbids, or one that means corrupt data),
/// `"anomaly-types"` (sorted names of every anomaly found),
/// `"anomalies"` (type → up to 8 examples), `"anomaly-counts"` (type → how
/// many were found, examples not kept included), `"not"` (sorted names of
/// the requested models ruled out), `"txn-count"` and `"check-seconds"`.
/// Real-time cycles are only searched for when
/// [`Model::StrictSerializable`] is requested.
pub fn check(history: &History, workload: Workload, models: &[Model]) -> Value {
    let started = Instant::now();
    let mut found = crate::checker::anomalies::Anomalies::default();
    let txns = txn::read_txns(history, workload, &mut found);
    let writes = txn::WriteIndex::build(&txns);
    let mut builder = graph::GraphBuilder::new(txns.len());
    match workload {
        Workload::RwRegister => rw_register::infer(&txns, &writes, &mut builder, &mut found),
        Workload::ListAppend => list_append::infer(&txns, &writes, &mut builder, &mut found),
    }
    let strict = models.contains(&Model::StrictSerializable);
    if strict {
        realtime::link(&txns, &mut builder);
    }
    let graph = builder.build();
    for cycle in cycles::search(&graph, strict) {
        found.add(cycle.kind, || report::render_cycle(&graph, &txns, &cycle));
    }
    report::finish(found, models, txns.len(), started.elapsed())
}
