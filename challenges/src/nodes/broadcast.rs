//! Challenge 3a–3e, broadcast: every value broadcast to any node must reach
//! every node's reads, through partitions, with few messages and little
//! delay.
//!
//! The node ignores the `topology` it is given and leaves dissemination to
//! `challenges::gossip` (through `challenges::gossip_set`, shared with the
//! g-set node): a star around the first node id, batched on
//! wall-clock multiples of the interval `T`, with gap detection and idle
//! reports to a coordinator instead of acknowledgements.
//!
//! # The arithmetic (25 nodes, 100 ms latency, 100 ops/s: about 50 values/s)
//!
//! - Messages. Per interval with new values: the hub's 24 batches, plus one
//!   batch from each leaf that received a value (each leaf gets about 2
//!   values/s, so `1 - e^(-2T)` of its intervals carry one). For `T` = 150 ms:
//!   24 × 6.7 + 24 × 6.7 × 0.26 ≈ 202 messages/s, about 4,000 in a 20 s run
//!   of about 2,000 operations, plus two reports per node to the
//!   coordinator once traffic stops: about 2.1 messages per operation.
//!   Acknowledgements would double that.
//! - Latency. A value waits for its leaf's next boundary (`U(0, T)`), takes
//!   one hop to the hub, waits the hub's 15 ms debounce for the rest of the
//!   wave, and takes one hop out: `U(0, T) + 215` ms, so 215 to 365 ms for
//!   `T` = 150 ms.
//! - `T = 0` sends each value from the node that received it to all 24
//!   peers at once: 100 ms everywhere, 24 messages per value (about 12 per
//!   operation).
//!
//! The interval is the first argument (`--interval-ms N` or `N`), else the
//! `BROADCAST_INTERVAL_MS` environment variable, else 150 ms.

use crate::gossip::{Message, Timing};
use crate::gossip_set::GossipSet;
use glomers::prelude::*;

/// Built at `init`, when the node ids are known.
#[maelstrom_node]
pub struct Broadcast {
    set: GossipSet,
}

impl Broadcast {
    /// A node that disseminates with `timing` (built at `init`).
    pub fn new(ctx: &Ctx, timing: Timing) -> Self {
        Broadcast {
            set: GossipSet::new(ctx, timing),
        }
    }
}

#[maelstrom_node]
impl Broadcast {
    /// The node builds its own overlay; the suggested topology is unused.
    #[handle("topology")]
    fn topology(&mut self) {}

    #[handle("broadcast")]
    fn broadcast(&mut self, ctx: &Ctx, message: u64) {
        self.set.add(ctx, message);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            messages: self.set.values(),
        }
    }

    /// The dissemination protocol's messages between nodes.
    #[handle("gossip", no_reply)]
    fn on_gossip(&mut self, ctx: &Ctx, src: &Src, gossip: Message) {
        self.set.receive(ctx, src, gossip);
    }

    #[every(ms = 5)]
    fn tick(&mut self, ctx: &Ctx) {
        self.set.tick(ctx);
    }
}

#[derive(Serialize)]
struct ReadOk {
    messages: Vec<u64>,
}
