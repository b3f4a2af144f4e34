//! A node for Maelstrom's `txn-rw-register` workload, on one node: each
//! transaction runs whole, in one handler, so it is serializable (and
//! strict serializable: one node answers in the order it ran them). On
//! more nodes the writes must reach the other nodes whole: see challenge
//! 6b.

use std::collections::BTreeMap;

use glomers::prelude::*;

/// `["r", key, null]` or `["w", key, value]`.
type MicroOp = (String, u64, Option<u64>);

#[maelstrom_node]
#[derive(Default)]
struct Registers {
    values: BTreeMap<u64, u64>,
}

#[maelstrom_node]
impl Registers {
    #[handle("txn")]
    fn txn(&mut self, txn: Vec<MicroOp>) -> TxnOk {
        let txn = txn
            .into_iter()
            .map(|(f, key, value)| {
                if f == "r" {
                    let read = self.values.get(&key).copied();
                    (f, key, read)
                } else {
                    if let Some(value) = value {
                        self.values.insert(key, value);
                    }
                    (f, key, value)
                }
            })
            .collect();
        TxnOk { txn }
    }
}

#[derive(Serialize)]
struct TxnOk {
    txn: Vec<MicroOp>,
}

fn main() {
    glomers::run(Registers::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// Challenge 6a's flags, shortened.
    const FLAGS: &str = "-w txn-rw-register --node-count 1 --time-limit 5 --rate 200 \
                         --concurrency 2n --consistency-models read-uncommitted --availability total";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::Registers::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
