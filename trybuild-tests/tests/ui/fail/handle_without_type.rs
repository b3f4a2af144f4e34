use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle]
    fn echo(&mut self) {}

    #[handle()]
    fn echo_again(&mut self) {}
}

fn main() {
    glomers::run(Echo);
}
