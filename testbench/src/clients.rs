//! The generator's client processes: each is bound to one node, runs one
//! operation at a time, and speaks through a client id (`c<number>`) that
//! changes when the process is retired.
//!
//! As in Jepsen, an operation that ends indefinitely (`info`) retires its
//! process: the slot continues as a fresh process (its number plus the
//! number of slots). Its client id goes with it, as Maelstrom closes a
//! client that is not reusable and opens another: the old id has no queue
//! any more, and a line a node sends to it is "an invalid dest". The
//! workloads whose clients Maelstrom marks reusable (lin-kv, the
//! transactions, unique-ids) keep the id and its message numbers, and a
//! late reply reaches it and is skipped.

use std::collections::HashMap;

use crate::reach::Time;
use crate::workload::Invocation;

/// One client slot: the process now running in it, its client id, its
/// node, and the operation it is waiting on.
#[derive(Debug)]
pub struct Slot {
    /// The Jepsen process number (as in the history).
    pub process: u64,
    /// The number of the client id `c<number>` the process speaks with.
    pub client: u64,
    /// The node the process talks to.
    pub node: usize,
    /// The operation in flight, if any.
    pub busy: Option<InFlight>,
    /// The `msg_id` of this client's last request (ids are per client).
    last_msg_id: u64,
}

/// An operation waiting for its reply.
#[derive(Debug)]
pub struct InFlight {
    /// The `msg_id` of the request now waiting for an answer.
    pub msg_id: u64,
    /// What was invoked.
    pub op: Invocation,
    /// When the request times out.
    pub deadline: Time,
    /// Whether it belongs to the final phase.
    pub is_final: bool,
}

/// Every client slot, and client ids for requests outside the history.
#[derive(Debug)]
pub struct Clients {
    slots: Vec<Slot>,
    by_client: HashMap<u64, usize>,
    next_client: u64,
}

impl Clients {
    /// `processes` slots over `nodes` nodes (slot `i` talks to node
    /// `i mod nodes`); client ids start at `first_client`, after those
    /// already handed out.
    pub fn new(processes: usize, nodes: usize, first_client: u64) -> Self {
        let mut clients = Clients {
            slots: Vec::with_capacity(processes),
            by_client: HashMap::with_capacity(processes),
            next_client: first_client,
        };
        for i in 0..processes {
            let client = clients.fresh_client();
            clients.by_client.insert(client, i);
            clients.slots.push(Slot {
                process: i as u64,
                client,
                node: i % nodes.max(1),
                busy: None,
                last_msg_id: 0,
            });
        }
        clients
    }

    /// A client id no one has used.
    pub fn fresh_client(&mut self) -> u64 {
        let client = self.next_client;
        self.next_client += 1;
        client
    }

    /// How many slots there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Slot `slot`.
    pub fn slot(&self, slot: usize) -> &Slot {
        &self.slots[slot]
    }

    /// Slot `slot`, to change.
    pub fn slot_mut(&mut self, slot: usize) -> &mut Slot {
        &mut self.slots[slot]
    }

    /// The slot whose current client is `client`, if any (a retired
    /// client has none).
    pub fn slot_of_client(&self, client: u64) -> Option<usize> {
        self.by_client.get(&client).copied()
    }

    /// A random idle slot, if any.
    pub fn idle_slot(&self, rng: &mut fastrand::Rng) -> Option<usize> {
        let idle: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].busy.is_none())
            .collect();
        (!idle.is_empty()).then(|| idle[rng.usize(..idle.len())])
    }

    /// Whether any operation is in flight.
    pub fn any_busy(&self) -> bool {
        self.slots.iter().any(|s| s.busy.is_some())
    }

    /// The earliest deadline of an operation in flight.
    pub fn next_deadline(&self) -> Option<Time> {
        self.slots
            .iter()
            .filter_map(|s| s.busy.as_ref().map(|b| b.deadline))
            .min()
    }

    /// The slots whose operation has timed out by `now`.
    pub fn overdue(&self, now: Time) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| {
                self.slots[i]
                    .busy
                    .as_ref()
                    .is_some_and(|b| b.deadline <= now)
            })
            .collect()
    }

    /// The next `msg_id` of `slot`'s client (1, 2, ... per client).
    pub fn next_msg_id(&mut self, slot: usize) -> u64 {
        let slot = &mut self.slots[slot];
        slot.last_msg_id += 1;
        slot.last_msg_id
    }

    /// Retires `slot`'s process: the slot goes on as a new process with a
    /// new client id.
    ///
    /// With `reuse_client` (a workload whose clients Maelstrom reuses) the
    /// new process keeps the client id and its message numbers; otherwise
    /// it takes a fresh id, and the old one is returned, closed.
    pub fn retire(&mut self, slot: usize, reuse_client: bool) -> Option<u64> {
        let count = self.slots.len() as u64;
        self.slots[slot].process += count;
        if reuse_client {
            return None;
        }
        let client = self.fresh_client();
        let s = &mut self.slots[slot];
        let old = std::mem::replace(&mut s.client, client);
        self.by_client.remove(&old);
        s.last_msg_id = 0;
        self.by_client.insert(client, slot);
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_processes_continue_under_new_numbers_and_ids() {
        let mut clients = Clients::new(3, 2, 10);
        assert_eq!(clients.slot(2).node, 0);
        assert_eq!(clients.slot_of_client(11), Some(1));
        assert_eq!(clients.next_msg_id(1), 1);
        assert_eq!(clients.next_msg_id(1), 2);
        assert_eq!(clients.retire(1, false), Some(11));
        assert_eq!(clients.slot(1).process, 4);
        assert_eq!(clients.slot(1).client, 13);
        assert_eq!(clients.slot_of_client(11), None, "the old id is forgotten");
        assert_eq!(clients.slot_of_client(13), Some(1));
        assert_eq!(clients.next_msg_id(1), 1, "a new client counts from 1");
        assert_eq!(clients.fresh_client(), 14);
        // A reusable client keeps its id and counts on.
        assert_eq!(clients.retire(1, true), None);
        assert_eq!(clients.slot(1).process, 7);
        assert_eq!(clients.slot(1).client, 13);
        assert_eq!(clients.next_msg_id(1), 2);
    }

    #[test]
    fn deadlines_and_idle_slots() {
        let mut clients = Clients::new(2, 1, 0);
        let mut rng = fastrand::Rng::with_seed(1);
        clients.slot_mut(0).busy = Some(InFlight {
            msg_id: 1,
            op: Invocation::new("read", serde_json::Value::Null),
            deadline: Time::from_secs(5),
            is_final: false,
        });
        assert_eq!(clients.idle_slot(&mut rng), Some(1));
        assert_eq!(clients.next_deadline(), Some(Time::from_secs(5)));
        assert!(clients.overdue(Time::from_secs(4)).is_empty());
        assert_eq!(clients.overdue(Time::from_secs(5)), [0]);
        assert!(clients.any_busy());
    }
}
