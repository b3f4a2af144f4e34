//! # glomers-sim
//!
//! Runs whole clusters of `#[maelstrom_node]` nodes in one process, on
//! virtual time, through the test bench's own engine: the same workloads,
//! network (Maelstrom's delivery, partitions, and faults beyond it),
//! services and checkers as `glomers test`, but time jumps to the next
//! thing that happens, so a 20 s run costs only the work done in it, and
//! one seed gives one run, byte for byte.
//!
//! ```
//! use glomers::prelude::*;
//! use glomers_sim::Sim;
//!
//! #[maelstrom_node]
//! struct Echo;
//!
//! #[maelstrom_node]
//! impl Echo {
//!     #[handle("echo")]
//!     fn echo(&mut self, echo: RawJson) -> EchoOk {
//!         EchoOk { echo }
//!     }
//! }
//!
//! #[derive(Serialize)]
//! struct EchoOk {
//!     echo: RawJson,
//! }
//!
//! let sim = Sim::new(|| Echo, "-w echo --node-count 3 --time-limit 5 --rate 50").unwrap();
//! let run = sim.run(7).unwrap();
//! assert!(run.valid);
//! // In a test: every seed of a range must give a valid run; a failure
//! // names the seed, a shrunk case and the command that replays it.
//! sim.assert_seeds(0..5);
//! ```
//!
//! Nodes reach the world only through the runtime's seams (`Env`: the
//! transport, the clock, the seed), so they run here unchanged. What can
//! still make two runs of one seed differ is the node's own code: iterating
//! a `std::collections::HashMap` (its order is seeded at random per
//! process) or reading the system clock. Use `glomers::collections`' maps
//! (or `BTreeMap`) and `ctx.now()`; [`Sim::check_determinism`] finds the
//! first message where two runs part.

mod clock;
mod cluster;
mod flags;
mod shrink;

use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use glomers::Start;
use serde_json::Value;
use testbench::{Config, Simulation};

pub use clock::{NodeClock, Sleep, VirtualTime, EPOCH, MAX_READS_AT_ONE_INSTANT};
pub use cluster::InProcess;
pub use flags::{override_flags, parse_flags};

/// Runs a node type on simulated clusters: `make` builds one node (its
/// state, or its constructor: whatever `glomers::run` takes).
pub struct Sim<F, How> {
    config: Config,
    make: F,
    replay: Replay,
    how: std::marker::PhantomData<fn() -> How>,
}

/// How a failing seed is replayed: the command printed with it.
#[derive(Debug, Clone)]
pub enum Replay {
    /// Re-run this test with `GLOMERS_SIM_SEED` and `GLOMERS_SIM_FLAGS`
    /// set (the default; the test's name is taken from its thread).
    Test,
    /// Run this command with `--seed N` and the shrunk flags appended.
    Command(String),
}

/// What a seed that failed left: the seed, the shrunk flags that still
/// fail, their results, where they were stored, and how to replay them.
#[derive(Debug)]
pub struct Failure {
    /// The failing seed.
    pub seed: u64,
    /// The flags of the smallest failing case found (as `glomers test`
    /// takes them).
    pub flags: String,
    /// That case's results.
    pub results: Value,
    /// Where that case was stored with the usual artefacts, if it could be.
    pub store: Option<PathBuf>,
    /// The command that replays it exactly.
    pub replay: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = failure_summary(&self.results);
        writeln!(f, "seed {} fails: {why}", self.seed)?;
        writeln!(f, "smallest failing case: {}", self.flags)?;
        if let Some(store) = &self.store {
            writeln!(f, "stored in {}", store.display())?;
        }
        write!(f, "replay: {}", self.replay)
    }
}

/// What a sweep over seeds found.
#[derive(Debug)]
pub struct Sweep {
    /// How many seeds gave a valid run.
    pub valid: u64,
    /// The first seed that did not, if one did not.
    pub failure: Option<Failure>,
    /// Virtual seconds simulated, over all seeds.
    pub virtual_seconds: f64,
    /// Wall time the sweep took.
    pub wall: Duration,
}

