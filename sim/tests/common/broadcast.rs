//! Broadcast three ways (`testbench/tests/nodes/broadcast.py`): the
//! retrying node, and two known-bad ones.

use std::collections::{BTreeMap, BTreeSet};

use glomers::prelude::*;

/// How a node passes on the values it learns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spread {
    /// To every peer, again every 100 ms until acknowledged (correct).
    Retry,
    /// To every peer once, with no retry (loses values sent across a
    /// partition).
    Once,
    /// Not at all (values stay where they arrive).
    Never,
}

#[maelstrom_node]
pub struct Broadcast {
    spread: Spread,
    seen: BTreeSet<u64>,
    /// Per peer, the values it has not acknowledged (`Retry` only).
    unacked: BTreeMap<String, BTreeSet<u64>>,
}

impl Broadcast {
    pub fn new(spread: Spread) -> Self {
        Broadcast {
            spread,
            seen: BTreeSet::new(),
            unacked: BTreeMap::new(),
        }
    }

    fn learn(&mut self, ctx: &Ctx, values: &[u64]) {
        let new: Vec<u64> = values
            .iter()
            .copied()
            .filter(|v| self.seen.insert(*v))
            .collect();
        if new.is_empty() {
            return;
        }
        for peer in ctx.peers() {
            match self.spread {
                Spread::Retry => self
                    .unacked
                    .entry(peer.to_owned())
                    .or_default()
                    .extend(&new),
                Spread::Once => ctx.send(
                    peer,
                    &BroadcastMsg::Gossip {
                        values: new.clone(),
                    },
                ),
                Spread::Never => {}
            }
        }
    }
}

#[maelstrom_node]
impl Broadcast {
    #[handle("topology")]
    fn topology(&mut self) {}

    #[handle("broadcast")]
    fn broadcast(&mut self, ctx: &Ctx, message: u64) {
        self.learn(ctx, &[message]);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            messages: self.seen.iter().copied().collect(),
        }
    }

    #[handle("gossip", no_reply)]
    fn gossip(&mut self, ctx: &Ctx, src: &Src, values: Vec<u64>) {
        self.learn(ctx, &values);
        if self.spread == Spread::Retry {
            ctx.send(src, &BroadcastMsg::GossipAck { values });
        }
    }

    #[handle("gossip_ack", no_reply)]
    fn gossip_ack(&mut self, src: &Src, values: Vec<u64>) {
        if let Some(unacked) = self.unacked.get_mut(&**src) {
            for value in values {
                unacked.remove(&value);
            }
        }
    }

    #[every(ms = 100)]
    fn resend(&mut self, ctx: &Ctx) {
        for (peer, values) in &self.unacked {
            if !values.is_empty() {
                let values = values.iter().copied().collect();
                ctx.send(peer, &BroadcastMsg::Gossip { values });
            }
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    messages: Vec<u64>,
}
