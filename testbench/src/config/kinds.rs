//! The kinds a flag chooses among (workloads, latency distributions,
//! consistency models, ...) and how they are written.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use super::parse::{number, MAX_PROCESSES};

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

/// `--host-timing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostTiming {
    /// Maelstrom's own time per message, as its JVM spends it.
    Maelstrom,
    /// No time but the network's latency.
    Ideal,
}

/// `--nemesis`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NemesisKind {
    /// Network partitions (Maelstrom's only fault).
    Partition,
    /// Nodes killed and restarted (fresh state, `init` again).
    Kill,
    /// Nodes stopped (`SIGSTOP`) and continued.
    Pause,
}

/// `--topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    Grid,
    Line,
    Total,
    /// A tree of fan-out 2 (also `tree`, as in Maelstrom).
    #[value(alias = "tree")]
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

pub(super) fn parse_concurrency(text: &str) -> Result<Concurrency, String> {
    let bad = || format!("expected a positive whole number or `Nn` (N per node), got `{text}`");
    let (digits, per_node) = match text.strip_suffix('n') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    let n: usize = digits.parse().map_err(|_| bad())?;
    if n == 0 || n > MAX_PROCESSES {
        return Err(bad());
    }
    Ok(if per_node {
        Concurrency::PerNode(n)
    } else {
        Concurrency::Total(n)
    })
}

pub(super) fn parse_availability(text: &str) -> Result<Availability, String> {
    if text == "total" {
        return Ok(Availability::Total);
    }
    match number(text) {
        Some(fraction) if (0.0..=1.0).contains(&fraction) => Ok(Availability::Fraction(fraction)),
        _ => Err(format!(
            "expected `total` or a fraction from 0 to 1 (such as 0.99 or 99/100), got `{text}`"
        )),
    }
}

/// Every consistency model name Elle knows; those the bench judges map to
/// [`ConsistencyModel`] (with Elle's aliases).
pub(super) fn parse_model(text: &str) -> Result<ConsistencyModel, String> {
    const JUDGED: [(&str, ConsistencyModel); 9] = [
        ("read-uncommitted", ConsistencyModel::ReadUncommitted),
        ("PL-1", ConsistencyModel::ReadUncommitted),
        ("read-committed", ConsistencyModel::ReadCommitted),
        ("PL-2", ConsistencyModel::ReadCommitted),
        ("serializable", ConsistencyModel::Serializable),
        ("PL-3", ConsistencyModel::Serializable),
        ("conflict-serializable", ConsistencyModel::Serializable),
        ("strict-serializable", ConsistencyModel::StrictSerializable),
        ("PL-SS", ConsistencyModel::StrictSerializable),
    ];
    const KNOWN: [&str; 48] = [
        "PL-2+",
        "PL-2.99",
        "PL-2L",
        "PL-3U",
        "PL-CS",
        "PL-FCV",
        "PL-MSR",
        "PL-SI",
        "PRAM",
        "1SR",
        "causal",
        "causal-cerone",
        "consistent-view",
        "cursor-stability",
        "forward-consistent-view",
        "linearizable",
        "monotonic-atomic-view",
        "monotonic-reads",
        "monotonic-snapshot-read",
        "monotonic-view",
        "monotonic-writes",
        "parallel-snapshot-isolation",
        "prefix",
        "read-atomic",
        "read-your-writes",
        "repeatable-read",
        "sequential",
        "session-serializable",
        "snapshot-isolation",
        "strong-PL-1",
        "strong-PL-2",
        "strong-read-committed",
        "strong-read-uncommitted",
        "strong-serializable",
        "strong-session-PL-1",
        "strong-session-PL-2",
        "strong-session-read-committed",
        "strong-session-read-uncommitted",
        "strong-session-serializable",
        "strong-session-snapshot-isolation",
        "strong-snapshot-isolation",
        "update-atomic",
        "update-serializable",
        "view-serializable",
        "writes-follow-reads",
        "PL-SS",
        "PL-3",
        "PL-1",
    ];
    let name = text.trim().trim_start_matches(':');
    if let Some((_, model)) = JUDGED.iter().find(|(n, _)| *n == name) {
        return Ok(*model);
    }
    let judged = "read-uncommitted, read-committed, serializable and strict-serializable";
    if KNOWN.contains(&name) {
        Err(format!(
            "the bench's checker cannot judge `{name}` (a model Maelstrom knows); it judges {judged}"
        ))
    } else {
        Err(format!(
            "`{name}` is no consistency model Maelstrom knows; the bench judges {judged}"
        ))
    }
}