/// Where two runs of one seed parted.
#[derive(Debug, PartialEq)]
pub struct Divergence {
    /// `messages.jsonl` or `history.jsonl`.
    pub file: &'static str,
    /// The first line (1-based) that differs.
    pub line: usize,
    /// That line in each run.
    pub first: String,
    pub second: String,
    /// Who wrote the message of that line (its `src`), for the journal.
    pub sender: Option<String>,
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let who = self
            .sender
            .as_ref()
            .map(|s| format!(", a message from {s}"))
            .unwrap_or_default();
        write!(
            f,
            "two runs of one seed part at {} line {}{who}:\n  first:  {}\n  second: {}\n\
             (a node that iterates a randomly seeded HashMap, or reads the system clock, \
             does this: use glomers::collections or BTreeMap, and ctx.now())",
            self.file, self.line, self.first, self.second
        )
    }
}

impl<F, N, How> Sim<F, How>
where
    F: Fn() -> N,
    N: Start<How> + 'static,
    How: 'static,
{
    /// A simulator of the nodes `make` builds, under the bench's `flags`
    /// (as `glomers test` takes them, without `--bin`: `-w broadcast
    /// --node-count 5 --nemesis partition`).
    pub fn new(make: F, flags: &str) -> Result<Self, String> {
        Ok(Sim {
            config: parse_flags(flags)?,
            make,
            replay: Replay::Test,
            how: std::marker::PhantomData,
        })
    }

    /// Prints failures' replay commands as `command --seed N <flags>`.
    pub fn replay_with(mut self, command: impl Into<String>) -> Self {
        self.replay = Replay::Command(command.into());
        self
    }

    /// The configuration the runs use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The configuration the runs use, to change.
    pub fn config_mut(&mut self) -> &mut Config {
        &mut self.config
    }

    /// One run with `seed`.
    pub fn run(&self, seed: u64) -> Result<Simulation, String> {
        self.run_config(&self.config, seed)
    }

    /// One run of `config` with `seed`.
    pub fn run_config(&self, config: &Config, seed: u64) -> Result<Simulation, String> {
        config.validate()?;
        let skew = Duration::from_secs_f64(config.clock_skew / 1000.0);
        let cluster = InProcess::new(config.node_total(), &self.make, seed, skew);
        testbench::simulate(config, cluster, seed)
    }

    /// Runs `seed` twice and compares the histories and journals line by
    /// line; `Err` names the first line where they part.
    pub fn check_determinism(&self, seed: u64) -> Result<(), Box<Divergence>> {
        let first = self.run(seed).map_err(|err| divergence_of_error(&err))?;
        let second = self.run(seed).map_err(|err| divergence_of_error(&err))?;
        compare("messages.jsonl", &first.journal, &second.journal)
            .or_else(|| {
                compare(
                    "history.jsonl",
                    &first.history.to_jsonl(),
                    &second.history.to_jsonl(),
                )
            })
            .map_or(Ok(()), |d| Err(Box::new(d)))
    }

    /// Runs every seed of `seeds`, stopping at the first that is not valid,
    /// which is shrunk to a small failing case and stored.
    pub fn sweep(&self, seeds: Range<u64>) -> Sweep {
        let started = Instant::now();
        let mut sweep = Sweep {
            valid: 0,
            failure: None,
            virtual_seconds: 0.0,
            wall: Duration::ZERO,
        };
        for seed in seeds {
            match self.run(seed) {
                Ok(run) if run.valid => {
                    sweep.valid += 1;
                    sweep.virtual_seconds +=
                        run.results["bench"]["wall-seconds"].as_f64().unwrap_or(0.0);
                }
                other => {
                    sweep.failure = Some(self.fail(seed, other));
                    break;
                }
            }
        }
        sweep.wall = started.elapsed();
        sweep
    }

    /// Panics, with the failing seed, its shrunk case and the command that
    /// replays it, unless every seed of `seeds` gives a valid run. With
    /// `GLOMERS_SIM_SEED` set, runs that seed only (with the flags of
    /// `GLOMERS_SIM_FLAGS` on top), as a replay command asks.
    pub fn assert_seeds(&self, seeds: Range<u64>) {
        let (seeds, sim_config) = match replay_request() {
            Some((seed, flags)) => {
                let mut config = self.config.clone();
                if let Some(flags) = flags {
                    config = override_flags(&config, &flags)
                        .unwrap_or_else(|err| panic!("GLOMERS_SIM_FLAGS: {err}"));
                }
                (seed..seed + 1, Some(config))
            }
            None => (seeds, None),
        };
        if let Some(config) = sim_config {
            let seed = seeds.start;
            let run = self.run_config(&config, seed);
            if !run.as_ref().is_ok_and(|r| r.valid) {
                let failure = self.fail(seed, run);
                panic!("{failure}");
            }
            return;
        }
        if let Some(failure) = self.sweep(seeds).failure {
            panic!("{failure}");
        }
    }

    /// Shrinks and stores a failing seed, and says how to replay it.
    fn fail(&self, seed: u64, run: Result<Simulation, String>) -> Failure {
        let (config, results) = match run {
            Ok(run) => {
                // A smaller case is kept only if it fails the same way.
                let how = shrink::signature(&run.results);
                let config = shrink::shrink(&self.config, |c| {
                    self.run_config(c, seed)
                        .is_ok_and(|r| !r.valid && !shrink::signature(&r.results).is_disjoint(&how))
                });
                let run = self.run_config(&config, seed);
                let store = run
                    .as_ref()
                    .ok()
                    .and_then(|run| store(&config, seed, run).ok());
                let results = run.map_or_else(Value::String, |run| run.results);
                let flags = shrink::flags(&config);
                return Failure {
                    seed,
                    replay: self.replay_command(seed, &flags),
                    flags,
                    results,
                    store,
                };
            }
            Err(err) => (self.config.clone(), Value::String(err)),
        };
        let flags = shrink::flags(&config);
        Failure {
            seed,
            replay: self.replay_command(seed, &flags),
            flags,
            results,
            store: None,
        }
    }

    fn replay_command(&self, seed: u64, flags: &str) -> String {
        match &self.replay {
            Replay::Command(command) => format!("{command} --seed {seed} {flags}"),
            Replay::Test => {
                let test = std::thread::current()
                    .name()
                    .filter(|name| *name != "main")
                    .map(str::to_owned)
                    .unwrap_or_else(|| "<the test>".to_owned());
                format!(
                    "GLOMERS_SIM_SEED={seed} GLOMERS_SIM_FLAGS='{flags}' cargo test {test} -- --exact"
                )
            }
        }
    }
}

