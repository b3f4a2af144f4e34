//! A node for Maelstrom's `lin-kv` workload, on one node: registers by
//! key, read, written and compared-and-set in one place, so every
//! operation is linearizable. On more nodes a consensus protocol keeps
//! them in agreement: see the Raft chapter.

use std::collections::BTreeMap;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Registers {
    values: BTreeMap<u64, u64>,
}

#[maelstrom_node]
impl Registers {
    #[handle("read")]
    fn read(&self, key: u64) -> Result<ReadOk, Error> {
        match self.values.get(&key) {
            Some(&value) => Ok(ReadOk { value }),
            None => Err(Error::key_does_not_exist(format!("no key {key}"))),
        }
    }

    #[handle("write")]
    fn write(&mut self, key: u64, value: u64) {
        self.values.insert(key, value);
    }

    #[handle("cas")]
    fn cas(&mut self, key: u64, from: u64, to: u64) -> Result<(), Error> {
        match self.values.get_mut(&key) {
            None => Err(Error::key_does_not_exist(format!("no key {key}"))),
            Some(value) if *value != from => Err(Error::precondition_failed(format!(
                "key {key} holds {value}, not {from}"
            ))),
            Some(value) => {
                *value = to;
                Ok(())
            }
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: u64,
}

fn main() {
    glomers::run(Registers::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// Maelstrom's lin-kv run, on one node and shortened.
    const FLAGS: &str = "-w lin-kv --node-count 1 --concurrency 4n --rate 100 --time-limit 5";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::Registers::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
