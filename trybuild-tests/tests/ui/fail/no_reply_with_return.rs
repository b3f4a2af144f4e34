use glomers::prelude::*;

#[maelstrom_node]
struct Gossip;

#[maelstrom_node]
impl Gossip {
    #[handle("gossip", no_reply)]
    fn gossip(&mut self, values: Vec<u64>) -> usize {
        values.len()
    }
}

fn main() {
    glomers::run(Gossip);
}
