use glomers::prelude::*;

struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle("echo")]
    fn echo(&mut self) {}
}

fn main() {}
