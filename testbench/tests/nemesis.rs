//! The nemesis's faults against real node processes: partitions, kills
//! (the process dies with its state; a fresh one gets `init` again) and
//! pauses, each recorded in the history as Jepsen records them.
//!
//! The quick suite keeps the one test that kills, restarts, pauses and
//! resumes real processes; the others are the long suite (`.ci/run`), and
//! the simulator's tests check the same faults on virtual time.

mod common;

use common::{config, run};
use serde_json::Value;
use testbench::config::NemesisKind;
use testbench::Workload;

fn faulty(
    mut config: testbench::Config,
    kinds: &[NemesisKind],
    interval: f64,
) -> testbench::Config {
    config.nemesis = kinds.to_vec();
    config.nemesis_interval = interval;
    config
}

/// The nemesis entries of a stored run's history.
fn nemesis_entries(store: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(store.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|entry| entry["process"] == "nemesis")
        .collect()
}

#[test]
fn killed_nodes_restart_fresh_and_paused_ones_resume() {
    let mut config = faulty(
        config(Workload::Echo, "echo.py", &[], 3, 5.0, 20.0),
        &[NemesisKind::Kill, NemesisKind::Pause],
        0.5,
    );
    // The schedule follows the seed: this one kills and pauses.
    config.seed = Some(3);
    let outcome = testbench::run(&config).unwrap();
    assert_eq!(
        outcome.results["nodes"]["valid?"], true,
        "{}",
        outcome.results["nodes"]
    );
    let entries = nemesis_entries(&outcome.store);
    let fs: Vec<&str> = entries.iter().map(|e| e["f"].as_str().unwrap()).collect();
    assert!(fs.contains(&"kill") && fs.contains(&"start"), "{fs:?}");
    assert!(fs.contains(&"pause") && fs.contains(&"resume"), "{fs:?}");
    // Invocation and completion alike are `info`; completions say what
    // happened to each node.
    assert!(entries.iter().all(|e| e["type"] == "info"));
    let killed: Vec<&str> = entries
        .iter()
        .filter(|e| e["f"] == "kill" && e["value"].is_object())
        .flat_map(|e| e["value"].as_object().unwrap().keys().map(String::as_str))
        .collect();
    assert!(!killed.is_empty());
    let started = entries
        .iter()
        .filter(|e| e["f"] == "start" && e["value"].is_object())
        .any(|e| {
            e["value"]
                .as_object()
                .unwrap()
                .values()
                .any(|v| v == "started")
        });
    assert!(started, "{entries:?}");
    // Each restart is a fresh process with a log of its own.
    let relogged = std::fs::read_dir(&outcome.store)
        .unwrap()
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".2.log"));
    assert!(relogged);
    // Indexes are one sequence over clients and nemesis.
    let text = std::fs::read_to_string(outcome.store.join("history.jsonl")).unwrap();
    for (i, line) in text.lines().enumerate() {
        let entry: Value = serde_json::from_str(line).unwrap();
        assert_eq!(entry["index"], i);
    }
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests check the same faults"]
fn a_kill_loses_the_state_of_an_in_memory_counter() {
    // One node that keeps its counts in memory only: a kill forgets them
    // (with no peer to learn them back from), so the final read comes up
    // short of the adds acknowledged before it.
    let mut lossy = faulty(
        config(Workload::GCounter, "counter.py", &["crdt"], 1, 6.0, 30.0),
        &[NemesisKind::Kill],
        1.0,
    );
    // This seed's schedule kills the node three times, between adds.
    lossy.seed = Some(1);
    let (valid, results) = run(&lossy);
    assert!(!valid, "{}", results["workload"]);
    assert_eq!(results["workload"]["valid?"], false);
    // The same node with pauses only loses nothing.
    let paused = faulty(
        config(Workload::GCounter, "counter.py", &["crdt"], 1, 6.0, 30.0),
        &[NemesisKind::Pause],
        1.0,
    );
    let (valid, results) = run(&paused);
    assert!(valid, "{}", results["workload"]);
}

#[test]
#[ignore = "long suite (real time, .ci/run): sim/tests check the same faults"]
fn partitions_appear_in_the_history_with_their_grudges() {
    let config = faulty(
        config(Workload::Echo, "echo.py", &[], 3, 3.0, 10.0),
        &[NemesisKind::Partition],
        0.5,
    );
    let outcome = testbench::run(&config).unwrap();
    let entries = nemesis_entries(&outcome.store);
    assert_eq!(entries[0]["f"], "start-partition");
    assert!(entries[0]["value"].is_string(), "the shape");
    assert_eq!(entries[1]["value"][0], "isolated");
    assert!(entries[1]["value"][1]["n0"].is_array());
    assert!(entries
        .iter()
        .any(|e| e["f"] == "stop-partition" && e["value"] == "network-healed"));
}
