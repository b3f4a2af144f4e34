//! Async handlers: the `Node<Self>` handle, `Ctx` by value or by reference,
//! stateless handlers, RPC to a service, and an async `#[init]` hook.

use std::time::Duration;

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Proxy {
    forwarded: u64,
}

#[maelstrom_node]
impl Proxy {
    /// `init_ok` goes out when the hook has finished.
    #[init]
    async fn warm_up(mut node: Node<Self>, ctx: Ctx) {
        ctx.sleep(Duration::from_millis(5)).await;
        node.with(|proxy| proxy.forwarded = 10);
    }

    #[handle("get")]
    async fn get(mut node: Node<Self>, ctx: Ctx, key: String) -> Result<Got, Error> {
        let value: u64 = ctx.lin_kv().read(&key).await?;
        let forwarded = node.with(|proxy| {
            proxy.forwarded += 1;
            proxy.forwarded
        });
        Ok(Got { value, forwarded })
    }

    #[handle("put")]
    async fn put(ctx: &Ctx, key: String, value: u64) -> Result<(), Error> {
        ctx.lin_kv().write(&key, &value).await
    }
}

#[derive(Serialize)]
struct Got {
    value: u64,
    forwarded: u64,
}

fn main() {
    let mut node = TestNode::start(Proxy::default);
    node.init("n1", &["n1"]);

    node.send("c1", json!({"type": "put", "msg_id": 1, "key": "a", "value": 3}));
    let write = node.recv();
    assert_eq!(write["dest"], "lin-kv");
    assert_eq!(write["body"]["type"], "write");
    let write_id = write["body"]["msg_id"].clone();

    node.send("c1", json!({"type": "get", "msg_id": 2, "key": "a"}));
    let read = node.recv();
    assert_eq!(read["body"]["type"], "read");
    let read_id = read["body"]["msg_id"].clone();

    // Answer out of order: each reply finds its own waiting handler.
    node.send("lin-kv", json!({"type": "read_ok", "in_reply_to": read_id, "value": 3}));
    assert_eq!(
        node.recv()["body"],
        json!({"type": "get_ok", "in_reply_to": 2, "value": 3, "forwarded": 11})
    );
    node.send("lin-kv", json!({"type": "write_ok", "in_reply_to": write_id}));
    assert_eq!(node.recv()["body"], json!({"type": "put_ok", "in_reply_to": 1}));
}
