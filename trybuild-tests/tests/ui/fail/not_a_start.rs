use glomers::prelude::*;

#[maelstrom_node]
struct Built;

#[maelstrom_node]
impl Built {}

fn wrong(_: u32) -> Built {
    Built
}

fn main() {
    glomers::run(wrong);
}
