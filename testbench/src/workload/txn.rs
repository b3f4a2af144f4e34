//! `txn-rw-register` and `txn-list-append`: transactions of reads and
//! writes (or appends) on Elle's rotating pool of integer keys, judged by
//! the Elle-style checker against the requested consistency models.
//!
//! A transaction is a list of micro-operations, sent as
//! `{"type": "txn", "txn": [["r", 1, null], ["w", 2, 5]]}` (or
//! `["append", 2, 5]`) and answered by `txn_ok` with the reads filled in.
//! As in Maelstrom (Elle's `wr-txns`): 1 to `--max-txn-length`
//! micro-operations, reads and writes equally likely, keys from
//! `--key-count` slots chosen exponentially ([`KeyPool`]), and each key
//! takes the values 1 to `--max-writes-per-key` before a fresh key
//! replaces it.
//!
//! A reply must fit Maelstrom's schema (a list of `["r", k, v]` and
//! `["w", k, v]`, v a list or null for list-append reads). Beyond
//! Maelstrom, which records whatever transaction comes back, the bench
//! also requires the reply to answer the transaction sent: the same
//! micro-operations on the same keys, writes with the values sent.

use serde_json::{json, Value};

use super::keys::{KeyPool, MicroOp};
use super::schema::{self, Shape};
use super::{Invocation, Request, Step, Workload, BEYOND_MAELSTROM};
use crate::checker::elle::{self, Model};
use crate::config::{Config, ConsistencyModel, Workload as Kind};
use crate::history::History;

const RW_MOPS: Shape = Shape::List(&Shape::Either(&[
    Shape::Tuple(&[Shape::Is("r"), Shape::Any, Shape::Any]),
    Shape::Tuple(&[Shape::Is("w"), Shape::Any, Shape::Any]),
]));
const APPEND_MOPS: Shape = Shape::List(&Shape::Either(&[
    Shape::Tuple(&[Shape::Is("r"), Shape::Any, Shape::List(&Shape::Any)]),
    Shape::Tuple(&[Shape::Is("append"), Shape::Any, Shape::Any]),
]));

/// The generator's parameters and state.
pub struct Txn {
    workload: elle::Workload,
    models: Vec<Model>,
    max_txn_length: u64,
    pool: KeyPool,
}

