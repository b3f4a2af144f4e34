//! Tests of the kafka checker, through `check` only.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::check;
use crate::history::{History, OpType};

/// A tiny history builder: times are entry positions.
#[derive(Default)]
struct B {
    h: History,
}

impl B {
    fn op(&mut self, kind: OpType, p: u64, f: &str, value: Value) -> &mut Self {
        let time = self.h.ops.len() as u64;
        self.h.push(time, kind, p, f, value, None);
        self
    }
    fn invoke_send(&mut self, p: u64, k: &str, m: i64) -> &mut Self {
        self.op(OpType::Invoke, p, "send", json!([["send", k, m]]))
    }
    fn ack_send(&mut self, p: u64, k: &str, m: i64, o: u64) -> &mut Self {
        self.op(OpType::Ok, p, "send", json!([["send", k, [o, m]]]))
    }
    fn send(&mut self, p: u64, k: &str, m: i64, o: u64) -> &mut Self {
        self.invoke_send(p, k, m).ack_send(p, k, m, o)
    }
    fn send_fail(&mut self, p: u64, k: &str, m: i64) -> &mut Self {
        self.invoke_send(p, k, m)
            .op(OpType::Fail, p, "send", json!([["send", k, m]]))
    }
    fn send_info(&mut self, p: u64, k: &str, m: i64) -> &mut Self {
        self.invoke_send(p, k, m)
            .op(OpType::Info, p, "send", json!([["send", k, m]]))
    }
    fn invoke_poll(&mut self, p: u64) -> &mut Self {
        self.op(OpType::Invoke, p, "poll", json!([["poll"]]))
    }
    fn ack_poll(&mut self, p: u64, msgs: Value) -> &mut Self {
        self.op(OpType::Ok, p, "poll", json!([["poll", msgs]]))
    }
    fn poll(&mut self, p: u64, msgs: Value) -> &mut Self {
        self.invoke_poll(p).ack_poll(p, msgs)
    }
    fn assign(&mut self, p: u64, keys: &[&str]) -> &mut Self {
        self.op(OpType::Invoke, p, "assign", json!(keys))
            .op(OpType::Ok, p, "assign", json!(keys))
    }
    fn check(&self) -> Value {
        check(&self.h)
    }
}

fn types(r: &Value) -> Vec<&str> {
    r["error-types"]
        .as_array()
        .expect("error-types is a list")
        .iter()
        .map(|t| t.as_str().expect("names are strings"))
        .collect()
}

fn example<'a>(r: &'a Value, kind: &str, n: usize) -> &'a Value {
    &r[kind]["errors"][n]
}

fn op_indices(e: &Value) -> Vec<u64> {
    e["ops"]
        .as_array()
        .expect("ops is a list")
        .iter()
        .map(|o| o["index"].as_u64().expect("index"))
        .collect()
}

fn assert_valid(r: &Value) {
    assert_eq!(r["valid?"], json!(true), "{r:#}");
    assert_eq!(types(r), Vec::<&str>::new(), "{r:#}");
}

fn assert_only(r: &Value, kinds: &[&str]) {
    assert_eq!(types(r), kinds, "{r:#}");
    assert_eq!(r["valid?"], json!(false), "{r:#}");
}

#[test]
fn valid_basic_history_and_counts() {
    let mut b = B::default();
    b.assign(1, &["a"])
        .send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .poll(1, json!({"a": [[0, 1], [1, 2]]}));
    let r = b.check();
    assert_valid(&r);
    assert_eq!(r["send-count"], json!(2));
    assert_eq!(r["acknowledged-count"], json!(2));
    assert_eq!(r["polled-count"], json!(2));
    assert_eq!(r["unseen-count"], json!(0));
    assert!(r.get("unseen").is_none());
}

#[test]
fn messages_are_told_apart_by_key_as_maelstrom_numbers_them_per_key() {
    let mut b = B::default();
    b.assign(1, &["a", "b"])
        .send(0, "a", 1, 0)
        .send(0, "b", 1, 0)
        .poll(1, json!({"a": [[0, 1]], "b": [[0, 1]]}));
    let r = b.check();
    assert_valid(&r);
    assert_eq!(r["polled-count"], json!(2));
    b.send(0, "b", 2, 1);
    let r = b.check();
    assert_eq!(r["unseen-count"], json!(1), "{r}");
}

