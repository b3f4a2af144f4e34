//! Pictures of a run, drawn after it from the store's files alone (so the
//! bench's work during a run does not change, and `analyze`, the simulator
//! or a copied run draw the same): the latency and rate plots, the Lamport
//! diagram, the timeline and the run's index page.
//!
//! Only with the crate's `report` feature (plotters draws the plots): a
//! library user of the bench or of the simulator compiles none of it
//! unless asked.

pub mod data;
pub mod findings;
pub mod html;
pub mod index;
pub mod lamport;
pub mod nemesis;
pub mod plots;
pub mod timeline;

use std::collections::BTreeMap;

use data::RunData;

use crate::store::RunDir;

/// The most values whose messages the diagram marks.
const MAX_MARKS: usize = 50;

/// Draws every picture of the stored run `dir` into its folder:
/// `index.html`, `messages.html`, `timeline.html`, `latency-raw.svg`,
/// `latency-quantiles.svg` and `rate.svg`. Each is attempted even if
/// another fails; the error names every failure.
///
/// ```no_run
/// use testbench::store::RunDir;
///
/// let run = RunDir::open("store/latest".as_ref())?;
/// testbench::report::write_all(&run)?;
/// # Ok::<(), String>(())
/// ```
pub fn write_all(dir: &RunDir) -> Result<(), String> {
    let run = RunData::load(dir)?;
    let periods = nemesis::periods(&run);
    let found = findings::findings(&run);
    let marks: BTreeMap<String, Vec<usize>> = found
        .iter()
        .flat_map(|f| f.values.iter())
        .take(MAX_MARKS)
        .map(|value| {
            (
                index::mark_name(value),
                lamport::messages_carrying(&run, value),
            )
        })
        .collect();
    let title = run_title(dir, &run);
    let plots = plots::draw(&run, &periods)
        .and_then(|svgs| svgs.iter().try_for_each(|(name, svg)| dir.write(name, svg)));
    let errors: Vec<String> = [
        plots,
        write_messages(dir, &title, &run, &periods, &marks),
        write_timeline(dir, &title, &run, &periods),
        dir.write(
            "index.html",
            &index::page(dir, &title, &run, &found, &periods),
        ),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

/// [`write_all`], with a failure reported on stderr: drawing never changes
/// a run's verdict or exit status.
pub fn draw_or_warn(dir: &RunDir) {
    if let Err(err) = write_all(dir) {
        crate::console::warn(&format!(
            "could not draw the pictures of {}: {err}",
            dir.path().display()
        ));
    }
}

/// `messages.html`: the Lamport diagram's page, its data embedded.
fn write_messages(
    dir: &RunDir,
    title: &str,
    run: &RunData,
    periods: &[nemesis::Period],
    marks: &BTreeMap<String, Vec<usize>>,
) -> Result<(), String> {
    let diagram = lamport::layout(run, periods);
    let data = html::embed_json(&diagram.to_json(run, marks));
    let page = html::fill(
        include_str!("messages.html"),
        &[
            ("TITLE", &html::escape(&format!("{title} messages"))),
            ("DATA", &data),
        ],
    );
    dir.write("messages.html", &page)
}

/// `timeline.html`: the client operations' page, its data embedded.
fn write_timeline(
    dir: &RunDir,
    title: &str,
    run: &RunData,
    periods: &[nemesis::Period],
) -> Result<(), String> {
    let data = html::embed_json(&timeline::to_json(run, periods));
    let page = html::fill(
        include_str!("timeline.html"),
        &[
            ("TITLE", &html::escape(&format!("{title} timeline"))),
            ("DATA", &data),
        ],
    );
    dir.write("timeline.html", &page)
}

/// `broadcast 20261122T031500.123`: the workload and the run's folder.
fn run_title(dir: &RunDir, run: &RunData) -> String {
    let workload = run.config.as_ref().map_or("", |c| c.workload.name());
    // The run's own folder name, not that of a `latest` link to it.
    let dir = dir.path();
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    format!("{workload} {name}").trim().to_owned()
}
