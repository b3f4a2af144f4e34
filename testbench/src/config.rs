//! The command line, with Maelstrom's flags and defaults.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JVM-free test bench that speaks Maelstrom's protocol.
#[derive(Debug, Parser)]
#[command(name = "testbench", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The bench's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a workload against a cluster of node binaries and checks it.
    Test(Config),
    /// Runs every challenge binary found with the official Gossip Glomers
    /// parameters and prints one table.
    Official(Official),
    /// Judges a stored run again with the current checkers and redraws its
    /// pictures, without running any node.
    Analyze(Analyze),
    /// Serves the store's runs as web pages (on 127.0.0.1 by default).
    Serve(Serve),
}

/// `testbench analyze RUN_DIR|latest`.
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

/// `testbench serve [--store DIR] [--port N]`.
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

/// `testbench official`.
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

/// One test run, as `maelstrom test` takes it.
///
/// It is stored with each run as `test.json` (field names are the flags'
/// names, values as the flags take them), so that `testbench analyze` can
/// judge the run again; see [`Config::to_json`] and [`Config::from_json`].
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// The workload to run.
    #[arg(short = 'w', long, value_enum)]
    pub workload: Workload,

    /// The node binary.
    #[arg(long)]
    pub bin: PathBuf,

    /// Arguments for the node binary (after `--`).
    #[arg(last = true)]
    pub args: Vec<String>,

    /// How many nodes to run.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub node_count: u64,

    /// Seconds of operations before the final phase.
    #[arg(long, default_value_t = 60.0, value_parser = positive_f64)]
    pub time_limit: f64,

    /// Client operations per second, across all clients.
    #[arg(long, default_value_t = 5.0, value_parser = positive_f64)]
    pub rate: f64,

    /// Client processes: a number, or `Nn` for N per node.
    #[arg(long, default_value = "1n", value_parser = parse_concurrency)]
    pub concurrency: Concurrency,

    /// Mean network latency between nodes, in milliseconds.
    #[arg(long, default_value_t = 0.0, value_parser = non_negative_f64)]
    pub latency: f64,

    /// How latencies are distributed around `--latency`.
    #[arg(long, value_enum, default_value_t = LatencyDist::Constant)]
    pub latency_dist: LatencyDist,

    /// Faults to inject (only `partition`).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub nemesis: Vec<NemesisKind>,

    /// Seconds between nemesis events.
    #[arg(long, default_value_t = 10.0, value_parser = positive_f64)]
    pub nemesis_interval: f64,

    /// The broadcast topology given to nodes.
    #[arg(long, value_enum, default_value_t = Topology::Grid)]
    pub topology: Topology,

    /// `total` to require every operation to succeed, or the fraction of
    /// operations that must.
    #[arg(long, value_parser = parse_availability)]
    pub availability: Option<Availability>,

    /// Keys in play at once (kafka, txn-rw-register, txn-list-append).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub key_count: u64,

    /// The most micro-operations in one transaction.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_txn_length: u64,

    /// Writes a key takes before a fresh key replaces it.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_writes_per_key: u64,

    /// The consistency models transactions must meet.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "strict-serializable"
    )]
    pub consistency_models: Vec<ConsistencyModel>,

    /// Seed of every random choice the bench makes.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Copy the nodes' stderr to the bench's stderr.
    #[arg(long)]
    pub log_stderr: bool,

    /// Where runs are stored.
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
}

impl Config {
    /// A configuration with Maelstrom's defaults for `workload` and `bin`.
    pub fn new(workload: Workload, bin: impl Into<PathBuf>) -> Self {
        let bin = bin.into();
        let mut args = vec![
            "testbench".to_owned(),
            "test".to_owned(),
            "-w".to_owned(),
            workload.name().to_owned(),
            "--bin".to_owned(),
        ];
        args.push(bin.to_string_lossy().into_owned());
        match Cli::try_parse_from(args).expect("defaults parse").command {
            Command::Test(config) => config,
            _ => unreachable!("parsed a test"),
        }
    }

