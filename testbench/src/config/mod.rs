//! A test run's configuration, with Maelstrom's flags and defaults: the
//! `test` command's flags parse straight into [`Config`], and a run keeps
//! it as `test.json`.

mod kinds;
mod parse;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use kinds::{parse_availability, parse_concurrency, parse_model};
pub use kinds::{
    Availability, Concurrency, ConsistencyModel, HostTiming, LatencyDist, NemesisKind, Topology,
    Workload,
};
use parse::{interval, latency, probability, rate, seconds};
pub use parse::{MAX_NODES, MAX_PROCESSES};

/// The `test` command's flags alone, for [`Config::from_flags`]. A flag
/// given twice takes its last value, as on the command line.
#[derive(Debug, Parser)]
#[command(name = "test", args_override_self = true)]
struct Flags {
    #[command(flatten)]
    config: Config,
}

/// One test run, as `maelstrom test` takes it.
///
/// It is stored with each run as `test.json` (field names are the flags'
/// names, values as the flags take them), so that `glomers analyze` can
/// judge the run again; see [`Config::to_json`] and [`Config::from_json`].
#[derive(Debug, Clone, clap::Args, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Config {
    /// The workload to run.
    #[arg(short = 'w', long, value_enum, default_value = "lin-kv")]
    pub workload: Workload,

    /// The node binary.
    #[arg(long)]
    pub bin: PathBuf,

    /// Arguments for the node binary: words that are not flags, anywhere,
    /// and everything after `--` (which may start with `-`).
    #[arg(num_args = 0.., allow_hyphen_values = false)]
    pub args: Vec<String>,

    /// How many nodes to run, named `n0` to `n<N-1>` as in Maelstrom
    /// (with neither this nor `--nodes`, Maelstrom's default: `n1` to `n5`).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_NODES), conflicts_with = "nodes")]
    pub node_count: Option<u64>,

    /// The nodes' ids, comma-separated (`--nodes a,b,c`).
    #[arg(long, value_delimiter = ',', conflicts_with = "node_count")]
    pub nodes: Option<Vec<String>>,

    /// One more node id; may be repeated (`--node a --node b`).
    #[arg(long = "node", conflicts_with = "node_count")]
    pub node: Vec<String>,

    /// A file of node ids, one a line.
    #[arg(long, conflicts_with = "node_count")]
    pub nodes_file: Option<PathBuf>,

    /// Seconds of operations before the final phase.
    #[arg(long, default_value_t = 60.0, allow_negative_numbers = true, value_parser = seconds)]
    pub time_limit: f64,

    /// Client operations per second, across all clients.
    #[arg(long, default_value_t = 5.0, allow_negative_numbers = true, value_parser = rate)]
    pub rate: f64,

    /// Client processes: a number, or `Nn` for N per node.
    #[arg(long, default_value = "1n", value_parser = parse_concurrency)]
    pub concurrency: Concurrency,

    /// Mean network latency between nodes, in milliseconds.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true, value_parser = latency)]
    pub latency: f64,

    /// How latencies are distributed around `--latency`.
    #[arg(long, value_enum, default_value_t = LatencyDist::Constant)]
    pub latency_dist: LatencyDist,

    /// The time Maelstrom itself takes on each message (`maelstrom`, the
    /// default: calibrated from runs it recorded on a 2-core machine; see
    /// README) or none (`ideal`: messages enter the network the moment
    /// they are written and leave it at their deadline).
    #[arg(long, value_enum, default_value_t = HostTiming::Maelstrom)]
    pub host_timing: HostTiming,

    /// Faults to inject, comma-separated: `partition` (as Maelstrom), and
    /// `kill` and `pause` (as Jepsen's combined nemesis).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub nemesis: Vec<NemesisKind>,

    /// Seconds between nemesis events.
    #[arg(long, default_value_t = 10.0, allow_negative_numbers = true, value_parser = interval)]
    pub nemesis_interval: f64,

    /// The broadcast topology given to nodes.
    #[arg(long, value_enum, default_value_t = Topology::Grid)]
    pub topology: Topology,

    /// `total` to require every operation to succeed, or the fraction of
    /// operations that must.
    #[arg(long, value_parser = parse_availability)]
    pub availability: Option<Availability>,

    /// Keys in play at once (kafka, txn-rw-register, txn-list-append).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub key_count: u64,

    /// The most micro-operations in one transaction.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub max_txn_length: u64,

    /// Writes a key takes before a fresh key replaces it.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1_000_000_000))]
    pub max_writes_per_key: u64,

    /// The consistency models transactions must meet, comma-separated.
    /// Every name Maelstrom (Elle) knows is accepted; the bench judges
    /// read-uncommitted, read-committed, serializable and
    /// strict-serializable (and their Elle aliases such as PL-2 or
    /// conflict-serializable), and says so for the others.
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = parse_model,
        default_value = "strict-serializable"
    )]
    pub consistency_models: Vec<ConsistencyModel>,

    /// Runs the whole test this many times, stopping at the first run that
    /// is not valid.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub test_count: u64,

    /// Log every message sent into the network on stderr.
    #[arg(long)]
    pub log_net_send: bool,

    /// Log every message delivered by the network on stderr.
    #[arg(long)]
    pub log_net_recv: bool,

    /// Beyond Maelstrom: the probability that a message between servers
    /// is lost (during the main phase only).
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    pub loss: f64,

    /// Beyond Maelstrom: the probability that a message between servers
    /// is delivered twice (during the main phase only).
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    pub duplicate: f64,

    /// Beyond Maelstrom: the probability that a message between servers
    /// is held up for ten times the mean latency more (a delay spike,
    /// which also reorders it; during the main phase only).
    #[arg(long, default_value_t = 0.0, value_parser = probability)]
    pub delay_spikes: f64,

    /// Beyond Maelstrom, simulator only: each node's clock is off by up to
    /// this many milliseconds (`now` and the start of its timers).
    #[arg(long, default_value_t = 0.0, value_parser = latency)]
    pub clock_skew: f64,

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
        let mut config =
            Config::from_flags(&format!("-w {}", workload.name())).expect("the defaults parse");
        config.bin = bin.into();
        config
    }

    /// The configuration `glomers test` makes of `flags` (words
    /// separated by white space; `--bin` may be left out).
    ///
    /// ```
    /// let config = testbench::Config::from_flags("-w kafka --node-count 2 --rate 1000").unwrap();
    /// assert_eq!(config.node_ids(), ["n0", "n1"]);
    /// assert!(testbench::Config::from_flags("--rate fast").is_err());
    /// ```
    pub fn from_flags(flags: &str) -> Result<Config, String> {
        let words: Vec<&str> = flags.split_whitespace().collect();
        let has_bin = words
            .iter()
            .any(|w| *w == "--bin" || w.starts_with("--bin="));
        let bin: &[&str] = if has_bin { &[] } else { &["--bin", "<none>"] };
        let args = ["test"].iter().chain(bin).chain(words.iter()).copied();
        Flags::try_parse_from(args)
            .map(|flags| flags.config)
            .map_err(|err| err.to_string())
    }

    /// The run's length before the final phase.
    pub fn time_limit(&self) -> Duration {
        Duration::from_secs_f64(self.time_limit)
    }

    /// The number of client processes.
    pub fn processes(&self) -> usize {
        match self.concurrency {
            Concurrency::Total(n) => n,
            Concurrency::PerNode(n) => n.saturating_mul(self.node_total()),
        }
    }

    /// Checks what the flag parsers cannot check alone (for a `Config`
    /// built in code, everything): `Err` is a usage error.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            ("--time-limit", seconds(&self.time_limit.to_string())),
            ("--rate", rate(&self.rate.to_string())),
            ("--latency", latency(&self.latency.to_string())),
            (
                "--nemesis-interval",
                interval(&self.nemesis_interval.to_string()),
            ),
        ];
        for (flag, check) in checks {
            check.map_err(|err| format!("{flag}: {err}"))?;
        }
        if let Some(file) = &self.nodes_file {
            std::fs::read_to_string(file)
                .map_err(|err| format!("--nodes-file {}: {err}", file.display()))?;
        }
        let ids = self.node_ids();
        if !(1..=MAX_NODES as usize).contains(&ids.len()) {
            return Err(format!(
                "expected 1 to {MAX_NODES} nodes, got {}",
                ids.len()
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for id in &ids {
            let taken = id.is_empty()
                || (id.starts_with('c') && id[1..].parse::<u64>().is_ok())
                || crate::services::Service::from_id(id).is_some();
            if taken {
                return Err(format!(
                    "--nodes: `{id}` cannot name a node (empty, a client id such as c1, or a service id)"
                ));
            }
            if !seen.insert(id) {
                return Err(format!("--nodes: `{id}` is named twice"));
            }
        }
        let processes = self.processes();
        if !(1..=MAX_PROCESSES).contains(&processes) {
            return Err(format!(
                "--concurrency: expected 1 to {MAX_PROCESSES} client processes in all, got {processes}"
            ));
        }
        Ok(())
    }

    /// The node ids: `n0` to `n<N-1>` for `--node-count N`; else those of
    /// `--nodes-file`, `--nodes` and `--node`, in that order (as Jepsen
    /// joins them); else Maelstrom's default `n1` to `n5`.
    pub fn node_ids(&self) -> Vec<String> {
        if let Some(count) = self.node_count {
            return (0..count).map(|i| format!("n{i}")).collect();
        }
        let mut ids: Vec<String> = self
            .nodes_file
            .as_ref()
            .and_then(|file| std::fs::read_to_string(file).ok())
            .map(|text| {
                text.lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        ids.extend(self.nodes.iter().flatten().map(|id| id.trim().to_owned()));
        ids.extend(self.node.iter().cloned());
        if ids.is_empty() && self.nodes.is_none() {
            ids = (1..=5).map(|i| format!("n{i}")).collect();
        }
        ids
    }

    /// How many nodes run.
    pub fn node_total(&self) -> usize {
        match self.node_count {
            Some(count) => count as usize,
            None => self.node_ids().len(),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &str) -> Result<Config, clap::Error> {
        let args = args.split_whitespace().skip_while(|word| *word == "test");
        Flags::try_parse_from(std::iter::once("test").chain(args)).map(|flags| flags.config)
    }

    #[test]
    fn flags_parse_with_maelstroms_defaults() {
        let config =
            parse("test -w broadcast --bin ./b --node-count 25 --rate 100 --latency 100").unwrap();
        assert_eq!(config.workload, Workload::Broadcast);
        assert_eq!(config.node_count, Some(25));
        assert_eq!(config.node_ids()[0], "n0");
        assert_eq!(config.node_ids()[24], "n24");
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
            "test -w echo --bin b --concurrency 0n",
            "test -w echo --bin b --availability most",
            "test -w echo --bin b --latency-dist gaussian",
            "test -w echo --bin b --frobnicate",
            "test -w echo --bin b --node-count 3 --nodes a",
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
        let unknown = parse("test -w kafka --bin b --consistency-models snapshot").unwrap_err();
        assert!(unknown
            .to_string()
            .contains("no consistency model Maelstrom knows"));
        let unjudged =
            parse("test -w kafka --bin b --consistency-models snapshot-isolation").unwrap_err();
        assert!(unjudged
            .to_string()
            .contains("cannot judge `snapshot-isolation`"));
        let aliases =
            parse("test -w kafka --bin b --consistency-models PL-2,conflict-serializable").unwrap();
        assert_eq!(
            aliases.consistency_models,
            [
                ConsistencyModel::ReadCommitted,
                ConsistencyModel::Serializable
            ]
        );
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
        assert_eq!(config.node_count, None, "a missing flag takes its default");
        assert_eq!(config.concurrency, Concurrency::PerNode(1));
        let bad = serde_json::json!({"workload": "broadcast", "bin": "b", "concurrency": "0n"});
        let err = Config::from_json(&bad).unwrap_err();
        assert!(err.contains("`0n`"), "{err}");
        let unknown = serde_json::json!({"workload": "raft", "bin": "b"});
        assert!(Config::from_json(&unknown).is_err());
    }

    #[test]
    fn out_of_range_numbers_are_usage_errors_not_panics() {
        for (args, says) in [
            ("--time-limit 1e20", "30 days"),
            ("--time-limit 0", "more than 0"),
            ("--rate 1e-20", "from 0.001"),
            ("--rate NaN", "operations per second"),
            ("--latency 1e300", "one hour"),
            ("--latency -5", "at least 0"),
            ("--nemesis-interval 1e300", "30 days"),
            ("--nemesis-interval 1e-9", "from 0.01"),
            ("--concurrency 99999999999n", "`Nn`"),
            ("--key-count 1000000000000", "1000000"),
            ("--max-txn-length 100000000", "10000"),
        ] {
            let err = parse(&format!("test -w echo --bin b {args}")).unwrap_err();
            assert!(err.to_string().contains(says), "{args}: {err}");
        }
        let mut config =
            parse("test -w echo --bin b --concurrency 1000n --node-count 1000").unwrap();
        assert!(config.validate().unwrap_err().contains("--concurrency"));
        config.concurrency = Concurrency::PerNode(1);
        config.latency = f64::INFINITY;
        assert!(config.validate().unwrap_err().contains("--latency"));
    }

    #[test]
    fn host_timing_is_maelstroms_unless_asked_for_ideal() {
        let timing =
            |args: &str| parse(&format!("test -w echo --bin b {args}")).map(|c| c.host_timing);
        assert_eq!(timing("").unwrap(), HostTiming::Maelstrom);
        assert_eq!(timing("--host-timing ideal").unwrap(), HostTiming::Ideal);
        assert!(timing("--host-timing jvm").is_err());
    }

    #[test]
    fn node_ids_follow_maelstrom() {
        let ids = |args: &str| parse(&format!("test -w echo --bin b {args}")).map(|c| c.node_ids());
        assert_eq!(ids("--node-count 3").unwrap(), ["n0", "n1", "n2"]);
        assert_eq!(ids("").unwrap(), ["n1", "n2", "n3", "n4", "n5"]);
        assert_eq!(ids("--nodes a,b,c").unwrap(), ["a", "b", "c"]);
        assert!(ids("--nodes a --node-count 2").is_err());
        for bad in [
            "--nodes a,a",
            "--nodes c3,b",
            "--nodes lin-kv",
            "--nodes a,,b",
        ] {
            let config = parse(&format!("test -w echo --bin b {bad}")).unwrap();
            assert!(config.validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn node_binary_arguments_follow_a_double_dash_or_stand_alone() {
        let config = parse("test -w echo --bin b -- --interval 50").unwrap();
        assert_eq!(config.args, ["--interval", "50"]);
        let config = parse("test -w echo 150 --bin b --rate 3 fast").unwrap();
        assert_eq!(config.args, ["150", "fast"]);
        assert_eq!(config.rate, 3.0);
    }

    #[test]
    fn maelstroms_other_spellings_parse() {
        let config =
            parse("test --bin b --topology tree --nemesis-interval 1/2 --availability 99/100")
                .unwrap();
        assert_eq!(
            config.workload,
            Workload::LinKv,
            "Maelstrom's default workload"
        );
        assert_eq!(config.topology, Topology::Tree2);
        assert_eq!(config.nemesis_interval, 0.5);
        assert_eq!(config.availability, Some(Availability::Fraction(0.99)));
        let config = parse("test -w echo --bin b --rate 0 --test-count 3 --log-net-send").unwrap();
        assert_eq!(
            (config.rate, config.test_count, config.log_net_send),
            (0.0, 3, true)
        );
        let config = parse("test -w echo --bin b --node x --node y").unwrap();
        assert_eq!(config.node_ids(), ["x", "y"]);
        let nemesis = parse("test -w echo --bin b --nemesis partition,kill,pause").unwrap();
        assert_eq!(nemesis.nemesis.len(), 3);
    }
}
