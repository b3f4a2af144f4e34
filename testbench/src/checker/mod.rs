//! Checkers shared by several workloads.

pub mod linearizable;
pub mod set_full;
