//! Compiles every Rust block of the project's documentation.
//!
//! Each markdown file of `README.md`, `CHANGELOG.md` and `docs/` is the
//! documentation of one module below, so `cargo test -p doc-tests`
//! compiles every ```rust block (and runs it, unless it says `no_run`; a
//! `compile_fail` block must fail to compile), and every unlabelled ```
//! block, which rustdoc takes for Rust: label the others (```sh, ```text,
//! ```json, ```toml). No block may be `ignore`d.
//!
//! `tests/chapters.rs` checks that every markdown file is included here, so
//! a new chapter cannot escape compilation, that README stays short, and
//! that the pages' relative links lead to files that exist.

/// `README.md`
#[doc = include_str!("../../README.md")]
pub mod readme {}

/// `docs/README.md`
#[doc = include_str!("../../docs/README.md")]
pub mod docs_index {}

/// `docs/guide/01-first-node.md`
#[doc = include_str!("../../docs/guide/01-first-node.md")]
pub mod guide_01_first_node {}

/// `docs/guide/02-rpc-and-services.md`
#[doc = include_str!("../../docs/guide/02-rpc-and-services.md")]
pub mod guide_02_rpc_and_services {}

/// `docs/guide/03-timers.md`
#[doc = include_str!("../../docs/guide/03-timers.md")]
pub mod guide_03_timers {}

/// `docs/guide/04-state-at-init-and-replies-that-wait.md`
#[doc = include_str!("../../docs/guide/04-state-at-init-and-replies-that-wait.md")]
pub mod guide_04_state_at_init_and_replies_that_wait {}

/// `docs/guide/05-testing-in-the-simulator.md`
#[doc = include_str!("../../docs/guide/05-testing-in-the-simulator.md")]
pub mod guide_05_testing_in_the_simulator {}

/// `docs/guide/06-errors-and-the-runtime.md`
#[doc = include_str!("../../docs/guide/06-errors-and-the-runtime.md")]
pub mod guide_06_errors_and_the_runtime {}

/// `docs/bench.md`
#[doc = include_str!("../../docs/bench.md")]
pub mod bench {}

/// `docs/checkers.md`
#[doc = include_str!("../../docs/checkers.md")]
pub mod checkers {}

/// `docs/simulator.md`
#[doc = include_str!("../../docs/simulator.md")]
pub mod simulator {}

/// `docs/seeing-a-run.md`
#[doc = include_str!("../../docs/seeing-a-run.md")]
pub mod seeing_a_run {}

/// `docs/challenges.md`
#[doc = include_str!("../../docs/challenges.md")]
pub mod challenges {}

/// `docs/benchmarks.md`
#[doc = include_str!("../../docs/benchmarks.md")]
pub mod benchmarks {}

/// `docs/faults.md`
#[doc = include_str!("../../docs/faults.md")]
pub mod faults {}

/// `docs/layers.md`
#[doc = include_str!("../../docs/layers.md")]
pub mod layers {}

/// `CHANGELOG.md`
#[doc = include_str!("../../CHANGELOG.md")]
pub mod changelog {}
