//! `sim CHALLENGE`: the seed sweeper under its earlier name, the same as
//! `glomers sim CHALLENGE`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    match glomers_cli::args::SimCli::try_parse() {
        Ok(cli) => glomers_cli::sweep::run(&cli.sweep),
        Err(err) => glomers_cli::usage_error(err),
    }
}
