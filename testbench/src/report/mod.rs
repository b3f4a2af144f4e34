//! Pictures of a run, drawn after it from the store's files alone (so the
//! bench's work during a run does not change, and `testbench analyze`, the
//! simulator or a copied run draw the same): the latency and rate plots.

pub mod data;
pub mod nemesis;
pub mod plots;

use std::path::Path;

use data::RunData;

/// Draws every picture of the run in `dir` into it, and returns the names
/// of the files written.
pub fn write_all(dir: &Path) -> Result<Vec<&'static str>, String> {
    let run = RunData::load(dir)?;
    let periods = nemesis::periods(&run);
    plots::write(dir, &run, &periods)?;
    Ok(vec!["latency-raw.svg", "latency-quantiles.svg", "rate.svg"])
}

/// [`write_all`], with a failure reported on stderr: drawing never changes
/// a run's verdict or exit status.
pub fn draw_or_warn(dir: &Path) {
    if let Err(err) = write_all(dir) {
        eprintln!(
            "testbench: could not draw the pictures of {}: {err}",
            dir.display()
        );
    }
}
