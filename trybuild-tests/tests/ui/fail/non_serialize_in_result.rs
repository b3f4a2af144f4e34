use glomers::prelude::*;

struct ReadOk {
    value: u64,
}

#[maelstrom_node]
struct Counter;

#[maelstrom_node]
impl Counter {
    #[handle("read")]
    fn read(&self) -> Result<ReadOk, Error> {
        Ok(ReadOk { value: 1 })
    }
}

fn main() {
    glomers::run(Counter);
}
