//! The broadcast checker, fed histories the real Maelstrom recorded, must
//! reach Maelstrom's verdict and its stable-latency quantiles.

use serde_json::Value;
use testbench::checker::set_full;
use testbench::history::History;

fn reference(name: &str) -> (History, Value) {
    testbench::reference::load(name).unwrap_or_else(|err| panic!("{err}"))
}

fn reproduces(name: &str) {
    let (history, maelstrom) = reference(name);
    let ours = set_full::check(&history, "broadcast");
    let theirs = &maelstrom["workload"];
    for key in [
        "valid?",
        "attempt-count",
        "stable-count",
        "lost-count",
        "lost",
        "never-read-count",
        "stale-count",
        "stale",
    ] {
        assert_eq!(ours[key], theirs[key], "{name}: {key}");
    }
    for point in ["0", "0.5", "0.95", "0.99", "1"] {
        let (a, b) = (
            ours["stable-latencies"][point].as_i64().unwrap(),
            theirs["stable-latencies"][point].as_i64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1,
            "{name}: quantile {point}: ours {a} ms, Maelstrom's {b} ms"
        );
    }
    let worst = |v: &Value| -> Vec<(Value, Value)> {
        v["worst-stale"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| (w["element"].clone(), w["stable-latency"].clone()))
            .collect()
    };
    assert_eq!(worst(&ours), worst(theirs), "{name}: worst-stale");
}

#[test]
fn star_overlay_flushing_every_100ms() {
    reproduces("broadcast-star-100ms");
}

#[test]
fn star_overlay_flushing_every_400ms() {
    reproduces("broadcast-star-400ms");
}

#[test]
fn the_raft_demo_history_is_linearizable_on_every_key_and_an_altered_read_is_not() {
    use testbench::checker::linearizable::DEFAULT_BUDGET;
    use testbench::history::OpType;
    use testbench::workload::lin_kv;

    let (history, maelstrom) = reference("lin-kv-python-raft-demo");
    let ours = lin_kv::check(&history, DEFAULT_BUDGET);
    assert_eq!(ours["valid?"], true, "{ours}");
    eprintln!("the Raft history checked in {} s", ours["check-seconds"]);
    let theirs = maelstrom["workload"]["results"].as_object().unwrap();
    assert_eq!(
        ours["results"].as_object().unwrap().len(),
        theirs.len(),
        "the same keys"
    );
    for (key, result) in theirs {
        assert_eq!(
            ours["results"][key]["valid?"], result["valid?"],
            "key {key}"
        );
    }

    let mut altered = history.clone();
    let read = altered
        .ops
        .iter_mut()
        .find(|op| op.f == "read" && op.kind == OpType::Ok && !op.value[1].is_null())
        .expect("an ok read");
    let key = read.value[0].to_string();
    read.value[1] = serde_json::json!(12345);
    let ours = lin_kv::check(&altered, DEFAULT_BUDGET);
    assert_eq!(ours["valid?"], false);
    assert_eq!(ours["failures"], serde_json::json!([key]));
}
