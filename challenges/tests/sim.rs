//! Every challenge in the simulator: several seeds of each, in process on
//! virtual time, with partitions where the challenge must survive them,
//! and the determinism self-check. (The full sweeps, 1,000 seeds of 3c
//! among them, run in `.ci/run` with the release `sim` binary.)

use std::time::Duration;

use challenges::gossip::Timing;
use challenges::nodes::{
    broadcast, counter, echo, g_set, kafka, list_append, raft, txn, unique_ids,
};
use glomers::Ctx;
use glomers_sim::Sim;

/// Broadcast with its batching interval in ms (0: every value at once).
fn broadcast(interval_ms: u64) -> impl Fn(&Ctx) -> broadcast::Broadcast {
    move |ctx: &Ctx| {
        broadcast::Broadcast::new(
            ctx,
            Timing::with_interval(Duration::from_millis(interval_ms)),
        )
    }
}

#[test]
fn echo_in_the_simulator() {
    let sim = Sim::new(
        || echo::Echo,
        "-w echo --node-count 3 --time-limit 5 --rate 50",
    )
    .unwrap();
    sim.assert_seeds(0..5);
    sim.check_determinism(1).unwrap();
}

#[test]
fn unique_ids_with_partitions_and_total_availability() {
    let sim = Sim::new(
        || unique_ids::UniqueIds::new,
        "-w unique-ids --node-count 3 --time-limit 5 --rate 200 --availability total --nemesis partition --nemesis-interval 1",
    )
    .unwrap();
    sim.assert_seeds(0..5);
    sim.check_determinism(1).unwrap();
}

#[test]
fn broadcast_batched_and_direct_lose_nothing_to_partitions() {
    for interval in [150, 0] {
        let sim = Sim::new(
            move || broadcast(interval),
            "-w broadcast --node-count 5 --time-limit 10 --rate 10 --nemesis partition --nemesis-interval 2",
        )
        .unwrap();
        sim.assert_seeds(0..10);
        sim.check_determinism(1).unwrap();
    }
}

#[test]
fn broadcast_on_25_nodes_with_latency_and_faults_beyond_maelstrom() {
    let sim = Sim::new(
        || broadcast(150),
        "-w broadcast --node-count 25 --time-limit 5 --rate 100 --latency 100 \
         --nemesis partition,pause --nemesis-interval 2 --loss 0.05 --duplicate 0.05 --delay-spikes 0.02 --clock-skew 50",
    )
    .unwrap();
    sim.assert_seeds(0..2);
}

#[test]
fn counters_on_seq_kv_survive_partitions() {
    for workload in ["g-counter", "pn-counter"] {
        let sim = Sim::new(
            counter::Counter::default,
            &format!("-w {workload} --node-count 3 --time-limit 8 --rate 50 --nemesis partition --nemesis-interval 2"),
        )
        .unwrap();
        sim.assert_seeds(0..5);
        sim.check_determinism(1).unwrap();
    }
}

#[test]
fn g_set_survives_partitions() {
    let sim = Sim::new(
        || g_set::GSet::new,
        "-w g-set --node-count 5 --time-limit 8 --rate 20 --nemesis partition --nemesis-interval 2",
    )
    .unwrap();
    sim.assert_seeds(0..5);
    sim.check_determinism(1).unwrap();
}

#[test]
fn kafka_with_partitions_and_latency() {
    let sim = Sim::new(
        || kafka::Kafka::new,
        "-w kafka --node-count 2 --concurrency 2n --time-limit 4 --rate 200 --latency 10 --nemesis partition --nemesis-interval 1",
    )
    .unwrap();
    sim.assert_seeds(0..3);
    sim.check_determinism(1).unwrap();
}

#[test]
fn kafka_on_three_nodes_with_lost_and_duplicated_messages() {
    let sim = Sim::new(
        || kafka::Kafka::new,
        "-w kafka --node-count 3 --concurrency 2n --time-limit 4 --rate 200 --latency 10 --nemesis partition --nemesis-interval 1 \
         --loss 0.1 --duplicate 0.1 --delay-spikes 0.02 --clock-skew 50",
    )
    .unwrap();
    sim.assert_seeds(0..2);
}

