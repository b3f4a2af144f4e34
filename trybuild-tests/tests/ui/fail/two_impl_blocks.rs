use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Split {
    total: u64,
}

#[maelstrom_node]
impl Split {
    #[handle("add")]
    fn add(&mut self, delta: u64) {
        self.total += delta;
    }
}

#[maelstrom_node]
impl Split {
    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk { value: self.total }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

fn main() {
    glomers::run(Split::default());
}