#[test]
fn valid_sparse_offsets_polled_in_order() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 5)
        .send(0, "a", 3, 9)
        .poll(1, json!({"a": [[0, 1], [5, 2]]}))
        .poll(1, json!({"a": [[9, 3]]}));
    assert_valid(&b.check());
}

#[test]
fn valid_rewind_and_jump_after_assign() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .assign(1, &["a"])
        .poll(1, json!({"a": [[0, 1], [1, 2]]}))
        .assign(1, &["a"])
        // Back to the start: allowed after an assign.
        .poll(1, json!({"a": [[0, 1]]}))
        .assign(1, &["a"])
        // Jumping forward over offset 1 is allowed too.
        .poll(1, json!({"a": [[2, 3]]}));
    assert_valid(&b.check());
}

#[test]
fn failed_assign_does_not_reset_positions() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .poll(1, json!({"a": [[0, 1], [1, 2]]}))
        .op(OpType::Invoke, 1, "assign", json!(["a"]))
        .op(OpType::Fail, 1, "assign", json!(["a"]))
        .poll(1, json!({"a": [[1, 2]]}));
    let r = b.check();
    assert_only(&r, &["nonmonotonic-poll"]);
    let e = example(&r, "nonmonotonic-poll", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([1, 1]));
    assert_eq!(e["delta"], json!(0));
    assert_eq!(op_indices(e), vec![5, 9]);
}

#[test]
fn valid_info_and_pending_sends_never_seen() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send_info(0, "a", 2)
        .send(5, "a", 3, 1)
        .invoke_send(6, "a", 4)
        .poll(1, json!({"a": [[0, 1], [1, 3]]}));
    let r = b.check();
    assert_valid(&r);
    assert_eq!(r["send-count"], json!(4));
    assert_eq!(r["acknowledged-count"], json!(2));
    assert_eq!(r["indefinite-send-count"], json!(2));
    assert_eq!(r["unseen-count"], json!(0));
}

#[test]
fn valid_failed_send_never_seen() {
    let mut b = B::default();
    b.send_fail(0, "a", 2)
        .send(0, "a", 1, 0)
        .poll(1, json!({"a": [[0, 1]]}));
    let r = b.check();
    assert_valid(&r);
    assert_eq!(r["failed-send-count"], json!(1));
}

#[test]
fn valid_two_processes_at_different_positions() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .poll(1, json!({"a": [[0, 1], [1, 2]]}))
        .poll(2, json!({"a": [[0, 1]]}))
        .poll(1, json!({"a": [[2, 3]]}))
        .poll(2, json!({"a": [[1, 2], [2, 3]]}));
    assert_valid(&b.check());
}

#[test]
fn valid_empty_and_missing_keys() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "b", 3, 0)
        .poll(1, json!({}))
        .poll(1, json!({"a": [[0, 1]]}))
        .poll(1, json!({"a": []}))
        .poll(1, json!({"b": [[0, 3]]}))
        .poll(1, json!({"a": [[1, 2]], "b": []}));
    assert_valid(&b.check());
}

#[test]
fn empty_poll_keeps_the_position() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .poll(1, json!({"a": [[0, 1]]}))
        .poll(1, json!({"a": []}))
        .poll(1, json!({}))
        .poll(1, json!({"a": [[2, 3]]}))
        .poll(2, json!({"a": [[1, 2]]}));
    let r = b.check();
    assert_only(&r, &["poll-skip"]);
    let e = example(&r, "poll-skip", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([0, 2]));
    assert_eq!(e["skipped"], json!([[1, 2]]));
    assert_eq!(e["delta"], json!(2));
    assert_eq!(op_indices(e), vec![7, 13]);
}

#[test]
fn valid_same_message_seen_by_several_polls() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .poll(1, json!({"a": [[0, 1]]}))
        .poll(2, json!({"a": [[0, 1]]}))
        .assign(1, &["a"])
        .poll(1, json!({"a": [[0, 1]]}))
        .poll(3, json!({"a": [[0, 1]]}));
    let r = b.check();
    assert_valid(&r);
    assert_eq!(r["polled-count"], json!(1));
}

