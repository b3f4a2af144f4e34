//! Challenge binaries as processes through the real-time test bench: the
//! end-to-end path (stdin and stdout, process start and stop), with short
//! runs. The rest of the challenges' checks run in the simulator
//! (`tests/sim.rs`), which is faster and repeatable; one test here checks
//! that the simulator and the bench agree on the same node and flags.
//!
//! Echo is the quick suite's one end-to-end run of a challenge binary;
//! the others are the long suite (`.ci/run` runs them with `--ignored`).

use testbench::config::{Availability, Concurrency, ConsistencyModel, NemesisKind};
use testbench::{Config, Workload};

fn short(workload: Workload, bin: &str, nodes: u64, seconds: f64, rate: f64) -> Config {
    let mut config = Config::new(workload, bin);
    config.node_count = Some(nodes);
    config.time_limit = seconds;
    config.rate = rate;
    config.store = std::env::temp_dir().join("challenges-bench-store");
    config
}

fn assert_valid(config: &Config) -> serde_json::Value {
    let outcome =
        testbench::run(config).unwrap_or_else(|err| panic!("the run failed to happen: {err}"));
    assert!(
        outcome.valid,
        "{:?} is invalid: {:#}",
        config.workload, outcome.results
    );
    outcome.results
}

#[test]
fn echo_passes() {
    let results = assert_valid(&short(
        Workload::Echo,
        env!("CARGO_BIN_EXE_echo"),
        1,
        3.0,
        50.0,
    ));
    assert!(results["stats"]["ok-count"].as_u64().unwrap() > 50);
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn unique_ids_pass_with_partitions_and_total_availability() {
    let mut config = short(
        Workload::UniqueIds,
        env!("CARGO_BIN_EXE_unique-ids"),
        3,
        5.0,
        1000.0,
    );
    config.nemesis = vec![NemesisKind::Partition];
    config.nemesis_interval = 1.0;
    config.availability = Some(Availability::Total);
    let results = assert_valid(&config);
    assert!(results["workload"]["acknowledged-count"].as_u64().unwrap() > 1000);
    assert_eq!(
        results["net"]["servers"]["msg-count"], 0,
        "unique ids need no coordination"
    );
}

fn partitioned(mut config: Config) -> Config {
    config.nemesis = vec![NemesisKind::Partition];
    config.nemesis_interval = 1.0;
    config
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn broadcast_on_25_nodes_agrees_with_the_simulator() {
    let mut config = short(
        Workload::Broadcast,
        env!("CARGO_BIN_EXE_broadcast"),
        25,
        10.0,
        100.0,
    );
    config.latency = 100.0;
    let bench = assert_valid(&config);
    assert_eq!(
        bench["workload"]["stable-count"],
        bench["workload"]["attempt-count"]
    );
    let sim = glomers_sim::Sim::new(
        || {
            |ctx: &glomers::Ctx| {
                challenges::nodes::broadcast::Broadcast::new(
                    ctx,
                    challenges::gossip::Timing::with_interval(std::time::Duration::from_millis(
                        150,
                    )),
                )
            }
        },
        "-w broadcast --node-count 25 --time-limit 10 --rate 100 --latency 100",
    )
    .unwrap();
    let simulated = sim.run(7).unwrap();
    assert!(simulated.valid, "{}", simulated.results["workload"]);
    let within = |what: &str, a: f64, b: f64| {
        let off = (a - b).abs() / b.max(1e-9);
        assert!(
            off <= 0.10,
            "{what}: simulator {a}, bench {b} ({:.0} % apart)",
            off * 100.0
        );
    };
    within(
        "servers msgs-per-op",
        simulated.results["net"]["servers"]["msgs-per-op"]
            .as_f64()
            .unwrap(),
        bench["net"]["servers"]["msgs-per-op"].as_f64().unwrap(),
    );
    for point in ["0.5", "0.95"] {
        within(
            &format!("stable latency {point}"),
            simulated.results["workload"]["stable-latencies"][point]
                .as_f64()
                .unwrap(),
            bench["workload"]["stable-latencies"][point]
                .as_f64()
                .unwrap(),
        );
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn counters_on_seq_kv_survive_partitions() {
    for workload in [Workload::GCounter, Workload::PnCounter] {
        let config = short(workload, env!("CARGO_BIN_EXE_counter"), 3, 5.0, 100.0);
        let results = assert_valid(&partitioned(config));
        let finals = results["workload"]["final-reads"].as_array().unwrap().len();
        assert_eq!(finals, 3, "{workload:?}");
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn kafka_passes_on_two_nodes() {
    let mut config = short(Workload::Kafka, env!("CARGO_BIN_EXE_kafka"), 2, 5.0, 300.0);
    config.concurrency = Concurrency::PerNode(2);
    let results = assert_valid(&config);
    let workload = &results["workload"];
    assert!(
        workload["polled-count"].as_u64().unwrap() > 100,
        "{workload}"
    );
    assert_eq!(workload["unseen-count"], 0);
    assert!(
        results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0,
        "logs are replicated"
    );
}

/// A short txn-rw-register run on `nodes` nodes, two clients each.
fn txn(nodes: u64, model: ConsistencyModel) -> Config {
    let mut config = short(
        Workload::TxnRwRegister,
        env!("CARGO_BIN_EXE_txn"),
        nodes,
        5.0,
        300.0,
    );
    config.concurrency = Concurrency::PerNode(2);
    config.consistency_models = vec![model];
    config
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn txn_is_read_committed_and_totally_available_under_partitions() {
    let mut config = txn(3, ConsistencyModel::ReadCommitted);
    config.availability = Some(Availability::Total);
    config.latency = 5.0;
    let results = assert_valid(&partitioned(config));
    assert!(results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0);
}

/// A short lin-kv run of the `raft` binary on `nodes` nodes, ten clients
/// a node, partitions every second or so.
fn raft(nodes: u64) -> Config {
    let mut config = short(
        Workload::LinKv,
        env!("CARGO_BIN_EXE_raft"),
        nodes,
        5.0,
        100.0,
    );
    config.concurrency = Concurrency::PerNode(10);
    partitioned(config)
}

/// The fraction of operations of kind `f` that succeeded, and how many.
fn ok_share(results: &serde_json::Value, f: &str) -> (f64, u64) {
    let by_f = &results["stats"]["by-f"][f];
    let ok = by_f["ok-count"].as_u64().unwrap_or(0);
    let count = by_f["count"].as_u64().unwrap_or(0);
    (ok as f64 / count.max(1) as f64, ok)
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn raft_is_linearizable_and_available_through_partitions_on_three_nodes() {
    let results = assert_valid(&raft(3));
    // About 500 operations in 5 s, in Maelstrom's mix (a tenth reads, a
    // third writes, the rest compare-and-sets). Reads and writes succeed
    // unless refused (11) or timed out; most compare-and-sets fail with
    // 22 (values 0 to 4) whatever the store, so only some must succeed.
    // With a new partition every second, a bad draw costs a fifth of the
    // writes to elections (measured down to 0.79 on five nodes).
    for f in ["read", "write"] {
        let (share, ok) = ok_share(&results, f);
        assert!(ok > 0 && share >= 0.6, "{f}: {}", results["stats"]);
    }
    assert!(ok_share(&results, "cas").1 >= 1, "{}", results["stats"]);
    assert!(
        results["net"]["servers"]["msg-count"].as_u64().unwrap() > 0,
        "entries are replicated"
    );
}

#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn raft_is_linearizable_through_partitions_on_five_nodes() {
    let results = assert_valid(&raft(5));
    let (share, ok) = ok_share(&results, "write");
    assert!(ok > 0 && share >= 0.6, "{}", results["stats"]);
}

/// A short strict-serializable txn-list-append run of `list-append`.
fn list_append(nodes: u64) -> Config {
    let mut config = short(
        Workload::TxnListAppend,
        env!("CARGO_BIN_EXE_list-append"),
        nodes,
        5.0,
        100.0,
    );
    config.concurrency = Concurrency::PerNode(2);
    config.consistency_models = vec![ConsistencyModel::StrictSerializable];
    config
}

/// The service is never partitioned, so (almost) every transaction
/// commits; a loaded machine may slow a few past their timeouts.
#[test]
#[ignore = "long suite (real time, .ci/run): challenges/tests/sim.rs checks the same nodes"]
fn list_append_is_strict_serializable_and_available_under_partitions() {
    for nodes in [2, 5] {
        let mut config = partitioned(list_append(nodes));
        config.availability = Some(Availability::Fraction(0.95));
        let results = assert_valid(&config);
        assert!(
            results["stats"]["ok-count"].as_u64().unwrap() > 200,
            "{nodes} nodes: {}",
            results["stats"]
        );
    }
}
