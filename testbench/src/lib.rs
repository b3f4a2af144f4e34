//! A JVM-free test bench that speaks Maelstrom's protocol: it runs node
//! binaries (in any language) as a cluster behind a simulated network,
//! drives a workload's clients against them, injects partitions, and checks
//! the history as Maelstrom would.
//!
//! ```no_run
//! use testbench::{run, Config, Workload};
//!
//! let mut config = Config::new(Workload::Echo, "target/release/echo");
//! config.node_count = Some(1);
//! config.time_limit = 5.0;
//! let outcome = run(&config).expect("the run happened");
//! assert!(outcome.valid, "{}", outcome.results);
//! ```
//!
//! The bench shares no code with the glomers runtime: it knows nodes only
//! through the protocol, so that a bug in one cannot hide one in the other.
//!
//! # Layers
//!
//! Imports point down this list, never up, and never in a circle
//! (`docs/layers.md` has the whole picture):
//!
//! 1. facts: [`config`], [`history`], the protocol's envelope, the console
//!    and signals ([`console`], [`interrupt`]);
//! 2. the pieces of a cluster: the network, [`process`]es and how the
//!    engine reaches them ([`reach`]), [`services`], [`workload`]s and
//!    their [`checker`]s, the nemesis, the clients' slots;
//! 3. [`results`]: a history judged, with the statistics;
//! 4. the [`engine`]: runs a cluster and returns what happened;
//! 5. the [`store`]: a run folder, written and read by one type;
//! 6. what composes them: [`mod@run`] (a test on processes, stored),
//!    [`analyze`] (a stored run judged again), [`mod@reference`] (Maelstrom's
//!    recorded runs);
//! 7. `report` (with the `report` feature): the pictures, drawn from a
//!    stored run.
//!
//! The commands (`glomers test`, `analyze`, `serve`, `official`, `sim`)
//! live in the `glomers-cli` crate, above all of these.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
pub mod console;
mod faults;
pub mod history;
pub mod interrupt;
mod protocol;

pub mod checker;
mod clients;
mod nemesis;
mod net;
pub mod process;
pub mod reach;
pub mod services;
pub mod workload;

pub mod results;

pub mod engine;

pub mod store;

pub mod analyze;
pub mod reference;
pub mod run;

#[cfg(feature = "report")]
#[cfg_attr(docsrs, doc(cfg(feature = "report")))]
pub mod report;

pub use config::{Config, Workload};
pub use engine::{simulate, Simulation};
pub use run::{run, run_on, Outcome};
