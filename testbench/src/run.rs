//! `test`: one run on node processes, kept in the store. It composes the
//! layers below: [`Processes`] start the binaries, the engine
//! ([`crate::engine`]) runs the test and judges it, a [`RunDir`] keeps
//! what it recorded.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::engine::{self, Mode};
use crate::reach::{Cluster, Processes};
use crate::store::RunDir;
use crate::workload;

/// What a finished run left: its verdict and its folder in the store.
#[derive(Debug)]
pub struct Outcome {
    /// Everything `results.json` holds.
    pub results: serde_json::Value,
    /// Whether every checker found the run valid.
    pub valid: bool,
    /// The run's folder under the store.
    pub store: PathBuf,
    /// The signal that stopped the run early, if one did (the results then
    /// judge what was recorded until then).
    pub interrupted: Option<i32>,
    /// What could not be written to the store; the verdict stands anyway.
    pub store_errors: Vec<String>,
}

/// Runs the test `config` describes on node processes and keeps it in a
/// fresh folder of the store. `Err` means the run could not happen (a
/// binary that does not start, a node that does not answer `init`); a run
/// that happened but failed its checks is an `Ok` with `valid: false`.
///
/// Pictures are not drawn here: they are drawn from the stored run
/// ([`report::write_all`](crate::report::write_all), with the `report`
/// feature), so that the bench's work during a run does not depend on them.
pub fn run(config: &Config) -> Result<Outcome, String> {
    config.validate()?;
    if config.clock_skew > 0.0 {
        return Err(
            "--clock-skew needs the simulator: node processes share the machine's clock".to_owned(),
        );
    }
    workload::validate(config)?;
    let bin = resolve_bin(&config.bin)?;
    let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
    let dir = RunDir::create(&config.store, config.workload.name())?;
    dir.write_config(config, seed)?;
    let cluster = match Processes::start(
        &bin,
        &config.args,
        &config.node_ids(),
        dir.path(),
        config.log_stderr,
    ) {
        Ok(cluster) => cluster,
        Err(err) => {
            dir.discard();
            return Err(err);
        }
    };
    run_on(config, cluster, seed, dir)
}

/// Runs the test `config` describes on `cluster` (whose nodes are
/// `config.node_ids()`, in that order), with the random `seed`, keeping it
/// in `dir`.
pub fn run_on<C: Cluster>(
    config: &Config,
    cluster: C,
    seed: u64,
    dir: RunDir,
) -> Result<Outcome, String> {
    let journal = dir.journal_writer()?;
    let recording = engine::record(config, cluster, seed, journal, Mode::Measured)?;
    let mut store_errors = dir.keep(&recording);
    if let Err(err) = dir.link_latest(&config.store) {
        store_errors.push(err);
    }
    Ok(Outcome {
        results: recording.results,
        valid: recording.valid,
        store: dir.path().to_path_buf(),
        interrupted: recording.interrupted,
        store_errors,
    })
}

/// The node binary as a path. Like Maelstrom, `--bin NAME` names a file
/// (relative to the current directory), never a command looked up in
/// `PATH`.
fn resolve_bin(bin: &Path) -> Result<PathBuf, String> {
    let path = if bin.is_absolute() {
        bin.to_path_buf()
    } else {
        Path::new(".").join(bin)
    };
    let meta = std::fs::metadata(&path).map_err(|err| {
        let here = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "the current directory".to_owned());
        format!(
            "--bin {}: no such file ({err}); the path is taken from {here}, not looked up in PATH",
            bin.display()
        )
    })?;
    use std::os::unix::fs::PermissionsExt;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "--bin {}: not an executable file (try `chmod +x {}`)",
            bin.display(),
            bin.display()
        ));
    }
    Ok(path)
}
