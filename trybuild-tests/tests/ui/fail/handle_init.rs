use glomers::prelude::*;

#[maelstrom_node]
struct Setup;

#[maelstrom_node]
impl Setup {
    #[handle("init")]
    fn init(&mut self, node_id: String) {
        let _ = node_id;
    }
}

fn main() {
    glomers::run(Setup);
}
