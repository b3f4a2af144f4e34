//! A node for Maelstrom's `unique-ids` workload: ids made of the node's
//! own id and a counter, so no two nodes can hand out the same one and no
//! node needs to ask another (totally available under partitions).

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct UniqueIds {
    issued: u64,
}

#[maelstrom_node]
impl UniqueIds {
    #[handle("generate")]
    fn generate(&mut self, ctx: &Ctx) -> GenerateOk {
        self.issued += 1;
        GenerateOk {
            id: format!("{}-{}", ctx.node_id(), self.issued),
        }
    }
}

#[derive(Serialize)]
struct GenerateOk {
    id: String,
}

fn main() {
    glomers::run(UniqueIds::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The official run's flags, shortened.
    const FLAGS: &str = "-w unique-ids --node-count 3 --time-limit 5 --rate 200 \
                         --availability total --nemesis partition";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::UniqueIds::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
