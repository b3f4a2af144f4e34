//! `glomers official`: every challenge binary that exists, run with the
//! official Gossip Glomers parameters, summed up in one table.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A challenge: its name, its binary, and the official flags.
pub struct Challenge {
    pub name: &'static str,
    pub binary: &'static str,
    pub flags: &'static str,
}

/// The challenges whose workloads the bench runs, with their official flags.
pub const CHALLENGES: &[Challenge] = &[
    Challenge { name: "1 echo", binary: "echo", flags: "-w echo --node-count 1 --time-limit 10" },
    Challenge {
        name: "2 unique ids",
        binary: "unique-ids",
        flags: "-w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition",
    },
    Challenge { name: "3a broadcast", binary: "broadcast", flags: "-w broadcast --node-count 1 --time-limit 20 --rate 10" },
    Challenge { name: "3b broadcast", binary: "broadcast", flags: "-w broadcast --node-count 5 --time-limit 20 --rate 10" },
    Challenge {
        name: "3c broadcast",
        binary: "broadcast",
        flags: "-w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition",
    },
    Challenge {
        name: "3d/3e broadcast",
        binary: "broadcast",
        flags: "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100",
    },
    Challenge {
        name: "3d/3e broadcast, partitioned",
        binary: "broadcast",
        flags: "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100 --nemesis partition",
    },
    Challenge {
        name: "4 g-counter",
        binary: "counter",
        flags: "-w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
    },
    Challenge {
        name: "5a kafka",
        binary: "kafka",
        flags: "-w kafka --node-count 1 --concurrency 2n --time-limit 20 --rate 1000",
    },
    Challenge {
        name: "5b/5c kafka",
        binary: "kafka",
        flags: "-w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000",
    },
    Challenge {
        name: "6a txn",
        binary: "txn",
        flags: "-w txn-rw-register --node-count 1 --time-limit 20 --rate 1000 --concurrency 2n --consistency-models read-uncommitted",
    },
    Challenge {
        name: "6b txn",
        binary: "txn",
        flags: "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-uncommitted --availability total --nemesis partition",
    },
    Challenge {
        name: "6c txn",
        binary: "txn",
        flags: "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition",
    },
    Challenge {
        name: "bonus raft",
        binary: "raft",
        flags: "-w lin-kv --node-count 3 --concurrency 10n --rate 100 --time-limit 60 --nemesis partition --nemesis-interval 3",
    },
    Challenge {
        name: "bonus raft, 5 nodes",
        binary: "raft",
        flags: "-w lin-kv --node-count 5 --concurrency 10n --rate 100 --time-limit 60 --nemesis partition --nemesis-interval 3",
    },
    Challenge {
        name: "bonus list-append",
        binary: "list-append",
        flags: "-w txn-list-append --node-count 2 --rate 100 --time-limit 60 --consistency-models strict-serializable",
    },
    Challenge {
        name: "bonus list-append, partitioned",
        binary: "list-append",
        flags: "-w txn-list-append --node-count 2 --rate 100 --time-limit 60 --consistency-models strict-serializable --nemesis partition",
    },
    Challenge {
        name: "bonus list-append, 5 nodes, partitioned",
        binary: "list-append",
        flags: "-w txn-list-append --node-count 5 --rate 100 --time-limit 60 --consistency-models strict-serializable --nemesis partition",
    },
    Challenge {
        name: "pn-counter (extra)",
        binary: "counter",
        flags: "-w pn-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
    },
    Challenge {
        name: "g-set (extra)",
        binary: "g-set",
        flags: "-w g-set --node-count 5 --rate 50 --time-limit 20 --nemesis partition",
    },
];

/// One row of the table.
pub struct Row {
    pub name: &'static str,
    pub outcome: Result<Value, String>,
}

/// Runs each challenge whose binary is in `bin_dir` (all of them, or those
/// whose name contains `only`), printing each row as it finishes.
pub fn run_all(bin_dir: &Path, only: Option<&str>, store: &Path) -> Vec<Row> {
    testbench::console::stdout(
        "| challenge | valid | servers msgs-per-op | latency median / max (ms) | availability |\n\
         | --- | --- | ---: | --- | ---: |\n",
    );
    let mut rows = Vec::new();
    for challenge in CHALLENGES {
        if only.is_some_and(|only| !challenge.name.contains(only)) {
            continue;
        }
        let bin: PathBuf = bin_dir.join(challenge.binary);
        if !bin.is_file() {
            continue;
        }
        if testbench::interrupt::received().is_some() {
            break; // a signal stopped the run before: no new one starts
        }
        let outcome = run_one(challenge, &bin, store);
        let row = Row {
            name: challenge.name,
            outcome,
        };
        testbench::console::stdout(&format!("{}\n", format_row(&row)));
        rows.push(row);
    }
    rows
}

fn run_one(challenge: &Challenge, bin: &Path, store: &Path) -> Result<Value, String> {
    let mut config = testbench::Config::from_flags(challenge.flags)?;
    config.bin = bin.to_path_buf();
    config.store = store.to_path_buf();
    let outcome = testbench::run(&config)?;
    crate::draw::draw(&outcome.store);
    Ok(outcome.results)
}

/// `| 3b broadcast | true | 7.07 | 203 / 371 | 1.000 |`
pub fn format_row(row: &Row) -> String {
    match &row.outcome {
        Err(error) => format!("| {} | error: {error} | | | |", row.name),
        Ok(results) => {
            let latencies = if results["workload"]["stable-latencies"].is_object() {
                &results["workload"]["stable-latencies"]
            } else {
                &results["latencies"]
            };
            format!(
                "| {} | {} | {:.2} | {} / {} | {:.3} |",
                row.name,
                results["valid?"],
                results["net"]["servers"]["msgs-per-op"]
                    .as_f64()
                    .unwrap_or(0.0),
                latencies["0.5"],
                latencies["1"],
                results["availability"]["ok-fraction"]
                    .as_f64()
                    .unwrap_or(0.0),
            )
        }
    }
}
