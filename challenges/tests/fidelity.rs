//! This project's `broadcast`, run on the bench with the flags of the
//! official 3d run, against the run the real Maelstrom recorded of the same
//! binary (`testbench/maelstrom-reference/broadcast-glomers-150ms`): message
//! counts, the stable-latency quantiles and the clients' latencies must
//! agree.
//!
//! What the bench reproduces is Maelstrom's network: every node's inbox is
//! a queue by deadline whose receiver waits for the head's deadline, so a
//! client's request waits behind a peer's message in flight; and, with
//! `--host-timing maelstrom` (the default), the JVM's own time, so that a
//! request that meets no queue takes about 2 ms, as on Maelstrom, instead
//! of 0.2 (the share of requests answered within 2 ms is checked).
//!
//! The clients' median falls where latencies are spread thin (evenly from
//! 0 to 100 ms), so one operation's median moves by several milliseconds
//! from run to run, on Maelstrom as on the bench: Maelstrom's own `read`
//! and `broadcast` medians (35.9 and 31.3 ms) differ by no more than that
//! noise. So the median of all client operations together is held to
//! 10 % (the bench's spans -3 to +6 % of Maelstrom's over eleven runs),
//! and each operation's median to 25 % (the bench's `broadcast` median
//! reached +20 % once in those runs; see `docs/bench.md`, "Side by side
//! with the real Maelstrom").
//!
//! It is the long suite's, run on the release build (`.ci/run`: `cargo
//! test --release --workspace -- --ignored`): a debug build's own time per
//! message would show as latency, and Maelstrom's runs were of release
//! builds.

use testbench::history::History;
use testbench::Config;

fn within(what: &str, bench: f64, maelstrom: f64, tolerance: f64) {
    let off = (bench - maelstrom).abs() / maelstrom.max(1e-9);
    assert!(
        off <= tolerance,
        "{what}: bench {bench:.2}, Maelstrom {maelstrom:.2} ({:.0} % apart, more than {:.0} %)",
        off * 100.0,
        tolerance * 100.0
    );
}

#[test]
#[ignore = "long suite (real time, release build, .ci/run)"]
fn broadcast_on_the_official_3d_run_agrees_with_maelstrom() {
    let (reference, maelstrom) =
        testbench::reference::load("broadcast-glomers-150ms").unwrap_or_else(|err| panic!("{err}"));
    let mut config = Config::from_flags(
        "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100 --seed 7",
    )
    .unwrap();
    config.bin = env!("CARGO_BIN_EXE_broadcast").into();
    config.store = std::env::temp_dir().join("challenges-fidelity-store");
    let outcome = testbench::run(&config).unwrap();
    assert!(outcome.valid, "{}", outcome.results["workload"]);
    let ours = &outcome.results;

    within(
        "servers msgs-per-op",
        ours["net"]["servers"]["msgs-per-op"].as_f64().unwrap(),
        maelstrom["net"]["servers"]["msgs-per-op"].as_f64().unwrap(),
        0.10,
    );
    for point in ["0.5", "0.95", "0.99"] {
        within(
            &format!("stable latency {point}"),
            ours["workload"]["stable-latencies"][point]
                .as_f64()
                .unwrap(),
            maelstrom["workload"]["stable-latencies"][point]
                .as_f64()
                .unwrap(),
            0.10,
        );
    }
    let history =
        History::from_jsonl(&std::fs::read_to_string(outcome.store.join("history.jsonl")).unwrap())
            .unwrap();
    let pooled = |history: &History| {
        let mut all: Vec<f64> = ["read", "broadcast"]
            .iter()
            .flat_map(|f| testbench::reference::op_latencies(history, f))
            .collect();
        all.sort_by(f64::total_cmp);
        all[(all.len() - 1) / 2]
    };
    within(
        "client latency median",
        pooled(&history),
        pooled(&reference),
        0.10,
    );
    for f in ["read", "broadcast"] {
        let quick = |latencies: Vec<f64>| {
            latencies.iter().filter(|&&ms| ms < 2.0).count() as f64 / latencies.len() as f64
        };
        let bench = quick(testbench::reference::op_latencies(&history, f));
        let theirs = quick(testbench::reference::op_latencies(&reference, f));
        assert!(
            (bench - theirs).abs() <= 0.10,
            "{f}: the bench answers {:.0} % within 2 ms, Maelstrom {:.0} %",
            bench * 100.0,
            theirs * 100.0
        );
        let points = [0.5, 0.95];
        let bench = testbench::reference::op_latency_quantiles(&history, f, &points);
        let theirs = testbench::reference::op_latency_quantiles(&reference, f, &points);
        within(&format!("{f} latency p95"), bench[1], theirs[1], 0.10);
        within(&format!("{f} latency median"), bench[0], theirs[0], 0.25);
    }
}
