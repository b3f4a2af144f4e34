//! `g-set`: a grow-only set; every acknowledged add must stay in reads.

use serde_json::{json, Value};

use super::schema::{self, Shape};
use super::{FinalPhase, Invocation, Request, Step, Workload};
use crate::checker::set_full;
use crate::history::History;

/// Adds 0, 1, 2 ... mixed with reads.
#[derive(Default)]
pub struct GSet {
    next_element: u64,
}

impl Workload for GSet {
    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        rng: &mut fastrand::Rng,
    ) -> Invocation {
        if rng.bool() {
            let element = self.next_element;
            self.next_element += 1;
            Invocation::new("add", json!(element))
        } else {
            Invocation::new("read", Value::Null)
        }
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        Request::Send(match op.f {
            "add" => json!({"type": "add", "element": op.value}),
            _ => json!({"type": "read"}),
        })
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        if op.f == "add" {
            schema::check(reply, "add_ok", &[])?;
            return Ok(Step::Done(op.value.clone()));
        }
        // Maelstrom's schema names the field `value` (its docs say `elements`).
        schema::check(reply, "read_ok", &[("value", Shape::List(&Shape::Any))])?;
        Ok(Step::Done(reply["value"].clone()))
    }

    fn sorts_errors(&self) -> bool {
        false
    }

    fn final_phase(&self) -> Option<FinalPhase> {
        Some(FinalPhase::reads())
    }

    fn check(&self, history: &History) -> Value {
        set_full::check(history, "add")
    }
}
