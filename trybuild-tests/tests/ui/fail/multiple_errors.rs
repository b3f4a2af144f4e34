use glomers::prelude::*;

#[maelstrom_node]
struct Broken;

#[maelstrom_node]
impl Broken {
    #[handle("echo")]
    fn echo(self) {}

    #[handle("echo")]
    fn echo_again(&mut self, in_reply_to: u64) {
        let _ = in_reply_to;
    }

    #[every(ms = 0)]
    fn tick(&mut self) {}

    #[handel("read")]
    fn read(&self) {}
}

fn main() {
    glomers::run(Broken);
}
