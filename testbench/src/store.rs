//! The store: one folder per run, `store/<workload>/<UTC time>/`, the
//! `latest` links that point at the newest run, and [`RunDir`], the one
//! type that writes and reads the files of a run folder, for the bench and
//! the simulator alike.
//!
//! A run folder holds:
//!
//! | file | written | what |
//! | --- | --- | --- |
//! | `test.json` | when the run starts | its configuration, seed included |
//! | `messages.jsonl` | as messages go | the network journal |
//! | `history.jsonl` | at the end | client operations and nemesis entries |
//! | `results.json` | at the end | the verdict and the statistics |
//! | `n0.log`, ... | as nodes write stderr | each node's log |
//! | `index.html`, ... | after the run | the pictures ([`report`](crate::report)) |

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::config::Config;
use crate::engine::{Recording, Simulation};
use crate::history::History;

/// The run's configuration, written when it starts.
const CONFIG: &str = "test.json";
/// The network journal, one JSON object per message.
const JOURNAL: &str = "messages.jsonl";
/// The history, one JSON object per entry.
const HISTORY: &str = "history.jsonl";
/// The verdict and statistics.
const RESULTS: &str = "results.json";

/// How many names a run tries before giving up (`<time>`, `<time>-2`, ...).
const MAX_ATTEMPTS: u32 = 10_000;

