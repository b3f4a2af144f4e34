//! Large generated histories: a valid serial one of each workload (checked
//! fully, realtime included), and a badly broken one that must still finish.

use super::*;
use crate::checker::elle::Workload;
use std::time::Instant;

/// Keys in use at any time.
const ACTIVE_KEYS: usize = 10;
/// Writes after which a key is retired and replaced by a fresh one.
const WRITES_PER_KEY: u32 = 32;

/// Generates `count` transactions of 1–4 micro-ops executed one at a time
/// against an in-memory store, on five processes. With `stale`, reads
/// return the state as of an arbitrary earlier point instead (a broken
/// store).
fn generate(workload: Workload, count: usize, stale: bool) -> Builder {
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let mut slots: Vec<(i64, u32)> = (0..ACTIVE_KEYS as i64).map(|k| (k, 0)).collect();
    let mut next_key = ACTIVE_KEYS as i64;
    let mut next_value = 1i64;
    // Per key, its states over time (each is the list of elements; for
    // registers only the last matters).
    let mut states: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    let mut h = Builder::default();
    for i in 0..count {
        let mut mops = Vec::new();
        for _ in 0..=rng.u64(..4).min(3) {
            let slot = rng.u64(..ACTIVE_KEYS as u64) as usize;
            let key = slots[slot].0;
            let state = states.entry(key).or_default();
            if rng.u64(..2) == 0 {
                let seen = if stale && !state.is_empty() {
                    &state[..rng.u64(..state.len() as u64 + 1) as usize]
                } else {
                    &state[..]
                };
                mops.push(match workload {
                    Workload::ListAppend => json!(["r", key, seen]),
                    Workload::RwRegister => json!(["r", key, seen.last()]),
                });
            } else {
                let value = next_value;
                next_value += 1;
                state.push(value);
                let f = match workload {
                    Workload::ListAppend => "append",
                    Workload::RwRegister => "w",
                };
                mops.push(json!([f, key, value]));
                slots[slot].1 += 1;
                if slots[slot].1 >= WRITES_PER_KEY {
                    slots[slot] = (next_key, 0);
                    next_key += 1;
                }
            }
        }
        h.ok((i % 5) as u64, Value::Array(mops));
    }
    h
}

fn check_large_valid(workload: Workload) {
    let h = generate(workload, 20_000, false);
    let started = Instant::now();
    let r = h.check(workload, ALL);
    let took = started.elapsed();
    println!(
        "large valid {workload:?}: 20000 txns checked in {:.3} s (check-seconds {})",
        took.as_secs_f64(),
        r["check-seconds"]
    );
    assert_eq!(r["txn-count"], json!(20_000));
    assert_valid(&r);
}

#[test]
fn large_valid_serial_list_append() {
    check_large_valid(Workload::ListAppend);
}

#[test]
fn large_valid_serial_rw_register() {
    check_large_valid(Workload::RwRegister);
}

#[test]
fn large_broken_history_still_finishes() {
    for workload in [Workload::ListAppend, Workload::RwRegister] {
        let h = generate(workload, 5_000, true);
        let started = Instant::now();
        let r = h.check(workload, ALL);
        println!(
            "large broken {workload:?}: 5000 txns checked in {:.3} s, anomalies {}",
            started.elapsed().as_secs_f64(),
            r["anomaly-types"]
        );
        assert_eq!(r["valid?"], json!(false));
        assert!(
            not(&r).contains(&"serializable".to_owned()),
            "{:#}",
            r["anomaly-types"]
        );
    }
}
