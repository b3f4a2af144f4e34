use glomers::prelude::*;

#[maelstrom_node]
struct Who;

#[maelstrom_node]
impl Who {
    #[handle("whoami")]
    fn whoami(&self, src: String) {
        let _ = src;
    }

    #[handle("whereami")]
    fn whereami(&self, dest: String) {
        let _ = dest;
    }
}

fn main() {
    glomers::run(Who);
}
