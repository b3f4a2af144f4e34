//! Echo throughput: pipes N echo requests through a node binary and reports
//! replies per second, for the glomers `echo` and for the framework-free
//! baseline (`echo-baseline`), each the median of several runs, and their
//! ratio.
//!
//! ```text
//! cargo build --release -p challenges -p bench
//! target/release/echo-throughput [--requests 200000] [--runs 5] [--node PATH] [--baseline PATH]
//! ```

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const USAGE: &str =
    "usage: echo-throughput [--requests N] [--runs R] [--node PATH] [--baseline PATH]";

struct Options {
    requests: u64,
    runs: usize,
    node: PathBuf,
    baseline: PathBuf,
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
        "echo throughput: {} requests per run, median of {} runs",
        options.requests, options.runs
    );
    let mut medians = Vec::new();
    for (name, binary) in [
        ("glomers echo", &options.node),
        ("baseline", &options.baseline),
    ] {
        let mut rates = Vec::new();
        for _ in 0..options.runs {
            match run_once(binary, options.requests) {
                Ok(elapsed) => rates.push(options.requests as f64 / elapsed.as_secs_f64()),
                Err(message) => {
                    eprintln!("echo-throughput: {name}: {message}");
                    return ExitCode::FAILURE;
                }
            }
        }
        rates.sort_by(f64::total_cmp);
        let median = rates[rates.len() / 2];
        let shown: Vec<String> = rates.iter().map(|r| format!("{:.0}", r)).collect();
        println!(
            "{name:>14}: {median:>10.0} msgs/s   (runs: {})",
            shown.join(", ")
        );
        medians.push(median);
    }
    println!("{:>14}: {:>10.2}", "ratio", medians[0] / medians[1]);
    ExitCode::SUCCESS
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut options = Options {
        requests: 200_000,
        runs: 5,
        node: dir.join("echo"),
        baseline: dir.join("echo-baseline"),
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--requests" => options.requests = number(&flag, &value()?)?,
            "--runs" => options.runs = number(&flag, &value()?)?,
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
/// first request written to the last reply read.
fn run_once(binary: &Path, requests: u64) -> Result<Duration, String> {
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
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for i in 1..=requests {
            writeln!(
                stdin,
                r#"{{"src":"c1","dest":"n1","body":{{"type":"echo","msg_id":{i},"echo":"Please echo {i}"}}}}"#
            )?;
        }
        stdin.flush()
    });
    for i in 1..=requests {
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
    writer
        .join()
        .expect("writer thread")
        .map_err(|err| format!("writing requests: {err}"))?;
    let _ = child.wait();
    Ok(elapsed)
}
