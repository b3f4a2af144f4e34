//! The bench's flags as the simulator takes them: without `--bin`, and a
//! failure's flags laid over a sweep's configuration to replay it.

use testbench::Config;

/// A configuration from the bench's flags (without `--bin`).
pub fn parse_flags(flags: &str) -> Result<Config, String> {
    Config::from_flags(&format!("--bin <in-process> {flags}"))
}

/// The case `flags` describe (a failure's flags: the workload's defaults
/// plus these), with the workload, node arguments and store of `config`.
pub fn override_flags(config: &Config, flags: &str) -> Result<Config, String> {
    // A failure's flags describe its case whole (against the workload's
    // defaults), so they replace the sweep's rather than add to them: a
    // fault that shrinking dropped stays dropped.
    let mut replayed = parse_flags(&format!("-w {} {flags}", config.workload.name()))?;
    replayed.args.clone_from(&config.args);
    replayed.store.clone_from(&config.store);
    Ok(replayed)
}
