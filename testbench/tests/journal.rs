//! The network journal: every message a run sent, with its fate.

mod common;

use common::{config, partitioned};
use serde_json::Value;
use testbench::Workload;

#[test]
fn every_message_is_journaled_with_its_fate() {
    let config = partitioned(
        config(
            Workload::Broadcast,
            "broadcast.py",
            &["retry"],
            3,
            3.0,
            10.0,
        ),
        0.5,
    );
    let outcome = testbench::run(&config).unwrap();
    let text = std::fs::read_to_string(outcome.store.join("messages.jsonl")).unwrap();
    let entries: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let net = &outcome.results["net"]["all"];
    assert_eq!(entries.len() as u64, net["send-count"].as_u64().unwrap());
    let fate = |name: &str| entries.iter().filter(|e| e["fate"] == name).count() as u64;
    assert_eq!(fate("received"), net["recv-count"].as_u64().unwrap());
    assert!(fate("dropped") > 0, "partitions drop messages");
    assert_eq!(
        fate("received") + fate("dropped") + fate("in-flight"),
        entries.len() as u64
    );
    let first = &entries[0];
    assert_eq!(first["message"]["body"]["type"], "init");
    assert!(first["sent"].as_i64().unwrap() < 0, "init precedes the run");
    for entry in &entries {
        assert!(entry["message"]["src"].is_string() && entry["message"]["body"].is_object());
        if entry["fate"] != "in-flight" {
            assert!(entry["at"].as_i64().unwrap() >= entry["sent"].as_i64().unwrap());
        }
    }
    let between_nodes = entries.iter().filter(|e| {
        let id = |field: &str| e["message"][field].as_str().unwrap_or("").starts_with('n');
        id("src") && id("dest")
    });
    assert!(between_nodes.count() > 0);
}
