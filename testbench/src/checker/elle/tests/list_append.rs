//! List-append workload: one minimal history per anomaly, and suspicious
//! but valid histories.

use super::*;
use crate::checker::elle::{Model, Workload};

const W: Workload = Workload::ListAppend;

#[test]
fn la_g0_write_cycle() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1], ["append", 2, 1]]))
        .ok(2, json!([["append", 1, 2], ["append", 2, 2]]))
        .ok(3, json!([["r", 1, [1, 2]], ["r", 2, [2, 1]]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G0"], EVERY);
    let text = r["anomalies"]["G0"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("-ww(k 1: 1 -> 2)->"), "{text}");
    assert!(text.contains("-ww(k 2: 2 -> 1)->"), "{text}");
}

#[test]
fn la_g1a_aborted_read() {
    let mut h = Builder::default();
    h.fail(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, [1]]]));
    assert_verdict(&h.check(W, ALL), &["G1a"], RC_UP);
}

#[test]
fn la_g1b_intermediate_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1], ["append", 1, 2]]))
        .ok(2, json!([["r", 1, [1]]]));
    assert_verdict(&h.check(W, ALL), &["G1b"], RC_UP);
}

#[test]
fn la_g1c_circular_information_flow() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1], ["r", 2, [1]]]))
        .ok(2, json!([["append", 2, 1], ["r", 1, [1]]]));
    assert_verdict(&h.check(W, ALL), &["G1c"], RC_UP);
}

#[test]
fn la_g_single_read_skew() {
    // T1 misses T2's append to key 1 but sees its append to key 2.
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, []], ["r", 2, [1]]]))
        .ok(2, json!([["append", 1, 1], ["append", 2, 1]]))
        .ok(3, json!([["r", 1, [1]]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G-single"], SER_UP);
    let steps = &r["anomalies"]["G-single"][0]["steps"];
    assert_eq!(
        steps[0],
        json!({"type": "rw", "key": 1, "value": 1, "read": null})
    );
    assert_eq!(steps[1], json!({"type": "wr", "key": 2, "value": 1}));
}

#[test]
fn la_g2_item_write_skew() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, null], ["append", 2, 1]]))
        .ok(2, json!([["r", 2, null], ["append", 1, 1]]))
        .ok(3, json!([["r", 1, [1]], ["r", 2, [1]]]));
    assert_verdict(&h.check(W, ALL), &["G2-item"], SER_UP);
}

#[test]
fn la_internal_read_misses_own_append() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 2]]))
        .ok(2, json!([["append", 1, 1], ["r", 1, [2]]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["internal"], RC_UP);
    assert_eq!(r["anomalies"]["internal"][0]["expected"], json!("[... 1]"));
}

#[test]
fn la_internal_list_changes_between_reads() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(
            2,
            json!([["r", 1, [1]], ["append", 1, 2], ["r", 1, [1, 3, 2]]]),
        )
        .ok(3, json!([["append", 1, 3]]));
    let r = h.check(W, ALL);
    assert!(types(&r).contains(&"internal".to_owned()), "{r:#}");
    assert!(!r["valid?"].as_bool().unwrap_or(true));
}

#[test]
fn la_incompatible_order() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(2, json!([["append", 1, 2]]))
        .ok(3, json!([["r", 1, [1, 2]]]))
        .ok(4, json!([["r", 1, [2, 1]]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["incompatible-order"], EVERY);
    assert_eq!(
        r["anomalies"]["incompatible-order"][0]["values"],
        json!([[2, 1], [1, 2]])
    );
}

#[test]
fn la_duplicate_elements() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, [1, 1]]]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["duplicate-elements"], EVERY);
    assert_eq!(
        r["anomalies"]["duplicate-elements"][0]["duplicates"],
        json!([1])
    );
}

#[test]
fn la_garbage_read() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, [1, 9]]]));
    assert_verdict(&h.check(W, ALL), &["garbage-read"], EVERY);
}

#[test]
fn la_stale_read_is_only_a_realtime_anomaly() {
    // T1 appends and completes; T2 starts afterwards and misses it.
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, []]]))
        .ok(3, json!([["r", 1, [1]]]));
    assert_valid(&h.check(W, &[Model::Serializable]));
    assert_valid(&h.check(W, &[Model::ReadUncommitted, Model::Serializable]));
    let r = h.check(W, ALL);
    assert_verdict(&r, &["G-single-realtime"], &["strict-serializable"]);
    let text = r["anomalies"]["G-single-realtime"][0]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("-realtime->") && text.contains("-rw(k 1: nil -> 1)->"),
        "{text}"
    );
}

#[test]
fn la_g0_realtime_appends_out_of_real_time_order() {
    // T2 starts after T1 completed, yet its append lands first.
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 1]]))
        .ok(2, json!([["append", 1, 2]]))
        .ok(3, json!([["r", 1, [2, 1]]]));
    assert_valid(&h.check(W, &[Model::Serializable]));
    assert_verdict(&h.check(W, ALL), &["G0-realtime"], &["strict-serializable"]);
}

#[test]
fn la_valid_read_of_info_append() {
    let mut h = Builder::default();
    h.info(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, [1]]]));
    assert_valid(&h.check(W, ALL));
    let mut h = Builder::default();
    h.invoke(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, [1]]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn la_valid_empty_reads_before_appends() {
    let mut h = Builder::default();
    h.ok(1, json!([["r", 1, null], ["r", 2, []]]))
        .ok(2, json!([["append", 1, 1]]))
        .ok(3, json!([["r", 1, [1]], ["r", 2, null]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn la_valid_concurrent_interleavings() {
    // T2 and T3 overlap T1: one sees its append, the other does not.
    let t2 = json!([["r", 1, [1]]]);
    let t3 = json!([["r", 1, []], ["append", 2, 1]]);
    let mut h = Builder::default();
    h.start(2, &t2)
        .start(3, &t3)
        .ok(1, json!([["append", 1, 1]]))
        .complete(2, OpType::Ok, t2.clone())
        .complete(3, OpType::Ok, t3.clone())
        .ok(4, json!([["r", 1, [1]], ["r", 2, [1]]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn la_valid_failed_append_never_read() {
    let mut h = Builder::default();
    h.fail(1, json!([["append", 1, 1]]))
        .ok(2, json!([["r", 1, []], ["append", 1, 2]]))
        .ok(3, json!([["r", 1, [2]]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn la_valid_double_append_with_full_read() {
    let mut h = Builder::default();
    h.ok(
        1,
        json!([["append", 1, 1], ["append", 1, 2], ["r", 1, [1, 2]]]),
    )
    .ok(2, json!([["r", 1, [1, 2]]]));
    assert_valid(&h.check(W, ALL));
}

#[test]
fn la_valid_reads_own_appends() {
    let mut h = Builder::default();
    h.ok(1, json!([["append", 1, 5]]))
        .ok(
            2,
            json!([["r", 1, [5]], ["append", 1, 6], ["r", 1, [5, 6]]]),
        )
        .ok(3, json!([["append", 1, 7], ["r", 1, [5, 6, 7]]]));
    assert_valid(&h.check(W, ALL));
}
