//! Lines from nodes are routed as Maelstrom routes them: by `dest`, with
//! whatever registered `src` the node claims, and with Maelstrom's schema
//! for the envelope (no other top-level key, `src` a string).

mod common;

use common::{config, run};
use testbench::Workload;

#[test]
fn a_node_may_forward_a_request_with_the_clients_src() {
    let (valid, results) = run(&config(
        Workload::Echo,
        "routing.py",
        &["forward"],
        3,
        2.0,
        20.0,
    ));
    assert!(valid, "{}", results["nodes"]);
    // Forwarded requests carry a client's src, so they count as client
    // traffic, as in Maelstrom.
    assert_eq!(
        results["net"]["servers"]["msg-count"], 0,
        "{}",
        results["net"]
    );
}

#[test]
fn a_line_whose_src_is_null_is_not_delivered_and_is_reported() {
    let (valid, results) = run(&config(
        Workload::Echo,
        "routing.py",
        &["null-src"],
        1,
        2.0,
        20.0,
    ));
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    assert!(
        errors.contains("not a message") && errors.contains("null"),
        "{errors}"
    );
    // The null-src reply carried in_reply_to 0, which no request has: had it
    // been delivered nothing would show, so look at the counts instead.
    assert_eq!(results["nodes"]["error-counts"]["not-a-message"], 1);
}

#[test]
fn a_line_with_a_top_level_key_maelstrom_does_not_allow_is_reported() {
    let (valid, results) = run(&config(
        Workload::Echo,
        "routing.py",
        &["extra-key"],
        1,
        2.0,
        20.0,
    ));
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    assert!(errors.contains("unknown field `via`"), "{errors}");
}

#[test]
fn clients_and_message_ids_are_numbered_as_maelstrom_numbers_them() {
    let outcome = testbench::run(&config(
        Workload::Broadcast,
        "broadcast.py",
        &["retry"],
        3,
        1.0,
        10.0,
    ))
    .unwrap();
    let journal = std::fs::read_to_string(outcome.store.join("messages.jsonl")).unwrap();
    let entries: Vec<serde_json::Value> = journal
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let from = |kind: &str| -> Vec<String> {
        let mut srcs: Vec<String> = entries
            .iter()
            .filter(|e| e["message"]["body"]["type"] == kind)
            .map(|e| e["message"]["src"].as_str().unwrap().to_owned())
            .collect();
        srcs.sort();
        srcs
    };
    // Init from c0..c2, topology from c3..c5, each with msg_id 1; the
    // generator's clients start at c6.
    assert_eq!(from("init"), ["c0", "c1", "c2"]);
    assert_eq!(from("topology"), ["c3", "c4", "c5"]);
    assert!(entries
        .iter()
        .filter(|e| e["message"]["body"]["type"] == "init")
        .all(|e| e["message"]["body"]["msg_id"] == 1));
    let first_worker = entries
        .iter()
        .find(|e| {
            e["message"]["body"]["type"] == "broadcast" || e["message"]["body"]["type"] == "read"
        })
        .unwrap();
    let worker: u64 = first_worker["message"]["src"].as_str().unwrap()[1..]
        .parse()
        .unwrap();
    assert!(worker >= 6, "{first_worker}");
    // One message id per message, from 0, in the order they were sent.
    let mut ids: Vec<u64> = entries.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..entries.len() as u64).collect::<Vec<_>>());
}
