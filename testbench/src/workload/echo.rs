//! `echo`: every reply must carry the payload of its request.

use serde_json::{json, Value};

use super::{field, Invocation, Step, Workload};
use crate::history::{History, OpType};

/// Sends `echo` requests with distinct payloads.
#[derive(Default)]
pub struct Echo {
    sent: u64,
}

impl Workload for Echo {
    fn next_op(&mut self, _process: u64, _rng: &mut fastrand::Rng) -> Invocation {
        // Distinct payloads, so that a reply carrying another request's
        // payload is caught too.
        self.sent += 1;
        Invocation::new("echo", json!(format!("Please echo {}", self.sent)))
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Option<Value> {
        Some(json!({"type": "echo", "echo": op.value}))
    }

    fn complete(&mut self, _process: u64, _op: &Invocation, reply: &Value) -> Result<Step, String> {
        if reply["type"] != "echo_ok" {
            return Err(format!("expected echo_ok, got {reply}"));
        }
        field(reply, "echo").cloned().map(Step::Done)
    }

    fn check(&self, history: &History) -> Value {
        let mut errors = Vec::new();
        // As in Maelstrom, an echo that failed or timed out is an error too.
        for (invoke, completion) in history.pairs() {
            let received = completion
                .filter(|c| c.kind == OpType::Ok)
                .map(|c| &c.value);
            if received != Some(&invoke.value) {
                let done = completion;
                errors.push(json!({
                    "expected": invoke.value,
                    "received": done.map(|c| json!({"type": c.kind, "value": c.value, "error": c.error})),
                    "invoke": invoke.index,
                }));
            }
        }
        json!({
            "valid?": errors.is_empty(),
            "error-count": errors.len(),
            "errors": errors.into_iter().take(10).collect::<Vec<_>>(),
        })
    }
}
