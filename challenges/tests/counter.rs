//! End-to-end: the `counter` binary refuses adds that would overflow.

mod common;

use common::NodeProcess;
use serde_json::{json, Value};

const COUNTER: &str = env!("CARGO_BIN_EXE_counter");

/// The next message to the client, skipping the node's seq-kv traffic.
fn reply(node: &mut NodeProcess) -> Value {
    loop {
        let message = node.recv();
        if message["dest"] == "c1" {
            return message["body"].clone();
        }
    }
}

#[test]
fn an_add_that_would_overflow_is_refused_and_changes_nothing() {
    let mut node = NodeProcess::init(COUNTER, "n1", &["n1"]);
    node.send("c1", json!({"type": "add", "msg_id": 1, "delta": i64::MAX}));
    assert_eq!(reply(&mut node)["type"], "add_ok");
    node.send("c1", json!({"type": "add", "msg_id": 2, "delta": 1}));
    let refused = reply(&mut node);
    assert_eq!(refused["code"], 14, "{refused}");
    node.send("c1", json!({"type": "read", "msg_id": 3}));
    assert_eq!(reply(&mut node)["value"], json!(i64::MAX));
    node.kill();
}