#[test]
fn numeric_send_keys_match_string_poll_keys() {
    let mut b = B::default();
    b.op(OpType::Invoke, 0, "send", json!([["send", 7, 1]]))
        .op(OpType::Ok, 0, "send", json!([["send", 7, [0, 1]]]))
        .poll(1, json!({"7": [[0, 1]]}));
    assert_valid(&b.check());
}

#[test]
fn lost_write_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .send(0, "b", 4, 0)
        .poll(1, json!({"a": [[0, 1]], "b": [[0, 4]]}))
        .poll(2, json!({"a": [[2, 3]]}));
    let r = b.check();
    assert_only(&r, &["lost-write", "unseen"]);
    assert_eq!(r["lost-write"]["count"], json!(1));
    let e = example(&r, "lost-write", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["message"], json!(2));
    assert_eq!(e["offset"], json!(1));
    assert_eq!(e["max-polled-offset"], json!(2));
    assert_eq!(e["max-polled-message"], json!(3));
    assert_eq!(op_indices(e), vec![3, 11]);
    // The reader is trimmed to key a.
    assert_eq!(e["ops"][1]["value"], json!([["poll", {"a": [[2, 3]]}]]));
    assert_eq!(r["unseen-count"], json!(1));
}

#[test]
fn unseen_but_not_lost_when_nothing_later_was_read() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .poll(1, json!({"a": [[0, 1]]}));
    let r = b.check();
    assert_only(&r, &["unseen"]);
    assert_eq!(r["unseen-count"], json!(1));
    assert_eq!(r["unseen"]["by-key"], json!({"a": 1}));
    let e = example(&r, "unseen", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["message"], json!(2));
    assert_eq!(e["offset"], json!(1));
    assert_eq!(op_indices(e), vec![3]);
}

#[test]
fn lost_write_when_another_message_is_read_at_its_offset() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send_info(0, "a", 9)
        .poll(2, json!({"a": [[0, 9]]}));
    let r = b.check();
    assert_only(&r, &["inconsistent-offsets", "lost-write", "unseen"]);
    let e = example(&r, "lost-write", 0);
    assert_eq!(e["message"], json!(1));
    assert_eq!(e["max-polled-offset"], json!(0));
    let e = example(&r, "inconsistent-offsets", 0);
    assert_eq!(e["offset"], json!(0));
    assert_eq!(e["messages"], json!([1, 9]));
}

#[test]
fn duplicate_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .poll(1, json!({"a": [[0, 1], [1, 2], [2, 1]]}));
    let r = b.check();
    assert_only(&r, &["duplicate"]);
    let e = example(&r, "duplicate", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["message"], json!(1));
    assert_eq!(e["offsets"], json!([0, 2]));
    assert_eq!(op_indices(e), vec![1, 5]);
}

#[test]
fn inconsistent_offsets_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(1, "a", 2, 0)
        .poll(2, json!({"a": [[0, 1]]}))
        .poll(3, json!({"a": [[0, 2]]}));
    let r = b.check();
    assert_only(&r, &["inconsistent-offsets"]);
    assert_eq!(r["inconsistent-offsets"]["count"], json!(1));
    let e = example(&r, "inconsistent-offsets", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offset"], json!(0));
    assert_eq!(e["messages"], json!([1, 2]));
    assert_eq!(op_indices(e), vec![1, 3]);
}

#[test]
fn int_nonmonotonic_poll_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .poll(1, json!({"a": [[1, 2], [0, 1]]}))
        .poll(2, json!({"b": [], "a": [[0, 1], [0, 1], [1, 2]]}));
    let r = b.check();
    assert_only(&r, &["int-nonmonotonic-poll"]);
    assert_eq!(r["int-nonmonotonic-poll"]["count"], json!(2));
    // Most negative delta first.
    let e = example(&r, "int-nonmonotonic-poll", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([1, 0]));
    assert_eq!(e["messages"], json!([2, 1]));
    assert_eq!(e["delta"], json!(-1));
    assert_eq!(op_indices(e), vec![5]);
    let e = example(&r, "int-nonmonotonic-poll", 1);
    assert_eq!(e["offsets"], json!([0, 0]));
    assert_eq!(e["delta"], json!(0));
    assert_eq!(op_indices(e), vec![7]);
}

