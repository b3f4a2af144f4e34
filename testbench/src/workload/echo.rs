//! `echo`: every reply must carry the payload of its request.
//!
//! As in Maelstrom, each operation asks to echo `"Please echo N"` for N
//! drawn from 0 to 127, and its `ok` value is the whole reply body; the
//! check compares the reply's `echo` with the payload sent.

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::{Invocation, Request, Step, Workload};
use crate::history::{History, OpType};

/// Sends `echo` requests.
pub struct Echo;

impl Workload for Echo {
    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        rng: &mut fastrand::Rng,
    ) -> Invocation {
        Invocation::new("echo", json!(format!("Please echo {}", rng.u8(..128))))
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        Request::Send(json!({"type": "echo", "echo": op.value}))
    }

    fn complete(&mut self, _process: u64, _op: &Invocation, reply: &Value) -> Result<Step, String> {
        schema::check(reply, "echo_ok", &[("echo", Shape::Any)])?;
        Ok(Step::Done(reply.clone()))
    }

    fn sorts_errors(&self) -> bool {
        false
    }

    fn check(&self, history: &History) -> Value {
        let mut errors = Vec::new();
        // As in Maelstrom, an echo that failed or timed out is an error too.
        for (invoke, completion) in history.pairs() {
            let received = completion
                .filter(|c| c.kind == OpType::Ok)
                .and_then(|c| c.value.get("echo"));
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