/// One run's folder in the store, and every file in it.
///
/// ```no_run
/// use testbench::store::RunDir;
///
/// let run = RunDir::resolve("store".as_ref(), "latest".as_ref())?;
/// let history = run.history()?;
/// println!("{} operations in {}", history.ops.len(), run.path().display());
/// # Ok::<(), String>(())
/// ```
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates a fresh run folder under `root/<workload>/`, named after the
    /// current UTC time.
    ///
    /// The folder is made with one `mkdir`, which fails if the name exists,
    /// so two runs started at the same instant (in one process or in two)
    /// never share a folder: the second takes `<time>-2`, and so on.
    pub fn create(root: &Path, workload: &str) -> Result<RunDir, String> {
        let base = root.join(workload);
        std::fs::create_dir_all(&base)
            .map_err(|err| format!("cannot create {}: {err}", base.display()))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let stamp = timestamp(now);
        for attempt in 1..=MAX_ATTEMPTS {
            let name = if attempt == 1 {
                stamp.clone()
            } else {
                format!("{stamp}-{attempt}")
            };
            let path = base.join(name);
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(err) if err.kind() == ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(format!("cannot create {}: {err}", path.display())),
            }
        }
        Err(format!(
            "cannot create a run directory in {}: {MAX_ATTEMPTS} names taken",
            base.display()
        ))
    }

    /// The run folder at `path` (any folder: a run of the bench, of the
    /// simulator, or one copied from elsewhere).
    pub fn open(path: &Path) -> Result<RunDir, String> {
        if path.is_dir() {
            Ok(RunDir {
                path: path.to_path_buf(),
            })
        } else {
            Err(format!("no run folder at {}", path.display()))
        }
    }

    /// A run folder that need not exist, for tests of what reads one.
    #[cfg(all(test, feature = "report"))]
    pub(crate) fn unchecked(path: PathBuf) -> RunDir {
        RunDir { path }
    }

    /// The run `run` names: a folder, or a path inside `store` (`latest`,
    /// `broadcast/latest`, `broadcast/20261122T031500.123`, ...).
    pub fn resolve(store: &Path, run: &Path) -> Result<RunDir, String> {
        let inside = store.join(run);
        RunDir::open(run)
            .or_else(|_| RunDir::open(&inside))
            .map_err(|_| format!("no run at {} nor at {}", run.display(), inside.display()))
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the run's configuration, with `seed` (the seed the run uses,
    /// drawn if the flags gave none) filled in, so that the file can be run
    /// again as it stands.
    pub fn write_config(&self, config: &Config, seed: u64) -> Result<(), String> {
        let mut stored = config.to_json();
        stored["seed"] = json!(seed);
        let text = serde_json::to_string_pretty(&stored).expect("a configuration serializes");
        self.write(CONFIG, &(text + "\n"))
    }

    /// The run's configuration.
    pub fn config(&self) -> Result<Config, String> {
        let stored: Value = serde_json::from_str(&self.read(CONFIG)?)
            .map_err(|err| format!("{}: {err}", self.file(CONFIG).display()))?;
        Config::from_json(&stored).map_err(|err| format!("{}: {err}", self.file(CONFIG).display()))
    }

    /// A file for the network journal, written as messages go.
    pub fn journal_writer(&self) -> Result<Box<dyn std::io::Write>, String> {
        let path = self.file(JOURNAL);
        std::fs::File::create(&path)
            .map(|file| Box::new(file) as Box<dyn std::io::Write>)
            .map_err(|err| format!("cannot write to {}: {err}", path.display()))
    }

    /// Keeps what a run on processes recorded (its journal went to
    /// [`journal_writer`](Self::journal_writer) as it ran); returns what
    /// could not be written, for the caller to report: the verdict stands.
    pub fn keep(&self, recording: &Recording) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(err) = &recording.journal_error {
            errors.push(format!(
                "cannot write {}: {err}",
                self.file(JOURNAL).display()
            ));
        }
        for written in [
            self.write(HISTORY, &recording.history.to_jsonl()),
            self.write_results(&recording.results),
        ] {
            errors.extend(written.err());
        }
        errors
    }

    /// Keeps a simulated run: its configuration and every file it recorded.
    pub fn keep_simulation(
        &self,
        config: &Config,
        seed: u64,
        run: &Simulation,
    ) -> Result<(), String> {
        self.write_config(config, seed)?;
        self.write(HISTORY, &run.history.to_jsonl())?;
        self.write(JOURNAL, &run.journal)?;
        self.write_results(&run.results)
    }

    /// Replaces the run's `results.json` (after judging it again).
    pub fn write_results(&self, results: &Value) -> Result<(), String> {
        self.write(
            RESULTS,
            &serde_json::to_string_pretty(results).expect("results serialize"),
        )
    }

    /// The history's text (empty when the run has none).
    pub fn history_text(&self) -> Result<String, String> {
        self.read_or_empty(HISTORY)
    }

    /// The history, parsed.
    pub fn history(&self) -> Result<History, String> {
        History::from_jsonl(&self.read(HISTORY)?)
            .map_err(|err| format!("{}: {err}", self.file(HISTORY).display()))
    }

    /// Whether the run has a history file.
    pub fn has_history(&self) -> bool {
        self.has(HISTORY)
    }

    /// Whether the run has a file named `name`.
    pub fn has(&self, name: &str) -> bool {
        self.file(name).is_file()
    }

    /// The journal's text (empty when the run has none).
    pub fn journal_text(&self) -> Result<String, String> {
        self.read_or_empty(JOURNAL)
    }

    /// `results.json`, parsed (`Null` when the run has none yet).
    pub fn results(&self) -> Result<Value, String> {
        let text = self.read_or_empty(RESULTS)?;
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|err| format!("{}: {err}", self.file(RESULTS).display()))
    }

    /// Writes `text` to the file `name` of the run (a picture, a page).
    pub fn write(&self, name: &str, text: &str) -> Result<(), String> {
        let path = self.file(name);
        std::fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))
    }

    /// The names of the run's files (hidden ones left out), in no order.
    pub fn files(&self) -> Vec<String> {
        std::fs::read_dir(&self.path)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.'))
            .collect()
    }

    /// Points `root/latest` and `root/<workload>/latest` at this run, as
    /// Maelstrom does. Each link is replaced by a rename, so a reader never
    /// finds it missing. Failing to link is not an error of the run: the
    /// reason is returned for the caller to report.
    pub fn link_latest(&self, root: &Path) -> Result<(), String> {
        let run = &self.path;
        let (Some(workload_dir), Some(name)) = (run.parent(), run.file_name()) else {
            return Err(format!("{} is not a run directory", run.display()));
        };
        let Some(workload) = workload_dir.file_name() else {
            return Err(format!("{} is not a run directory", run.display()));
        };
        relink(&workload_dir.join("latest"), Path::new(name))?;
        relink(&root.join("latest"), &Path::new(workload).join(name))
    }

    /// Removes the folder of a run that never started (its configuration
    /// and nothing else).
    pub fn discard(self) {
        let _ = std::fs::remove_file(self.file(CONFIG));
        let _ = std::fs::remove_dir(&self.path);
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn read(&self, name: &str) -> Result<String, String> {
        let path = self.file(name);
        std::fs::read_to_string(&path)
            .map_err(|err| format!("cannot read {}: {err}", path.display()))
    }

    fn read_or_empty(&self, name: &str) -> Result<String, String> {
        match std::fs::read_to_string(self.file(name)) {
            Err(err) if err.kind() == ErrorKind::NotFound => Ok(String::new()),
            read => read.map_err(|err| format!("cannot read {}: {err}", self.file(name).display())),
        }
    }
}

