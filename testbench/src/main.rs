//! `testbench test -w WORKLOAD --bin PATH [flags] [-- ARGS]`: runs a
//! Maelstrom workload against a node binary and checks it.

use std::process::ExitCode;

use clap::Parser;
use testbench::console;
use testbench::{Cli, Command};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    testbench::interrupt::install();
    match command {
        Command::Test(config) => match testbench::run(&config) {
            Ok(outcome) => {
                console::stdout(&testbench::results::summary(
                    &outcome.results,
                    &outcome.store,
                ));
                for error in &outcome.store_errors {
                    console::warn(error);
                }
                match outcome.interrupted {
                    Some(signal) => ExitCode::from((128 + signal).clamp(0, 255) as u8),
                    None if outcome.valid => ExitCode::SUCCESS,
                    None => ExitCode::from(1),
                }
            }
            Err(error) => {
                console::warn(&error);
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
                console::warn(&format!(
                    "no challenge binary in {}; build them with `cargo build --release -p challenges`",
                    official.bin_dir.display()
                ));
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
