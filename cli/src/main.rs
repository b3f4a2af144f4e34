//! `glomers`: test, analyze, serve, official, sim (see `glomers --help`).

fn main() -> std::process::ExitCode {
    glomers_cli::main(std::env::args_os())
}