#[test]
fn int_poll_skip_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 4)
        .send(0, "a", 3, 8)
        .poll(1, json!({"a": [[0, 1], [8, 3]]}))
        .poll(2, json!({"a": [[4, 2]]}));
    let r = b.check();
    assert_only(&r, &["int-poll-skip"]);
    let e = example(&r, "int-poll-skip", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([0, 8]));
    assert_eq!(e["delta"], json!(2));
    assert_eq!(e["skipped"], json!([[4, 2]]));
    assert_eq!(op_indices(e), vec![7]);
}

#[test]
fn poll_skip_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .poll(1, json!({"a": [[0, 1]]}))
        .poll(1, json!({"a": [[2, 3]]}))
        .poll(2, json!({"a": [[1, 2]]}));
    let r = b.check();
    assert_only(&r, &["poll-skip"]);
    let e = example(&r, "poll-skip", 0);
    assert_eq!(e["offsets"], json!([0, 2]));
    assert_eq!(e["skipped-count"], json!(1));
    assert_eq!(op_indices(e), vec![7, 9]);
}

#[test]
fn nonmonotonic_poll_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .send(0, "a", 2, 1)
        .send(0, "a", 3, 2)
        .poll(1, json!({"a": [[0, 1], [1, 2], [2, 3]]}))
        .poll(1, json!({"a": [[0, 1]]}));
    let r = b.check();
    assert_only(&r, &["nonmonotonic-poll"]);
    let e = example(&r, "nonmonotonic-poll", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([2, 0]));
    assert_eq!(e["delta"], json!(-2));
    assert_eq!(op_indices(e), vec![7, 9]);
}

#[test]
fn nonmonotonic_send_detected_even_across_assign() {
    let mut b = B::default();
    b.send(0, "a", 1, 1)
        .assign(0, &["b"])
        .send(0, "a", 2, 0)
        .send(0, "a", 3, 2)
        .poll(1, json!({"a": [[0, 2], [1, 1], [2, 3]]}));
    let r = b.check();
    assert_only(&r, &["nonmonotonic-send"]);
    assert_eq!(r["nonmonotonic-send"]["count"], json!(1));
    let e = example(&r, "nonmonotonic-send", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["offsets"], json!([1, 0]));
    assert_eq!(e["messages"], json!([1, 2]));
    assert_eq!(op_indices(e), vec![1, 5]);
}

#[test]
fn sends_by_different_processes_may_interleave() {
    let mut b = B::default();
    b.invoke_send(0, "a", 1)
        .invoke_send(1, "a", 2)
        .ack_send(1, "a", 2, 0)
        .ack_send(0, "a", 1, 1)
        .send(1, "a", 3, 2)
        .poll(2, json!({"a": [[0, 2], [1, 1], [2, 3]]}));
    assert_valid(&b.check());
}

#[test]
fn int_send_checks_on_multi_send_operations() {
    let mut b = B::default();
    b.op(
        OpType::Invoke,
        0,
        "send",
        json!([["send", "a", 1], ["send", "a", 2]]),
    )
    .op(
        OpType::Ok,
        0,
        "send",
        json!([["send", "a", [1, 1]], ["send", "a", [0, 2]]]),
    )
    .poll(1, json!({"a": [[0, 2], [1, 1]]}));
    let r = b.check();
    assert_only(&r, &["int-nonmonotonic-send"]);
    let e = example(&r, "int-nonmonotonic-send", 0);
    assert_eq!(e["offsets"], json!([1, 0]));
    assert_eq!(op_indices(e), vec![1]);

    // A gap between two sends of one operation is reported but allowed.
    let mut b = B::default();
    b.op(
        OpType::Invoke,
        0,
        "send",
        json!([["send", "b", 3], ["send", "b", 4]]),
    )
    .op(
        OpType::Ok,
        0,
        "send",
        json!([["send", "b", [0, 3]], ["send", "b", [2, 4]]]),
    )
    .send(1, "b", 5, 1)
    .poll(2, json!({"b": [[0, 3], [1, 5], [2, 4]]}));
    let r = b.check();
    assert_eq!(types(&r), vec!["int-send-skip"]);
    assert_eq!(r["valid?"], json!(true));
    assert_eq!(r["bad-error-types"], json!([]));
    assert_eq!(example(&r, "int-send-skip", 0)["skipped"], json!([[1, 5]]));
}

