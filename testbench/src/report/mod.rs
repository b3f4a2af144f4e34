//! Pictures of a run, drawn after it from the store's files alone (so the
//! bench's work during a run does not change, and `testbench analyze`, the
//! simulator or a copied run draw the same): the latency and rate plots and
//! the Lamport diagram.

pub mod data;
pub mod html;
pub mod lamport;
pub mod nemesis;
pub mod plots;

use std::collections::BTreeMap;
use std::path::Path;

use data::RunData;

/// Draws every picture of the run in `dir` into it, and returns the names
/// of the files written.
pub fn write_all(dir: &Path) -> Result<Vec<&'static str>, String> {
    let run = RunData::load(dir)?;
    let periods = nemesis::periods(&run);
    plots::write(dir, &run, &periods)?;
    write_messages(dir, &run, &periods, &BTreeMap::new())?;
    Ok(vec![
        "latency-raw.svg",
        "latency-quantiles.svg",
        "rate.svg",
        "messages.html",
    ])
}

/// `messages.html`: the Lamport diagram's page, its data embedded.
fn write_messages(
    dir: &Path,
    run: &RunData,
    periods: &[nemesis::Period],
    marks: &BTreeMap<String, Vec<usize>>,
) -> Result<(), String> {
    let diagram = lamport::layout(run, periods);
    let data = html::embed_json(&diagram.to_json(run, marks));
    let title = format!("{} messages", run_title(dir, run));
    let page = html::fill(
        include_str!("messages.html"),
        &[("TITLE", &html::escape(&title)), ("DATA", &data)],
    );
    write(dir, "messages.html", &page)
}

/// `broadcast 20261122T031500.123`: the workload and the run's folder.
fn run_title(dir: &Path, run: &RunData) -> String {
    let workload = run.config.as_ref().map_or("", |c| c.workload.name());
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!("{workload} {name}").trim().to_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> Result<(), String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
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
