//! A node for Maelstrom's `g-set` workload: a grow-only set; every 250 ms
//! each node sends its peers every element it holds, so elements lost to
//! a partition arrive once it heals.

use std::collections::BTreeSet;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct GSet {
    elements: BTreeSet<u64>,
}

#[maelstrom_node]
impl GSet {
    #[handle("add")]
    fn add(&mut self, element: u64) {
        self.elements.insert(element);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            value: self.elements.iter().copied().collect(),
        }
    }

    /// A peer's elements, added without a reply.
    #[handle("elements", no_reply)]
    fn elements(&mut self, elements: Vec<u64>) {
        self.elements.extend(elements);
    }

    #[every(ms = 250)]
    fn share(&mut self, ctx: &Ctx) {
        if self.elements.is_empty() {
            return;
        }
        let elements = GSetMsg::Elements {
            elements: self.elements.iter().copied().collect(),
        };
        for peer in ctx.peers() {
            ctx.send(peer, &elements);
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: Vec<u64>,
}

fn main() {
    glomers::run(GSet::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The bench's g-set run, shortened.
    const FLAGS: &str = "-w g-set --node-count 3 --rate 20 --time-limit 5 --nemesis partition";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::GSet::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
