use glomers::prelude::*;

#[maelstrom_node]
enum State {
    Leader,
    Follower,
}

fn main() {}
