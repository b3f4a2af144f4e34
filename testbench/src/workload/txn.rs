//! `txn-rw-register` and `txn-list-append`: transactions of reads and
//! writes (or appends) on a rotating pool of integer keys, judged by the
//! Elle-style checker against the requested consistency models.
//!
//! A transaction is a list of micro-operations, sent as
//! `{"type": "txn", "txn": [["r", 1, null], ["w", 2, 5]]}` (or
//! `["append", 2, 5]`) and answered by `txn_ok` with the reads filled in.
//! Every value written to a key is unique to it (1, 2, 3 ...); a key that
//! has taken `--max-writes-per-key` writes leaves the pool for a fresh one,
//! so reads stay short and version orders easy to infer.

use serde_json::{json, Value};

use super::{field, Invocation, Step, Workload};
use crate::checker::elle::{self, Model};
use crate::config::{Config, ConsistencyModel, Workload as Kind};
use crate::history::History;

/// The generator's parameters and state.
pub struct Txn {
    workload: elle::Workload,
    models: Vec<Model>,
    max_txn_length: u64,
    max_writes_per_key: u64,
    /// The keys in play, with how many writes each has taken.
    active: Vec<(u64, u64)>,
    next_key: u64,
}

impl Txn {
    /// The workload `config` names (`txn-rw-register` or `txn-list-append`).
    pub fn new(config: &Config) -> Self {
        let workload = match config.workload {
            Kind::TxnListAppend => elle::Workload::ListAppend,
            _ => elle::Workload::RwRegister,
        };
        let key_count = config.key_count.max(1);
        Txn {
            workload,
            models: config
                .consistency_models
                .iter()
                .map(|&m| model(m))
                .collect(),
            max_txn_length: config.max_txn_length.max(1),
            max_writes_per_key: config.max_writes_per_key.max(1),
            active: (0..key_count).map(|key| (key, 0)).collect(),
            next_key: key_count,
        }
    }

    fn write_verb(&self) -> &'static str {
        match self.workload {
            elle::Workload::RwRegister => "w",
            elle::Workload::ListAppend => "append",
        }
    }
}

fn model(model: ConsistencyModel) -> Model {
    match model {
        ConsistencyModel::ReadUncommitted => Model::ReadUncommitted,
        ConsistencyModel::ReadCommitted => Model::ReadCommitted,
        ConsistencyModel::Serializable => Model::Serializable,
        ConsistencyModel::StrictSerializable => Model::StrictSerializable,
    }
}

impl Workload for Txn {
    fn next_op(&mut self, _process: u64, rng: &mut fastrand::Rng) -> Invocation {
        let length = rng.u64(1..=self.max_txn_length);
        let mut txn = Vec::new();
        for _ in 0..length {
            let slot = rng.usize(..self.active.len());
            let (key, writes) = self.active[slot];
            if rng.bool() {
                txn.push(json!(["r", key, null]));
                continue;
            }
            txn.push(json!([self.write_verb(), key, writes + 1]));
            self.active[slot].1 += 1;
            if writes + 1 >= self.max_writes_per_key {
                self.active[slot] = (self.next_key, 0);
                self.next_key += 1;
            }
        }
        Invocation::new("txn", Value::Array(txn))
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Option<Value> {
        Some(json!({"type": "txn", "txn": op.value}))
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        let sent = op.value.as_array().map_or(&[][..], Vec::as_slice);
        let got = field(reply, "txn")?
            .as_array()
            .ok_or_else(|| format!("`txn` is not a list: {reply}"))?;
        if got.len() != sent.len() {
            return Err(format!(
                "`txn` has {} micro-operations where {} were sent: {reply}",
                got.len(),
                sent.len()
            ));
        }
        let mut done = Vec::with_capacity(sent.len());
        for (asked, answer) in sent.iter().zip(got) {
            let same_op = answer.get(0) == asked.get(0) && answer.get(1) == asked.get(1);
            if !same_op || answer.as_array().map(Vec::len) != Some(3) {
                return Err(format!("micro-operation {answer} answers {asked}: {reply}"));
            }
            if asked[0] == "r" {
                done.push(answer.clone());
            } else if answer[2] == asked[2] {
                done.push(asked.clone());
            } else {
                return Err(format!("write {asked} came back as {answer}: {reply}"));
            }
        }
        Ok(Step::Done(Value::Array(done)))
    }

    fn check(&self, history: &History) -> Value {
        elle::check(history, self.workload, &self.models)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn workload(args: &str) -> Txn {
        let args = ["testbench", "test", "--bin", "b"]
            .into_iter()
            .chain(args.split_whitespace());
        match crate::config::Cli::parse_from(args).command {
            crate::config::Command::Test(config) => Txn::new(&config),
            _ => unreachable!("parsed a test"),
        }
    }

    #[test]
    fn values_are_unique_per_key_and_keys_rotate() {
        let mut txn =
            workload("-w txn-rw-register --key-count 2 --max-txn-length 3 --max-writes-per-key 4");
        let mut rng = fastrand::Rng::with_seed(7);
        let mut seen = std::collections::HashSet::new();
        let mut writes_per_key = std::collections::HashMap::new();
        for _ in 0..200 {
            let op = txn.next_op(0, &mut rng);
            let mops = op.value.as_array().unwrap();
            assert!((1..=3).contains(&mops.len()));
            for mop in mops.iter().filter(|m| m[0] == "w") {
                assert!(
                    seen.insert((mop[1].as_u64(), mop[2].as_u64())),
                    "{mop} twice"
                );
                *writes_per_key.entry(mop[1].as_u64()).or_insert(0) += 1;
            }
        }
        assert!(writes_per_key.len() > 2, "keys rotate");
        assert!(writes_per_key.values().all(|&n| n <= 4));
    }

    #[test]
    fn replies_must_answer_the_transaction_sent() {
        let mut txn = workload("-w txn-list-append");
        let op = Invocation::new("txn", json!([["append", 1, 3], ["r", 1, null]]));
        let ok = json!({"type": "txn_ok", "txn": [["append", 1, 3], ["r", 1, [1, 3]]]});
        assert_eq!(
            txn.complete(0, &op, &ok),
            Ok(Step::Done(json!([["append", 1, 3], ["r", 1, [1, 3]]])))
        );
        for bad in [
            json!({"type": "txn_ok", "txn": [["append", 1, 3]]}),
            json!({"type": "txn_ok", "txn": [["append", 1, 4], ["r", 1, [4]]]}),
            json!({"type": "txn_ok", "txn": [["append", 1, 3], ["r", 2, []]]}),
            json!({"type": "txn_ok"}),
        ] {
            assert!(txn.complete(0, &op, &bad).is_err(), "{bad} accepted");
        }
    }
}
