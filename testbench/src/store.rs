//! The store: one directory per run, `store/<workload>/<UTC time>/`, and
//! the `latest` links that point at the newest run.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How many names a run tries before giving up (`<time>`, `<time>-2`, ...).
const MAX_ATTEMPTS: u32 = 10_000;

/// Creates a fresh run directory under `root/<workload>/`, named after the
/// current UTC time.
///
/// The directory is made with one `mkdir`, which fails if the name exists,
/// so two runs started at the same instant (in one process or in two) never
/// share a directory: the second takes `<time>-2`, and so on.
pub fn create_run_dir(root: &Path, workload: &str) -> Result<PathBuf, String> {
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
        let dir = base.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(format!("cannot create {}: {err}", dir.display())),
        }
    }
    Err(format!(
        "cannot create a run directory in {}: {MAX_ATTEMPTS} names taken",
        base.display()
    ))
}

/// Points `root/latest` and `root/<workload>/latest` at `run` (a directory
/// made by [`create_run_dir`]), as Maelstrom does. Each link is replaced by
/// a rename, so a reader never finds it missing. Failing to link is not an
/// error of the run: the reason is returned for the caller to report.
pub fn link_latest(root: &Path, run: &Path) -> Result<(), String> {
    let (Some(workload_dir), Some(name)) = (run.parent(), run.file_name()) else {
        return Err(format!("{} is not a run directory", run.display()));
    };
    let Some(workload) = workload_dir.file_name() else {
        return Err(format!("{} is not a run directory", run.display()));
    };
    relink(&workload_dir.join("latest"), Path::new(name))?;
    relink(&root.join("latest"), &Path::new(workload).join(name))
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

/// Removes a run directory that holds nothing (a run that never started).
pub fn remove_if_empty(run: &Path) {
    let _ = std::fs::remove_dir(run);
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
                .map(|_| scope.spawn(|| create_run_dir(&root, "echo").unwrap()))
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
        let first = create_run_dir(&root, "echo").unwrap();
        link_latest(&root, &first).unwrap();
        let second = create_run_dir(&root, "broadcast").unwrap();
        link_latest(&root, &second).unwrap();
        let resolve = |p: PathBuf| std::fs::canonicalize(p).unwrap();
        assert_eq!(resolve(root.join("latest")), resolve(second.clone()));
        assert_eq!(resolve(root.join("echo/latest")), resolve(first));
        assert_eq!(resolve(root.join("broadcast/latest")), resolve(second));
        std::fs::remove_dir_all(root).unwrap();
    }
}
