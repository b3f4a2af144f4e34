use glomers::prelude::*;

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

#[maelstrom_node]
struct Strict;

#[maelstrom_node]
impl Strict {
    #[handle("read")]
    fn read(&self) -> Result<ReadOk, String> {
        Err("nothing yet".to_owned())
    }
}

fn main() {
    glomers::run(Strict);
}
