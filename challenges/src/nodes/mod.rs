//! The challenges' nodes, one module each, for their binaries in
//! `src/bin/` (which only read arguments and run them) and for the
//! simulator, which runs them in process.

pub mod broadcast;
pub mod counter;
pub mod echo;
pub mod g_set;
pub mod kafka;
pub mod list_append;
pub mod raft;
pub mod txn;
pub mod unique_ids;
