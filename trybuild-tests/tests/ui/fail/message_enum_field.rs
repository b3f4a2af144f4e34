//! The message enum's name in rustc's errors comes from the node's name.

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Gossip {
    seen: Vec<u64>,
}

#[maelstrom_node]
impl Gossip {
    #[handle("gossip", no_reply)]
    fn gossip(&mut self, value: u64) {
        self.seen.push(value);
    }

    #[every(ms = 100)]
    fn spread(&mut self, ctx: &Ctx) {
        for peer in ctx.peers() {
            ctx.send(peer, &GossipMsg::Gossip { value: 1, values: vec![2] });
        }
    }
}

fn main() {
    let _: u64 = GossipMsg::Gossip { value: 1 };
    glomers::run(Gossip::default());
}
