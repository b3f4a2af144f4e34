//! Checkers shared by several workloads.

pub mod set_full;
