//! `testbench analyze RUN_DIR|latest`: judges a stored run again with the
//! current checkers and redraws its pictures, without running any node, so
//! that a checker change or a history someone shared can be re-judged.
//!
//! A run stores what this needs: `test.json` (its configuration, written
//! when it starts), `history.jsonl`, and `results.json`, whose facts that
//! the history cannot tell (message counts, node errors, the nemesis log,
//! the bench's figures) are kept as they were.
//!
//! ```no_run
//! let outcome = testbench::analyze::analyze(std::path::Path::new("store/latest"))?;
//! println!("valid: {}", outcome.valid);
//! # Ok::<(), String>(())
//! ```

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::config::Config;
use crate::history::History;
use crate::results::{self, Facts};
use crate::run::Outcome;

/// The file that holds a run's configuration.
pub const CONFIG_FILE: &str = "test.json";

/// Writes `config` to the run's `test.json`, with `seed` (the seed the run
/// uses, drawn if the flags gave none) filled in so the file can be run
/// again as it stands.
pub fn save_config(run: &Path, config: &Config, seed: u64) -> Result<(), String> {
    let mut stored = config.to_json();
    stored["seed"] = json!(seed);
    let path = run.join(CONFIG_FILE);
    let text = serde_json::to_string_pretty(&stored).expect("a configuration serializes");
    std::fs::write(&path, text + "\n")
        .map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Reads the run's configuration back from its `test.json`.
pub fn load_config(run: &Path) -> Result<Config, String> {
    let path = run.join(CONFIG_FILE);
    let stored: Value = read_json(&path)?;
    Config::from_json(&stored).map_err(|err| format!("{}: {err}", path.display()))
}

/// The workload's checker's verdict on `history`, for the run `config`
/// describes.
pub fn check(config: &Config, history: &History) -> Value {
    match crate::workload::for_config(config) {
        Ok(workload) => workload.check(history),
        Err(err) => serde_json::json!({"valid?": "unknown", "error": err}),
    }
}

/// The run directory `run` names: itself if it is a directory, else a path
/// inside `store` (`latest`, `broadcast/latest`, ...).
pub fn resolve(store: &Path, run: &Path) -> Result<PathBuf, String> {
    if run.is_dir() {
        return Ok(run.to_path_buf());
    }
    let inside = store.join(run);
    if inside.is_dir() {
        return Ok(inside);
    }
    Err(format!(
        "no run at {} nor at {}",
        run.display(),
        inside.display()
    ))
}

/// Judges the stored run in `run` again: rewrites its `results.json` and
/// redraws its pictures (a drawing failure is reported on stderr and does
/// not change the verdict).
pub fn analyze(run: &Path) -> Result<Outcome, String> {
    let config = load_config(run).map_err(|err| {
        format!("{err} (runs stored before configurations were saved cannot be analyzed)")
    })?;
    let history_path = run.join("history.jsonl");
    let history = std::fs::read_to_string(&history_path)
        .map_err(|err| format!("cannot read {}: {err}", history_path.display()))
        .and_then(|text| History::from_jsonl(&text))?;
    let previous: Value = read_json(&run.join("results.json"))?;
    let results = results::judge(
        &config,
        check(&config, &history),
        &history,
        Facts::from_results(&previous),
    );
    let path = run.join("results.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&results).expect("results serialize"),
    )
    .map_err(|err| format!("cannot write {}: {err}", path.display()))?;
    crate::report::draw_or_warn(run);
    Ok(Outcome {
        valid: results["valid?"] == json!(true),
        results,
        store: run.to_path_buf(),
        // The stored run may have been interrupted (its results say so and
        // its verdict is at best unknown); judging it again was not.
        interrupted: None,
        store_errors: Vec::new(),
    })
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    serde_json::from_str(&text).map_err(|err| format!("{}: {err}", path.display()))
}