#[test]
fn aborted_read_detected() {
    let mut b = B::default();
    b.send_fail(0, "a", 1).poll(1, json!({"a": [[0, 1]]}));
    let r = b.check();
    assert_only(&r, &["G1a"]);
    let e = example(&r, "G1a", 0);
    assert_eq!(e["key"], json!("a"));
    assert_eq!(e["message"], json!(1));
    assert_eq!(op_indices(e), vec![1, 3]);
}

#[test]
fn unknown_message_detected() {
    let mut b = B::default();
    b.send(0, "a", 1, 0)
        .poll(1, json!({"a": [[0, 1]], "b": [[0, 1]]}));
    let r = b.check();
    assert_only(&r, &["unknown-message"]);
    let e = example(&r, "unknown-message", 0);
    assert_eq!(e["key"], json!("b"));
    assert_eq!(e["message"], json!(1));
    assert_eq!(op_indices(e), vec![3]);
}

#[test]
fn future_read_detected_but_concurrent_read_allowed() {
    let mut b = B::default();
    b.poll(1, json!({"a": [[0, 1]]})).send(0, "a", 1, 0);
    let r = b.check();
    assert_only(&r, &["future-read"]);
    let e = example(&r, "future-read", 0);
    assert_eq!(e["message"], json!(1));
    assert_eq!(op_indices(e), vec![1, 2]);

    let mut b = B::default();
    b.invoke_send(0, "a", 1)
        .invoke_poll(1)
        .ack_poll(1, json!({"a": [[0, 1]]}))
        .ack_send(0, "a", 1, 0);
    assert_valid(&b.check());
}

#[test]
fn malformed_values_are_reported_not_fatal() {
    let mut b = B::default();
    b.invoke_send(0, "a", 1)
        .op(OpType::Ok, 0, "send", json!([["send", "a", "no offset"]]))
        .invoke_send(0, "a", 2)
        .op(OpType::Ok, 0, "send", json!([["send", "a", [-1, 2]]]))
        .op(OpType::Invoke, 0, "send", json!(null))
        .op(OpType::Ok, 0, "send", json!(17))
        .op(OpType::Invoke, 0, "send", json!([["send"]]))
        .op(OpType::Fail, 0, "send", json!(null))
        .invoke_poll(1)
        .op(OpType::Ok, 1, "poll", json!("garbage"))
        .poll(1, json!({"a": 5}))
        .poll(1, json!({"a": [[0.5, 1], [1], "x", [2, 3, 4]]}))
        .poll(1, json!(null))
        .op(OpType::Invoke, 1, "poll", json!([["frob"]]))
        .op(OpType::Ok, 1, "poll", json!([["poll", {}], 3]))
        .op(OpType::Invoke, 1, "assign", json!(7))
        .op(OpType::Ok, 1, "assign", json!([null]))
        .op(OpType::Ok, 9, "poll", json!([["poll", {"a": [[0, 1]]}]]));
    let r = b.check();
    assert_only(&r, &["malformed"]);
    assert_eq!(r["malformed"]["count"], json!(18), "{r:#}");
    assert_eq!(r["malformed"]["errors"].as_array().map(Vec::len), Some(8));
    assert_eq!(r["acknowledged-count"], json!(0));
    assert_eq!(r["unseen-count"], json!(0));
    let e = example(&r, "malformed", 0);
    assert_eq!(op_indices(e), vec![1]);
    assert!(e["problem"].as_str().is_some_and(|p| p.contains("send")));
}

#[test]
fn examples_are_capped_and_most_severe_first() {
    let mut b = B::default();
    for m in 0..20 {
        b.send(0, "a", m, m as u64);
    }
    b.poll(1, json!({"a": [[0, 0], [2, 2], [7, 7]]}));
    let r = b.check();
    assert_eq!(types(&r), vec!["int-poll-skip", "lost-write", "unseen"]);
    assert_eq!(r["unseen"]["count"], json!(17));
    assert_eq!(r["unseen"]["errors"].as_array().map(Vec::len), Some(8));
    assert_eq!(r["lost-write"]["count"], json!(5));
    assert_eq!(r["int-poll-skip"]["count"], json!(2));
    assert_eq!(example(&r, "int-poll-skip", 0)["offsets"], json!([2, 7]));
    assert_eq!(example(&r, "int-poll-skip", 0)["delta"], json!(5));
}

