use glomers::prelude::*;

#[maelstrom_node]
fn echo() {}

fn main() {}
