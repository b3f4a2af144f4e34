//! Register workload: one minimal history per anomaly, and suspicious but
//! valid histories.

use super::*;
use crate::checker::elle::{Model, Workload};

const W: Workload = Workload::RwRegister;

#[test]
fn rw_g0_write_cycle() {
    // Each overwrites a value the other wrote, on different keys.
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1], ["r", 2, 2], ["w", 2, 3]]))
        .ok(2, json!([["r", 1, 1], ["w", 1, 4], ["w", 2, 2]]));
    let r = h.check(W, ALL);
    // The same two txns also read each other: a G1c cycle too.
    assert_verdict(&r, &["G0", "G1c"], EVERY);
    let g0 = &r["anomalies"]["G0"][0];
    assert_eq!(g0["steps"][0]["type"], json!("ww"));
    assert_eq!(g0["steps"][1]["type"], json!("ww"));
}

#[test]
fn rw_g1a_aborted_read() {
    let mut h = Builder::default();
    h.fail(1, json!([["w", 1, 1]])).ok(2, json!([["r", 1, 1]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G1a"], RC_UP);
    let example = &r["anomalies"]["G1a"][0];
    assert_eq!(example["key"], json!(1));
    assert_eq!(example["writer"]["type"], json!("fail"));
    // Read uncommitted allows it.
    assert_verdict(&h.check(W, &[Model::ReadUncommitted]), &["G1a"], &[]);
}

#[test]
fn rw_g1b_intermediate_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1], ["w", 1, 2]]))
        .ok(2, json!([["r", 1, 1]]));
    assert_verdict(&h.check(W, ALL), &["G1b"], RC_UP);
}

#[test]
fn rw_g1c_circular_information_flow() {
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1], ["r", 2, 1]]))
        .ok(2, json!([["w", 2, 1], ["r", 1, 1]]));
    assert_verdict(&h.check(W, ALL), &["G1c"], RC_UP);
}

#[test]
fn rw_g_single_read_skew() {
    // T2 reads x = 1 and overwrites it with 2 (so 1 directly precedes 2),
    // also writing y = 2. T1 saw the old x but the new y.
    let mut h = Builder::default();
    h.ok(0, json!([["w", 1, 1]]))
        .ok(1, json!([["r", 1, 1], ["r", 2, 2]]))
        .ok(2, json!([["r", 1, 1], ["w", 1, 2], ["w", 2, 2]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G-single"], SER_UP);
    let steps = &r["anomalies"]["G-single"][0]["steps"];
    assert_eq!(
        steps[0],
        json!({"type": "rw", "key": 1, "value": 2, "read": 1})
    );
    assert_eq!(steps[1], json!({"type": "wr", "key": 2, "value": 2}));
}

#[test]
fn rw_lost_update_is_g2_item() {
    // Both read the initial value and overwrite it. The order of 1 and 2 is
    // unknown, so each txn anti-depends on the other: two rw edges.
    let mut h = Builder::default();
    h.start(1, &json!([["r", 1, null], ["w", 1, 1]]))
        .start(2, &json!([["r", 1, null], ["w", 1, 2]]))
        .complete(1, OpType::Ok, json!([["r", 1, null], ["w", 1, 1]]))
        .complete(2, OpType::Ok, json!([["r", 1, null], ["w", 1, 2]]));
    assert_verdict(&h.check(W, ALL), &["G2-item"], SER_UP);
    assert_verdict(&h.check(W, &[Model::ReadCommitted]), &["G2-item"], &[]);
}

#[test]
fn rw_g2_item_write_skew() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, null], ["r", 2, null], ["w", 1, 1]]))
        .ok(2, json!([["r", 1, null], ["r", 2, null], ["w", 2, 1]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G2-item"], SER_UP);
    let text = r["anomalies"]["G2-item"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(text.contains("-rw(k 1: nil -> 1)->"), "{text}");
    assert!(text.contains("-rw(k 2: nil -> 1)->"), "{text}");
}

#[test]
fn rw_internal_read_ignores_own_write() {
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 2]]))
        .ok(2, json!([["w", 1, 1], ["r", 1, 2]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["internal"], RC_UP);
    assert_eq!(r["anomalies"]["internal"][0]["expected"], json!(1));
}

#[test]
fn rw_internal_non_repeatable_read() {
    // T2 overlaps T1's write, but sees the value change mid-transaction.
    let t2 = json!([["r", 1, null], ["r", 1, 1]]);
    let mut h = Builder::default();
    h.start(2, &t2)
        .ok(1, json!([["w", 1, 1]]))
        .complete(2, OpType::Ok, t2.clone());
    assert_verdict(&h.check(W, ALL), &["internal"], RC_UP);
}

#[test]
fn rw_internal_future_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, 5], ["w", 1, 5]]));
    assert_verdict(&h.check(W, ALL), &["internal"], RC_UP);
}

