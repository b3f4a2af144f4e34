//! Runs the bench in-process against the nodes in `testbench/tests/nodes/`
//! (shared with the command line's tests, `cli/tests/`).

#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

use serde_json::Value;
use testbench::config::NemesisKind;
use testbench::{Config, Workload};

/// A node script of `testbench/tests/nodes/`.
pub fn node(script: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testbench/tests/nodes")
        .join(script)
}

/// A short run: `nodes` nodes, `seconds` of operations at `rate`.
pub fn config(
    workload: Workload,
    script: &str,
    args: &[&str],
    nodes: u64,
    seconds: f64,
    rate: f64,
) -> Config {
    let mut config = Config::new(workload, node(script));
    config.args = args.iter().map(|a| a.to_string()).collect();
    config.node_count = Some(nodes);
    config.time_limit = seconds;
    config.rate = rate;
    config.seed = Some(7);
    config.store = std::env::temp_dir().join("testbench-store");
    config
}

/// The same with partitions every `interval` seconds on average.
pub fn partitioned(mut config: Config, interval: f64) -> Config {
    config.nemesis = vec![NemesisKind::Partition];
    config.nemesis_interval = interval;
    config
}

/// Runs `config` and returns (valid, results).
pub fn run(config: &Config) -> (bool, Value) {
    let outcome =
        testbench::run(config).unwrap_or_else(|err| panic!("the run failed to happen: {err}"));
    (outcome.valid, outcome.results)
}
