//! A checker is trusted only once it has failed a node known to be wrong:
//! each known-bad node must be rejected for its own anomaly, and a correct
//! node for the same workload must pass.

mod common;

use common::{config, partitioned, run};
use serde_json::json;
use testbench::Workload;

#[test]
fn an_echo_that_alters_the_payload_is_rejected() {
    let (valid, results) = run(&config(
        Workload::Echo,
        "echo_alters_payload.py",
        &[],
        1,
        2.0,
        20.0,
    ));
    assert!(!valid);
    let error = &results["workload"]["errors"][0];
    assert_eq!(error["expected"], "Please echo 1");
    assert_eq!(error["received"]["value"], "Please echo 1!");
}

#[test]
fn colliding_unique_ids_are_rejected_and_named() {
    let (valid, results) = run(&config(
        Workload::UniqueIds,
        "unique_ids_collide.py",
        &[],
        3,
        2.0,
        50.0,
    ));
    assert!(!valid);
    assert!(
        results["workload"]["duplicated-count"].as_u64().unwrap() > 0,
        "{}",
        results["workload"]
    );
    assert_eq!(
        results["workload"]["duplicated"][0]["id"], 1,
        "every node hands out id 1 first"
    );
}

#[test]
fn a_bad_node_shows_the_same_anomaly_under_the_same_seed() {
    let runs: Vec<_> = (0..2)
        .map(|_| {
            run(&config(
                Workload::Echo,
                "echo_alters_payload.py",
                &[],
                1,
                1.0,
                20.0,
            ))
            .1
        })
        .collect();
    assert_eq!(runs[0]["bench"]["seed"], runs[1]["bench"]["seed"]);
    assert_eq!(
        runs[0]["workload"]["errors"][0],
        runs[1]["workload"]["errors"][0]
    );
    let unique: Vec<_> = (0..2)
        .map(|_| {
            run(&config(
                Workload::UniqueIds,
                "unique_ids_collide.py",
                &[],
                3,
                1.0,
                50.0,
            ))
            .1
        })
        .collect();
    assert_eq!(
        unique[0]["workload"]["duplicated"][0],
        unique[1]["workload"]["duplicated"][0]
    );
}

#[test]
fn a_broadcast_that_never_gossips_loses_values() {
    let (valid, results) = run(&config(
        Workload::Broadcast,
        "broadcast.py",
        &["no-gossip"],
        3,
        3.0,
        10.0,
    ));
    assert!(!valid);
    assert!(
        results["workload"]["lost-count"].as_u64().unwrap() > 0,
        "{}",
        results["workload"]
    );
}

#[test]
fn gossiping_once_passes_without_partitions_and_fails_with_them() {
    let calm = config(Workload::Broadcast, "broadcast.py", &["once"], 5, 3.0, 10.0);
    let (valid, results) = run(&calm);
    assert!(valid, "{}", results["workload"]);
    let stormy = partitioned(
        config(Workload::Broadcast, "broadcast.py", &["once"], 5, 6.0, 10.0),
        1.0,
    );
    let (valid, results) = run(&stormy);
    assert!(!valid);
    assert!(
        results["workload"]["lost-count"].as_u64().unwrap() > 0,
        "{}",
        results["workload"]
    );
}

#[test]
fn a_broadcast_that_retries_survives_partitions() {
    let stormy = partitioned(
        config(
            Workload::Broadcast,
            "broadcast.py",
            &["retry"],
            5,
            6.0,
            10.0,
        ),
        1.0,
    );
    let (valid, results) = run(&stormy);
    assert!(valid, "{results}");
    assert_eq!(results["workload"]["lost-count"], 0);
    assert!(results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0);
}

#[test]
fn a_counter_that_counts_only_local_adds_is_rejected() {
    let (valid, results) = run(&config(
        Workload::GCounter,
        "counter.py",
        &["local"],
        3,
        3.0,
        20.0,
    ));
    assert!(!valid);
    let workload = &results["workload"];
    assert!(
        !workload["errors"].as_array().unwrap().is_empty(),
        "{workload}"
    );
    assert_eq!(workload["final-reads"].as_array().unwrap().len(), 3);
}

