use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle(echo)]
    fn echo(&mut self, echo: Value) {
        let _ = echo;
    }
}

fn main() {
    glomers::run(Echo);
}
