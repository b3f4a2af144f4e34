//! `#[every]` methods, sync and async, and the `#[init]` hook.

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Heart {
    beats: u64,
    peers: Vec<String>,
}

#[maelstrom_node]
impl Heart {
    #[init]
    fn start(&mut self, ctx: &Ctx) {
        self.peers = ctx.peers().map(str::to_owned).collect();
    }

    #[every(ms = 10)]
    fn beat(&mut self, ctx: &Ctx) {
        self.beats += 1;
        if self.beats == 3 {
            for peer in &self.peers {
                ctx.send(peer, &HeartMsg::Beat { count: self.beats });
            }
        }
    }

    #[every(ms = 15)]
    async fn audit(mut node: Node<Self>, ctx: Ctx) -> Result<(), Error> {
        let beats = node.with(|heart| heart.beats);
        if beats >= 3 {
            ctx.lww_kv().write("beats", &beats).await?;
        }
        Ok(())
    }

    #[handle("beat", no_reply)]
    fn on_beat(&mut self, count: u64) {
        let _ = count;
    }
}

fn main() {
    let mut node = TestNode::start(Heart::default);
    node.init("n1", &["n1", "n2"]);
    let mut saw_beat = false;
    let mut saw_audit = false;
    while !(saw_beat && saw_audit) {
        let message = node.recv();
        match message["dest"].as_str() {
            Some("n2") => {
                assert_eq!(message["body"], json!({"type": "beat", "count": 3}));
                saw_beat = true;
            }
            Some("lww-kv") => {
                assert_eq!(message["body"]["type"], "write");
                saw_audit = true;
            }
            other => panic!("unexpected destination {other:?}"),
        }
    }
}
