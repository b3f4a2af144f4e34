//! A node for Maelstrom's `kafka` workload, on one node: a log per key,
//! offsets 0, 1, 2, ... and the consumers' committed offsets. On more
//! nodes the logs must be shared, for example through Maelstrom's
//! `lin-kv` service (`ctx.lin_kv()`): see the guide.

use std::collections::BTreeMap;

use glomers::prelude::*;

#[maelstrom_node]
#[derive(Default)]
struct Kafka {
    /// Each key's messages; a message's offset is its index.
    logs: BTreeMap<String, Vec<Value>>,
    committed: BTreeMap<String, u64>,
}

/// How many messages one poll returns for a key, at most.
const POLL_LIMIT: usize = 10;

#[maelstrom_node]
impl Kafka {
    #[handle("send")]
    fn send(&mut self, key: String, msg: Value) -> SendOk {
        let log = self.logs.entry(key).or_default();
        log.push(msg);
        SendOk {
            offset: log.len() as u64 - 1,
        }
    }

    #[handle("poll")]
    fn poll(&self, offsets: BTreeMap<String, u64>) -> PollOk {
        let mut msgs = BTreeMap::new();
        for (key, from) in offsets {
            let Some(log) = self.logs.get(&key) else {
                continue;
            };
            let found: Vec<(u64, Value)> = log
                .iter()
                .enumerate()
                .skip(from as usize)
                .take(POLL_LIMIT)
                .map(|(offset, msg)| (offset as u64, msg.clone()))
                .collect();
            msgs.insert(key, found);
        }
        PollOk { msgs }
    }

    #[handle("commit_offsets")]
    fn commit_offsets(&mut self, offsets: BTreeMap<String, u64>) {
        for (key, offset) in offsets {
            let committed = self.committed.entry(key).or_default();
            *committed = (*committed).max(offset);
        }
    }

    #[handle("list_committed_offsets")]
    fn list_committed_offsets(&self, keys: Vec<String>) -> CommittedOk {
        let offsets = keys
            .into_iter()
            .filter_map(|key| Some((self.committed.get(&key).copied()?, key)))
            .map(|(offset, key)| (key, offset))
            .collect();
        CommittedOk { offsets }
    }
}

#[derive(Serialize)]
struct SendOk {
    offset: u64,
}

#[derive(Serialize)]
struct PollOk {
    msgs: BTreeMap<String, Vec<(u64, Value)>>,
}

#[derive(Serialize)]
struct CommittedOk {
    offsets: BTreeMap<String, u64>,
}

fn main() {
    glomers::run(Kafka::default());
}

#[cfg(test)]
mod tests {
    use glomers_sim::Sim;

    /// Challenge 5a's flags, shortened.
    const FLAGS: &str = "-w kafka --node-count 1 --concurrency 2n --time-limit 5 --rate 200";

    #[test]
    fn ten_seeds_are_valid() {
        Sim::new(super::Kafka::default, FLAGS)
            .unwrap()
            .assert_seeds(0..10);
    }
}
