//! Real-time precedence edges for strict serializability.
//!
//! T1 precedes T2 in real time when T1's `ok` completion comes before T2's
//! invocation in the history. Drawing every such pair would be quadratic,
//! so we keep a *frontier*: the `ok` transactions that have completed and
//! that no later-completed transaction is known to follow. A newly invoked
//! transaction is linked from every frontier member; when it completes `ok`,
//! the members it was linked from leave the frontier (they are reachable
//! through it) and it joins. Every real-time precedence is thus a path of
//! edges, and the edge count is about the number of transactions times the
//! concurrency.
//!
//! `fail` transactions take no part; `info` ones get incoming edges only
//! (they may have taken effect at any time after their invocation).

use super::graph::{GraphBuilder, Kind, NO_LABEL};
use super::txn::{Status, Txn};

/// Adds the frontier-reduced real-time edges between transactions.
pub(super) fn link(txns: &[Txn<'_>], graph: &mut GraphBuilder) {
    // (history position, is completion, txn)
    let mut events: Vec<(usize, bool, usize)> = Vec::with_capacity(txns.len() * 2);
    for (t, txn) in txns.iter().enumerate() {
        match txn.status {
            Status::Fail => continue,
            Status::Info => events.push((txn.invoke.index, false, t)),
            Status::Ok => {
                events.push((txn.invoke.index, false, t));
                if let Some(done) = txn.complete {
                    events.push((done.index, true, t));
                }
            }
        }
    }
    events.sort_unstable();
    let mut frontier: Vec<usize> = Vec::new();
    let mut in_frontier = vec![false; txns.len()];
    // What each txn was linked from at its invocation: a range of `preds`.
    let mut preds: Vec<usize> = Vec::new();
    let mut pred_range = vec![(0usize, 0usize); txns.len()];
    for (_, completion, t) in events {
        if completion {
            let (start, end) = pred_range[t];
            for &p in &preds[start..end] {
                in_frontier[p] = false;
            }
            frontier.retain(|&f| in_frontier[f]);
            frontier.push(t);
            in_frontier[t] = true;
        } else {
            let start = preds.len();
            for &f in &frontier {
                graph.link(f, t, Kind::Realtime, NO_LABEL);
                preds.push(f);
            }
            pred_range[t] = (start, preds.len());
        }
    }
}
