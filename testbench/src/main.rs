//! `testbench test -w WORKLOAD --bin PATH [flags] [-- ARGS]`: runs a
//! Maelstrom workload against a node binary and checks it; `testbench
//! analyze RUN` judges a stored run again; `testbench serve` shows the
//! store's runs in a browser.
//!
//! Exit status as Maelstrom's (Jepsen's): 0 valid, 1 invalid, 2 unknown,
//! 254 bad arguments, 255 a run that could not happen; 128 + the signal
//! for a run stopped by Ctrl-C or `SIGTERM`.

use std::process::ExitCode;

use clap::Parser;
use testbench::console;
use testbench::{Cli, Command, Config, Outcome};

/// Bad arguments, as Jepsen's command line reports them.
const BAD_ARGUMENTS: u8 = 254;
/// A run that could not happen (Jepsen's "Jepsen broke").
const CRASHED: u8 = 255;

fn main() -> ExitCode {
    let command = match Cli::try_parse() {
        Ok(Cli { command }) => command,
        Err(err) => {
            let code = if err.use_stderr() { BAD_ARGUMENTS } else { 0 };
            let _ = err.print();
            return ExitCode::from(code);
        }
    };
    testbench::interrupt::install();
    match command {
        Command::Test(config) => test(&config),
        Command::Analyze(analyze) => {
            match testbench::analyze::resolve(&analyze.store, &analyze.run)
                .and_then(|run| testbench::analyze::analyze(&run))
            {
                Ok(outcome) => report(&outcome).unwrap_or(ExitCode::SUCCESS),
                Err(error) => {
                    console::warn(&error);
                    ExitCode::from(CRASHED)
                }
            }
        }
        Command::Serve(options) => match testbench::serve::serve(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                console::warn(&error);
                ExitCode::from(CRASHED)
            }
        },
        Command::Official(official) => {
            let rows = testbench::official::run_all(
                &official.bin_dir,
                official.only.as_deref(),
                &official.store,
            );
            if rows.is_empty() {
                console::warn(&format!(
                    "no challenge binary in {}; build them with `cargo build --release -p challenges`",
                    official.bin_dir.display()
                ));
                return ExitCode::from(CRASHED);
            }
            let all_valid = rows
                .iter()
                .all(|row| row.outcome.as_ref().is_ok_and(|r| r["valid?"] == true));
            ExitCode::from(if all_valid { 0 } else { 1 })
        }
    }
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
