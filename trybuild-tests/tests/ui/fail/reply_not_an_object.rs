use glomers::prelude::*;

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

#[maelstrom_node]
struct Replies;

#[maelstrom_node]
impl Replies {
    #[handle("count")]
    fn count(&self) -> u64 {
        1
    }

    #[handle("list")]
    fn list(&self) -> Vec<u64> {
        vec![1]
    }

    #[handle("read")]
    fn read(&self) -> Option<ReadOk> {
        None
    }

    #[handle("sum")]
    fn sum(&self) -> Result<i64, Error> {
        Ok(3)
    }

    #[handle("later")]
    fn later(&self, reply: Responder<String>) {
        reply.ok("done".to_owned());
    }
}

fn main() {
    glomers::run(Replies);
}
