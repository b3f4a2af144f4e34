use glomers::prelude::*;

#[maelstrom_node]
struct Ticker;

#[maelstrom_node]
impl Ticker {
    #[every(ms = 1s)]
    fn seconds(&mut self) {}

    #[every(ms = 250ms)]
    fn millis(&mut self) {}
}

fn main() {
    glomers::run(Ticker);
}
