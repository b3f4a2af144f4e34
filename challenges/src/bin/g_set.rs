//! The `g-set` workload: a grow-only set, disseminated like broadcast
//! (`challenges::gossip`: a star batched every 100 ms, repaired after
//! partitions without acknowledgements).

use std::time::Duration;

use challenges::gossip::{Gossip, Message, Timing};
use glomers::prelude::*;

#[maelstrom_node]
struct GSet {
    gossip: Option<Gossip>,
}

const INTERVAL: Duration = Duration::from_millis(100);

#[maelstrom_node]
impl GSet {
    #[init]
    fn start(&mut self, ctx: &Ctx) {
        self.gossip = Some(Gossip::new(
            ctx.node_id(),
            ctx.node_ids(),
            Timing::with_interval(INTERVAL),
        ));
    }

    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, element: u64) {
        let out = self.gossip().add(element, ctx.now());
        send(ctx, out);
    }

    #[handle("read")]
    fn read(&mut self) -> ReadOk {
        ReadOk {
            value: self.gossip().values().collect(),
        }
    }

    /// The dissemination protocol's messages between nodes.
    #[handle("gossip", no_reply)]
    fn on_gossip(&mut self, ctx: &Ctx, src: Src, gossip: Message) {
        let out = self.gossip().receive(&src, gossip, ctx.now());
        send(ctx, out);
    }

    #[every(ms = 5)]
    fn tick(&mut self, ctx: &Ctx) {
        let out = self.gossip().tick(ctx.now());
        send(ctx, out);
    }

    fn gossip(&mut self) -> &mut Gossip {
        self.gossip
            .get_or_insert_with(|| Gossip::new("", &[], Timing::with_interval(INTERVAL)))
    }
}

/// Sends what the protocol asks for.
fn send(ctx: &Ctx, out: Vec<(String, Message)>) {
    for (peer, gossip) in out {
        ctx.send(&peer, &GSetMsg::Gossip { gossip });
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: Vec<u64>,
}

fn main() {
    glomers::run(GSet { gossip: None });
}
