use glomers::prelude::*;

#[maelstrom_node]
struct Counter;

#[maelstrom_node]
impl Counter {
    #[handle("read")]
    fn read(self) {}
}

fn main() {
    glomers::run(Counter);
}
