//! The messages Raft nodes exchange.

use serde::{Deserialize, Serialize};

use super::Entry;

/// A message between two Raft nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message<C> {
    /// A candidate asks for a vote in `term`. With `pre`, it only asks
    /// whether it would get one (the pre-vote: `term` is the term it would
    /// stand in, and nobody changes state).
    RequestVote {
        term: u64,
        pre: bool,
        last_index: u64,
        last_term: u64,
    },
    /// The answer to a `RequestVote`: `term` is the one asked about when
    /// a pre-vote is granted, otherwise the voter's term.
    Vote { term: u64, pre: bool, granted: bool },
    /// The leader's entries after `prev_index` (none for a heartbeat), its
    /// commit index, and the number of the leadership round it belongs to
    /// (answers to a round confirm that the leader was still the leader
    /// after any read registered before the round).
    Append {
        term: u64,
        prev_index: u64,
        prev_term: u64,
        entries: Vec<Entry<C>>,
        commit: u64,
        round: u64,
    },
    /// The answer to an `Append`: with `ok`, the follower's log matches the
    /// leader's up to `last`; without, the leader should retry from
    /// `last + 1` at most.
    Appended {
        term: u64,
        ok: bool,
        last: u64,
        round: u64,
    },
}

impl<C> Message<C> {
    /// The sender's term (or, for pre-votes, the term asked about).
    pub fn term(&self) -> u64 {
        match self {
            Message::RequestVote { term, .. }
            | Message::Vote { term, .. }
            | Message::Append { term, .. }
            | Message::Appended { term, .. } => *term,
        }
    }
}
