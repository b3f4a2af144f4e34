//! A grow-only set spread by [`crate::gossip`], wired to a node's [`Ctx`]:
//! what the broadcast and g-set nodes share. Each node answers its own
//! client messages and hands this the rest:
//!
//! - the protocol's messages between nodes travel as
//!   `{"type": "gossip", "gossip": {...}}`: a node routes them to
//!   [`GossipSet::receive`] from `#[handle("gossip", no_reply)]`;
//! - [`GossipSet::tick`] runs every few milliseconds (`#[every(ms = 5)]`).
//!
//! ```no_run
//! use challenges::gossip::{Message, Timing};
//! use challenges::gossip_set::GossipSet;
//! use glomers::prelude::*;
//!
//! #[maelstrom_node]
//! struct Set {
//!     set: GossipSet,
//! }
//!
//! #[maelstrom_node]
//! impl Set {
//!     #[handle("add")]
//!     fn add(&mut self, ctx: &Ctx, element: u64) {
//!         self.set.add(ctx, element);
//!     }
//!
//!     #[handle("gossip", no_reply)]
//!     fn on_gossip(&mut self, ctx: &Ctx, src: &Src, gossip: Message) {
//!         self.set.receive(ctx, src, gossip);
//!     }
//!
//!     #[every(ms = 5)]
//!     fn tick(&mut self, ctx: &Ctx) {
//!         self.set.tick(ctx);
//!     }
//! }
//!
//! fn main() {
//!     let timing = Timing::with_interval(std::time::Duration::from_millis(100));
//!     glomers::run(move |ctx: &Ctx| Set { set: GossipSet::new(ctx, timing) });
//! }
//! ```

use glomers::Ctx;
use serde::Serialize;

use crate::gossip::{Gossip, Message, Timing, Value};

/// The set and its dissemination state, built at `init` (it needs the node
/// ids).
#[derive(Debug)]
pub struct GossipSet {
    gossip: Gossip,
}

/// The one message type this sends: `{"type": "gossip", "gossip": {...}}`.
#[derive(Serialize)]
#[serde(tag = "type", rename = "gossip")]
struct Envelope<'a> {
    gossip: &'a Message,
}

impl GossipSet {
    /// The set of the node `ctx` is, among the nodes `ctx` knows.
    pub fn new(ctx: &Ctx, timing: Timing) -> Self {
        GossipSet {
            gossip: Gossip::new(ctx.node_id(), ctx.node_ids(), timing),
        }
    }

    /// Adds a value a client gave this node, and sends what the protocol
    /// asks for.
    pub fn add(&mut self, ctx: &Ctx, value: Value) {
        let out = self.gossip.add(value, ctx.now());
        send(ctx, &out);
    }

    /// Takes a protocol message from `from`.
    pub fn receive(&mut self, ctx: &Ctx, from: &str, message: Message) {
        let out = self.gossip.receive(from, message, ctx.now());
        send(ctx, &out);
    }

    /// Advances the protocol's clock: batches due, idle reports.
    pub fn tick(&mut self, ctx: &Ctx) {
        let out = self.gossip.tick(ctx.now());
        send(ctx, &out);
    }

    /// Every value this node knows, in the order it learned them.
    pub fn values(&self) -> Vec<Value> {
        self.gossip.values().collect()
    }
}

fn send(ctx: &Ctx, out: &[(String, Message)]) {
    for (peer, gossip) in out {
        ctx.send(peer, &Envelope { gossip });
    }
}
