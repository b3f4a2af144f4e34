//! `glomers analyze`: a stored run is judged again from its files alone.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::config;
use serde_json::Value;
use testbench::store::RunDir;
use testbench::Workload;

fn fresh_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "testbench-analyze-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_stored_run_is_judged_again_from_its_files() {
    let store = fresh_store("rejudge");
    let mut bad = config(
        Workload::UniqueIds,
        "unique_ids_collide.py",
        &[],
        3,
        1.0,
        50.0,
    );
    bad.store = store.clone();
    let outcome = testbench::run(&bad).unwrap();
    assert!(!outcome.valid);
    let run = outcome.store;

    let stored = RunDir::open(&run).unwrap().config().unwrap();
    assert_eq!(stored.workload, Workload::UniqueIds);
    assert_eq!(stored.node_count, Some(3));
    assert_eq!(stored.seed, Some(7));

    // The same files give the same verdict, through the command line too.
    let cli = Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(["analyze", "unique-ids/latest", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    assert_eq!(cli.status.code(), Some(1), "{cli:?}");
    let stdout = String::from_utf8_lossy(&cli.stdout);
    assert!(stdout.contains(":valid? false"), "{stdout}");
    let again = read_json(&run.join("results.json"));
    assert_eq!(again["workload"], outcome.results["workload"]);
    assert_eq!(again["stats"], outcome.results["stats"]);
    assert_eq!(again["net"], outcome.results["net"]);
    assert_eq!(again["bench"], outcome.results["bench"]);

    // A history changed by hand (every id made unique) is judged afresh.
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    let fixed: Vec<String> = history
        .lines()
        .map(|line| {
            let mut op: Value = serde_json::from_str(line).unwrap();
            if op["type"] == "ok" {
                op["value"] = op["index"].clone();
            }
            op.to_string()
        })
        .collect();
    std::fs::write(run.join("history.jsonl"), fixed.join("\n") + "\n").unwrap();
    let rejudged = testbench::analyze::analyze(&RunDir::open(&run).unwrap()).unwrap();
    assert!(rejudged.valid, "{}", rejudged.results["workload"]);
    assert_eq!(rejudged.results["workload"]["duplicated-count"], 0);
    assert_eq!(read_json(&run.join("results.json")), rejudged.results);
    assert_eq!(
        rejudged.results["net"], outcome.results["net"],
        "the run's message counts are kept"
    );
    std::fs::remove_dir_all(store).unwrap();
}

#[test]
fn a_run_without_a_stored_configuration_is_named() {
    let store = fresh_store("bare");
    let run = store.join("echo/20260101T000000.000");
    std::fs::create_dir_all(&run).unwrap();
    let err = testbench::analyze::analyze(&RunDir::open(&run).unwrap()).unwrap_err();
    assert!(err.contains("test.json"), "{err}");
    let missing = RunDir::resolve(&store, Path::new("latest")).unwrap_err();
    assert!(missing.contains("latest"), "{missing}");
    std::fs::remove_dir_all(store).unwrap();
}
