use glomers::prelude::*;

#[maelstrom_node]
struct Node2;

#[maelstrom_node]
impl Node2 {
    #[handle("read")]
    fn read(&self) {}

    #[handle("read")]
    fn read_again(&self) {}
}

fn main() {
    glomers::run(Node2);
}
