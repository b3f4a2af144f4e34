//! The `g-set` workload: a grow-only set, disseminated like broadcast
//! (`challenges::gossip`: a star batched every 100 ms, repaired after
//! partitions without acknowledgements).

use std::time::Duration;

use crate::gossip::{Message, Timing};
use crate::gossip_set::GossipSet;
use glomers::prelude::*;

/// Built at `init`, when the node ids are known.
#[maelstrom_node]
pub struct GSet {
    set: GossipSet,
}

impl GSet {
    /// A node built at `init`, batching every 100 ms.
    pub fn new(ctx: &Ctx) -> Self {
        GSet {
            set: GossipSet::new(ctx, Timing::with_interval(INTERVAL)),
        }
    }
}

const INTERVAL: Duration = Duration::from_millis(100);

#[maelstrom_node]
impl GSet {
    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, element: u64) {
        self.set.add(ctx, element);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            value: self.set.values(),
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
    value: Vec<u64>,
}
