//! The `glomers` command line: the one place that composes the test bench
//! (`testbench`), the simulator (`glomers-sim`) and the challenge nodes.
//!
//! ```text
//! glomers test -w broadcast --bin target/release/broadcast --node-count 5 --time-limit 20
//! glomers analyze latest         # judge a stored run again, redraw it
//! glomers serve                  # browse the store's runs
//! glomers official               # every challenge with its official flags
//! glomers sim broadcast --seeds 1000
//! glomers new mynode --workload broadcast   # a node crate of one's own
//! ```
//!
//! Exit status as Maelstrom's (Jepsen's): 0 valid, 1 invalid, 2 unknown,
//! 254 bad arguments, 255 a run that could not happen; 128 + the signal
//! for a run stopped by Ctrl-C or `SIGTERM`.

pub mod args;
mod draw;
pub mod new;
pub mod official;
pub mod serve;
pub mod sweep;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use testbench::console;
use testbench::store::RunDir;
use testbench::{Config, Outcome};

use args::{Cli, Command};
pub use draw::draw;

/// Bad arguments, as Jepsen's command line reports them.
pub const BAD_ARGUMENTS: u8 = 254;
/// A run that could not happen (Jepsen's "Jepsen broke").
pub const CRASHED: u8 = 255;

/// Runs the command line `args` (the program's name first) and says how
/// the process should exit.
pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let command = match Cli::try_parse_from(args) {
        Ok(Cli { command }) => command,
        Err(err) => return usage_error(err),
    };
    // The commands that start node processes or serve until stopped take
    // the first SIGINT, SIGTERM or SIGHUP as "stop now, keep what was
    // recorded"; the others (analyze, sim: no process of their own to
    // stop) end at once with the signal's default.
    if matches!(
        command,
        Command::Test(_) | Command::Official(_) | Command::Serve(_)
    ) {
        testbench::interrupt::install();
    }
    match command {
        Command::Test(config) => test(&config),
        Command::Analyze(analyze) => {
            let judged = RunDir::resolve(&analyze.store, &analyze.run).and_then(|run| {
                let outcome = testbench::analyze::analyze(&run)?;
                testbench::report::draw_or_warn(&run);
                Ok(outcome)
            });
            match judged {
                Ok(outcome) => report(&outcome).unwrap_or(ExitCode::SUCCESS),
                Err(error) => {
                    console::warn(&error);
                    ExitCode::from(CRASHED)
                }
            }
        }
        Command::Serve(options) => match serve::serve(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                console::warn(&error);
                ExitCode::from(CRASHED)
            }
        },
        Command::Official(official) => {
            let rows =
                official::run_all(&official.bin_dir, official.only.as_deref(), &official.store);
            if rows.is_empty() {
                console::warn(&format!(
                    "no challenge binary in {}; build them with `cargo build --release -p challenges`",
                    official.bin_dir.display()
                ));
                return ExitCode::from(CRASHED);
            }
            if let Some(signal) = testbench::interrupt::received() {
                return ExitCode::from((128 + signal).clamp(0, 255) as u8);
            }
            let all_valid = rows
                .iter()
                .all(|row| row.outcome.as_ref().is_ok_and(|r| r["valid?"] == true));
            ExitCode::from(if all_valid { 0 } else { 1 })
        }
        Command::Sim(sweep) => sweep::run(&sweep),
        Command::New(options) => match new::create(&options) {
            Ok(dir) => {
                console::stdout(&format!(
                    "wrote a {} node in {}: `cd {} && cargo test` sweeps it in the simulator\n",
                    options.workload,
                    dir.display(),
                    dir.display()
                ));
                ExitCode::SUCCESS
            }
            Err(error) => {
                console::warn(&error);
                ExitCode::from(BAD_ARGUMENTS)
            }
        },
    }
}

/// A command line clap refused (or `--help`, `--version`): printed, with
/// Jepsen's status for bad arguments.
pub fn usage_error(err: clap::Error) -> ExitCode {
    let code = if err.use_stderr() { BAD_ARGUMENTS } else { 0 };
    let _ = err.print();
    ExitCode::from(code)
}

/// Runs the test `--test-count` times, stopping at the first run that is
/// not valid, and exits as that run says.
fn test(config: &Config) -> ExitCode {
    if let Err(err) = config.validate() {
        console::warn(&err);
        return ExitCode::from(BAD_ARGUMENTS);
    }
    for _ in 0..config.test_count {
        let outcome = match testbench::run(config) {
            Ok(outcome) => outcome,
            Err(error) => {
                console::warn(&error);
                return ExitCode::from(CRASHED);
            }
        };
        draw(&outcome.store);
        if let Some(code) = report(&outcome) {
            return code;
        }
    }
    ExitCode::SUCCESS
}

/// Prints a judged run's summary; `None` when it is valid, else the exit
/// status it calls for.
fn report(outcome: &Outcome) -> Option<ExitCode> {
    console::stdout(&testbench::results::summary(
        &outcome.results,
        &outcome.store,
    ));
    for error in &outcome.store_errors {
        console::warn(error);
    }
    if let Some(signal) = outcome.interrupted {
        return Some(ExitCode::from((128 + signal).clamp(0, 255) as u8));
    }
    match &outcome.results["valid?"] {
        serde_json::Value::Bool(true) => None,
        serde_json::Value::Bool(false) => Some(ExitCode::from(1)),
        _ => Some(ExitCode::from(2)),
    }
}