#[test]
fn crdt_counters_pass_with_partitions() {
    for workload in [Workload::GCounter, Workload::PnCounter] {
        let stormy = partitioned(config(workload, "counter.py", &["crdt"], 3, 4.0, 20.0), 1.0);
        let (valid, results) = run(&stormy);
        assert!(valid, "{workload:?}: {}", results["workload"]);
    }
}

#[test]
fn a_g_set_that_forgets_elements_is_rejected() {
    let (valid, results) = run(&config(
        Workload::GSet,
        "g_set.py",
        &["forgetful"],
        3,
        4.0,
        20.0,
    ));
    assert!(!valid);
    assert!(
        results["workload"]["lost-count"].as_u64().unwrap() > 0,
        "{}",
        results["workload"]
    );
}

#[test]
fn a_gossiping_g_set_passes() {
    let stormy = partitioned(
        config(Workload::GSet, "g_set.py", &["gossip"], 3, 4.0, 20.0),
        1.0,
    );
    let (valid, results) = run(&stormy);
    assert!(valid, "{}", results["workload"]);
    assert_eq!(results["workload"]["valid?"], json!(true));
}

/// A "node" that answers init, waits for one more line, then runs the
/// Python statement `then`.
fn scripted_node(name: &str, then: &str) -> std::path::PathBuf {
    let script = std::env::temp_dir().join(format!("testbench-{name}.py"));
    let source = format!(
        "#!/usr/bin/env python3\n\
         import json, sys, time\n\
         m = json.loads(sys.stdin.readline())\n\
         print(json.dumps({{'src': m['dest'], 'dest': m['src'], 'body': {{'type': 'init_ok', 'in_reply_to': m['body']['msg_id']}}}}), flush=True)\n\
         sys.stdin.readline()\n\
         {then}\n"
    );
    std::fs::write(&script, source).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn a_node_that_prints_garbage_makes_the_run_invalid() {
    let mut config = config(Workload::Echo, "unused", &[], 1, 2.0, 10.0);
    config.bin = scripted_node(
        "garbage",
        "print('hello, world', flush=True); time.sleep(10)",
    );
    let (valid, results) = run(&config);
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    assert!(
        errors.contains("n1 wrote a line on stdout that is not a message"),
        "{errors}"
    );
    assert!(errors.contains("hello, world"), "{errors}");
}

#[test]
fn a_node_that_exits_makes_the_run_invalid() {
    let mut config = config(Workload::Echo, "unused", &[], 1, 2.0, 10.0);
    config.bin = scripted_node("exits", "sys.exit(3)");
    let (valid, results) = run(&config);
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    assert!(
        errors.contains("n1 exited") || errors.contains("n1 closed its stdout"),
        "{errors}"
    );
}

#[test]
fn a_node_that_never_answers_init_is_named() {
    let mut config = config(Workload::Echo, "unused", &[], 2, 1.0, 10.0);
    config.bin = "/bin/cat".into(); // echoes init back to the client unanswered
    let err = testbench::run(&config).unwrap_err();
    assert!(err.contains("init"), "{err}");
}

#[test]
fn a_lin_kv_proxy_is_linearizable_and_local_reads_are_not() {
    let mut proxy = partitioned(
        config(Workload::LinKv, "lin_kv.py", &["proxy"], 3, 4.0, 50.0),
        1.0,
    );
    proxy.concurrency = testbench::config::Concurrency::PerNode(2);
    let (valid, results) = run(&proxy);
    assert!(valid, "{}", results["workload"]);
    assert!(results["workload"]["key-count"].as_u64().unwrap() > 0);

    let mut stale = config(Workload::LinKv, "lin_kv.py", &["local-reads"], 3, 4.0, 50.0);
    stale.concurrency = testbench::config::Concurrency::PerNode(2);
    let (valid, results) = run(&stale);
    assert!(!valid);
    let failures = results["workload"]["failures"].as_array().unwrap();
    assert!(!failures.is_empty(), "{}", results["workload"]);
    let key = failures[0].as_str().unwrap();
    assert_eq!(results["workload"]["results"][key]["valid?"], false);
    assert!(results["workload"]["results"][key]["stuck-op"].is_object());
}
