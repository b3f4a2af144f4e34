//! Echo throughput: pipes N echo requests through a node binary and reports
//! replies per second and the node's peak memory (`VmHWM`), for the glomers
//! `echo` and for the framework-free baseline (`echo-baseline`), each the
//! median of several runs, and their ratios.
//!
//! With `--slow-reader`, replies are read in bursts of 1,000 with a 1 ms
//! pause after each, slower than a node answers: a node that queues what
//! it cannot write grows, one that meets backpressure does not.
//!
//! ```text
//! cargo build --release -p challenges -p bench
//! target/release/echo-throughput [--requests 200000] [--runs 5] [--slow-reader] [--node PATH] [--baseline PATH]
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: echo-throughput [--requests N] [--runs R] [--slow-reader] [--node PATH] [--baseline PATH]";

struct Options {
    requests: u64,
    runs: usize,
    slow_reader: bool,
    node: PathBuf,
    baseline: PathBuf,
}

/// What one run measured.
struct Run {
    elapsed: Duration,
    /// The node's peak resident memory, in kB.
    peak_kb: u64,
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("echo-throughput: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    for binary in [&options.node, &options.baseline] {
        if !binary.is_file() {
            eprintln!(
                "echo-throughput: {} does not exist; build it first:\n  cargo build --release -p challenges -p bench",
                binary.display()
            );
            return ExitCode::from(2);
        }
    }
    println!(
        "echo throughput: {} requests per run, {} reader, median of {} runs",
        options.requests,
        if options.slow_reader {
            "a slow"
        } else {
            "a fast"
        },
        options.runs
    );
    let mut medians = Vec::new();
    for (name, binary) in [
        ("glomers echo", &options.node),
        ("baseline", &options.baseline),
    ] {
        let mut rates = Vec::new();
        let mut peaks = Vec::new();
        for _ in 0..options.runs {
            match run_once(binary, options.requests, options.slow_reader) {
                Ok(run) => {
                    rates.push(options.requests as f64 / run.elapsed.as_secs_f64());
                    peaks.push(run.peak_kb);
                }
                Err(message) => {
                    eprintln!("echo-throughput: {name}: {message}");
                    return ExitCode::FAILURE;
                }
            }
        }
        rates.sort_by(f64::total_cmp);
        peaks.sort_unstable();
        let median = rates[rates.len() / 2];
        let peak = peaks[peaks.len() / 2];
        let shown: Vec<String> = rates.iter().map(|r| format!("{:.0}", r)).collect();
        let shown_peaks: Vec<String> = peaks.iter().map(|kb| format!("{:.1}", mb(*kb))).collect();
        println!(
            "{name:>14}: {median:>10.0} msgs/s, peak memory {:>6.1} MB   (runs: {}; MB: {})",
            mb(peak),
            shown.join(", "),
            shown_peaks.join(", ")
        );
        medians.push((median, peak));
    }
    println!(
        "{:>14}: {:>10.2} (throughput), {:.2} (peak memory, {:+.1} MB)",
        "ratio",
        medians[0].0 / medians[1].0,
        medians[0].1 as f64 / medians[1].1 as f64,
        mb(medians[0].1) - mb(medians[1].1)
    );
    ExitCode::SUCCESS
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut options = Options {
        requests: 200_000,
        runs: 5,
        slow_reader: false,
        node: dir.join("echo"),
        baseline: dir.join("echo-baseline"),
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => options.requests = number(&flag, &value()?)?,
            "--runs" => options.runs = number(&flag, &value()?)?,
            "--slow-reader" => options.slow_reader = true,
            "--node" => options.node = value()?.into(),
            "--baseline" => options.baseline = value()?.into(),
            "-h" | "--help" => return Err("help".into()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.requests == 0 || options.runs == 0 {
        return Err("--requests and --runs must be positive".into());
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes a positive whole number, not `{value}`"))
}

/// Starts `binary`, initialises it, then times `requests` echoes from the
/// first request written to the last reply read, and reads the node's peak
/// memory before closing its input.
fn run_once(binary: &Path, requests: u64, slow_reader: bool) -> Result<Run, String> {
    let mut child = Command::new(binary)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("starting {}: {err}", binary.display()))?;
    let mut stdin = BufWriter::new(child.stdin.take().expect("piped"));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();

    writeln!(
        stdin,
        r#"{{"src":"c0","dest":"n1","body":{{"type":"init","msg_id":0,"node_id":"n1","node_ids":["n1"]}}}}"#
    )
    .and_then(|()| stdin.flush())
    .map_err(|err| format!("writing init: {err}"))?;
    stdout.read_line(&mut line).map_err(|err| err.to_string())?;
    if !line.contains("init_ok") {
        return Err(format!("expected init_ok, got {line:?}"));
    }

    let started = Instant::now();
    let writer = std::thread::spawn(
        move || -> std::io::Result<BufWriter<std::process::ChildStdin>> {
            for i in 1..=requests {
                writeln!(
                    stdin,
                    r#"{{"src":"c1","dest":"n1","body":{{"type":"echo","msg_id":{i},"echo":"Please echo {i}"}}}}"#
                )?;
            }
            stdin.flush()?;
            Ok(stdin) // closed only once the node's memory is read
        },
    );
    for i in 1..=requests {
        if slow_reader && i % 1000 == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        line.clear();
        if stdout.read_line(&mut line).map_err(|err| err.to_string())? == 0 {
            return Err(format!("the node stopped after {} replies", i - 1));
        }
        // Spot-check replies without turning the harness into the bottleneck.
        if i % 1000 == 0 || i == requests {
            let reply: serde_json::Value =
                serde_json::from_str(&line).map_err(|err| format!("bad reply {line:?}: {err}"))?;
            if reply["body"]["type"] != "echo_ok"
                || reply["body"]["echo"] != format!("Please echo {}", reply["body"]["in_reply_to"])
            {
                return Err(format!("wrong reply {line:?}"));
            }
        }
    }
    let elapsed = started.elapsed();
    let stdin = writer
        .join()
        .expect("writer thread")
        .map_err(|err| format!("writing requests: {err}"))?;
    let peak_kb = peak_memory_kb(child.id())?;
    drop(stdin);
    let _ = child.wait();
    Ok(Run { elapsed, peak_kb })
}

/// `VmHWM` (peak resident set size) of process `pid`, in kB.
fn peak_memory_kb(pid: u32) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|err| format!("reading {path}: {err}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in {path}"))
}
