//! `testbench test -w WORKLOAD --bin PATH [flags] [-- ARGS]`: runs a
//! Maelstrom workload against a node binary and checks it; `testbench
//! analyze RUN` judges a stored run again; `testbench serve` shows the
//! store's runs in a browser.

use std::process::ExitCode;

use clap::Parser;
use testbench::{Cli, Command};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    match command {
        Command::Test(config) => report(testbench::run(&config)),
        Command::Analyze(analyze) => report(
            testbench::analyze::resolve(&analyze.store, &analyze.run)
                .and_then(|run| testbench::analyze::analyze(&run)),
        ),
        Command::Serve(options) => match testbench::serve::serve(&options) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("testbench: {error}");
                ExitCode::from(2)
            }
        },
        Command::Official(official) => {
            let rows = testbench::official::run_all(
                &official.bin_dir,
                official.only.as_deref(),
                &official.store,
            );
            if rows.is_empty() {
                eprintln!(
                    "testbench: no challenge binary in {}; build them with `cargo build --release -p challenges`",
                    official.bin_dir.display()
                );
                return ExitCode::from(2);
            }
            let all_valid = rows
                .iter()
                .all(|row| row.outcome.as_ref().is_ok_and(|r| r["valid?"] == true));
            if all_valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// Prints a judged run's summary; the exit status is 0 when it is valid, 1
/// when it is not, 2 when it could not be judged.
fn report(outcome: Result<testbench::Outcome, String>) -> ExitCode {
    match outcome {
        Ok(outcome) => {
            print!(
                "{}",
                testbench::results::summary(&outcome.results, &outcome.store)
            );
            if outcome.valid {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(error) => {
            eprintln!("testbench: {error}");
            ExitCode::from(2)
        }
    }
}
