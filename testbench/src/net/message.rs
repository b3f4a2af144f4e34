//! A message at each stage of its way through the network: in flight
//! ([`Packet`]), queued for its receiver ([`Pending`]), and handed over
//! ([`Delivery`]).

use super::Endpoint;
use crate::reach::Time;

/// A message in flight: who from, who to, and the whole line.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    pub src: Endpoint,
    pub dest: Endpoint,
    pub line: String,
}

/// A message handed over to its receiver.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// When it was handed over.
    pub at: Time,
    /// Its message id (Maelstrom's top-level `id`).
    pub id: u64,
    /// The message.
    pub packet: Packet,
}

/// A message queued for its receiver.
#[derive(Debug)]
pub(super) struct Pending {
    pub(super) deadline: Time,
    /// The network's message id (Maelstrom's top-level `id`), which also
    /// orders messages with the same deadline.
    pub(super) id: u64,
    pub(super) sent: Time,
    pub(super) packet: Packet,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.deadline, self.id) == (other.deadline, other.id)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.deadline, self.id).cmp(&(other.deadline, other.id))
    }
}
