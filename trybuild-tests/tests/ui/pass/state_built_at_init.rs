//! State built at `init`: a constructor in each form `run` takes (sync,
//! `Result`, async, a closure with a value of its own), and `src: &Src`.

use std::time::Duration;

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
struct Ring {
    next: String,
    tag: u64,
}

impl Ring {
    fn new(ctx: &Ctx) -> Self {
        Self::tagged(ctx, 0)
    }

    fn tagged(ctx: &Ctx, tag: u64) -> Self {
        let ids = ctx.node_ids();
        let at = ids.iter().position(|id| id == ctx.node_id()).unwrap();
        Ring {
            next: ids[(at + 1) % ids.len()].clone(),
            tag,
        }
    }

    fn checked(ctx: &Ctx) -> Result<Self, Error> {
        if ctx.node_ids().len() > 3 {
            return Err(Error::abort("a ring of at most 3"));
        }
        Ok(Self::new(ctx))
    }

    async fn fetched(ctx: Ctx) -> Result<Self, Error> {
        let tag: u64 = ctx.lin_kv().read("tag").await?;
        Ok(Self::tagged(&ctx, tag))
    }
}

#[maelstrom_node]
impl Ring {
    #[handle("next")]
    fn next(&self, src: &Src) -> NextOk {
        NextOk {
            next: self.next.clone(),
            tag: self.tag,
            asked_by: src.to_string(),
        }
    }
}

#[derive(Serialize)]
struct NextOk {
    next: String,
    tag: u64,
    asked_by: String,
}

/// What `main` of a real node looks like: it compiles for every form.
#[allow(dead_code)]
fn mains() {
    glomers::run(Ring::new);
    glomers::run(Ring::checked);
    glomers::run(Ring::fetched);
    let tag = 7;
    glomers::run(move |ctx: &Ctx| Ring::tagged(ctx, tag));
}

fn ask(node: &TestNode) -> Value {
    node.request("c1", json!({"type": "next", "msg_id": 5}))["body"].clone()
}

fn main() {
    let mut node = TestNode::start(|| Ring::new);
    node.init("n2", &["n1", "n2", "n3"]);
    assert_eq!(
        ask(&node),
        json!({"type": "next_ok", "in_reply_to": 5, "next": "n3", "tag": 0, "asked_by": "c1"})
    );

    let mut node = TestNode::start(|| move |ctx: &Ctx| Ring::tagged(ctx, 7));
    node.init("n3", &["n1", "n2", "n3"]);
    assert_eq!(ask(&node)["next"], "n1");
    assert_eq!(ask(&node)["tag"], 7);

    // A constructor's error answers init; the node stays unbuilt.
    let node = TestNode::start(|| Ring::checked);
    let init = json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1", "n2", "n3", "n4"]});
    let refused = node.request("c0", init);
    assert_eq!(refused["body"]["code"], 14, "{refused}");
    assert_eq!(ask(&node)["code"], 11);

    // An async constructor: init_ok waits for it; requests meanwhile get 11.
    let node = TestNode::start(|| Ring::fetched);
    node.send(
        "c0",
        json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1", "n2"]}),
    );
    let read = node.recv();
    assert_eq!(read["dest"], "lin-kv");
    assert_eq!(ask(&node)["code"], 11, "served before it was built");
    let id = read["body"]["msg_id"].clone();
    node.send("lin-kv", json!({"type": "read_ok", "in_reply_to": id, "value": 42}));
    assert_eq!(node.recv()["body"]["type"], "init_ok");
    assert_eq!(ask(&node)["tag"], 42);
    assert_eq!(node.recv_within(Duration::from_millis(50)), None);
}
