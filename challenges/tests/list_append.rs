//! End-to-end: the `list-append` binary against a `lin-kv` service played
//! by the test, which can hold a long chain of commits or lose a race.

mod common;

use std::collections::HashMap;

use challenges::datomic::{Checkpoint, Commit, Database, Lists, CHECKPOINT_EVERY};
use common::NodeProcess;
use serde_json::{json, Value};

const LIST_APPEND: &str = env!("CARGO_BIN_EXE_list-append");

/// A `lin-kv` service in the test: a map, and a log of the keys read.
#[derive(Default)]
struct FakeKv {
    values: HashMap<String, Value>,
    reads: Vec<String>,
    /// Compare-and-sets to refuse with 22 before obeying.
    refuse_cas: usize,
}

impl FakeKv {
    /// Answers the node's service requests until a message for `c1`
    /// comes; returns its body.
    fn serve_until_reply(&mut self, node: &mut NodeProcess) -> Value {
        loop {
            let message = node.recv();
            let body = &message["body"];
            match message["dest"].as_str() {
                Some("c1") => return body.clone(),
                Some("lin-kv") => {
                    let reply = self.handle(body);
                    node.send("lin-kv", reply);
                }
                _ => {} // pushes to the other node
            }
        }
    }

    fn handle(&mut self, body: &Value) -> Value {
        let key = body["key"].as_str().unwrap_or_default().to_owned();
        let mut reply = match body["type"].as_str() {
            Some("read") => {
                self.reads.push(key.clone());
                match self.values.get(&key) {
                    Some(value) => json!({"type": "read_ok", "value": value}),
                    None => json!({"type": "error", "code": 20, "text": "no key"}),
                }
            }
            Some("write") => {
                self.values.insert(key, body["value"].clone());
                json!({"type": "write_ok"})
            }
            Some("cas") => {
                let current = self.values.get(&key);
                let matches = current == Some(&body["from"])
                    || (current.is_none() && body["create_if_not_exists"] == true);
                if self.refuse_cas > 0 || !matches {
                    self.refuse_cas = self.refuse_cas.saturating_sub(1);
                    json!({"type": "error", "code": 22, "text": "not from"})
                } else {
                    self.values.insert(key, body["to"].clone());
                    json!({"type": "cas_ok"})
                }
            }
            _ => json!({"type": "error", "code": 10, "text": "?"}),
        };
        reply["in_reply_to"] = body["msg_id"].clone();
        reply
    }

    /// Stores a chain of `count` commits, each appending its number to key
    /// 1, with the checkpoints a node would store, and points `root` at the
    /// last.
    fn chain(&mut self, count: u64) {
        let mut db = Database::default();
        for n in 1..=count {
            let id = format!("c{n}");
            let (mut commit, due) = db.next_commit([(1, vec![json!(n)])].into());
            if due {
                let mut lists = db.lists.clone();
                lists.entry(1).or_default().push(json!(n));
                let checkpoint = Checkpoint {
                    id: id.clone(),
                    seq: n,
                    lists,
                };
                let checkpoint_id = format!("checkpoint{n}");
                self.values.insert(checkpoint_id.clone(), json!(checkpoint));
                commit.checkpoint = Some(checkpoint_id);
            }
            assert!(db.apply(&id, &commit));
            self.values.insert(id.clone(), json!(commit));
        }
        self.values
            .insert("root".to_owned(), json!(format!("c{count}")));
    }
}

fn read_key_1(msg_id: u64) -> Value {
    json!({"type": "txn", "msg_id": msg_id, "txn": [["r", 1, null]]})
}

#[test]
fn a_node_far_behind_loads_the_latest_checkpoint_and_the_commits_after_it() {
    let mut kv = FakeKv::default();
    let count = CHECKPOINT_EVERY + 6;
    kv.chain(count);
    let mut node = NodeProcess::init(LIST_APPEND, "n1", &["n1", "n2"]);
    node.send("c1", read_key_1(1));
    let reply = kv.serve_until_reply(&mut node);
    let expected: Vec<u64> = (1..=count).collect();
    assert_eq!(reply["txn"], json!([["r", 1, expected]]), "{reply}");
    let mut expected_reads = vec!["root".to_owned(), format!("c{count}")];
    expected_reads.push(format!("checkpoint{CHECKPOINT_EVERY}"));
    expected_reads.extend((CHECKPOINT_EVERY + 1..count).rev().map(|n| format!("c{n}")));
    assert_eq!(
        kv.reads, expected_reads,
        "only the commits after the checkpoint"
    );
    node.kill();
}

#[test]
fn a_node_a_few_commits_behind_reads_just_those() {
    let mut kv = FakeKv::default();
    kv.chain(3);
    let mut node = NodeProcess::init(LIST_APPEND, "n1", &["n1", "n2"]);
    node.send("c1", read_key_1(1));
    assert_eq!(
        kv.serve_until_reply(&mut node)["txn"],
        json!([["r", 1, [1, 2, 3]]])
    );
    assert_eq!(kv.reads, ["root", "c3", "c2", "c1"]);
    node.kill();
}

#[test]
fn a_lost_race_is_retried_on_the_new_root_and_the_append_lands_once() {
    let mut kv = FakeKv::default();
    kv.chain(2);
    let mut node = NodeProcess::init(LIST_APPEND, "n1", &["n1", "n2"]);
    // The node holds the empty database: its first compare-and-set loses;
    // so does the second, as if another node had committed meanwhile.
    kv.refuse_cas = 2;
    let append = json!({"type": "txn", "msg_id": 1, "txn": [["append", 1, 9], ["r", 1, null]]});
    node.send("c1", append);
    let reply = kv.serve_until_reply(&mut node);
    assert_eq!(
        reply["txn"],
        json!([["append", 1, 9], ["r", 1, [1, 2, 9]]]),
        "{reply}"
    );
    node.send("c1", read_key_1(2));
    assert_eq!(
        kv.serve_until_reply(&mut node)["txn"],
        json!([["r", 1, [1, 2, 9]]])
    );
    let root = kv.values["root"].as_str().unwrap().to_owned();
    let head: Commit = serde_json::from_value(kv.values[&root].clone()).unwrap();
    assert_eq!((head.seq, head.prev.as_str()), (3, "c2"));
    assert_eq!(head.appended, Lists::from([(1, vec![json!(9)])]));
    node.kill();
}

#[test]
fn a_transaction_with_other_operations_is_malformed() {
    let mut node = NodeProcess::init(LIST_APPEND, "n1", &["n1"]);
    node.send(
        "c1",
        json!({"type": "txn", "msg_id": 1, "txn": [["w", 1, 2]]}),
    );
    let reply = FakeKv::default().serve_until_reply(&mut node);
    assert_eq!(reply["code"], 12, "{reply}");
    node.kill();
}
