//! Challenge 5a–5c, kafka-style logs: `send` appends to a key's log and
//! answers its offset, `poll` reads from given offsets, and consumers
//! commit and look up offsets.
//!
//! Each key has one owner node (`challenges::kafka`): a `send` that lands
//! elsewhere is forwarded to it, and only the owner numbers the key's
//! messages, so offsets never collide and have no gaps. Owners push new
//! entries to every other node (at most one push in flight per peer), so
//! polls and offset look-ups are answered by whichever node the client
//! talks to, from a copy that may lag but never skips. No service is used.
//!
//! Cost on 2 nodes (challenge 5b/5c: `--rate 1000`, about 45% sends):
//! half the sends are forwarded (2 messages each), and each owner's pushes
//! go out every 10 ms at most while anything is new (2 messages with the
//! acknowledgement): about 0.45 + 0.4 server messages per operation.

use std::collections::BTreeMap;

use crate::kafka::{Lengths, Logs, Push};
use glomers::prelude::*;
use serde_json::Value;

/// Built at `init`: who owns which key depends on the node ids.
#[maelstrom_node]
pub struct Kafka {
    logs: Logs,
}

impl Kafka {
    /// A node built at `init`, when the key owners can be worked out.
    pub fn new(ctx: &Ctx) -> Self {
        Kafka {
            logs: Logs::new(ctx.node_id(), ctx.node_ids()),
        }
    }
}

#[maelstrom_node]
impl Kafka {
    #[handle("send")]
    async fn send(
        mut node: Node<Self>,
        ctx: Ctx,
        key: String,
        msg: Value,
    ) -> Result<SendOk, Error> {
        let owner = node.with(|k| (!k.logs.owns(&key)).then(|| k.logs.owner(&key).to_owned()));
        match owner {
            Some(owner) => ctx.rpc(&owner, &KafkaMsg::Send { key, msg }).await,
            None => Ok(SendOk {
                offset: node.with(|k| k.logs.append(&key, msg)),
            }),
        }
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

    /// New entries (and committed offsets) from an owner.
    #[handle("push", no_reply)]
    fn on_push(&mut self, ctx: &Ctx, src: Src, push: Push) {
        let lengths = self.logs.receive(push);
        ctx.send(&src, &KafkaMsg::Pushed { lengths });
    }

    /// A peer's acknowledgement of a push.
    #[handle("pushed", no_reply)]
    fn on_pushed(&mut self, src: Src, lengths: Lengths) {
        self.logs.acknowledge(&src, lengths);
    }

    #[every(ms = 10)]
    fn replicate(&mut self, ctx: &Ctx) {
        for (peer, push) in self.logs.pushes(ctx.now()) {
            ctx.send(&peer, &KafkaMsg::Push { push });
        }
    }
}

#[derive(Serialize, Deserialize)]
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
