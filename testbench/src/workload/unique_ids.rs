//! `unique-ids`: every acknowledged id must differ from every other.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{field, Invocation, Workload};
use crate::history::{History, OpType};

/// Sends `generate` requests.
pub struct UniqueIds;

impl Workload for UniqueIds {
    fn next_op(&mut self, _rng: &mut fastrand::Rng) -> Invocation {
        Invocation::new("generate", Value::Null)
    }

    fn request(&self, _op: &Invocation) -> Value {
        json!({"type": "generate"})
    }

    fn complete(&self, _op: &Invocation, reply: &Value) -> Result<Value, String> {
        field(reply, "id").cloned()
    }

    fn check(&self, history: &History) -> Value {
        let attempted = history.ops.iter().filter(|op| op.kind == OpType::Invoke).count();
        let mut counts: HashMap<String, (Value, usize)> = HashMap::new();
        for op in history.ops.iter().filter(|op| op.kind == OpType::Ok) {
            counts.entry(op.value.to_string()).or_insert((op.value.clone(), 0)).1 += 1;
        }
        let acknowledged: usize = counts.values().map(|(_, n)| n).sum();
        let mut duplicated: Vec<(Value, usize)> = counts.into_values().filter(|(_, n)| *n > 1).collect();
        duplicated.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.to_string().cmp(&b.0.to_string())));
        let numbers: Vec<f64> = history
            .ops
            .iter()
            .filter(|op| op.kind == OpType::Ok)
            .filter_map(|op| op.value.as_f64())
            .collect();
        let range = (!numbers.is_empty()).then(|| {
            let min = numbers.iter().copied().fold(f64::INFINITY, f64::min);
            let max = numbers.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            json!([min, max])
        });
        json!({
            "valid?": duplicated.is_empty(),
            "attempted-count": attempted,
            "acknowledged-count": acknowledged,
            "duplicated-count": duplicated.len(),
            "duplicated": duplicated
                .iter()
                .take(10)
                .map(|(id, n)| json!({"id": id, "count": n}))
                .collect::<Vec<_>>(),
            "range": range,
        })
    }
}
