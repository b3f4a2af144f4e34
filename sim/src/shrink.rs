//! Shrinking a failing run: the same seed with less of everything (a
//! shorter run, fewer faults, a lower rate, fewer nodes), kept while it
//! still fails, so that the case a person debugs is small.

use std::collections::BTreeSet;

use serde_json::Value;
use testbench::config::{Availability, Concurrency, ConsistencyModel, NemesisKind};
use testbench::Config;

/// The most runs one shrink may make.
const BUDGET: usize = 40;

/// The smallest variation of `config` found for which `fails` still holds
/// (`config` itself if none is).
pub fn shrink(config: &Config, fails: impl Fn(&Config) -> bool) -> Config {
    let mut best = config.clone();
    let mut tries = 0;
    let mut attempt = |candidate: Config, best: &mut Config| -> bool {
        if tries >= BUDGET {
            return false;
        }
        tries += 1;
        if fails(&candidate) {
            *best = candidate;
            true
        } else {
            false
        }
    };
    // A shorter run.
    while best.time_limit > 1.0 {
        let mut shorter = best.clone();
        shorter.time_limit = (best.time_limit / 2.0).max(1.0);
        if !attempt(shorter, &mut best) {
            break;
        }
    }
    // Fewer kinds of fault.
    for kind in [
        NemesisKind::Pause,
        NemesisKind::Kill,
        NemesisKind::Partition,
    ] {
        if best.nemesis.contains(&kind) {
            let mut fewer = best.clone();
            fewer.nemesis.retain(|k| *k != kind);
            attempt(fewer, &mut best);
        }
    }
    let calmer: [fn(&mut Config); 4] = [
        |c| c.loss = 0.0,
        |c| c.duplicate = 0.0,
        |c| c.delay_spikes = 0.0,
        |c| c.clock_skew = 0.0,
    ];
    for calm in calmer {
        let mut candidate = best.clone();
        calm(&mut candidate);
        if flags(&candidate) != flags(&best) {
            attempt(candidate, &mut best);
        }
    }
    // Fewer operations.
    while best.rate > 1.0 {
        let mut slower = best.clone();
        slower.rate = (best.rate / 2.0).max(1.0);
        if !attempt(slower, &mut best) {
            break;
        }
    }
    // Fewer nodes.
    while let Some(count) = best.node_count.filter(|c| *c > 1) {
        let mut smaller = best.clone();
        smaller.node_count = Some(count - 1);
        if !attempt(smaller, &mut best) {
            break;
        }
    }
    best
}

/// How a run failed, as a set of names: the workload checker's anomaly
/// kinds (Elle's `anomaly-types`, kafka's `bad-error-types`, the other
/// checkers' non-zero counts such as `lost-count`), or, when it names none,
/// the parts of the results that are invalid. A shrunk case must share one
/// with the original, so that shrinking keeps the failure it set out with.
pub fn signature(results: &Value) -> BTreeSet<String> {
    let workload = &results["workload"];
    let mut kinds = BTreeSet::new();
    for list in ["anomaly-types", "bad-error-types"] {
        for kind in workload[list].as_array().into_iter().flatten() {
            kinds.extend(kind.as_str().map(str::to_owned));
        }
    }
    let counted = [
        "lost-count",
        "unexpected-count",
        "duplicated-count",
        "errors",
    ];
    for (key, value) in workload.as_object().into_iter().flatten() {
        let nonzero = value.as_u64().is_some_and(|n| n > 0)
            || value.as_array().is_some_and(|a| !a.is_empty());
        if counted.contains(&key.as_str()) && nonzero {
            kinds.insert(key.clone());
        }
    }
    if workload["failures"]
        .as_array()
        .is_some_and(|f| !f.is_empty())
    {
        kinds.insert("nonlinearizable".to_owned());
    }
    if !kinds.is_empty() {
        return kinds;
    }
    // Nothing more specific: the parts of the results that are invalid.
    ["workload", "stats", "availability", "nodes"]
        .into_iter()
        .filter(|part| results[*part]["valid?"] == Value::Bool(false))
        .map(str::to_owned)
        .collect()
}