/// The seed (and flags) a replay command asks for, from the environment.
fn replay_request() -> Option<(u64, Option<String>)> {
    let seed = std::env::var("GLOMERS_SIM_SEED").ok()?.parse().ok()?;
    Some((seed, std::env::var("GLOMERS_SIM_FLAGS").ok()))
}

fn compare(file: &'static str, first: &str, second: &str) -> Option<Divergence> {
    let mut a = first.lines();
    let mut b = second.lines();
    let mut line = 0;
    loop {
        line += 1;
        match (a.next(), b.next()) {
            (None, None) => return None,
            (x, y) if x == y => continue,
            (x, y) => {
                let first = x.unwrap_or("<end>").to_owned();
                let second = y.unwrap_or("<end>").to_owned();
                let sender = [&first, &second].into_iter().find_map(|l| {
                    serde_json::from_str::<Value>(l).ok()?["message"]["src"]
                        .as_str()
                        .map(str::to_owned)
                });
                return Some(Divergence {
                    file,
                    line,
                    first,
                    second,
                    sender,
                });
            }
        }
    }
}

fn divergence_of_error(err: &str) -> Box<Divergence> {
    Box::new(Divergence {
        file: "run",
        line: 0,
        first: err.to_owned(),
        second: String::new(),
        sender: None,
    })
}

/// A line on why a run failed, from its results: each part that failed,
/// with the workload checker's findings shortened.
fn failure_summary(results: &Value) -> String {
    if let Some(text) = results.as_str() {
        return text.to_owned();
    }
    let mut parts = Vec::new();
    for part in ["workload", "stats", "availability", "nodes"] {
        if results[part]["valid?"] == Value::Bool(false) {
            let mut text = results[part].to_string();
            if text.len() > 400 {
                let cut = (0..=400)
                    .rev()
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(0);
                text.truncate(cut);
                text.push_str(" ...");
            }
            parts.push(format!("{part} invalid: {text}"));
        }
    }
    if parts.is_empty() {
        format!("valid? {}", results["valid?"])
    } else {
        parts.join("; ")
    }
}

/// Keeps a simulated run in a fresh folder of the store of `config`, with
/// the files of a bench run, and points `latest` at it. Its pictures are
/// drawn with the `report` feature; without it, `glomers analyze` or
/// `glomers serve` draws them.
pub fn store(config: &Config, seed: u64, run: &Simulation) -> Result<PathBuf, String> {
    let dir = testbench::store::RunDir::create(&config.store, config.workload.name())?;
    dir.keep_simulation(config, seed, run)?;
    #[cfg(feature = "report")]
    testbench::report::draw_or_warn(&dir);
    let _ = dir.link_latest(&config.store);
    Ok(dir.path().to_path_buf())
}
