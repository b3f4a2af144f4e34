//! Checkers shared by several workloads.

pub mod anomalies;
pub mod elle;
pub mod kafka;
pub mod linearizable;
pub mod set_full;
