//! `testbench test -w WORKLOAD --bin PATH [flags] [-- ARGS]`: runs a
//! Maelstrom workload against a node binary and checks it.

use std::process::ExitCode;

use clap::Parser;
use testbench::{Cli, Command};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    match command {
        Command::Test(config) => match testbench::run(&config) {
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
        },
    }
}
