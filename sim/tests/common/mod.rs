//! What the simulator's tests share: a simulator that stores its failures
//! under the temporary directory, and sweeps that must or must not find a
//! failure.

#![allow(dead_code)] // each test file uses a part

pub mod broadcast;

use std::ops::Range;
use std::time::Instant;

use glomers::Start;
use glomers_sim::{Failure, Sim};
use serde_json::Value;

/// The seeds every sweep covers: the target is a catch within the
/// first 50.
pub const SEEDS: Range<u64> = 0..50;

/// 3c's shape, shortened: five nodes, partitions every second or so.
pub const STORMY_BROADCAST: &str =
    "-w broadcast --node-count 5 --time-limit 6 --rate 10 --nemesis partition --nemesis-interval 1";

/// A simulator of the nodes `make` builds under `flags`, storing failures
/// in the temporary directory rather than in the crate's `store/`.
pub fn sim<F, N, How>(make: F, flags: &str) -> Sim<F, How>
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    let mut sim = Sim::new(make, flags).unwrap_or_else(|err| panic!("flags `{flags}`: {err}"));
    sim.config_mut().store = std::env::temp_dir().join("glomers-sim-tests");
    sim
}

/// Sweeps [`SEEDS`] and returns the failure it must find (shrunk, its
/// store removed). `what` names the node in the line printed.
pub fn caught<F, N, How>(what: &str, sim: &Sim<F, How>) -> Failure
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    let mut failure = caught_and_stored(what, sim);
    if let Some(store) = failure.store.take() {
        let _ = std::fs::remove_dir_all(store);
    }
    failure
}

/// The same, keeping the failure's store (for the caller to remove).
pub fn caught_and_stored<F, N, How>(what: &str, sim: &Sim<F, How>) -> Failure
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    let started = Instant::now();
    let sweep = sim.sweep(SEEDS);
    let failure = sweep.failure.unwrap_or_else(|| {
        panic!(
            "{what}: all {} seeds of {SEEDS:?} passed; the bad node was not caught",
            sweep.valid
        )
    });
    eprintln!(
        "{what}: caught at seed {} in {:.2?} (shrunk to `{}`)",
        failure.seed,
        started.elapsed(),
        failure.flags
    );
    failure
}

/// Sweeps [`SEEDS`], all of which must pass.
pub fn passes<F, N, How>(what: &str, sim: &Sim<F, How>)
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    let sweep = sim.sweep(SEEDS);
    if let Some(failure) = sweep.failure {
        panic!("{what} must pass every seed of {SEEDS:?}:\n{failure}");
    }
    eprintln!(
        "{what}: {} seeds valid, {:.0} virtual s in {:.2?}",
        sweep.valid, sweep.virtual_seconds, sweep.wall
    );
}

/// The kinds of anomaly a kafka or txn checker named in `field`
/// (`error-types`, `anomaly-types`).
pub fn named(results: &Value, field: &str) -> Vec<String> {
    results["workload"][field]
        .as_array()
        .unwrap_or_else(|| panic!("no `{field}` in {}", results["workload"]))
        .iter()
        .filter_map(|kind| kind.as_str().map(str::to_owned))
        .collect()
}

/// A count the workload checker reported, 0 if it reported none.
pub fn count(results: &Value, field: &str) -> u64 {
    results["workload"][field].as_u64().unwrap_or(0)
}