#[test]
fn example_ops_are_trimmed_around_the_anomaly() {
    let mut b = B::default();
    let mut entries = Vec::new();
    for m in 0..100 {
        b.send(0, "a", m, m as u64);
        if m != 50 {
            entries.push(json!([m, m]));
        }
    }
    b.poll(1, json!({"a": entries, "b": []}));
    b.h.ops.last_mut().expect("an op").is_final = true;
    b.poll(2, json!({"a": [[50, 50]]}));
    let r = b.check();
    assert_only(&r, &["int-poll-skip"]);
    let op = &example(&r, "int-poll-skip", 0)["ops"][0];
    assert_eq!(op["final?"], json!(true));
    assert_eq!(op["trimmed?"], json!(true));
    let shown = op["value"][0][1]["a"].as_array().map(Vec::len);
    assert_eq!(shown, Some(8));
}

enum Pending {
    Send(String, i64),
    Poll,
    Assign(Vec<String>),
}

struct Client {
    process: u64,
    positions: BTreeMap<String, u64>,
    pending: Option<Pending>,
}

/// Simulates a correct system with concurrent clients, sparse offsets,
/// crashes, failed sends, rewinding assigns and a final catch-up phase.
fn generated_history(pairs: usize, keys: usize) -> (History, usize) {
    let mut rng = fastrand::Rng::with_seed(0x9E37_79B9_7F4A_7C15);
    let names: Vec<String> = (0..keys).map(|k| format!("k{k}")).collect();
    let mut logs: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    let mut next_offset: BTreeMap<String, u64> = BTreeMap::new();
    let mut clients: Vec<Client> = (0..5)
        .map(|p| Client {
            process: p,
            positions: BTreeMap::new(),
            pending: None,
        })
        .collect();
    let mut next_process = 5;
    let mut next_msg = 0i64;
    let mut h = History::default();
    let mut invoked = 0;
    let mut acked = 0;
    let mut time = 0;
    loop {
        let all_idle = clients.iter().all(|c| c.pending.is_none());
        if invoked >= pairs && all_idle {
            break;
        }
        time += 1;
        let c = &mut clients[rng.u64(..5) as usize];
        match c.pending.take() {
            None if invoked < pairs => {
                invoked += 1;
                let roll = rng.u64(..100);
                if c.positions.is_empty() || roll < 8 {
                    let mut ks: Vec<String> = names
                        .iter()
                        .filter(|_| rng.u64(..3) == 0)
                        .cloned()
                        .collect();
                    if ks.is_empty() {
                        ks.push(names[rng.u64(..keys as u64) as usize].clone());
                    }
                    h.push(time, OpType::Invoke, c.process, "assign", json!(ks), None);
                    c.pending = Some(Pending::Assign(ks));
                } else if roll < 54 {
                    let k = names[rng.u64(..keys as u64) as usize].clone();
                    next_msg += 1;
                    let v = json!([["send", k, next_msg]]);
                    h.push(time, OpType::Invoke, c.process, "send", v, None);
                    c.pending = Some(Pending::Send(k, next_msg));
                } else {
                    let v = json!([["poll"]]);
                    h.push(time, OpType::Invoke, c.process, "poll", v, None);
                    c.pending = Some(Pending::Poll);
                }
            }
            None => {}
            Some(Pending::Assign(ks)) => {
                let mut positions = BTreeMap::new();
                for k in &ks {
                    let here = c.positions.get(k).copied().unwrap_or(0);
                    let at = match rng.u64(..3) {
                        0 => here,
                        1 => 0,
                        _ => rng.u64(..here + 1),
                    };
                    positions.insert(k.clone(), at);
                }
                c.positions = positions;
                h.push(time, OpType::Ok, c.process, "assign", json!(ks), None);
            }
            Some(Pending::Send(k, m)) => {
                let roll = rng.u64(..100);
                let write = roll >= 10 || (roll >= 5 && rng.u64(..2) == 0);
                if write {
                    let o = next_offset.entry(k.clone()).or_insert(0);
                    let offset = *o;
                    *o += 1 + rng.u64(..3);
                    logs.entry(k.clone()).or_default().push((offset, m));
                    if roll >= 10 {
                        acked += 1;
                        let v = json!([["send", k, [offset, m]]]);
                        h.push(time, OpType::Ok, c.process, "send", v, None);
                    }
                }
                if roll < 5 {
                    let v = json!([["send", k, m]]);
                    h.push(time, OpType::Fail, c.process, "send", v, None);
                } else if roll < 10 {
                    let v = json!([["send", k, m]]);
                    h.push(time, OpType::Info, c.process, "send", v, None);
                    c.process = next_process;
                    next_process += 1;
                    c.positions.clear();
                }
            }
            Some(Pending::Poll) => {
                let mut msgs = Map::new();
                for (k, pos) in c.positions.iter_mut() {
                    let log = logs.get(k).map(Vec::as_slice).unwrap_or(&[]);
                    let take = rng.u64(..5) as usize;
                    let got: Vec<(u64, i64)> = log
                        .iter()
                        .filter(|(o, _)| *o >= *pos)
                        .take(take)
                        .copied()
                        .collect();
                    if let Some((o, _)) = got.last() {
                        *pos = o + 1;
                    }
                    if !got.is_empty() || rng.u64(..2) == 0 {
                        msgs.insert(k.clone(), json!(got));
                    }
                }
                let v = json!([["poll", msgs]]);
                h.push(time, OpType::Ok, c.process, "poll", v, None);
            }
        }
    }
    // Final phase: fresh clients read every key from the start.
    for c in &mut clients {
        c.process = next_process;
        next_process += 1;
        let mut final_op = |h: &mut History, kind, f: &str, v: Value| {
            time += 1;
            h.push(time, kind, c.process, f, v, None);
            if let Some(op) = h.ops.last_mut() {
                op.is_final = true;
            }
        };
        final_op(&mut h, OpType::Invoke, "assign", json!(names));
        final_op(&mut h, OpType::Ok, "assign", json!(names));
        let mut positions: BTreeMap<&String, u64> = names.iter().map(|k| (k, 0)).collect();
        loop {
            let mut msgs = Map::new();
            for (k, pos) in positions.iter_mut() {
                let log = logs.get(*k).map(Vec::as_slice).unwrap_or(&[]);
                let got: Vec<(u64, i64)> = log
                    .iter()
                    .filter(|(o, _)| *o >= *pos)
                    .take(20)
                    .copied()
                    .collect();
                if let Some((o, _)) = got.last() {
                    *pos = o + 1;
                    msgs.insert((*k).clone(), json!(got));
                }
            }
            if msgs.is_empty() {
                break;
            }
            final_op(&mut h, OpType::Invoke, "poll", json!([["poll"]]));
            final_op(&mut h, OpType::Ok, "poll", json!([["poll", msgs]]));
        }
    }
    (h, acked)
}

