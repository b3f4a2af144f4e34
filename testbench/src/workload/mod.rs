//! Workloads: what clients ask of the nodes, and how the history is judged.

mod broadcast;
mod counter;
mod echo;
mod g_set;
pub mod lin_kv;
mod unique_ids;

use std::time::Duration;

use serde_json::Value;

use crate::config::{Config, Workload as Kind};
use crate::history::History;

/// An operation a client is about to invoke.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// The operation's name in the history (`read`, `broadcast`, `add` ...).
    pub f: &'static str,
    /// Its argument in the history.
    pub value: Value,
}

impl Invocation {
    pub fn new(f: &'static str, value: Value) -> Self {
        Invocation { f, value }
    }
}

/// The phase after the main run: the nemesis is healed, the bench waits
/// `quiet`, then each node is asked `op` once.
#[derive(Debug, Clone)]
pub struct FinalReads {
    pub quiet: Duration,
    pub op: Invocation,
}

impl FinalReads {
    /// Maelstrom's final phase: 10 s of quiet, then one read per client.
    pub fn reads() -> Self {
        FinalReads {
            quiet: Duration::from_secs(10),
            op: Invocation::new("read", Value::Null),
        }
    }
}

/// A workload: a generator of operations and a checker of histories.
pub trait Workload {
    /// Requests a client sends to each node before the run, for which it
    /// waits for an answer (such as broadcast's `topology`).
    fn setup(&self, nodes: &[String]) -> Vec<(usize, Value)> {
        let _ = nodes;
        Vec::new()
    }

    /// The next operation of the main phase.
    fn next_op(&mut self, rng: &mut fastrand::Rng) -> Invocation;

    /// The request body for `op` (without `msg_id`).
    fn request(&self, op: &Invocation) -> Value;

    /// The value an `ok` reply completes `op` with; `Err` when the reply
    /// does not have the shape the workload expects.
    fn complete(&self, op: &Invocation, reply: &Value) -> Result<Value, String>;

    /// Whether `f` is harmless to repeat: such an operation that times out
    /// or errs surely did nothing visible, so it is recorded as `fail`.
    fn idempotent(&self, f: &str) -> bool {
        let _ = f;
        false
    }

    /// How long a client waits for a reply (Maelstrom's 5 s unless the
    /// workload says otherwise).
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// Reads after the main phase, if the workload wants them.
    fn final_reads(&self) -> Option<FinalReads> {
        None
    }

    /// Judges the history: a JSON object with at least `valid?`.
    fn check(&self, history: &History) -> Value;
}

/// The workload `config` names.
pub fn for_config(config: &Config) -> Box<dyn Workload> {
    match config.workload {
        Kind::Echo => Box::new(echo::Echo::default()),
        Kind::UniqueIds => Box::new(unique_ids::UniqueIds),
        Kind::Broadcast => Box::new(broadcast::Broadcast::new(config.topology)),
        Kind::GCounter => Box::new(counter::Counter::grow_only()),
        Kind::PnCounter => Box::new(counter::Counter::positive_negative()),
        Kind::GSet => Box::new(g_set::GSet::default()),
        Kind::LinKv => Box::new(lin_kv::LinKv::new(config.latency)),
    }
}

/// Reads a named field of a reply.
fn field<'a>(reply: &'a Value, name: &str) -> Result<&'a Value, String> {
    reply
        .get(name)
        .ok_or_else(|| format!("the reply has no `{name}` field: {reply}"))
}

/// Reads a field of a reply that must be a list.
fn list_field(reply: &Value, name: &str) -> Result<Value, String> {
    let value = field(reply, name)?;
    if value.is_array() {
        Ok(value.clone())
    } else {
        Err(format!("`{name}` is not a list: {reply}"))
    }
}

pub use broadcast::topology;
