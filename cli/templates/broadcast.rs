//! A node for Maelstrom's `broadcast` workload: a new value is sent to
//! every peer at once, and every 500 ms each node sends its peers all it
//! holds, so values lost to a partition arrive once it heals. Simple and
//! correct; the challenge's efficiency targets (3d, 3e) need batching and
//! fewer messages.

use std::collections::BTreeSet;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Broadcast {
    values: BTreeSet<u64>,
}

#[maelstrom_node]
impl Broadcast {
    #[handle("broadcast")]
    fn broadcast(&mut self, ctx: &Ctx, message: u64) {
        if self.values.insert(message) {
            let gossip = BroadcastMsg::Gossip {
                values: vec![message],
            };
            for peer in ctx.peers() {
                ctx.send(peer, &gossip);
            }
        }
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            messages: self.values.iter().copied().collect(),
        }
    }

    /// The suggested topology is not needed: every node talks to all.
    #[handle("topology")]
    fn topology(&mut self, topology: Value) {
        let _ = topology;
    }

    /// Values from a peer, applied without a reply.
    #[handle("gossip", no_reply)]
    fn gossip(&mut self, values: Vec<u64>) {
        self.values.extend(values);
    }

    #[every(ms = 500)]
    fn sync(&mut self, ctx: &Ctx) {
        if self.values.is_empty() {
            return;
        }
        let gossip = BroadcastMsg::Gossip {
            values: self.values.iter().copied().collect(),
        };
        for peer in ctx.peers() {
            ctx.send(peer, &gossip);
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    messages: Vec<u64>,
}

fn main() {
    glomers::run(Broadcast::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// Challenge 3c's flags: five nodes under partitions.
    const FLAGS: &str = "-w broadcast --node-count 5 --time-limit 10 --rate 10 --nemesis partition";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::Broadcast::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
