//! A node for Maelstrom's `txn-list-append` workload, on one node: each
//! transaction runs whole, in one handler, so it is strict serializable.
//! On more nodes the state must be shared, for example in Maelstrom's
//! `lin-kv` service (`ctx.lin_kv()`), as Maelstrom's Datomic chapter does.

use std::collections::BTreeMap;

use glomers::prelude::*;

/// `["r", key, null]`, answered `["r", key, [values]]`, or
/// `["append", key, value]`.
type MicroOp = (String, u64, Value);

#[maelstrom_node]
#[derive(Default)]
struct Lists {
    lists: BTreeMap<u64, Vec<Value>>,
}

#[maelstrom_node]
impl Lists {
    #[handle("txn")]
    fn txn(&mut self, txn: Vec<MicroOp>) -> TxnOk {
        let txn = txn
            .into_iter()
            .map(|(f, key, value)| {
                if f == "r" {
                    let read = self.lists.get(&key).map(|list| Value::from(list.clone()));
                    (f, key, read.unwrap_or(Value::Null))
                } else {
                    self.lists.entry(key).or_default().push(value.clone());
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
    glomers::run(Lists::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// The Datomic chapter's flags, on one node.
    const FLAGS: &str = "-w txn-list-append --node-count 1 --time-limit 5 --rate 100 \
                         --consistency-models strict-serializable";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::Lists::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