impl Txn {
    /// The workload `config` names (`txn-rw-register` or `txn-list-append`).
    pub fn new(config: &Config) -> Self {
        let workload = match config.workload {
            Kind::TxnListAppend => elle::Workload::ListAppend,
            _ => elle::Workload::RwRegister,
        };
        Txn {
            workload,
            models: config
                .consistency_models
                .iter()
                .map(|&m| model(m))
                .collect(),
            max_txn_length: config.max_txn_length,
            pool: KeyPool::new(config.key_count, config.max_writes_per_key),
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

/// Why `got` does not answer the transaction `sent`, if it does not.
fn mismatch(sent: &[Value], got: &[Value]) -> Option<String> {
    if got.len() != sent.len() {
        return Some(format!(
            "{} micro-operations answer {} sent",
            got.len(),
            sent.len()
        ));
    }
    sent.iter().zip(got).find_map(|(asked, answer)| {
        let same_op = answer[0] == asked[0] && answer[1] == asked[1];
        let same_write = asked[0] == "r" || answer[2] == asked[2];
        (!same_op || !same_write).then(|| format!("{answer} answers {asked}"))
    })
}

impl Workload for Txn {
    fn reuses_clients(&self) -> bool {
        true
    }

    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        rng: &mut fastrand::Rng,
    ) -> Invocation {
        let verb = self.write_verb();
        let txn = self
            .pool
            .txn(self.max_txn_length, rng)
            .into_iter()
            .map(|mop| match mop {
                MicroOp::Read(key) => json!(["r", key, null]),
                MicroOp::Write(key, value) => json!([verb, key, value]),
            })
            .collect();
        Invocation::new("txn", Value::Array(txn))
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        Request::Send(json!({"type": "txn", "txn": op.value}))
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        let shape = match self.workload {
            elle::Workload::RwRegister => RW_MOPS,
            elle::Workload::ListAppend => APPEND_MOPS,
        };
        schema::check(reply, "txn_ok", &[("txn", shape)])?;
        let sent = op.value.as_array().map_or(&[][..], Vec::as_slice);
        let got = reply["txn"].as_array().map_or(&[][..], Vec::as_slice);
        match mismatch(sent, got) {
            None => Ok(Step::Done(reply["txn"].clone())),
            Some(problem) => Err(format!(
                "{BEYOND_MAELSTROM}the reply does not answer the transaction sent ({problem}): {reply}"
            )),
        }
    }

    fn check(&self, history: &History) -> Value {
        elle::check(history, self.workload, &self.models)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn workload(args: &str) -> Txn {
        Txn::new(&Config::from_flags(args).unwrap())
    }

    #[test]
    fn transactions_follow_elles_generator() {
        let mut txn =
            workload("-w txn-rw-register --key-count 2 --max-txn-length 3 --max-writes-per-key 4");
        let mut rng = fastrand::Rng::with_seed(7);
        let mut writes: std::collections::HashMap<u64, Vec<u64>> = Default::default();
        let mut lengths = [0; 4];
        for _ in 0..3000 {
            let op = txn.next_op(0, Duration::ZERO, &mut rng);
            let mops = op.value.as_array().unwrap();
            lengths[mops.len()] += 1;
            for mop in mops {
                match mop[0].as_str().unwrap() {
                    "w" => writes
                        .entry(mop[1].as_u64().unwrap())
                        .or_default()
                        .push(mop[2].as_u64().unwrap()),
                    "r" => assert!(mop[2].is_null()),
                    other => panic!("{other}"),
                }
            }
        }
        assert_eq!(lengths[0], 0);
        assert!(
            lengths[1..].iter().all(|&n| (850..1150).contains(&n)),
            "{lengths:?}"
        );
        assert!(writes.len() > 100, "keys rotate");
        for (key, values) in &writes {
            assert_eq!(
                values,
                &(1..=values.len() as u64).collect::<Vec<_>>(),
                "key {key}"
            );
            assert!(values.len() <= 4);
        }
        let mut list = workload("-w txn-list-append");
        let op = list.next_op(0, Duration::ZERO, &mut rng);
        assert!(op
            .value
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m[0] == "r" || m[0] == "append"));
    }

    #[test]
    fn replies_must_fit_maelstroms_schema_and_answer_the_transaction_sent() {
        let mut txn = workload("-w txn-list-append");
        let op = Invocation::new("txn", json!([["append", 1, 3], ["r", 1, null]]));
        let reply = |txn: Value| json!({"type": "txn_ok", "txn": txn, "in_reply_to": 4});
        assert_eq!(
            txn.complete(0, &op, &reply(json!([["append", 1, 3], ["r", 1, [1, 3]]]))),
            Ok(Step::Done(json!([["append", 1, 3], ["r", 1, [1, 3]]])))
        );
        assert!(txn
            .complete(0, &op, &reply(json!([["append", 1, 3], ["r", 1, null]])))
            .is_ok());
        for malformed in [
            json!({"type": "txn_ok", "in_reply_to": 4}),
            reply(json!([["append", 1, 3], ["r", 1, 5]])),
            reply(json!([["append", 1, 3], ["r", 1, [1], 0]])),
            json!({"type": "txn_ok", "txn": [], "in_reply_to": 4, "extra": true}),
        ] {
            let err = txn.complete(0, &op, &malformed).unwrap_err();
            assert!(err.starts_with("malformed reply"), "{malformed}: {err}");
        }
        for unanswered in [
            reply(json!([["append", 1, 3]])),
            reply(json!([["append", 1, 4], ["r", 1, [4]]])),
            reply(json!([["append", 1, 3], ["r", 2, []]])),
            reply(Value::Null),
        ] {
            let err = txn.complete(0, &op, &unanswered).unwrap_err();
            assert!(err.starts_with(BEYOND_MAELSTROM), "{unanswered}: {err}");
        }
    }
}