#[test]
fn txn_is_read_committed_and_totally_available_under_partitions() {
    let sim = Sim::new(
        || txn::Txn::new,
        "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 4 --rate 200 \
         --consistency-models read-committed --availability total --nemesis partition --nemesis-interval 1",
    )
    .unwrap();
    sim.assert_seeds(0..3);
    sim.check_determinism(1).unwrap();
}

#[test]
fn txn_on_three_nodes_with_lost_and_duplicated_messages() {
    let sim = Sim::new(
        || txn::Txn::new,
        "-w txn-rw-register --node-count 3 --concurrency 2n --time-limit 4 --rate 200 --latency 10 \
         --consistency-models read-committed --availability total --nemesis partition --nemesis-interval 1 \
         --loss 0.1 --duplicate 0.1 --delay-spikes 0.02 --clock-skew 50",
    )
    .unwrap();
    sim.assert_seeds(0..2);
}

#[test]
fn txn_is_not_serializable_and_the_simulator_says_so_with_a_shrunk_case() {
    let sim = Sim::new(
        || txn::Txn::new,
        "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 5 --rate 200 --latency 50 \
         --key-count 2 --consistency-models serializable",
    )
    .unwrap();
    let sweep = sim.sweep(0..5);
    let failure = sweep.failure.expect("lost updates happen");
    assert!(
        failure.results["workload"]["not"]
            .as_array()
            .is_some_and(|not| not.iter().any(|m| m == "serializable")),
        "{}",
        failure.results["workload"]
    );
    assert!(failure
        .replay
        .contains(&format!("GLOMERS_SIM_SEED={}", failure.seed)));
}

/// The Raft node with its binary's timing.
fn raft_replica() -> impl Fn(&Ctx) -> raft::Replica {
    |ctx: &Ctx| raft::Replica::new(ctx, raft::timing())
}

/// Raft stays linearizable through partitions, lost, duplicated and
/// delayed messages and skewed clocks, and keeps serving: a node that
/// refused everything with 11 would be valid, so writes must succeed too.
#[test]
fn raft_is_linearizable_and_serves_through_partitions_and_faults() {
    for (nodes, faults) in [
        (3, ""),
        (
            3,
            "--loss 0.05 --duplicate 0.05 --delay-spikes 0.02 --clock-skew 50",
        ),
        (5, "--loss 0.05 --duplicate 0.05"),
    ] {
        let sim = Sim::new(
            raft_replica,
            &format!(
                "-w lin-kv --node-count {nodes} --concurrency 10n --rate 100 --time-limit 10 \
                 --nemesis partition --nemesis-interval 1 {faults}"
            ),
        )
        .unwrap();
        for seed in 0..3 {
            let run = sim.run(seed).unwrap();
            assert!(
                run.valid,
                "{nodes} nodes {faults}, seed {seed}: {}",
                run.results
            );
            let writes = &run.results["stats"]["by-f"]["write"];
            assert!(
                writes["ok-count"].as_u64().unwrap_or(0) * 2 > writes["count"].as_u64().unwrap(),
                "{nodes} nodes {faults}, seed {seed}: most writes succeed: {writes}"
            );
        }
    }
    let sim = Sim::new(
        raft_replica,
        "-w lin-kv --node-count 3 --concurrency 10n --rate 100 --time-limit 5 --nemesis partition --nemesis-interval 1",
    )
    .unwrap();
    sim.check_determinism(1).unwrap();
}

#[test]
fn list_append_is_strict_serializable_under_partitions() {
    for nodes in [2, 5] {
        let sim = Sim::new(
            || list_append::ListAppend::new,
            &format!(
                "-w txn-list-append --node-count {nodes} --rate 100 --time-limit 8 \
                 --consistency-models strict-serializable --nemesis partition --nemesis-interval 1"
            ),
        )
        .unwrap();
        sim.assert_seeds(0..3);
    }
    let sim = Sim::new(
        || list_append::ListAppend::new,
        "-w txn-list-append --node-count 2 --rate 100 --time-limit 4 --consistency-models strict-serializable",
    )
    .unwrap();
    sim.check_determinism(1).unwrap();
}
