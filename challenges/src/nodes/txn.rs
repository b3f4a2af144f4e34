//! Challenge 6a–6c, totally available transactions: `txn` requests of
//! reads and writes on integer keys, answered by whichever node gets them,
//! read committed through partitions.
//!
//! The store is `challenges::txn`: each node runs a transaction whole on its
//! own copy, stamps it with a Lamport clock, and replicates its final writes
//! to every peer, where the highest stamp wins. No request ever waits for
//! another node. Replication is batched every 10 ms, at most one push in
//! flight per peer: about 2 messages per peer per 10 ms while writes come
//! in, whatever the rate.

use crate::txn::{Batch, MicroOp, Stamp, Store};
use glomers::prelude::*;

/// Built at `init`: the store replicates to the other node ids.
#[maelstrom_node]
pub struct Txn {
    store: Store,
}

impl Txn {
    /// A node built at `init`, when its id (for Lamport stamps) is known.
    pub fn new(ctx: &Ctx) -> Self {
        Txn {
            store: Store::new(ctx.node_id(), ctx.node_ids()),
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

    /// Transactions' writes from a peer.
    #[handle("replicate", no_reply)]
    fn on_replicate(&mut self, ctx: &Ctx, src: Src, batches: Vec<Batch>) {
        let stamps = self.store.receive(batches);
        ctx.send(&src, &TxnMsg::Replicated { stamps });
    }

    /// A peer's acknowledgement of a push.
    #[handle("replicated", no_reply)]
    fn on_replicated(&mut self, src: Src, stamps: Vec<Stamp>) {
        self.store.acknowledge(&src, &stamps);
    }

    #[every(ms = 10)]
    fn push(&mut self, ctx: &Ctx) {
        for (peer, batches) in self.store.pushes(ctx.now()) {
            ctx.send(&peer, &TxnMsg::Replicate { batches });
        }
    }
}

#[derive(Serialize)]
struct TxnOk {
    txn: Vec<MicroOp>,
}
