use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handel("echo")]
    fn echo(&mut self) {}

    #[evrey(ms = 100)]
    fn tick(&mut self) {}

    #[periodic(ms = 100)]
    fn audit(&mut self) {}
}

fn main() {
    glomers::run(Echo);
}
