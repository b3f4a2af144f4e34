//! `unique-ids`: every acknowledged id must differ from every other.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::{Invocation, Request, Step, Workload};
use crate::history::{History, OpType};

/// Sends `generate` requests.
pub struct UniqueIds;

impl Workload for UniqueIds {
    fn reuses_clients(&self) -> bool {
        true
    }

    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        _rng: &mut fastrand::Rng,
    ) -> Invocation {
        Invocation::new("generate", Value::Null)
    }

    fn request(&mut self, _process: u64, _op: &Invocation) -> Request {
        Request::Send(json!({"type": "generate"}))
    }

    fn complete(&mut self, _process: u64, _op: &Invocation, reply: &Value) -> Result<Step, String> {
        schema::check(reply, "generate_ok", &[("id", Shape::Any)])?;
        Ok(Step::Done(reply["id"].clone()))
    }

    fn check(&self, history: &History) -> Value {
        let attempted = history
            .ops
            .iter()
            .filter(|op| op.kind == OpType::Invoke)
            .count();
        let mut counts: HashMap<String, (Value, usize)> = HashMap::new();
        for op in history.ops.iter().filter(|op| op.kind == OpType::Ok) {
            counts
                .entry(op.value.to_string())
                .or_insert((op.value.clone(), 0))
                .1 += 1;
        }
        let acknowledged: usize = counts.values().map(|(_, n)| n).sum();
        let mut duplicated: Vec<(Value, usize)> =
            counts.into_values().filter(|(_, n)| *n > 1).collect();
        duplicated.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then_with(|| a.0.to_string().cmp(&b.0.to_string()))
        });
        let ids = history
            .ops
            .iter()
            .filter(|op| op.kind == OpType::Ok)
            .map(|op| &op.value);
        let range = ids
            .clone()
            .min_by(|a, b| compare(a, b))
            .zip(ids.max_by(|a, b| compare(a, b)));
        json!({
            "valid?": duplicated.is_empty(),
            "attempted-count": attempted,
            "acknowledged-count": acknowledged,
            "duplicated-count": duplicated.len(),
            "duplicated": duplicated
                .iter()
                .take(48)
                .map(|(id, n)| json!({"id": id, "count": n}))
                .collect::<Vec<_>>(),
            "range": range.map(|(min, max)| json!([min, max])),
        })
    }
}

/// Integers by value, then other numbers, then anything else by its text.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), ..) => x.cmp(&y),
        (.., Some(x), Some(y)) => x.cmp(&y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => a.to_string().cmp(&b.to_string()),
        },
    }
}
