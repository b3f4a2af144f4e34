use glomers::prelude::*;

#[maelstrom_node]
struct Ticker;

#[maelstrom_node]
impl Ticker {
    #[every(ms = 0)]
    fn zero(&mut self) {}

    #[every(ms = "100")]
    fn string(&mut self) {}

    #[every(100)]
    fn unitless(&mut self) {}

    #[every(secs = 1)]
    fn seconds(&mut self) {}

    #[every]
    fn bare(&mut self) {}
}

fn main() {
    glomers::run(Ticker);
}
