//! End-to-end: the `raft` binary's register semantics on one node, and how
//! a node that is not the leader hands requests on or refuses them.

mod common;

use common::NodeProcess;
use serde_json::{json, Value};

const RAFT: &str = env!("CARGO_BIN_EXE_raft");

/// The next message that `wanted` accepts, skipping Raft's own traffic.
fn next(node: &mut NodeProcess, wanted: impl Fn(&Value) -> bool) -> Value {
    loop {
        let message = node.recv();
        if wanted(&message) {
            return message;
        }
    }
}

/// The body of the next message to client `c1`.
fn reply(node: &mut NodeProcess) -> Value {
    next(node, |m| m["dest"] == "c1")["body"].clone()
}

#[test]
fn one_node_is_a_register_store_with_definite_errors() {
    let mut node = NodeProcess::init(RAFT, "n1", &["n1"]);
    let ask = |node: &mut NodeProcess, body: Value| {
        node.send("c1", body);
        reply(node)
    };
    let missing = ask(&mut node, json!({"type": "read", "msg_id": 1, "key": 4}));
    assert_eq!(missing["code"], 20, "{missing}");
    let missing = ask(
        &mut node,
        json!({"type": "cas", "msg_id": 2, "key": 4, "from": 1, "to": 2}),
    );
    assert_eq!(missing["code"], 20, "{missing}");
    let written = ask(
        &mut node,
        json!({"type": "write", "msg_id": 3, "key": 4, "value": 1}),
    );
    assert_eq!(written, json!({"type": "write_ok", "in_reply_to": 3}));
    let refused = ask(
        &mut node,
        json!({"type": "cas", "msg_id": 4, "key": 4, "from": 3, "to": 2}),
    );
    assert_eq!(refused["code"], 22, "{refused}");
    let swapped = ask(
        &mut node,
        json!({"type": "cas", "msg_id": 5, "key": 4, "from": 1, "to": 2}),
    );
    assert_eq!(swapped, json!({"type": "cas_ok", "in_reply_to": 5}));
    let read = ask(&mut node, json!({"type": "read", "msg_id": 6, "key": 4}));
    assert_eq!(
        read,
        json!({"type": "read_ok", "in_reply_to": 6, "value": 2})
    );
    node.kill();
}

#[test]
fn a_node_without_a_leader_hands_requests_on_in_the_clients_name() {
    // n2 and n3 never answer: n1 knows no leader.
    let mut node = NodeProcess::init(RAFT, "n1", &["n1", "n2", "n3"]);
    node.send(
        "c1",
        json!({"type": "write", "msg_id": 7, "key": 1, "value": 3}),
    );
    let forwarded = next(&mut node, |m| m["src"] == "c1");
    assert!(
        ["n2", "n3"].contains(&forwarded["dest"].as_str().unwrap()),
        "{forwarded}"
    );
    assert_eq!(
        forwarded["body"],
        json!({"type": "write", "msg_id": 7, "key": 1, "value": 3, "hops": 1})
    );
    node.kill();
}

#[test]
fn a_request_handed_on_three_times_is_refused_at_once_with_11() {
    let mut node = NodeProcess::init(RAFT, "n1", &["n1", "n2", "n3"]);
    let cas = json!({"type": "cas", "msg_id": 8, "key": 1, "from": 0, "to": 1, "hops": 3});
    node.send("c1", cas);
    let refused = reply(&mut node);
    assert_eq!(refused["code"], 11, "{refused}");
    assert_eq!(refused["in_reply_to"], 8);
    node.kill();
}
