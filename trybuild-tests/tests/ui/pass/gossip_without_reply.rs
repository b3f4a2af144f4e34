//! `no_reply` handlers and typed messages to peers via the generated enum.

use std::collections::BTreeSet;
use std::time::Duration;

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Broadcast {
    seen: BTreeSet<u64>,
}

#[maelstrom_node]
impl Broadcast {
    #[handle("broadcast")]
    fn broadcast(&mut self, ctx: &Ctx, message: u64) {
        if self.seen.insert(message) {
            for peer in ctx.peers() {
                ctx.send(peer, &BroadcastMsg::Gossip { messages: vec![message] });
            }
        }
    }

    #[handle("gossip", no_reply)]
    fn gossip(&mut self, messages: Vec<u64>) {
        self.seen.extend(messages);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            messages: self.seen.iter().copied().collect(),
        }
    }
}

#[derive(Serialize)]
struct ReadOk {
    messages: Vec<u64>,
}

fn main() {
    let mut node = TestNode::start(Broadcast::default);
    node.init("n1", &["n1", "n2", "n3"]);
    node.send("c1", json!({"type": "broadcast", "msg_id": 1, "message": 9}));
    for peer in ["n2", "n3"] {
        let gossip = node.recv();
        assert_eq!(gossip["dest"], peer);
        assert_eq!(gossip["body"], json!({"type": "gossip", "messages": [9]}));
    }
    assert_eq!(node.recv()["body"]["type"], "broadcast_ok");
    node.send("n2", json!({"type": "gossip", "messages": [4]}));
    assert_eq!(node.recv_within(Duration::from_millis(50)), None);
    assert_eq!(
        node.request("c1", json!({"type": "read", "msg_id": 2}))["body"],
        json!({"type": "read_ok", "in_reply_to": 2, "messages": [4, 9]})
    );
}
