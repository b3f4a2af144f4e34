//! This project's `broadcast`, run on the bench with the flags of the
//! official 3d run, against the run the real Maelstrom recorded of the same
//! binary (`shared/maelstrom-reference/broadcast-glomers-150ms`): message
//! counts, the stable-latency quantiles and the clients' latencies must
//! agree.
//!
//! What the bench reproduces is Maelstrom's network: every node's inbox is
//! a queue by deadline whose receiver waits for the head's deadline, so a
//! client's request waits behind a peer's message in flight. What it does
//! not reproduce is the JVM's own time: Maelstrom adds about 2 ms to a
//! client's round trip on a quiet node and more in the bursts after each
//! wave of gossip, which moves the clients' median latency by several
//! milliseconds (it is the reason for the looser bound on the median).

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
fn broadcast_on_the_official_3d_run_agrees_with_maelstrom() {
    let root = testbench::reference::root(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|err| panic!("{err}"));
    let (reference, maelstrom) =
        testbench::reference::load(&root, "broadcast-glomers-150ms").unwrap();
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
    for f in ["read", "broadcast"] {
        let points = [0.5, 0.95];
        let bench = testbench::reference::op_latency_quantiles(&history, f, &points);
        let theirs = testbench::reference::op_latency_quantiles(&reference, f, &points);
        within(&format!("{f} latency p95"), bench[1], theirs[1], 0.10);
        within(&format!("{f} latency median"), bench[0], theirs[0], 0.30);
    }
}