#[test]
fn rw_garbage_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1]])).ok(2, json!([["r", 1, 9]]));
    assert_verdict(&h.check(W, ALL), &["garbage-read"], EVERY);
}

#[test]
fn rw_stale_read_is_only_a_realtime_anomaly() {
    // T1 writes and completes; T2 starts afterwards and reads the initial
    // value.
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1]])).ok(2, json!([["r", 1, null]]));
    assert_valid(&h.check(W, &[Model::Serializable]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G-single-realtime"], &["strict-serializable"]);
    let steps = &r["anomalies"]["G-single-realtime"][0]["steps"];
    let kinds: Vec<&Value> = steps
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| &s["type"])
        .collect();
    assert_eq!(kinds.len(), 2);
    assert!(kinds.contains(&&json!("realtime")) && kinds.contains(&&json!("rw")));
}

#[test]
fn rw_valid_read_of_info_write() {
    let mut h = Builder::default();
    h.info(1, json!([["w", 1, 1]])).ok(2, json!([["r", 1, 1]]));
    assert_valid(&h.check(W, ALL));
    // Same with a write that never completed at all.
    let mut h = Builder::default();
    h.invoke(1, json!([["w", 1, 1]]))
        .ok(2, json!([["r", 1, 1]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn rw_valid_null_reads_before_writes() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, null], ["r", 2, null]]))
        .ok(2, json!([["w", 1, 1]]))
        .ok(3, json!([["r", 1, 1], ["r", 2, null]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn rw_valid_concurrent_reads_either_way() {
    // T2 overlaps T1's write: it may see the old or the new value.
    let t1 = json!([["w", 1, 1]]);
    let old = json!([["r", 1, null]]);
    let new = json!([["r", 1, 1]]);
    for seen in [old, new] {
        let mut h = Builder::default();
        h.start(2, &seen)
            .ok(1, t1.clone())
            .complete(2, OpType::Ok, seen.clone());
        assert_valid(&h.check(W, ALL));
    }
}

#[test]
fn rw_valid_failed_write_never_read() {
    let mut h = Builder::default();
    h.fail(1, json!([["w", 1, 1]]))
        .ok(2, json!([["r", 1, null], ["w", 1, 2]]))
        .ok(3, json!([["r", 1, 2]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn rw_valid_double_write_final_value_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["w", 1, 1], ["w", 1, 2], ["r", 1, 2]]))
        .ok(2, json!([["r", 1, 2]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn rw_valid_serial_chain_through_all_to_all_gadget() {
    // Many readers of the initial value and many writers: the rw edges go
    // through helper nodes. T0 reads null then writes; it must not be made
    // to anti-depend on itself.
    let mut h = Builder::default();
    for p in 0..12 {
        h.ok(p, json!([["r", 1, null]]));
    }
    h.ok(20, json!([["r", 1, null], ["w", 1, 1]]));
    for v in 1..12 {
        h.ok(20 + v as u64, json!([["r", 1, v], ["w", 1, v + 1]]));
    }
    assert_valid(&h.check(W, ALL));
}

#[test]
fn rw_lost_update_storm_through_gadget() {
    let mut h = Builder::default();
    for p in 0..12u64 {
        h.start(p, &json!([["r", 1, null], ["w", 1, p]]));
    }
    for p in 0..12u64 {
        h.complete(p, OpType::Ok, json!([["r", 1, null], ["w", 1, p]]));
    }
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G2-item"], SER_UP);
    // The cycle shows real transactions only, with real rw steps.
    let example = &r["anomalies"]["G2-item"][0];
    assert_eq!(example["cycle"].as_array().map(Vec::len), Some(2));
    for step in example["steps"].as_array().into_iter().flatten() {
        assert_eq!(step["type"], json!("rw"));
        assert!(step["value"].is_i64(), "{step}");
    }
}
