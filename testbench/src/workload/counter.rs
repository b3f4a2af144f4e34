//! `g-counter` and `pn-counter`: after the cluster heals, every final read
//! must equal the sum of the acknowledged adds, plus any subset of the adds
//! whose outcome is unknown.

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::{FinalPhase, Invocation, Request, Step, Workload};
use crate::history::{History, OpType};

/// Adds and reads; grow-only or with negative deltas.
pub struct Counter {
    negative: bool,
}

impl Counter {
    /// `g-counter`: deltas 0 to 4.
    pub fn grow_only() -> Self {
        Counter { negative: false }
    }

    /// `pn-counter`: deltas -5 to 4.
    pub fn positive_negative() -> Self {
        Counter { negative: true }
    }
}

impl Workload for Counter {
    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        rng: &mut fastrand::Rng,
    ) -> Invocation {
        // Maelstrom draws from {add -5..4, read} and, for g-counter, skips
        // negative adds, leaving about two reads for each add.
        loop {
            if rng.bool() {
                return Invocation::new("read", Value::Null);
            }
            let delta = rng.i64(-5..5);
            if self.negative || delta >= 0 {
                return Invocation::new("add", json!(delta));
            }
        }
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        Request::Send(match op.f {
            "add" => json!({"type": "add", "delta": op.value}),
            _ => json!({"type": "read"}),
        })
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        if op.f == "add" {
            schema::check(reply, "add_ok", &[])?;
            return Ok(Step::Done(op.value.clone()));
        }
        schema::check(reply, "read_ok", &[("value", Shape::Int)])?;
        Ok(Step::Done(reply["value"].clone()))
    }

    fn sorts_errors(&self) -> bool {
        false
    }

    fn final_phase(&self) -> Option<FinalPhase> {
        Some(FinalPhase::reads())
    }

    fn check(&self, history: &History) -> Value {
        let adds = history.ops.iter().filter(|op| op.f == "add");
        let definite: i64 = adds
            .clone()
            .filter(|op| op.kind == OpType::Ok)
            .filter_map(|op| op.value.as_i64())
            .sum();
        let mut acceptable = vec![(definite, definite)];
        for op in adds.filter(|op| op.kind == OpType::Info) {
            if let Some(delta) = op.value.as_i64() {
                let shifted: Vec<(i64, i64)> = acceptable
                    .iter()
                    .map(|(lo, hi)| (lo + delta, hi + delta))
                    .collect();
                acceptable = merge(acceptable.into_iter().chain(shifted).collect());
            }
        }
        let final_reads: Vec<&crate::history::Op> = history
            .ops
            .iter()
            .filter(|op| op.f == "read" && op.kind == OpType::Ok && op.is_final)
            .collect();
        let errors: Vec<&crate::history::Op> = final_reads
            .iter()
            .copied()
            .filter(|op| {
                let value = op.value.as_i64().unwrap_or(i64::MIN);
                !acceptable
                    .iter()
                    .any(|(lo, hi)| (*lo..=*hi).contains(&value))
            })
            .collect();
        let valid = if final_reads.is_empty() {
            json!("unknown")
        } else {
            json!(errors.is_empty())
        };
        json!({
            "valid?": valid,
            "errors": errors,
            "final-reads": final_reads.iter().map(|op| op.value.clone()).collect::<Vec<_>>(),
            "acceptable": acceptable.iter().map(|(lo, hi)| json!([lo, hi])).collect::<Vec<_>>(),
        })
    }
}

/// Sorts integer intervals and merges those that overlap or touch.
fn merge(mut ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::OpType::*;

    fn run(rows: &[(OpType, u64, &str, Value, bool)]) -> Value {
        let mut h = History::default();
        for (i, (kind, process, f, value, is_final)) in rows.iter().enumerate() {
            h.push(i as u64, *kind, *process, f, value.clone(), None);
            h.ops.last_mut().unwrap().is_final = *is_final;
        }
        Counter::grow_only().check(&h)
    }

    #[test]
    fn final_reads_must_sum_the_acknowledged_adds() {
        let rows = [
            (Invoke, 0, "add", json!(3), false),
            (Ok, 0, "add", json!(3), false),
            (Invoke, 1, "add", json!(4), false),
            (Ok, 1, "add", json!(4), false),
            (Invoke, 0, "read", Value::Null, false),
            (Ok, 0, "read", json!(3), false), // a stale read mid-run is fine
            (Invoke, 0, "read", Value::Null, true),
            (Ok, 0, "read", json!(7), true),
            (Invoke, 1, "read", Value::Null, true),
            (Ok, 1, "read", json!(3), true),
        ];
        let result = run(&rows);
        assert_eq!(result["valid?"], false);
        assert_eq!(result["errors"].as_array().unwrap().len(), 1);
        assert_eq!(result["acceptable"], json!([[7, 7]]));
    }

    #[test]
    fn unknown_adds_widen_what_is_acceptable() {
        let rows = [
            (Invoke, 0, "add", json!(2), false),
            (Info, 0, "add", json!(2), false),
            (Invoke, 1, "add", json!(5), false),
            (Info, 1, "add", json!(5), false),
            (Invoke, 2, "add", json!(1), false),
            (Ok, 2, "add", json!(1), false),
            (Invoke, 3, "read", Value::Null, true),
            (Ok, 3, "read", json!(6), true),
        ];
        let result = run(&rows);
        assert_eq!(result["valid?"], true);
        assert_eq!(
            result["acceptable"],
            json!([[1, 1], [3, 3], [6, 6], [8, 8]])
        );
    }

    #[test]
    fn touching_intervals_merge() {
        assert_eq!(
            merge(vec![(5, 6), (1, 2), (3, 3), (9, 9), (4, 4)]),
            vec![(1, 6), (9, 9)]
        );
        assert_eq!(merge(vec![(1, 2), (4, 4)]), vec![(1, 2), (4, 4)]);
    }
}
