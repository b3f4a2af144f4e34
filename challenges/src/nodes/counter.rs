//! Challenge 4, grow-only counter (and the `pn-counter` workload, whose
//! deltas may be negative), built on Maelstrom's sequentially consistent
//! `seq-kv` service.
//!
//! Each node owns one key, its own id, holding its total and a version
//! (`challenges::counter`). Adds change only local state. Once a second the
//! node writes its entry, then reads the other nodes' keys and keeps, for
//! each, the entry with the highest version. The write comes first on
//! purpose, and always changes the store (a round number rides along with
//! the entry): Maelstrom's `seq-kv` answers a caller from a past state
//! unless the caller made the latest change itself, and a write that
//! changes nothing does not count as one. So each round sees every write
//! completed before it; stale copies that still slip through lose on
//! version. No key has two writers, so no compare-and-set is needed and
//! nothing retries.
//!
//! Cost: one write and two reads a round, 6 messages with the replies, per
//! node per second while anything changes, then one round every 3 s: about
//! 3 × (20 × 6 + 4 × 6) ≈ 430 messages for the 2,000 operations of the
//! official run, about 0.2 messages per operation. Partitions cut nodes off
//! from each other, never from the service, so they change nothing.

use std::time::Duration;

use crate::counter::{Entry, Totals};
use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
pub struct Counter {
    totals: Totals,
    /// When the counter last changed, here or as seen from another node.
    last_change: Duration,
    last_round: Duration,
    /// Rounds so far: written with the entry, so that every write changes
    /// the store.
    rounds: u64,
}

/// What a node writes to its key: its entry, and the round, so that no two
/// writes are alike.
#[derive(Serialize)]
struct Published {
    #[serde(flatten)]
    entry: Entry,
    round: u64,
}

/// How often nodes sync while the counter changes, and when it is still.
const ACTIVE: Duration = Duration::from_secs(1);
const IDLE: Duration = Duration::from_secs(3);

#[maelstrom_node]
impl Counter {
    /// An add that would overflow this node's total is refused (error 14,
    /// abort: nothing was added).
    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, delta: i64) -> Result<(), Error> {
        self.totals
            .add(delta)
            .map_err(|overflow| Error::abort(overflow.to_string()))?;
        self.last_change = ctx.now();
        Ok(())
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            value: self.totals.value(),
        }
    }

    #[every(ms = 1000)]
    async fn sync(mut node: Node<Self>, ctx: Ctx) -> Result<(), Error> {
        let now = ctx.now();
        let (due, own) = node.with(|c| {
            let pause = if now < c.last_change + IDLE {
                ACTIVE
            } else {
                IDLE
            };
            let due = now >= c.last_round + pause;
            if due {
                c.last_round = now;
                c.rounds += 1;
            }
            let published = Published {
                entry: c.totals.own(),
                round: c.rounds,
            };
            (due, published)
        });
        if !due {
            return Ok(());
        }
        let kv = ctx.seq_kv();
        kv.write(ctx.node_id(), &own).await?;
        let reads: Vec<_> = ctx
            .peers()
            .map(|peer| (peer.to_owned(), kv.read_or(peer, Entry::default())))
            .collect();
        for (peer, read) in reads {
            let entry: Entry = read.await?;
            node.with(|c| {
                if c.totals.merge(&peer, entry) {
                    c.last_change = now;
                }
            });
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: i128,
}