/// Makes `link` a symbolic link to `target` (relative to the link's folder).
#[cfg(unix)]
fn relink(link: &Path, target: &Path) -> Result<(), String> {
    let temporary = link.with_file_name(format!(
        ".latest-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::os::unix::fs::symlink(target, &temporary)
        .and_then(|()| std::fs::rename(&temporary, link))
        .map_err(|err| {
            let _ = std::fs::remove_file(&temporary);
            format!(
                "cannot point {} at {}: {err}",
                link.display(),
                target.display()
            )
        })
}

#[cfg(not(unix))]
fn relink(_link: &Path, _target: &Path) -> Result<(), String> {
    Ok(())
}

/// `20261122T031500.123` for a time since the Unix epoch (UTC).
pub fn timestamp(since_epoch: Duration) -> String {
    let secs = since_epoch.as_secs();
    let days = secs / 86_400;
    let (year, month, day) = civil_from_days(days as i64);
    let rem = secs % 86_400;
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}.{:03}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since_epoch.subsec_millis()
    )
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's
/// public-domain algorithm.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "testbench-store-test-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn timestamps_are_utc_calendar_times() {
        // 2026-11-22T03:15:00.123Z
        let t = Duration::from_millis(1_795_317_300_123);
        assert_eq!(timestamp(t), "20261122T031500.123");
        assert_eq!(timestamp(Duration::ZERO), "19700101T000000.000");
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn runs_started_together_never_share_a_directory() {
        let root = scratch();
        let dirs: Vec<PathBuf> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..25)
                .map(|_| {
                    scope.spawn(|| RunDir::create(&root, "echo").unwrap().path().to_path_buf())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut unique = dirs.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 25, "{dirs:?}");
        assert!(dirs.iter().all(|d| d.is_dir()));
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn latest_links_follow_the_newest_run() {
        let root = scratch();
        let first = RunDir::create(&root, "echo").unwrap().path().to_path_buf();
        RunDir::open(&first).unwrap().link_latest(&root).unwrap();
        let second = RunDir::create(&root, "broadcast")
            .unwrap()
            .path()
            .to_path_buf();
        RunDir::open(&second).unwrap().link_latest(&root).unwrap();
        let resolve = |p: PathBuf| std::fs::canonicalize(p).unwrap();
        assert_eq!(resolve(root.join("latest")), resolve(second.clone()));
        assert_eq!(resolve(root.join("echo/latest")), resolve(first));
        assert_eq!(resolve(root.join("broadcast/latest")), resolve(second));
        std::fs::remove_dir_all(root).unwrap();
    }
}
