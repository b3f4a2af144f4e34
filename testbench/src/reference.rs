//! The runs the real Maelstrom recorded (`shared/maelstrom-reference/`,
//! beside or above the checkout), which the bench's fidelity tests compare
//! against.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::history::History;

/// `shared/maelstrom-reference/`: from `$MAELSTROM_REFERENCE`, or the
/// first `shared/` found beside or above `start` (a crate's manifest
/// directory, say).
pub fn root(start: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("MAELSTROM_REFERENCE") {
        return Ok(dir.into());
    }
    start
        .ancestors()
        .map(|dir| dir.join("shared/maelstrom-reference"))
        .find(|dir| dir.is_dir())
        .ok_or_else(|| {
            format!(
                "no shared/maelstrom-reference beside or above {}; set MAELSTROM_REFERENCE",
                start.display()
            )
        })
}

/// A reference run: its history and Maelstrom's results.
pub fn load(root: &Path, name: &str) -> Result<(History, Value), String> {
    let dir = root.join(name);
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .map_err(|err| format!("reading {}: {err}", dir.join(file).display()))
    };
    let history = History::from_jsonl(&read("history.jsonl")?)?;
    let results = serde_json::from_str(&read("results.json")?)
        .map_err(|err| format!("{}: {err}", dir.join("results.json").display()))?;
    Ok((history, results))
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
