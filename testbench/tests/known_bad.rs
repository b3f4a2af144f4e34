//! A checker is trusted only once it has failed a node known to be wrong:
//! each known-bad node must be rejected for its own anomaly, and a correct
//! node for the same workload must pass.
//!
//! These Python nodes run as processes on the real clock, so most of the
//! file is the long suite (`.ci/run` runs it with `--ignored`); the
//! simulator's known-bad tests (`sim/tests/known_bad*.rs`) check the same
//! verdicts on DSL ports of the same nodes in a fraction of the time. The
//! tests left in the quick suite are the ones about processes: garbage on
//! stdout, a node that exits, a node that never answers `init`.

mod common;

use common::{config, partitioned, run};
use serde_json::json;
use testbench::config::ConsistencyModel;
use testbench::Workload;

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
    let expected = error["expected"].as_str().unwrap();
    assert!(expected.starts_with("Please echo "), "{error}");
    assert_eq!(error["received"]["value"]["echo"], format!("{expected}!"));
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn crdt_counters_pass_with_partitions() {
    for workload in [Workload::GCounter, Workload::PnCounter] {
        let stormy = partitioned(config(workload, "counter.py", &["crdt"], 3, 4.0, 20.0), 1.0);
        let (valid, results) = run(&stormy);
        assert!(valid, "{workload:?}: {}", results["workload"]);
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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
        errors.contains("n0 wrote a line on stdout that is not a message"),
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
        errors.contains("n0 exited") || errors.contains("n0 closed its stdout"),
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
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
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

/// The kinds of anomaly a kafka or txn checker named.
fn named(results: &serde_json::Value, field: &str) -> Vec<String> {
    results["workload"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` in {}", results["workload"]))
        .iter()
        .map(|kind| kind.as_str().unwrap().to_owned())
        .collect()
}

fn kafka(mode: &str, nodes: u64) -> testbench::Config {
    let mut config = config(Workload::Kafka, "kafka.py", &[mode], nodes, 3.0, 100.0);
    config.concurrency = testbench::config::Concurrency::PerNode(2);
    config.key_count = 3;
    config
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn kafka_logs_on_one_node_pass() {
    let (valid, results) = run(&kafka("single", 1));
    assert!(valid, "{}", results["workload"]);
    assert!(named(&results, "error-types").is_empty());
    assert!(results["workload"]["polled-count"].as_u64().unwrap() > 0);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn a_kafka_led_by_one_node_passes_under_partitions() {
    let (valid, results) = run(&partitioned(kafka("leader", 3), 1.0));
    assert!(valid, "{}", results["workload"]);
    assert!(results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn kafka_offsets_kept_per_node_collide() {
    let (valid, results) = run(&kafka("per-node", 2));
    assert!(!valid);
    let kinds = named(&results, "error-types");
    assert!(
        kinds.contains(&"inconsistent-offsets".to_owned()),
        "{kinds:?}"
    );
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn a_kafka_that_loses_acknowledged_sends_is_rejected() {
    let (valid, results) = run(&kafka("lose", 1));
    assert!(!valid);
    let kinds = named(&results, "error-types");
    assert!(kinds.contains(&"lost-write".to_owned()), "{kinds:?}");
    let example = &results["workload"]["lost-write"]["errors"][0];
    assert!(!example.is_null(), "{}", results["workload"]);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn a_kafka_whose_polls_skip_is_rejected() {
    let (valid, results) = run(&kafka("skip", 1));
    assert!(!valid);
    let kinds = named(&results, "error-types");
    assert!(kinds.contains(&"poll-skip".to_owned()), "{kinds:?}");
}

fn txn(workload: Workload, mode: &str, models: &[ConsistencyModel]) -> testbench::Config {
    let mut config = config(workload, "txn.py", &[mode], 1, 3.0, 200.0);
    config.concurrency = testbench::config::Concurrency::PerNode(4);
    config.key_count = 3;
    config.consistency_models = models.to_vec();
    config.availability = Some(testbench::config::Availability::Total);
    config
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn serial_transactions_on_one_node_are_strict_serializable() {
    for workload in [Workload::TxnRwRegister, Workload::TxnListAppend] {
        let (valid, results) = run(&txn(
            workload,
            "single",
            &[ConsistencyModel::StrictSerializable],
        ));
        assert!(valid, "{workload:?}: {}", results["workload"]);
        assert!(named(&results, "anomaly-types").is_empty());
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn transactions_led_by_one_node_pass_under_partitions() {
    for workload in [Workload::TxnRwRegister, Workload::TxnListAppend] {
        let mut config = partitioned(
            txn(workload, "leader", &[ConsistencyModel::StrictSerializable]),
            1.0,
        );
        config.node_count = Some(3);
        config.concurrency = testbench::config::Concurrency::PerNode(2);
        config.availability = None; // cut-off clients time out
        let (valid, results) = run(&config);
        assert!(valid, "{workload:?}: {}", results["workload"]);
        assert!(results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0);
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn replicated_last_writer_wins_is_read_committed_but_not_serializable() {
    let mut config = partitioned(
        txn(
            Workload::TxnRwRegister,
            "replicate",
            &[
                ConsistencyModel::ReadCommitted,
                ConsistencyModel::Serializable,
            ],
        ),
        1.0,
    );
    config.node_count = Some(3);
    config.concurrency = testbench::config::Concurrency::PerNode(2);
    config.latency = 50.0; // a wide window for concurrent read-then-writes
    let (valid, results) = run(&config);
    assert!(!valid);
    assert_eq!(
        results["workload"]["not"],
        json!(["serializable"]),
        "{}",
        results["workload"]
    );
    let kinds = named(&results, "anomaly-types");
    assert!(!kinds.is_empty());
    assert!(
        kinds.iter().all(|k| k == "G-single" || k == "G2-item"),
        "{kinds:?}"
    );
    assert_eq!(results["availability"]["valid?"], true);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn intermediate_writes_made_visible_are_g1b() {
    let (valid, results) = run(&txn(
        Workload::TxnRwRegister,
        "intermediate",
        &[ConsistencyModel::ReadCommitted],
    ));
    assert!(!valid);
    let kinds = named(&results, "anomaly-types");
    assert!(kinds.contains(&"G1b".to_owned()), "{kinds:?}");
    assert_eq!(results["workload"]["not"], json!(["read-committed"]));
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn aborted_writes_made_visible_are_g1a() {
    let mut config = txn(
        Workload::TxnRwRegister,
        "aborted",
        &[ConsistencyModel::ReadCommitted],
    );
    config.availability = None; // the aborts are its point
    let (valid, results) = run(&config);
    assert!(!valid);
    let kinds = named(&results, "anomaly-types");
    assert!(kinds.contains(&"G1a".to_owned()), "{kinds:?}");
    assert!(results["stats"]["fail-count"].as_u64().unwrap() > 0);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests/known_bad*.rs check the same verdicts"]
fn a_list_append_that_loses_an_append_is_rejected() {
    let (valid, results) = run(&txn(
        Workload::TxnListAppend,
        "lose-append",
        &[ConsistencyModel::StrictSerializable],
    ));
    assert!(!valid);
    let kinds = named(&results, "anomaly-types");
    assert!(
        kinds.contains(&"incompatible-order".to_owned()),
        "{kinds:?}"
    );
}