#[test]
fn large_generated_valid_history() {
    let (h, acked) = generated_history(20_000, 10);
    assert!(h.ops.len() >= 40_000);
    let r = check(&h);
    assert_valid(&r);
    assert_eq!(r["acknowledged-count"], json!(acked));
    assert!(acked > 5_000);
    assert_eq!(r["unseen-count"], json!(0));
    assert!(r["polled-count"]
        .as_u64()
        .is_some_and(|n| n >= acked as u64));
}

#[test]
fn generated_history_with_one_message_dropped_is_invalid() {
    let (mut h, _) = generated_history(2_000, 3);
    // Remove one acknowledged message from every poll that returned it.
    let victim = h
        .ops
        .iter()
        .find_map(|op| match op.value.pointer("/0/2/0") {
            Some(o) if op.kind == OpType::Ok && op.f == "send" && o.as_u64() == Some(0) => {
                Some((op.value[0][1].clone(), op.value[0][2][1].clone()))
            }
            _ => None,
        });
    let (key, msg) = victim.expect("some send got offset 0");
    let key = key.as_str().expect("string key").to_owned();
    for op in &mut h.ops {
        if op.f == "poll" && op.kind == OpType::Ok {
            if let Some(list) = op.value[0][1].get_mut(&key).and_then(Value::as_array_mut) {
                list.retain(|e| e[1] != msg);
            }
        }
    }
    let r = check(&h);
    assert_eq!(r["valid?"], json!(false));
    let kinds = types(&r);
    assert!(kinds.contains(&"lost-write"), "{kinds:?}");
    assert!(kinds.contains(&"unseen"), "{kinds:?}");
    assert_eq!(r["lost-write"]["count"], json!(1));
    assert_eq!(example(&r, "lost-write", 0)["message"], msg);
}