    /// The run's length before the final phase.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs_f64(self.time_limit)
    }

    /// The number of client processes.
    pub fn processes(&self) -> usize {
        match self.concurrency {
            Concurrency::Total(n) => n,
            Concurrency::PerNode(n) => n * self.node_count as usize,
        }
    }

    /// The node ids, `n1` to `nN`.
    pub fn node_ids(&self) -> Vec<String> {
        (1..=self.node_count).map(|i| format!("n{i}")).collect()
    }

    /// The configuration as stored in `test.json`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a configuration serializes")
    }

    /// A configuration read back from `test.json`. Flags the file does not
    /// name (such as ones added to the bench after the run) take their
    /// defaults; fields the bench does not know are ignored.
    pub fn from_json(stored: &Value) -> Result<Config, String> {
        let text = |name: &str| {
            stored[name]
                .as_str()
                .ok_or_else(|| format!("the stored configuration has no `{name}`"))
        };
        let workload: Workload = serde_json::from_value(stored["workload"].clone())
            .map_err(|err| format!("the stored configuration's workload: {err}"))?;
        let mut merged = Config::new(workload, text("bin")?).to_json();
        let (Some(fields), Some(defaults)) = (stored.as_object(), merged.as_object_mut()) else {
            return Err("the stored configuration is not a JSON object".to_owned());
        };
        for (name, value) in fields {
            if defaults.contains_key(name) {
                defaults.insert(name.clone(), value.clone());
            }
        }
        serde_json::from_value(merged).map_err(|err| format!("the stored configuration: {err}"))
    }

    /// Whether the partition nemesis runs.
    pub fn partitions(&self) -> bool {
        self.nemesis.contains(&NemesisKind::Partition)
    }
}

/// The workloads the bench knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Echo,
    UniqueIds,
    Broadcast,
    GCounter,
    PnCounter,
    GSet,
    LinKv,
    Kafka,
    TxnRwRegister,
    TxnListAppend,
}

impl Workload {
    /// The workload's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Echo => "echo",
            Workload::UniqueIds => "unique-ids",
            Workload::Broadcast => "broadcast",
            Workload::GCounter => "g-counter",
            Workload::PnCounter => "pn-counter",
            Workload::GSet => "g-set",
            Workload::LinKv => "lin-kv",
            Workload::Kafka => "kafka",
            Workload::TxnRwRegister => "txn-rw-register",
            Workload::TxnListAppend => "txn-list-append",
        }
    }
}

/// `--concurrency`: a total, or a multiple of the node count. Stored as
/// the flag's text (`"1n"`, `"5"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Concurrency {
    Total(usize),
    PerNode(usize),
}

/// `--availability`. Stored as the flag's text (`"total"`, `"0.5"`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Availability {
    /// Every operation must succeed.
    Total,
    /// At least this fraction of operations must succeed.
    Fraction(f64),
}

/// `--consistency-models`: what transactions must meet, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsistencyModel {
    ReadUncommitted,
    ReadCommitted,
    Serializable,
    StrictSerializable,
}

/// `--latency-dist`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyDist {
    Constant,
    Uniform,
    Exponential,
}

/// `--nemesis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NemesisKind {
    Partition,
}

/// `--topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    Grid,
    Line,
    Total,
    Tree2,
    Tree3,
    Tree4,
}

impl From<Concurrency> for String {
    fn from(concurrency: Concurrency) -> String {
        match concurrency {
            Concurrency::Total(n) => n.to_string(),
            Concurrency::PerNode(n) => format!("{n}n"),
        }
    }
}

impl TryFrom<String> for Concurrency {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        parse_concurrency(&text)
    }
}

impl From<Availability> for String {
    fn from(availability: Availability) -> String {
        match availability {
            Availability::Total => "total".to_owned(),
            Availability::Fraction(fraction) => fraction.to_string(),
        }
    }
}

impl TryFrom<String> for Availability {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        parse_availability(&text)
    }
}

fn positive_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value > 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("expected a positive number, got `{text}`")),
    }
}

fn non_negative_f64(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value >= 0.0 && value.is_finite() => Ok(value),
        _ => Err(format!("expected a number of at least 0, got `{text}`")),
    }
}

fn parse_concurrency(text: &str) -> Result<Concurrency, String> {
    let bad = || format!("expected a positive whole number or `Nn` (N per node), got `{text}`");
    let (digits, per_node) = match text.strip_suffix('n') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    let n: usize = digits.parse().map_err(|_| bad())?;
    if n == 0 {
        return Err(bad());
    }
    Ok(if per_node {
        Concurrency::PerNode(n)
    } else {
        Concurrency::Total(n)
    })
}

