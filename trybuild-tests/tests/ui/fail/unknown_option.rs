use glomers::prelude::*;

#[maelstrom_node]
struct Gossip;

#[maelstrom_node]
impl Gossip {
    #[handle("gossip", noreply)]
    fn gossip(&mut self) {}
}

fn main() {
    glomers::run(Gossip);
}
