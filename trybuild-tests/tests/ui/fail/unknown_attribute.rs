use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handler("echo")]
    fn echo(&mut self) {}

    #[periodic(ms = 100)]
    fn tick(&mut self) {}
}

fn main() {
    glomers::run(Echo);
}
