//! Nodes that misbehave on purpose (wrapper scripts whose children keep
//! the pipes open, floods, early exits) and users who interrupt runs or
//! take the disk away: whatever happens, the run ends, keeps what it
//! recorded, and leaves no process behind.
//!
//! No test here asserts a duration: a hang is caught by a generous
//! watchdog ([`within`]), and "promptly" is checked against a phase the
//! run must have skipped.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{config, node, run};
use serde_json::Value;
use testbench::Workload;

/// Fails the test if `f` has not returned after `limit` (the run hung).
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("the run did not end within {limit:?}: it hung")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the run panicked (its message is above)")
        }
    }
}

/// A number of seconds unique to this test, passed to the nodes so that
/// their processes (and their children's) can be found by it.
fn tag() -> String {
    format!(
        "{}.{:06}",
        900 + fastrand::u32(..99),
        fastrand::u32(..1_000_000)
    )
}

/// The ids of running processes with `tag` among their arguments.
fn processes_tagged(tag: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z'));
        if !zombie && cmdline.split(|&b| b == 0).any(|arg| arg == tag.as_bytes()) {
            found.push(pid);
        }
    }
    found
}

/// Asserts that no process carries `tag` (after a short settling time for
/// processes that are being killed right now).
fn assert_none_left(tag: &str) {
    for _ in 0..100 {
        if processes_tagged(tag).is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = processes_tagged(tag);
    for pid in &left {
        // SAFETY: cleaning up after the failed test.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
    panic!("processes left behind: {left:?}");
}

fn store() -> PathBuf {
    std::env::temp_dir().join(format!("testbench-hostile-{}", fastrand::u64(..)))
}

/// An echo run of `nodes` nodes of `linger.sh MODE TAG`.
fn linger(mode: &str, tag: &str, nodes: u64) -> testbench::Config {
    let mut config = config(Workload::Echo, "linger.sh", &[mode, tag], nodes, 1.0, 20.0);
    config.store = store();
    config
}

#[test]
fn a_wrapper_whose_child_keeps_the_pipes_open_does_not_hang_the_run() {
    let tag = tag();
    let config = linger("exec", &tag, 3);
    let (valid, results) = within(Duration::from_secs(120), move || run(&config));
    assert!(valid, "{}", results["nodes"]);
    assert_none_left(&tag);
}

#[test]
fn ten_wrapper_shells_that_never_exit_are_stopped_with_their_children() {
    let tag = tag();
    let config = linger("wait", &tag, 10);
    let (valid, results) = within(Duration::from_secs(120), move || run(&config));
    assert!(valid, "{}", results["nodes"]);
    assert_none_left(&tag);
}

/// A node that answers init, then waits `then_secs` and exits with status 3.
fn exits_after(then_secs: f64) -> PathBuf {
    let script = std::env::temp_dir().join(format!("testbench-exits-{}.py", fastrand::u64(..)));
    let source = format!(
        "#!/usr/bin/env python3\n\
         import json, sys, time\n\
         m = json.loads(sys.stdin.readline())\n\
         print(json.dumps({{'src': m['dest'], 'dest': m['src'], 'body': {{'type': 'init_ok', 'in_reply_to': m['body']['msg_id']}}}}), flush=True)\n\
         time.sleep({then_secs})\n\
         sys.exit(3)\n"
    );
    std::fs::write(&script, source).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

#[test]
fn when_every_node_is_gone_the_run_ends_at_once_naming_each() {
    let mut config = config(Workload::GCounter, "unused", &[], 3, 30.0, 10.0);
    config.bin = exits_after(0.3);
    config.store = store();
    let ids = config.node_ids();
    let (valid, results) = within(Duration::from_secs(120), move || run(&config));
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    for id in ids {
        assert!(
            errors.contains(&format!("{id} exited (exit status: 3)")),
            "{id}: {errors}"
        );
    }
    // The run would take 30 s of operations and 10 s of quiet before its
    // final reads; with no node left it skips them all.
    let wall = results["bench"]["wall-seconds"].as_f64().unwrap();
    assert!(wall < 30.0, "the run went on for {wall} s with no node");
    let history = results["stats"]["count"].as_u64().unwrap();
    assert!(
        history < 100,
        "{history} operations after every node had gone"
    );
}

/// A run of `flood.py MODE AMOUNT` and its results.
fn flood(mode: &str, amount: &str) -> (bool, Value, PathBuf) {
    let mut config = config(Workload::Echo, "flood.py", &[mode, amount], 1, 2.0, 10.0);
    config.store = store();
    let outcome = within(Duration::from_secs(300), move || {
        testbench::run(&config).expect("the run happened")
    });
    (outcome.valid, outcome.results, outcome.store)
}

fn results_size(store: &Path) -> u64 {
    std::fs::metadata(store.join("results.json")).unwrap().len()
}

#[test]
fn a_flood_of_garbage_is_counted_with_a_few_examples() {
    let (valid, results, store) = flood("garbage", "100000");
    assert!(!valid);
    let nodes = &results["nodes"];
    assert_eq!(nodes["error-counts"]["not-a-message"], 100_000);
    assert!(nodes["errors"].as_array().unwrap().len() <= 20, "{nodes}");
    assert!(results_size(&store) < 100_000, "{}", results_size(&store));
}

#[test]
fn a_flood_of_messages_to_nobody_is_counted_with_a_few_examples() {
    let (valid, results, store) = flood("nowhere", "100000");
    assert!(!valid);
    assert_eq!(results["nodes"]["error-counts"]["unknown-dest"], 100_000);
    assert!(results_size(&store) < 100_000, "{}", results_size(&store));
}

#[test]
fn an_endless_line_is_reported_by_node_not_buffered() {
    let (valid, results, _) = flood("endless", "40");
    assert!(!valid);
    let errors = results["nodes"]["errors"].to_string();
    assert!(
        errors.contains("wrote a line longer than"),
        "{}",
        results["nodes"]
    );
    assert_eq!(results["nodes"]["error-counts"]["oversized-line"], 1);
}

#[test]
fn a_node_process_dropped_by_a_panic_is_killed_with_its_group() {
    let tag = tag();
    let bin = node("linger.sh");
    let log = std::env::temp_dir().join(format!("testbench-panic-{}.log", fastrand::u64(..)));
    let args = vec!["exec".to_owned(), tag.clone()];
    let panicked = std::thread::spawn(move || {
        let (events, _keep) = testbench::process::event_queue();
        let _node =
            testbench::process::NodeProcess::spawn(&bin, &args, 0, "n1", &log, false, events)
                .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        panic!("the bench failed while the node ran");
    })
    .join();
    assert!(panicked.is_err());
    assert_none_left(&tag);
}

fn bench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
}

#[test]
fn an_interrupted_run_stops_every_node_and_keeps_what_it_recorded() {
    let tag = tag();
    let store = store();
    let mut child = bench()
        .args([
            "test",
            "-w",
            "echo",
            "--node-count",
            "10",
            "--time-limit",
            "60",
        ])
        .args(["--rate", "50", "--store"])
        .arg(&store)
        .arg("--bin")
        .arg(node("linger.sh"))
        .args(["--", "exec", &tag])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the run is under way: every node started, init done.
    for _ in 0..200 {
        if processes_tagged(&tag).len() >= 20 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = within(Duration::from_secs(60), move || {
        let status = child.wait().unwrap();
        let mut stdout = String::new();
        use std::io::Read;
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        (status, stdout)
    });
    let (status, stdout) = output;
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(stdout.contains(":interrupted SIGINT"), "{stdout}");
    assert_none_left(&tag);
    let run = std::fs::canonicalize(store.join("latest")).unwrap();
    let results: Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap();
    assert_eq!(results["interrupted"], "SIGINT");
    assert_ne!(results["valid?"], true, "an interrupted run proves nothing");
    let history = std::fs::read_to_string(run.join("history.jsonl")).unwrap();
    assert!(history.lines().count() > 20, "{history}");
    let journal = std::fs::read_to_string(run.join("messages.jsonl")).unwrap();
    assert!(journal.lines().count() > 20);
    assert!(run.join("n10.log").exists() || run.join("n9.log").exists());
}

#[test]
fn a_start_that_fails_half_way_leaves_no_node_running() {
    let tag = tag();
    // With 40 file descriptors the bench runs out of them a few nodes in.
    let script = format!(
        "ulimit -n 40; exec \"$0\" test -w echo --node-count 60 --time-limit 1 --store '{}' --bin '{}' -- exec {tag}",
        store().display(),
        node("linger.sh").display()
    );
    let output = within(Duration::from_secs(60), move || {
        Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_glomers")])
            .output()
            .unwrap()
    });
    assert_eq!(output.status.code(), Some(255), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot") && stderr.contains("n"),
        "{stderr}"
    );
    assert_none_left(&tag);
}

#[test]
fn an_unwritable_stderr_does_not_fail_a_correct_node() {
    let store = store();
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = within(Duration::from_secs(60), move || {
        bench()
            .args([
                "test",
                "-w",
                "echo",
                "--node-count",
                "2",
                "--time-limit",
                "2",
            ])
            .args(["--rate", "20", "--log-stderr", "--store"])
            .arg(&store)
            .arg("--bin")
            .arg(node("echo.py"))
            .args(["--", "stderr"])
            .stderr(full)
            .output()
            .unwrap()
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(":valid? true"), "{stdout}");
}

#[test]
fn a_full_disk_still_gives_the_verdict_and_its_exit_status() {
    let store = store();
    // 4 blocks of 512 bytes: the journal soon cannot grow.
    let script = format!(
        "ulimit -f 4; exec \"$0\" test -w echo --node-count 1 --time-limit 2 --rate 20 --store '{}' --bin '{}'",
        store.display(),
        node("echo.py").display()
    );
    let output = within(Duration::from_secs(60), move || {
        Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_glomers")])
            .output()
            .unwrap()
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains(":valid? true"), "{stdout}");
    assert!(stderr.contains("cannot write"), "{stderr}");
}

#[test]
fn a_run_that_cannot_start_leaves_no_store_directory() {
    let mut config = config(Workload::Echo, "no-such-node.py", &[], 1, 1.0, 10.0);
    config.store = store();
    let err = testbench::run(&config).unwrap_err();
    assert!(err.contains("no such file"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&config.store)
        .map(|dir| dir.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_bare_bin_name_is_a_path_not_a_command_from_path() {
    let mut config = config(Workload::Echo, "unused", &[], 1, 1.0, 10.0);
    config.bin = "echo".into(); // /usr/bin/echo must not be found
    config.store = store();
    let err = testbench::run(&config).unwrap_err();
    assert!(err.contains("not looked up in PATH"), "{err}");
}
