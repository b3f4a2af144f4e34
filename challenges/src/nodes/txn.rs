//! Challenge 6a–6c, totally available transactions: `txn` requests of
//! reads and writes on integer keys, answered by whichever node gets them,
//! read committed through partitions.
//!
//! The store is `challenges::txn`: each node runs a transaction whole on its
//! own copy, stamps it with a Lamport clock, and replicates its final writes
//! to every peer, where the highest stamp wins. No request ever waits for
//! another node, so every transaction succeeds whatever the partitions.
//!
//! # The arithmetic (challenge 6c: 2 nodes, `--concurrency 2n --rate 1000`)
//!
//! Maelstrom's generator gives about 864 transactions a second for 20 s,
//! about 17,300 in all, three in four of them writing. Each node pushes
//! to the other at most once per interval `T`, one message with the
//! latest write of every key its unconfirmed transactions wrote and the
//! count of the other's transactions it has applied (which confirms them:
//! no acknowledgement of its own). Each node runs some 320 writing
//! transactions a second, so every interval has news and both nodes push
//! in each: `2 × 20 s / T'` messages, where `T'` is the interval rounded
//! up to the 5 ms ticks (about 53 ms for `T` = 50 ms, as measured): about
//! 760 messages, 0.04 per transaction (10 ms would be about 0.17). A
//! partition changes nothing to that count: pushes go on, and the first
//! after it heals carries everything the other side missed. The price is
//! staleness: a write reaches the other node within `T` plus a network
//! hop, which read committed allows (it asks nothing of how fresh a read
//! is). The binary takes `T` as `--interval-ms N`.

use std::time::Duration;

use crate::push_window::Pacing;
use crate::txn::{MicroOp, Push, Store};
use glomers::prelude::*;

/// The push interval the official runs use.
pub const INTERVAL: Duration = Duration::from_millis(50);

/// Built at `init`: the store replicates to the other node ids.
#[maelstrom_node]
pub struct Txn {
    store: Store,
}

impl Txn {
    /// A node built at `init`, pushing every [`INTERVAL`].
    pub fn new(ctx: &Ctx) -> Self {
        Txn::with_interval(ctx, INTERVAL)
    }

    /// A node built at `init`, pushing at most once per `interval`.
    pub fn with_interval(ctx: &Ctx, interval: Duration) -> Self {
        let pacing = Pacing::with_interval(interval);
        Txn {
            store: Store::new(ctx.node_id(), ctx.node_ids(), pacing),
        }
    }
}

#[maelstrom_node]
impl Txn {
    #[handle("txn")]
    fn txn(&mut self, txn: Vec<MicroOp>) -> Result<TxnOk, Error> {
        let txn = self.store.run(txn).map_err(Error::malformed_request)?;
        Ok(TxnOk { txn })
    }

    /// Transactions' writes and a confirmation from a peer.
    #[handle("replicate", no_reply)]
    fn on_replicate(&mut self, src: Src, push: Push) {
        self.store.receive(&src, push);
    }

    #[every(ms = 5)]
    fn push(&mut self, ctx: &Ctx) {
        for (peer, push) in self.store.pushes(ctx.now()) {
            ctx.send(&peer, &TxnMsg::Replicate { push });
        }
    }
}

#[derive(Serialize)]
struct TxnOk {
    txn: Vec<MicroOp>,
}
