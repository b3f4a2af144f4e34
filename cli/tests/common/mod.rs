//! The bench's test helpers (shared with `testbench/tests/`), and a store
//! served by `glomers serve`.

#![allow(dead_code, unused_imports)] // each test file uses a part

#[path = "../../../testbench/tests/common/mod.rs"]
mod bench;
pub mod served;

pub use bench::*;