fn parse_availability(text: &str) -> Result<Availability, String> {
    if text == "total" {
        return Ok(Availability::Total);
    }
    match text.parse::<f64>() {
        Ok(fraction) if (0.0..=1.0).contains(&fraction) => Ok(Availability::Fraction(fraction)),
        _ => Err(format!(
            "expected `total` or a fraction from 0 to 1, got `{text}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Config, clap::Error> {
        let args = std::iter::once("testbench").chain(args.split_whitespace());
        Cli::try_parse_from(args).map(|cli| match cli.command {
            Command::Test(config) => config,
            _ => panic!("not a test"),
        })
    }

    #[test]
    fn flags_parse_with_maelstroms_defaults() {
        let config =
            parse("test -w broadcast --bin ./b --node-count 25 --rate 100 --latency 100").unwrap();
        assert_eq!(config.workload, Workload::Broadcast);
        assert_eq!(config.node_count, 25);
        assert_eq!(config.processes(), 25);
        assert_eq!(config.topology, Topology::Grid);
        assert_eq!(config.latency_dist, LatencyDist::Constant);
        assert!(!config.partitions());
        assert_eq!(config.nemesis_interval, 10.0);
    }

    #[test]
    fn concurrency_and_availability_forms() {
        let config = parse("test -w kafak --bin b").unwrap_err();
        assert!(config.to_string().contains("invalid value 'kafak'"));
        let config =
            parse("test -w echo --bin b --node-count 3 --concurrency 2n --availability total")
                .unwrap();
        assert_eq!(config.processes(), 6);
        assert_eq!(config.availability, Some(Availability::Total));
        let config = parse("test -w echo --bin b --concurrency 7 --availability 0.5").unwrap();
        assert_eq!(config.processes(), 7);
        assert_eq!(config.availability, Some(Availability::Fraction(0.5)));
    }

    #[test]
    fn bad_flags_are_usage_errors() {
        for args in [
            "test -w echo --bin b --rate 0",
            "test -w echo --bin b --concurrency 0n",
            "test -w echo --bin b --availability most",
            "test -w echo --bin b --latency-dist gaussian",
            "test -w echo --bin b --frobnicate",
            "test -w echo",
        ] {
            assert!(parse(args).is_err(), "{args} parsed");
        }
    }

    #[test]
    fn transaction_flags() {
        let config = parse("test -w txn-rw-register --bin b").unwrap();
        assert_eq!(
            config.consistency_models,
            [ConsistencyModel::StrictSerializable]
        );
        assert_eq!(
            (
                config.key_count,
                config.max_txn_length,
                config.max_writes_per_key
            ),
            (10, 4, 16)
        );
        let config = parse(
            "test -w txn-list-append --bin b --consistency-models read-uncommitted,read-committed --key-count 3",
        )
        .unwrap();
        assert_eq!(
            config.consistency_models,
            [
                ConsistencyModel::ReadUncommitted,
                ConsistencyModel::ReadCommitted
            ]
        );
        assert_eq!(config.key_count, 3);
        assert!(parse("test -w kafka --bin b --consistency-models snapshot").is_err());
        assert!(parse("test -w kafka --bin b --max-txn-length 0").is_err());
    }

    #[test]
    fn a_stored_configuration_reads_back_the_same() {
        let config = parse(
            "test -w txn-list-append --bin ./t --node-count 3 --concurrency 2n --availability 0.75 \
             --nemesis partition --consistency-models read-committed --latency-dist uniform --seed 9 -- a b",
        )
        .unwrap();
        let stored = config.to_json();
        assert_eq!(stored["workload"], "txn-list-append");
        assert_eq!(stored["concurrency"], "2n");
        assert_eq!(stored["availability"], "0.75");
        assert_eq!(
            stored["consistency-models"],
            serde_json::json!(["read-committed"])
        );
        let back = Config::from_json(&stored).unwrap();
        assert_eq!(back.to_json(), stored);
        assert_eq!(back.processes(), 6);
        assert_eq!(back.availability, Some(Availability::Fraction(0.75)));
        assert_eq!(back.args, ["a", "b"]);
    }

    #[test]
    fn a_stored_configuration_may_lack_flags_and_have_unknown_ones() {
        let stored = serde_json::json!({
            "workload": "broadcast", "bin": "b", "rate": 100.0, "a-future-flag": 1,
        });
        let config = Config::from_json(&stored).unwrap();
        assert_eq!(config.rate, 100.0);
        assert_eq!(config.node_count, 5, "a missing flag takes its default");
        assert_eq!(config.concurrency, Concurrency::PerNode(1));
        let bad = serde_json::json!({"workload": "broadcast", "bin": "b", "concurrency": "0n"});
        let err = Config::from_json(&bad).unwrap_err();
        assert!(err.contains("`0n`"), "{err}");
        let unknown = serde_json::json!({"workload": "raft", "bin": "b"});
        assert!(Config::from_json(&unknown).is_err());
    }

    #[test]
    fn node_binary_arguments_follow_a_double_dash() {
        let config = parse("test -w echo --bin b -- --interval 50").unwrap();
        assert_eq!(config.args, ["--interval", "50"]);
    }
}
