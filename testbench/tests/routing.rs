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
