//! The runs the real Maelstrom recorded, which the bench's fidelity tests
//! compare against.
//!
//! The repository ships the runs its tests read, as Maelstrom recorded them
//! (`testbench/maelstrom-reference/`, with a README saying how each was
//! made). A folder of the same layout elsewhere takes precedence run by
//! run: `$MAELSTROM_REFERENCE`, then a `shared/maelstrom-reference/` beside
//! or above the checkout, so that runs recorded later (other settings,
//! other nodes) are compared without changing the tests.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::history::History;
use crate::store::RunDir;

/// The runs shipped with the repository.
const SHIPPED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/maelstrom-reference");

/// The folders that may hold reference runs, in the order they are
/// searched.
fn roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(dir) = std::env::var_os("MAELSTROM_REFERENCE") {
        roots.push(PathBuf::from(dir));
    }
    let shipped = Path::new(SHIPPED);
    roots.extend(
        shipped
            .ancestors()
            .skip(1)
            .map(|dir| dir.join("shared/maelstrom-reference"))
            .filter(|dir| dir.is_dir()),
    );
    roots.push(shipped.to_path_buf());
    roots
}

/// The folder of the reference run `name` (`broadcast-glomers-150ms`, say):
/// the first of `$MAELSTROM_REFERENCE`, a `shared/maelstrom-reference/`
/// beside or above the checkout, and the repository's own copy that holds
/// it.
///
/// ```
/// let dir = testbench::reference::dir("kafka-glomers").unwrap();
/// assert!(dir.join("history.jsonl").is_file());
/// ```
pub fn dir(name: &str) -> Result<PathBuf, String> {
    let roots = roots();
    roots
        .iter()
        .map(|root| root.join(name))
        .find(|dir| RunDir::open(dir).is_ok_and(|run| run.has_history()))
        .ok_or_else(|| {
            let searched: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
            format!(
                "no reference run {name} (with a history.jsonl) in {}",
                searched.join(", ")
            )
        })
}

/// A reference run's history (`history.jsonl`).
pub fn history(name: &str) -> Result<History, String> {
    run(name)?.history()
}

/// Maelstrom's results of a reference run (`results.json`).
pub fn results(name: &str) -> Result<Value, String> {
    run(name)?.results()
}

/// A reference run: its history and Maelstrom's results.
pub fn load(name: &str) -> Result<(History, Value), String> {
    Ok((history(name)?, results(name)?))
}

/// A reference run's folder: its files are laid out as a run of the bench.
fn run(name: &str) -> Result<RunDir, String> {
    RunDir::open(&dir(name)?)
}

/// The client latencies, in milliseconds and in order, of the `f`
/// operations that succeeded (final reads left out).
pub fn op_latencies(history: &History, f: &str) -> Vec<f64> {
    let mut latencies: Vec<f64> = history
        .pairs()
        .into_iter()
        .filter(|(invoke, _)| invoke.f == f && !invoke.is_final)
        .filter_map(|(invoke, done)| {
            let done = done.filter(|d| d.kind == crate::history::OpType::Ok)?;
            Some(done.time.saturating_sub(invoke.time) as f64 / 1e6)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    latencies
}

/// Latency quantiles (in ms, Jepsen's rule: the value at index
/// `floor(q × (n − 1))` of the sorted list) of the `ok` operations of `f`
/// in the main phase of `history`.
pub fn op_latency_quantiles(history: &History, f: &str, points: &[f64]) -> Vec<f64> {
    let latencies = op_latencies(history, f);
    points
        .iter()
        .map(|q| {
            let at = (q * (latencies.len().max(1) - 1) as f64).floor() as usize;
            latencies.get(at).copied().unwrap_or(0.0)
        })
        .collect()
}
