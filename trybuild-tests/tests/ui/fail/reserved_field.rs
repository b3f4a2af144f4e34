use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle("echo")]
    fn echo(&mut self, msg_id: u64, r#type: String) {
        let _ = (msg_id, r#type);
    }
}

fn main() {
    glomers::run(Echo);
}
