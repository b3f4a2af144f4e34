//! `testbench`: the bench's earlier name, kept so that existing commands
//! and scripts run unchanged; the same commands as `glomers`.

fn main() -> std::process::ExitCode {
    glomers_cli::main(std::env::args_os())
}