/// The flags that describe `config`'s run (all but the workload, the
/// binary and the store), as `glomers test` takes them: those whose
/// values differ from the workload's defaults.
pub fn flags(config: &Config) -> String {
    let defaults = crate::flags::parse_flags(&format!("-w {}", config.workload.name()))
        .map(|d| all_flags(&d))
        .unwrap_or_default();
    all_flags(config)
        .into_iter()
        .filter(|flag| !defaults.contains(flag))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every flag of `config`'s run, one `--name value` each.
fn all_flags(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    let mut flag = |name: &str, value: String| out.push(format!("--{name} {value}"));
    match (&config.node_count, &config.nodes) {
        (Some(count), _) => flag("node-count", count.to_string()),
        (None, _) => flag("nodes", config.node_ids().join(",")),
    }
    flag("time-limit", config.time_limit.to_string());
    flag("rate", config.rate.to_string());
    flag(
        "concurrency",
        match config.concurrency {
            Concurrency::Total(n) => n.to_string(),
            Concurrency::PerNode(n) => format!("{n}n"),
        },
    );
    if config.latency > 0.0 {
        flag("latency", config.latency.to_string());
        flag(
            "latency-dist",
            format!("{:?}", config.latency_dist).to_lowercase(),
        );
    }
    if !config.nemesis.is_empty() {
        let kinds: Vec<String> = config
            .nemesis
            .iter()
            .map(|k| format!("{k:?}").to_lowercase())
            .collect();
        flag("nemesis", kinds.join(","));
        flag("nemesis-interval", config.nemesis_interval.to_string());
    }
    flag("topology", format!("{:?}", config.topology).to_lowercase());
    if let Some(availability) = config.availability {
        flag(
            "availability",
            match availability {
                Availability::Total => "total".to_owned(),
                Availability::Fraction(f) => f.to_string(),
            },
        );
    }
    flag("key-count", config.key_count.to_string());
    flag("max-txn-length", config.max_txn_length.to_string());
    flag("max-writes-per-key", config.max_writes_per_key.to_string());
    let models: Vec<&str> = config
        .consistency_models
        .iter()
        .map(|m| match m {
            ConsistencyModel::ReadUncommitted => "read-uncommitted",
            ConsistencyModel::ReadCommitted => "read-committed",
            ConsistencyModel::Serializable => "serializable",
            ConsistencyModel::StrictSerializable => "strict-serializable",
        })
        .collect();
    flag("consistency-models", models.join(","));
    for (name, value) in [
        ("loss", config.loss),
        ("duplicate", config.duplicate),
        ("delay-spikes", config.delay_spikes),
        ("clock-skew", config.clock_skew),
    ] {
        if value > 0.0 {
            flag(name, value.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(flags: &str) -> Config {
        crate::flags::parse_flags(flags).unwrap()
    }

    #[test]
    fn flags_read_back_as_the_same_configuration() {
        let original = config(
            "-w txn-rw-register --node-count 3 --time-limit 7.5 --rate 20 --concurrency 2n \
             --latency 10 --latency-dist exponential --nemesis partition,kill \
             --nemesis-interval 2 --availability total --consistency-models read-committed \
             --loss 0.1 --clock-skew 50",
        );
        let back = config(&format!("-w txn-rw-register {}", flags(&original)));
        assert_eq!(flags(&back), flags(&original));
        assert_eq!(back.nemesis, original.nemesis);
        assert_eq!(back.loss, 0.1);
    }

    #[test]
    fn a_failure_is_known_by_its_anomalies_else_by_its_invalid_parts() {
        let kafka = serde_json::json!({
            "workload": {"valid?": false, "bad-error-types": ["poll-skip"]},
            "stats": {"valid?": true},
        });
        assert_eq!(signature(&kafka), BTreeSet::from(["poll-skip".to_owned()]));
        let lost =
            serde_json::json!({"workload": {"valid?": false, "bad-error-types": ["lost-write"]}});
        assert!(signature(&kafka).is_disjoint(&signature(&lost)));
        let counter = serde_json::json!({
            "workload": {"valid?": false, "errors": []},
            "nodes": {"valid?": false},
        });
        assert_eq!(
            signature(&counter),
            BTreeSet::from(["nodes".to_owned(), "workload".to_owned()])
        );
    }

    #[test]
    fn shrinking_keeps_only_what_the_failure_needs() {
        let big = config(
            "-w broadcast --node-count 5 --time-limit 20 --rate 100 --nemesis partition,pause --loss 0.2",
        );
        // A "bug" that needs partitions and at least 3 nodes, nothing else.
        let small = shrink(&big, |c| {
            c.nemesis.contains(&NemesisKind::Partition) && c.node_count.unwrap_or(5) >= 3
        });
        assert_eq!(small.time_limit, 1.0);
        assert_eq!(small.nemesis, [NemesisKind::Partition]);
        assert_eq!(small.loss, 0.0);
        assert_eq!(small.rate, 1.0);
        assert_eq!(small.node_count, Some(3));
        // A failure nothing smaller shows stays as it is.
        let same = shrink(&big, |c| flags(c) == flags(&big));
        assert_eq!(flags(&same), flags(&big));
    }
}
