use glomers::prelude::*;

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

#[maelstrom_node]
struct Later;

#[maelstrom_node]
impl Later {
    #[handle("read")]
    fn read(&self, reply: Responder<ReadOk>) -> ReadOk {
        drop(reply);
        ReadOk { value: 1 }
    }

    #[handle("gossip", no_reply)]
    fn gossip(&self, reply: Responder<ReadOk>) {
        drop(reply);
    }

    #[every(ms = 100)]
    fn tick(&self, reply: Responder<ReadOk>) {
        drop(reply);
    }
}

fn main() {
    glomers::run(Later);
}
