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

pub mod analyze;
pub mod checker;
pub mod clients;
pub mod config;
pub mod console;
pub mod faults;
pub mod history;
pub mod interrupt;
pub mod nemesis;
pub mod net;
pub mod official;
pub mod process;
pub mod protocol;
pub mod reach;
pub mod reference;
pub mod report;
pub mod results;
pub mod run;
pub mod serve;
pub mod services;
pub mod store;
pub mod workload;

pub use config::{Cli, Command, Config, Workload};
pub use run::{run, run_on, simulate, store_simulation, Outcome, Simulation};
