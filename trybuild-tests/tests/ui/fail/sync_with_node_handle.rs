use glomers::prelude::*;

#[maelstrom_node]
struct Counter;

#[maelstrom_node]
impl Counter {
    #[handle("add")]
    fn add(node: Node<Self>, delta: u64) {
        let _ = (node, delta);
    }
}

fn main() {
    glomers::run(Counter);
}
