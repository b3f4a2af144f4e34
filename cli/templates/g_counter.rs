//! A node for Maelstrom's `g-counter` workload: each node counts its own
//! adds, and every 200 ms sends its peers every count it knows; a node
//! keeps the highest count it has seen for each node, and reads their sum.
//! Counts only grow, so merging by the maximum is safe under any order,
//! loss or repetition of the messages.

use std::collections::BTreeMap;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct GCounter {
    /// Each node's count, as far as this node knows.
    counts: BTreeMap<String, u64>,
}

#[maelstrom_node]
impl GCounter {
    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, delta: u64) {
        *self.counts.entry(ctx.node_id().to_owned()).or_default() += delta;
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            value: self.counts.values().sum(),
        }
    }

    /// A peer's counts, merged by the maximum.
    #[handle("counts", no_reply)]
    fn counts(&mut self, counts: BTreeMap<String, u64>) {
        for (node, count) in counts {
            let known = self.counts.entry(node).or_default();
            *known = (*known).max(count);
        }
    }

    #[every(ms = 200)]
    fn share(&mut self, ctx: &Ctx) {
        let counts = GCounterMsg::Counts {
            counts: self.counts.clone(),
        };
        for peer in ctx.peers() {
            ctx.send(peer, &counts);
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

fn main() {
    glomers::run(GCounter::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The official run's flags, shortened.
    const FLAGS: &str = "-w g-counter --node-count 3 --rate 100 --time-limit 5 --nemesis partition";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::GCounter::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
