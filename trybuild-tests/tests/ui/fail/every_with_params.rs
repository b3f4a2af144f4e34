use glomers::prelude::*;

#[maelstrom_node]
struct Ticker;

#[maelstrom_node]
impl Ticker {
    #[every(ms = 100)]
    fn tick(&mut self, ctx: &Ctx, delta: u64, from: Src) {
        let _ = (ctx, delta, from);
    }
}

fn main() {
    glomers::run(Ticker);
}
