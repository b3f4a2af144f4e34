//! A node for Maelstrom's `pn-counter` workload: two grow-only counts per
//! node, one of increments and one of decrements, shared every 200 ms and
//! merged by the maximum; a read is every increment less every decrement.

use std::collections::BTreeMap;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct PnCounter {
    /// Each node's increments and decrements, as far as this node knows.
    counts: BTreeMap<String, (u64, u64)>,
}

#[maelstrom_node]
impl PnCounter {
    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, delta: i64) {
        let (up, down) = self.counts.entry(ctx.node_id().to_owned()).or_default();
        if delta >= 0 {
            *up += delta.unsigned_abs();
        } else {
            *down += delta.unsigned_abs();
        }
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        let up: u64 = self.counts.values().map(|(up, _)| up).sum();
        let down: u64 = self.counts.values().map(|(_, down)| down).sum();
        ReadOk {
            value: up as i64 - down as i64,
        }
    }

    /// A peer's counts, merged by the maximum.
    #[handle("counts", no_reply)]
    fn counts(&mut self, counts: BTreeMap<String, (u64, u64)>) {
        for (node, (up, down)) in counts {
            let known = self.counts.entry(node).or_default();
            known.0 = known.0.max(up);
            known.1 = known.1.max(down);
        }
    }

    #[every(ms = 200)]
    fn share(&mut self, ctx: &Ctx) {
        let counts = PnCounterMsg::Counts {
            counts: self.counts.clone(),
        };
        for peer in ctx.peers() {
            ctx.send(peer, &counts);
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: i64,
}

fn main() {
    glomers::run(PnCounter::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The official run's flags, shortened.
    const FLAGS: &str =
        "-w pn-counter --node-count 3 --rate 100 --time-limit 5 --nemesis partition";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::PnCounter::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
