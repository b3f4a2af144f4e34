//! Workloads: what clients ask of the nodes, and how the history is judged.

mod broadcast;
mod counter;
mod echo;
mod g_set;
mod kafka;
mod keys;
pub mod lin_kv;
pub mod schema;
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

/// What an operation does first.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Sends this body (without `msg_id`) to the process's node.
    Send(Value),
    /// Sends nothing: the operation is `ok` at once with this value (kafka's
    /// assign that seeks to the beginning only resets the client's offsets).
    Ok(Value),
    /// Sends nothing: the operation ends at once as `info`, which retires
    /// the process (kafka's client `crash`).
    Crash,
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

    /// The next operation of `process` in the main phase, `elapsed` after
    /// the phase began (kafka crashes clients on a schedule of its own).
    fn next_op(&mut self, process: u64, elapsed: Duration, rng: &mut fastrand::Rng) -> Invocation;

    /// What `op` does first: usually a request to send.
    fn request(&mut self, process: u64, op: &Invocation) -> Request;

    /// What a non-error reply to the operation's latest request leads to;
    /// `Err` (the operation becomes `info`, "indeterminate") when the reply
    /// breaks Maelstrom's schema for it ([`schema`]) or a check the bench
    /// makes beyond Maelstrom (such a text starts with [`BEYOND_MAELSTROM`]).
    fn complete(&mut self, process: u64, op: &Invocation, reply: &Value) -> Result<Step, String>;

    /// Whether `f` is harmless to repeat: such an operation that times out
    /// or errs surely did nothing visible, so it is recorded as `fail`.
    fn idempotent(&self, f: &str) -> bool {
        let _ = f;
        false
    }

    /// Whether error replies are sorted as Maelstrom's `with-errors` does:
    /// a definite code makes the operation `fail`. Maelstrom's echo, g-set,
    /// counter and kafka clients do not sort them: there every error reply
    /// makes the operation `info`, like a timeout.
    fn sorts_errors(&self) -> bool {
        true
    }

    /// Whether a client process that ended indefinitely hands its client id
    /// (and its message numbers) to the process that replaces it, as the
    /// workloads whose clients Maelstrom marks `Reusable` do (lin-kv, the
    /// transactions, unique-ids). Otherwise the id is closed, and a late
    /// reply to it is a line to an id Maelstrom no longer knows.
    fn reuses_clients(&self) -> bool {
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

    /// The next final operation of the client thread now running
    /// `process`, which has started `done` final operations so far (under
    /// this process or those it replaced), or `None` when it has no more.
    /// By default, one `read`.
    fn final_op(&mut self, process: u64, done: usize) -> Option<Invocation> {
        let _ = process;
        (done == 0).then(|| Invocation::new("read", Value::Null))
    }

    /// Judges the history: a JSON object with at least `valid?`.
    fn check(&self, history: &History) -> Value;
}

/// How the text of a reply problem Maelstrom would let pass begins: the
/// bench is stricter there on purpose (a txn reply that does not answer
/// the transaction sent, for one).
pub const BEYOND_MAELSTROM: &str = "beyond Maelstrom: ";

/// Checks what the workload `config` names needs of the other flags, before
/// any node starts: `Err` is a usage error.
///
/// ```
/// use testbench::{Config, Workload};
///
/// let mut config = Config::new(Workload::LinKv, "node");
/// config.node_count = Some(3);
/// config.concurrency = testbench::config::Concurrency::Total(4);
/// assert!(testbench::workload::validate(&config).unwrap_err().contains("multiple of 6"));
/// ```
pub fn validate(config: &Config) -> Result<(), String> {
    match config.workload {
        Kind::LinKv => lin_kv::LinKv::validate(config),
        _ => Ok(()),
    }
}

/// The workload `config` names, or a usage error ([`validate`]).
pub fn for_config(config: &Config) -> Result<Box<dyn Workload>, String> {
    validate(config)?;
    Ok(match config.workload {
        Kind::Echo => Box::new(echo::Echo),
        Kind::UniqueIds => Box::new(unique_ids::UniqueIds),
        Kind::Broadcast => Box::new(broadcast::Broadcast::new(config.topology)),
        Kind::GCounter => Box::new(counter::Counter::grow_only()),
        Kind::PnCounter => Box::new(counter::Counter::positive_negative()),
        Kind::GSet => Box::new(g_set::GSet::default()),
        Kind::LinKv => Box::new(lin_kv::LinKv::new(config)),
        Kind::Kafka => Box::new(kafka::Kafka::new(config)),
        Kind::TxnRwRegister | Kind::TxnListAppend => Box::new(txn::Txn::new(config)),
    })
}

pub use broadcast::topology;
