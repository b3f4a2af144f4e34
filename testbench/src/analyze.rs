//! `analyze RUN_DIR|latest`: judges a stored run again with the current
//! checkers, without running any node, so that a checker change or a
//! history someone shared can be re-judged.
//!
//! A run stores what this needs: `test.json` (its configuration, written
//! when it starts), `history.jsonl`, and `results.json`, whose facts that
//! the history cannot tell (message counts, node errors, the nemesis log,
//! the bench's figures) are kept as they were.
//!
//! ```no_run
//! use testbench::store::RunDir;
//!
//! let run = RunDir::resolve("store".as_ref(), "latest".as_ref())?;
//! let outcome = testbench::analyze::analyze(&run)?;
//! println!("valid: {}", outcome.valid);
//! # Ok::<(), String>(())
//! ```

use serde_json::{json, Value};

use crate::config::Config;
use crate::history::History;
use crate::results::{self, Facts};
use crate::run::Outcome;
use crate::store::RunDir;

/// The workload's checker's verdict on `history`, for the run `config`
/// describes.
pub fn check(config: &Config, history: &History) -> Value {
    match crate::workload::for_config(config) {
        Ok(workload) => workload.check(history),
        Err(err) => json!({"valid?": "unknown", "error": err}),
    }
}

/// Judges the stored run `run` again and rewrites its `results.json`.
/// Its pictures are drawn from the stored run apart
/// ([`report::write_all`](crate::report::write_all)).
pub fn analyze(run: &RunDir) -> Result<Outcome, String> {
    let config = run.config().map_err(|err| {
        format!("{err} (runs stored before configurations were saved cannot be analyzed)")
    })?;
    let history = run.history()?;
    let previous = run.results()?;
    let results = results::judge(
        &config,
        check(&config, &history),
        &history,
        Facts::from_results(&previous),
    );
    run.write_results(&results)?;
    Ok(Outcome {
        valid: results["valid?"] == json!(true),
        results,
        store: run.path().to_path_buf(),
        // The stored run may have been interrupted (its results say so and
        // its verdict is at best unknown); judging it again was not.
        interrupted: None,
        store_errors: Vec::new(),
    })
}
