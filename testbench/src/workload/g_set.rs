//! `g-set`: a grow-only set; every acknowledged add must stay in reads.

use serde_json::{json, Value};

use super::{field, FinalReads, Invocation, Workload};
use crate::checker::set_full;
use crate::history::History;

/// Adds 0, 1, 2 ... mixed with reads.
#[derive(Default)]
pub struct GSet {
    next_element: u64,
}

impl Workload for GSet {
    fn next_op(&mut self, rng: &mut fastrand::Rng) -> Invocation {
        if rng.bool() {
            let element = self.next_element;
            self.next_element += 1;
            Invocation::new("add", json!(element))
        } else {
            Invocation::new("read", Value::Null)
        }
    }

    fn request(&self, op: &Invocation) -> Value {
        match op.f {
            "add" => json!({"type": "add", "element": op.value}),
            _ => json!({"type": "read"}),
        }
    }

    fn complete(&self, op: &Invocation, reply: &Value) -> Result<Value, String> {
        match op.f {
            "add" => Ok(op.value.clone()),
            _ => {
                let value = field(reply, "value")?;
                if value.is_array() {
                    Ok(value.clone())
                } else {
                    Err(format!("`value` is not a list: {reply}"))
                }
            }
        }
    }

    fn final_reads(&self) -> Option<FinalReads> {
        Some(FinalReads {
            quiet: std::time::Duration::from_secs(10),
            op: Invocation::new("read", Value::Null),
        })
    }

    fn check(&self, history: &History) -> Value {
        set_full::check(history, "add")
    }
}
