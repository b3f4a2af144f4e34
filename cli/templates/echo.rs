//! A node for Maelstrom's `echo` workload: every `echo` request is
//! answered with its own payload, byte for byte.

use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle("echo")]
    fn echo(&mut self, echo: RawJson) -> EchoOk {
        EchoOk { echo }
    }
}

#[derive(Serialize)]
struct EchoOk {
    echo: RawJson,
}

fn main() {
    glomers::run(Echo);
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The flags of the official run, as `glomers test` takes them.
    const FLAGS: &str = "-w echo --node-count 1 --time-limit 5";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(|| super::Echo, FLAGS).unwrap().assert_seeds(0..10);
    }
}
