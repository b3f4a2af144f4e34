//! Algorithm pieces of the Gossip Glomers nodes in `src/bin/`, kept apart
//! from message handling so that each is unit-tested on its own.

pub mod args;
pub mod counter;
pub mod datomic;
pub mod gossip;
pub mod gossip_set;
pub mod kafka;
pub mod nodes;
pub mod push_window;
pub mod raft;
pub mod registers;
pub mod relay;
pub mod snowflake;
pub mod txn;
