//! Workloads: what clients ask of the nodes, and how the history is judged.

mod broadcast;
mod counter;
mod echo;
mod g_set;
mod kafka;
pub mod lin_kv;
mod txn;
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
/// `quiet`, then each client process runs the workload's final operations
/// ([`Workload::final_op`]) one after another, for at most `limit`.
#[derive(Debug, Clone)]
pub struct FinalPhase {
    /// How long the cluster rests, healed, before the final operations.
    pub quiet: Duration,
    /// After this long, no new final operation starts.
    pub limit: Duration,
    /// A process's final operations are spaced by a uniform random pause
    /// of mean `stagger` (none when zero).
    pub stagger: Duration,
}

impl FinalPhase {
    /// Maelstrom's final reads: 10 s of quiet, then one read per client.
    pub fn reads() -> Self {
        FinalPhase {
            quiet: Duration::from_secs(10),
            limit: Duration::from_secs(60),
            stagger: Duration::ZERO,
        }
    }
}

/// What a reply to one of an operation's requests leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// The operation is over; this is its value in the history.
    Done(Value),
    /// The operation goes on with this request (without `msg_id`) to the
    /// same node, such as kafka's `commit_offsets` after a `poll`.
    Then(Value),
}

/// A workload: a generator of operations and a checker of histories.
///
/// Each client process has its own operations in turn; `process` lets a
/// workload keep per-client state (kafka's assigned keys and offsets). A
/// process that ends an operation indefinitely is retired and its client
/// continues under a new number, so its state starts afresh.
pub trait Workload {
    /// Requests a client sends to each node before the run, for which it
    /// waits for an answer (such as broadcast's `topology`).
    fn setup(&self, nodes: &[String]) -> Vec<(usize, Value)> {
        let _ = nodes;
        Vec::new()
    }

    /// The next operation of `process` in the main phase.
    fn next_op(&mut self, process: u64, rng: &mut fastrand::Rng) -> Invocation;

    /// The first request body for `op` (without `msg_id`), or `None` for
    /// an operation that sends nothing and ends at once as `info` (kafka's
    /// client `crash`, after which the process starts afresh).
    fn request(&mut self, process: u64, op: &Invocation) -> Option<Value>;

    /// What an `ok` reply to the operation's latest request leads to; `Err`
    /// when the reply does not have the shape the workload expects.
    fn complete(&mut self, process: u64, op: &Invocation, reply: &Value) -> Result<Step, String>;

    /// Whether `f` is harmless to repeat: such an operation that times out
    /// or errs surely did nothing visible, so it is recorded as `fail`.
    fn idempotent(&self, f: &str) -> bool {
        let _ = f;
        false
    }

    /// How long a client waits for each reply (Maelstrom's 5 s unless the
    /// workload says otherwise).
    fn timeout(&self) -> Option<Duration> {
        None
    }

    /// The phase after the main run, if the workload wants one.
    fn final_phase(&self) -> Option<FinalPhase> {
        None
    }

    /// The next final operation of `process`, which has finished `done` of
    /// them, or `None` when it has no more. By default, one `read`.
    fn final_op(&mut self, process: u64, done: usize) -> Option<Invocation> {
        let _ = process;
        (done == 0).then(|| Invocation::new("read", Value::Null))
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
        Kind::Kafka => Box::new(kafka::Kafka::new(config.key_count)),
        Kind::TxnRwRegister | Kind::TxnListAppend => Box::new(txn::Txn::new(config)),
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
