//! Every command stops within 2 s of `SIGTERM` as of `SIGINT`, whatever it
//! is doing: a service manager, a container stop or `kill PID` must not
//! leave one running.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::served::fresh_store;

/// How long a command may take to stop after the signal.
const LIMIT: Duration = Duration::from_secs(2);

/// `glomers ARGS`, its stdout piped.
fn start(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_glomers"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("glomers starts")
}

/// Sends `signal` to `child` and waits for it to exit, at most [`LIMIT`];
/// kills it and fails if it is still running then.
fn stops_on(mut child: Child, signal: i32, what: &str) -> std::process::ExitStatus {
    // SAFETY: kill(2) on a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as i32, signal) };
    let sent = Instant::now();
    while sent.elapsed() < LIMIT {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} still ran {LIMIT:?} after signal {signal}");
}

#[test]
fn serve_stops_on_sigterm_and_on_sigint() {
    let store = fresh_store("signals");
    for signal in [libc::SIGTERM, libc::SIGINT] {
        let mut child = start(&["serve", "--port", "0", "--store", store.to_str().unwrap()]);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert!(line.contains("serving"), "{line}");
        let status = stops_on(child, signal, "glomers serve");
        assert!(status.success(), "{status:?}");
        let mut last = String::new();
        stdout.read_line(&mut last).unwrap();
        assert!(last.contains("stopped serving"), "{last}");
    }
    std::fs::remove_dir_all(store).unwrap();
}

#[test]
fn a_seed_sweep_stops_on_sigterm() {
    // Far more seeds than the limit allows, so only the signal ends it.
    let child = start(&["sim", "broadcast-3d", "--seeds", "100000"]);
    std::thread::sleep(Duration::from_millis(500));
    let status = stops_on(child, libc::SIGTERM, "glomers sim");
    assert!(!status.success(), "{status:?}");
}

#[test]
fn a_test_run_stops_on_sigterm_with_its_verdict() {
    let store = fresh_store("signals-test");
    let node = common::node("echo.py");
    let child = start(&[
        "test",
        "-w",
        "echo",
        "--bin",
        node.to_str().unwrap(),
        "--node-count",
        "1",
        "--time-limit",
        "600",
        "--store",
        store.to_str().unwrap(),
    ]);
    std::thread::sleep(Duration::from_secs(2));
    let status = stops_on(child, libc::SIGTERM, "glomers test");
    assert_eq!(status.code(), Some(128 + libc::SIGTERM), "{status:?}");
    std::fs::remove_dir_all(store).unwrap();
}
