//! Challenge 5a–5c, kafka-style logs: `send` appends to a key's log and
//! answers its offset, `poll` reads from given offsets, and consumers
//! commit and look up offsets.
//!
//! Whichever node a `send` reaches numbers the message itself, in its own
//! offset space (node `i` of `N` uses `i`, `N + i`, `2N + i` ...), with a
//! per-key counter that jumps past every offset it hears of; polls are
//! served only below a watermark below which every node's messages are
//! known and final (`challenges::kafka`). No request waits for another
//! node, nothing is forwarded and no service is used: nodes exchange one
//! push per interval `T` each way, carrying every changed key's new
//! messages, counters and committed offsets, and acknowledging the other's.
//!
//! # The arithmetic (challenge 5c: 2 nodes, `--concurrency 2n --rate 1000`)
//!
//! Maelstrom's generator gives about 864 operations a second for 20 s
//! (half sends, half polls, 1/64 assigns) plus the final polls, about
//! 18,400 operations. Each node takes some 216 sends a second, so every
//! interval brings it news to push, and the other node's answer carries
//! the counters it raised: both nodes push once per interval, and each
//! acknowledgement rides on the push going the other way. That is
//! `2 × 20 s / T'` messages, where `T'` is the interval rounded up to the
//! 5 ms ticks (about 13 ms for `T` = 10 ms, as measured): about 3,100
//! messages, 0.17 per operation. Forwarding each send to a key's owner
//! would cost 2 messages for every send that lands on the other node, 0.5
//! per operation on its own.
//!
//! A message shows in polls once both nodes have raised their counters
//! past it: at the sender's next push (within `T`), and, on the sender, at
//! the other's next push after that: within `2T` plus two network hops.
//! `T` is a trade of staleness against messages; the binary takes it as
//! `--interval-ms N`.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::kafka::{Logs, Push};
use crate::push_window::Pacing;
use glomers::prelude::*;
use serde_json::Value;

/// The push interval the official runs use.
pub const INTERVAL: Duration = Duration::from_millis(10);

/// Built at `init`: each node's offset space depends on the node ids.
#[maelstrom_node]
pub struct Kafka {
    logs: Logs,
}

impl Kafka {
    /// A node built at `init`, pushing every [`INTERVAL`].
    pub fn new(ctx: &Ctx) -> Self {
        Kafka::with_interval(ctx, INTERVAL)
    }

    /// A node built at `init`, pushing at most once per `interval`.
    pub fn with_interval(ctx: &Ctx, interval: Duration) -> Self {
        let pacing = Pacing::with_interval(interval);
        Kafka {
            logs: Logs::new(ctx.node_id(), ctx.node_ids(), pacing),
        }
    }
}

#[maelstrom_node]
impl Kafka {
    #[handle("send")]
    fn send(&mut self, key: String, msg: Value) -> Result<SendOk, Error> {
        let offset = self.logs.append(&key, msg).map_err(Error::abort)?;
        Ok(SendOk { offset })
    }

    #[handle("poll")]
    fn poll(&self, offsets: BTreeMap<String, u64>) -> PollOk {
        PollOk {
            msgs: self.logs.poll(&offsets),
        }
    }

    #[handle("commit_offsets")]
    fn commit_offsets(&mut self, offsets: BTreeMap<String, u64>) {
        self.logs.commit(&offsets);
    }

    #[handle("list_committed_offsets")]
    fn list_committed_offsets(&self, keys: Vec<String>) -> CommittedOk {
        CommittedOk {
            offsets: self.logs.committed(&keys),
        }
    }

    /// News and acknowledgements from a peer.
    #[handle("push", no_reply)]
    fn on_push(&mut self, src: Src, push: Push) {
        self.logs.receive(&src, push);
    }

    #[every(ms = 5)]
    fn replicate(&mut self, ctx: &Ctx) {
        for (peer, push) in self.logs.pushes(ctx.now()) {
            ctx.send(&peer, &KafkaMsg::Push { push });
        }
    }
}

#[derive(Serialize)]
struct SendOk {
    offset: u64,
}

#[derive(Serialize)]
struct PollOk {
    msgs: BTreeMap<String, Vec<(u64, Value)>>,
}

#[derive(Serialize)]
struct CommittedOk {
    offsets: BTreeMap<String, u64>,
}
