//! Replies that wait: responders kept in the state and answered later, from
//! a sync handler or an `#[every]` method, exactly once, with a value or an
//! error; and forwarding, a client answered with another node's reply.

use std::collections::BTreeMap;

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

/// A log whose appends are answered once they commit, as a Raft leader's.
#[maelstrom_node]
#[derive(Default)]
struct Log {
    entries: Vec<u64>,
    committed: usize,
    waiting: BTreeMap<usize, Responder<AppendOk>>,
}

#[maelstrom_node]
impl Log {
    /// Answered when the entry commits.
    #[handle("append")]
    fn append(&mut self, value: u64, reply: Responder<AppendOk>) {
        self.entries.push(value);
        self.waiting.insert(self.entries.len(), reply);
    }

    /// Commits the log up to `upto`; the waiting appends are answered by
    /// `answer`, on its next run.
    #[handle("commit")]
    fn commit(&mut self, upto: usize) {
        self.committed = upto.min(self.entries.len());
    }

    /// Drops the uncommitted tail: its appends fail, definitely.
    #[handle("truncate")]
    fn truncate(&mut self) {
        for (_, reply) in self.waiting.split_off(&(self.committed + 1)) {
            reply.error(Error::abort("lost leadership; not appended"));
        }
        self.entries.truncate(self.committed);
    }

    #[every(ms = 5)]
    fn answer(&mut self) {
        let still_waiting = self.waiting.split_off(&(self.committed + 1));
        for (index, reply) in std::mem::replace(&mut self.waiting, still_waiting) {
            reply.ok(AppendOk { index });
        }
    }

    /// Forwards an append to `leader` and answers with its reply.
    #[handle("forward")]
    fn forward(&self, ctx: &Ctx, leader: String, value: u64, reply: Responder<AppendOk>) {
        let call = ctx.rpc(&leader, &LogMsg::Append { value });
        ctx.spawn(async move { reply.result(call.await) });
    }

    /// The same, as an async handler.
    #[handle("relay")]
    async fn relay(ctx: Ctx, leader: String, value: u64, reply: Responder<AppendOk>) {
        reply.result(ctx.rpc(&leader, &LogMsg::Append { value }).await);
    }

    /// Replication that wants only success.
    #[handle("copy")]
    async fn copy(ctx: Ctx, to: String, value: u64) -> Result<(), Error> {
        ctx.rpc_ack(&to, &LogMsg::Append { value }).await
    }
}

#[derive(Serialize, Deserialize)]
struct AppendOk {
    index: usize,
}

fn main() {
    let mut node = TestNode::start(Log::default);
    node.init("n1", &["n1", "n2"]);
    for (msg_id, value) in [(1, 10), (2, 20), (3, 30)] {
        node.send("c1", json!({"type": "append", "msg_id": msg_id, "value": value}));
    }
    assert_eq!(
        node.request("c2", json!({"type": "commit", "msg_id": 4, "upto": 2}))["body"]["type"],
        "commit_ok"
    );
    let mut answered: Vec<Value> = (0..2).map(|_| node.recv()["body"].clone()).collect();
    answered.sort_by_key(|body| body["in_reply_to"].as_u64());
    assert_eq!(
        answered,
        [
            json!({"type": "append_ok", "in_reply_to": 1, "index": 1}),
            json!({"type": "append_ok", "in_reply_to": 2, "index": 2}),
        ]
    );
    node.send("c2", json!({"type": "truncate", "msg_id": 5}));
    let mut rest: Vec<Value> = (0..2).map(|_| node.recv()["body"].clone()).collect();
    rest.sort_by_key(|body| body["in_reply_to"].as_u64());
    assert_eq!(rest[0]["code"], 14, "{rest:?}");
    assert_eq!(rest[0]["in_reply_to"], 3);
    assert_eq!(rest[1]["type"], "truncate_ok");

    for kind in ["forward", "relay"] {
        node.send("c3", json!({"type": kind, "msg_id": 6, "leader": "n2", "value": 5}));
        let call = node.recv();
        assert_eq!(call["dest"], "n2");
        assert_eq!(call["body"]["type"], "append");
        let id = call["body"]["msg_id"].clone();
        node.send("n2", json!({"type": "append_ok", "in_reply_to": id, "index": 9}));
        assert_eq!(
            node.recv(),
            json!({"src": "n1", "dest": "c3", "body": {"type": format!("{kind}_ok"), "in_reply_to": 6, "index": 9}})
        );
    }

    node.send("c3", json!({"type": "copy", "msg_id": 7, "to": "n2", "value": 5}));
    let id = node.recv()["body"]["msg_id"].clone();
    node.send("n2", json!({"type": "error", "in_reply_to": id, "code": 22, "text": "no"}));
    assert_eq!(node.recv()["body"]["code"], 22);
}
