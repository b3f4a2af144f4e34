//! End-to-end: the `unique-ids` binary over pipes.

mod common;

use std::collections::HashSet;

use common::NodeProcess;
use serde_json::json;

const UNIQUE_IDS: &str = env!("CARGO_BIN_EXE_unique-ids");

/// Asks `node` for `count` ids and returns them, checking each reply.
fn generate(node: &mut NodeProcess, count: u64) -> Vec<u64> {
    let lines = (1..=count)
        .map(|i| {
            json!({"src": "c1", "dest": node.node_id, "body": {"type": "generate", "msg_id": i}})
                .to_string()
        })
        .collect();
    node.send_all(lines);
    let mut answered = HashSet::new();
    let ids = (0..count)
        .map(|_| {
            let reply = node.recv();
            let body = &reply["body"];
            assert_eq!(body["type"], "generate_ok", "{reply}");
            assert!(answered.insert(body["in_reply_to"].as_u64().unwrap()));
            body["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("id is not an integer: {reply}"))
        })
        .collect();
    ids
}

#[test]
fn a_thousand_ids_are_distinct_integers() {
    let mut node = NodeProcess::init(UNIQUE_IDS, "n1", &["n1"]);
    let ids = generate(&mut node, 1000);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
    node.finish();
}

#[test]
fn three_concurrent_nodes_never_share_an_id() {
    let handles: Vec<_> = ["n1", "n2", "n3"]
        .into_iter()
        .map(|id| {
            std::thread::spawn(move || {
                let mut node = NodeProcess::init(UNIQUE_IDS, id, &["n1", "n2", "n3"]);
                let ids = generate(&mut node, 10_000);
                node.finish();
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    for handle in handles {
        for id in handle.join().unwrap() {
            assert!(all.insert(id), "id {id} was issued twice");
        }
    }
    assert_eq!(all.len(), 30_000);
}

#[test]
fn a_restarted_node_issues_new_ids() {
    let mut seen = HashSet::new();
    for _run in 0..3 {
        let mut node = NodeProcess::init(UNIQUE_IDS, "n2", &["n1", "n2"]);
        for id in generate(&mut node, 2000) {
            assert!(
                seen.insert(id),
                "id {id} repeats one from before the restart"
            );
        }
        node.kill();
    }
}
