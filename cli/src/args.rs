//! The command line: `glomers <command>`, each command's flags, and their
//! `--help`, in the words of Maelstrom's where the command is Maelstrom's.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use testbench::Config;

/// glomers: a Maelstrom-compatible test bench and simulator for nodes of
/// Maelstrom's protocol (Gossip Glomers), in any language.
#[derive(Debug, Parser)]
#[command(name = "glomers", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a workload against a cluster of node binaries and checks it,
    /// as `maelstrom test` does. A flag given twice takes its last value.
    #[command(args_override_self = true)]
    Test(Box<Config>),
    /// Judges a stored run again with the current checkers and redraws its
    /// pictures, without running any node.
    Analyze(Analyze),
    /// Serves the store's runs as web pages (on 127.0.0.1 by default).
    Serve(Serve),
    /// Runs every challenge binary found with the official Gossip Glomers
    /// parameters and prints one table.
    Official(Official),
    /// Sweeps seeds of a challenge in the deterministic simulator.
    Sim(Sweep),
    /// Writes a node crate of one's own: a working node for a workload,
    /// with a simulator test (`cargo test`) and the commands to run it.
    New(New),
}

/// `glomers analyze RUN_DIR|latest`.
#[derive(Debug, Clone, clap::Args)]
pub struct Analyze {
    /// The run: its directory, or a path inside the store such as
    /// `latest`, `broadcast/latest` or `broadcast/20261122T031500.123`.
    #[arg(default_value = "latest")]
    pub run: PathBuf,

    /// Where runs are stored (for paths inside the store).
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
}

/// `glomers serve [--store DIR] [--port N]`.
#[derive(Debug, Clone, clap::Args)]
pub struct Serve {
    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,

    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,

    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
}

/// `glomers official`.
#[derive(Debug, Clone, clap::Args)]
pub struct Official {
    /// Where the challenge binaries are.
    #[arg(long, default_value = "target/release")]
    pub bin_dir: PathBuf,

    /// Only the challenges whose name contains this (such as `3b`).
    #[arg(long)]
    pub only: Option<String>,

    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
}

/// `glomers sim CHALLENGE`: seeds of a challenge in the simulator.
#[derive(Debug, Clone, clap::Args)]
pub struct Sweep {
    /// The challenge: echo, unique-ids, broadcast (3c), broadcast-3d,
    /// g-counter, pn-counter, g-set, kafka, txn, raft or list-append.
    pub challenge: String,

    /// How many seeds, from 0 (or `A..B`).
    #[arg(long, default_value = "100")]
    pub seeds: String,

    /// One seed only (a replay): the run is stored with the usual
    /// artefacts and its summary printed.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Run each seed twice and compare the runs line by line.
    #[arg(long)]
    pub check_determinism: bool,

    /// Take only the workload from the challenge's flags, and the rest
    /// from those after `--` (the bench's defaults otherwise).
    #[arg(long)]
    pub bare: bool,

    /// The bench's flags, laid over the challenge's own (after `--`).
    #[arg(last = true)]
    pub flags: Vec<String>,
}

/// `glomers new NAME [--workload W]`.
#[derive(Debug, Clone, clap::Args)]
pub struct New {
    /// The crate's name (and its binary's).
    pub name: String,

    /// The workload the node serves: echo, unique-ids, broadcast,
    /// g-counter, pn-counter, g-set, kafka, txn-rw-register,
    /// txn-list-append or lin-kv.
    #[arg(short = 'w', long, default_value = "echo")]
    pub workload: String,

    /// Where to write the crate (a folder that does not exist yet; the
    /// name by default).
    #[arg(long)]
    pub dir: Option<PathBuf>,

    /// The glomers checkout to depend on (the one this command was built
    /// from by default).
    #[arg(long)]
    pub glomers: Option<PathBuf>,
}

/// The `sim` binary's own command line: `sim CHALLENGE [flags]`, the same
/// as `glomers sim`.
#[derive(Debug, Parser)]
#[command(
    name = "sim",
    version,
    about = "Sweeps seeds of a challenge in the deterministic simulator."
)]
pub struct SimCli {
    #[command(flatten)]
    pub sweep: Sweep,
}
