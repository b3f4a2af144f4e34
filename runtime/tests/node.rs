//! The runtime and the generated code together, driven in-process.

use std::collections::BTreeSet;
use std::time::Duration;

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

/// A node that exercises every form: sync and async handlers, typed fields,
/// `Src`, `no_reply`, `Result`, periodic tasks, an init hook, typed sends
/// and the KV client.
#[maelstrom_node]
#[derive(Default)]
struct Store {
    values: BTreeSet<u64>,
    inits: u32,
    ticks: u64,
}

#[maelstrom_node]
impl Store {
    #[init]
    fn started(&mut self, ctx: &Ctx) {
        self.inits += 1;
        ctx.set_rpc_timeout(Duration::from_millis(200));
    }

    #[handle("add")]
    fn add(&mut self, ctx: &Ctx, value: u64) {
        if self.values.insert(value) {
            for peer in ctx.peers() {
                ctx.send(
                    peer,
                    &StoreMsg::Gossip {
                        values: vec![value],
                    },
                );
            }
        }
    }

    #[handle("gossip", no_reply)]
    fn gossip(&mut self, values: Vec<u64>) {
        self.values.extend(values);
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk {
            values: self.values.iter().copied().collect(),
            inits: self.inits,
        }
    }

    #[handle("whoami")]
    fn whoami(src: Src, ctx: &Ctx) -> WhoAmI {
        WhoAmI {
            you: src.to_string(),
            me: ctx.node_id().to_owned(),
        }
    }

    #[handle("divide")]
    fn divide(&mut self, numerator: i64, denominator: i64) -> Result<Quotient, Error> {
        if denominator == 0 {
            return Err(Error::new(ErrorCode::Custom(1001), "division by zero"));
        }
        Ok(Quotient {
            value: numerator / denominator,
        })
    }

    /// Reads `key` from lin-kv and adds it to the set.
    #[handle("fetch")]
    async fn fetch(mut node: Node<Self>, ctx: Ctx, key: String) -> Result<Fetched, Error> {
        let value: u64 = ctx.lin_kv().read(&key).await?;
        let total = node.with(|store| {
            store.values.insert(value);
            store.values.len()
        });
        Ok(Fetched { value, total })
    }

    /// Asks a peer for its set.
    #[handle("pull")]
    async fn pull(ctx: &Ctx, from: String) -> Result<ReadOk, Error> {
        ctx.rpc(&from, &StoreMsg::Read {}).await
    }

    #[every(ms = 30)]
    fn tick(&mut self, ctx: &Ctx) {
        self.ticks += 1;
        if self.ticks <= 2 {
            ctx.send(
                "n9",
                &StoreMsg::Gossip {
                    values: vec![self.ticks],
                },
            );
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ReadOk {
    values: Vec<u64>,
    inits: u32,
}

#[derive(Serialize)]
struct WhoAmI {
    you: String,
    me: String,
}

#[derive(Serialize)]
struct Quotient {
    value: i64,
}

#[derive(Serialize)]
struct Fetched {
    value: u64,
    total: usize,
}

fn started() -> TestNode {
    let mut node = TestNode::start(Store::default);
    node.init("n1", &["n1", "n2"]);
    node
}

/// Reads the next message, skipping the periodic gossip to n9.
fn next(node: &TestNode) -> Value {
    loop {
        let message = node.recv();
        if message["dest"] != "n9" {
            return message;
        }
    }
}

#[test]
fn sync_handlers_reply_with_their_return_value() {
    let node = started();
    node.send("c1", json!({"type": "add", "msg_id": 1, "value": 5}));
    assert_eq!(
        next(&node),
        json!({"src": "n1", "dest": "n2", "body": {"type": "gossip", "values": [5]}})
    );
    assert_eq!(
        next(&node),
        json!({"src": "n1", "dest": "c1", "body": {"type": "add_ok", "in_reply_to": 1}})
    );
    node.send("n2", json!({"type": "gossip", "values": [7, 3]}));
    node.send("c1", json!({"type": "read", "msg_id": 2}));
    assert_eq!(
        next(&node)["body"],
        json!({"type": "read_ok", "in_reply_to": 2, "values": [3, 5, 7], "inits": 1})
    );
}

#[test]
fn src_and_ctx_reach_the_handler() {
    let node = started();
    node.send("c42", json!({"type": "whoami", "msg_id": 9}));
    assert_eq!(
        next(&node)["body"],
        json!({"type": "whoami_ok", "in_reply_to": 9, "you": "c42", "me": "n1"})
    );
}

#[test]
fn err_results_become_error_bodies_and_bad_fields_error_12() {
    let node = started();
    node.send(
        "c1",
        json!({"type": "divide", "msg_id": 1, "numerator": 7, "denominator": 2}),
    );
    assert_eq!(
        next(&node)["body"],
        json!({"type": "divide_ok", "in_reply_to": 1, "value": 3})
    );
    node.send(
        "c1",
        json!({"type": "divide", "msg_id": 2, "numerator": 7, "denominator": 0}),
    );
    assert_eq!(
        next(&node)["body"],
        json!({"type": "error", "in_reply_to": 2, "code": 1001, "text": "division by zero"})
    );
    node.send(
        "c1",
        json!({"type": "divide", "msg_id": 3, "numerator": "7", "denominator": 1}),
    );
    let mistyped = next(&node);
    assert_eq!(mistyped["body"]["code"], 12);
    assert!(mistyped["body"]["text"]
        .as_str()
        .unwrap()
        .contains("invalid type"));
    node.send("c1", json!({"type": "add", "msg_id": 4, "value": -1}));
    assert_eq!(next(&node)["body"]["code"], 12);
    node.send("c1", json!({"type": "subtract", "msg_id": 5}));
    let unknown = next(&node);
    assert_eq!(unknown["body"]["code"], 10);
    assert!(unknown["body"]["text"]
        .as_str()
        .unwrap()
        .contains("add, gossip, read"));
}

#[test]
fn no_reply_handlers_answer_nothing() {
    let node = started();
    node.send("n2", json!({"type": "gossip", "msg_id": 3, "values": [1]}));
    node.send("c1", json!({"type": "whoami", "msg_id": 4}));
    assert_eq!(next(&node)["body"]["in_reply_to"], 4, "gossip was answered");
}

#[test]
fn an_async_handler_waits_without_blocking_the_node() {
    let node = started();
    node.send("c1", json!({"type": "fetch", "msg_id": 1, "key": "k"}));
    let request = next(&node);
    assert_eq!(request["dest"], "lin-kv");
    assert_eq!(request["body"]["type"], "read");
    assert_eq!(request["body"]["key"], "k");
    let msg_id = request["body"]["msg_id"].as_u64().unwrap();

    // While fetch waits for lin-kv, other requests are served.
    node.send(
        "c2",
        json!({"type": "divide", "msg_id": 2, "numerator": 9, "denominator": 3}),
    );
    assert_eq!(next(&node)["body"]["in_reply_to"], 2);
    node.send("n2", json!({"type": "gossip", "values": [100]}));

    node.send(
        "lin-kv",
        json!({"type": "read_ok", "in_reply_to": msg_id, "value": 8}),
    );
    assert_eq!(
        next(&node),
        json!({"src": "n1", "dest": "c1",
               "body": {"type": "fetch_ok", "in_reply_to": 1, "value": 8, "total": 2}})
    );
}

#[test]
fn rpc_errors_pass_through_and_silence_times_out() {
    let node = started();
    node.send("c1", json!({"type": "fetch", "msg_id": 1, "key": "gone"}));
    let request = next(&node);
    let msg_id = request["body"]["msg_id"].as_u64().unwrap();
    node.send(
        "lin-kv",
        json!({"type": "error", "in_reply_to": msg_id, "code": 20, "text": "not found"}),
    );
    assert_eq!(
        next(&node)["body"],
        json!({"type": "error", "in_reply_to": 1, "code": 20, "text": "not found"})
    );

    node.send("c1", json!({"type": "fetch", "msg_id": 2, "key": "slow"}));
    let request = next(&node);
    let late_id = request["body"]["msg_id"].as_u64().unwrap();
    let timeout = next(&node); // after the 200 ms the init hook set
    assert_eq!(timeout["body"]["code"], 0, "{timeout}");
    assert_eq!(timeout["body"]["in_reply_to"], 2);
    // A late reply finds nobody waiting and is only logged.
    node.send(
        "lin-kv",
        json!({"type": "read_ok", "in_reply_to": late_id, "value": 1}),
    );
    node.send("c1", json!({"type": "whoami", "msg_id": 3}));
    assert_eq!(next(&node)["body"]["in_reply_to"], 3);
}

#[test]
fn rpc_between_nodes_uses_the_generated_enum() {
    let node = started();
    node.send("c1", json!({"type": "pull", "msg_id": 1, "from": "n2"}));
    let request = next(&node);
    assert_eq!(request["dest"], "n2");
    assert_eq!(request["body"]["type"], "read");
    let msg_id = request["body"]["msg_id"].as_u64().unwrap();
    node.send(
        "n2",
        json!({"type": "read_ok", "in_reply_to": msg_id, "values": [4], "inits": 1}),
    );
    assert_eq!(
        next(&node)["body"],
        json!({"type": "pull_ok", "in_reply_to": 1, "values": [4], "inits": 1})
    );
    // A reply of the wrong shape is an indefinite error, not a panic.
    node.send("c1", json!({"type": "pull", "msg_id": 2, "from": "n2"}));
    let msg_id = next(&node)["body"]["msg_id"].as_u64().unwrap();
    node.send(
        "n2",
        json!({"type": "read_ok", "in_reply_to": msg_id, "values": "x"}),
    );
    assert_eq!(next(&node)["body"]["code"], 13);
}

#[test]
fn periodic_methods_run_after_init_only() {
    let mut node = TestNode::start(Store::default);
    assert_eq!(
        node.recv_within(Duration::from_millis(100)),
        None,
        "ticked before init"
    );
    node.init("n1", &["n1"]);
    let first = node.recv();
    assert_eq!(first["dest"], "n9");
    assert_eq!(first["body"], json!({"type": "gossip", "values": [1]}));
    assert_eq!(node.recv()["body"]["values"], json!([2]));
    node.send("c1", json!({"type": "read", "msg_id": 5}));
    let read = node.recv();
    assert_eq!(read["body"]["inits"], 1);
}

/// A node with an async init hook and an async periodic method.
#[maelstrom_node]
#[derive(Default)]
struct Leader {
    leader: Option<String>,
}

#[maelstrom_node]
impl Leader {
    #[init]
    async fn elect(mut node: Node<Self>, ctx: Ctx) -> Result<(), Error> {
        let leader: String = ctx
            .lin_kv()
            .read_or("leader", ctx.node_id().to_owned())
            .await?;
        node.with(|state| state.leader = Some(leader));
        Ok(())
    }

    #[handle("leader")]
    fn leader(&self) -> LeaderOk {
        LeaderOk {
            leader: self.leader.clone(),
        }
    }

    #[every(ms = 20)]
    async fn heartbeat(mut node: Node<Self>, ctx: Ctx) -> Result<(), Error> {
        let leader = node.with(|state| state.leader.clone());
        if leader.as_deref() == Some(ctx.node_id()) {
            ctx.lin_kv()
                .write("heartbeat", &ctx.now().as_millis())
                .await?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
struct LeaderOk {
    leader: Option<String>,
}

#[test]
fn async_init_answers_init_when_done_and_async_ticks_do_not_overlap() {
    let node = TestNode::start(Leader::default);
    node.send(
        "c0",
        json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]}),
    );
    let read = node.recv();
    assert_eq!(read["dest"], "lin-kv");
    let msg_id = read["body"]["msg_id"].as_u64().unwrap();
    node.send(
        "lin-kv",
        json!({"type": "error", "in_reply_to": msg_id, "code": 20}),
    );
    assert_eq!(
        node.recv()["body"],
        json!({"type": "init_ok", "in_reply_to": 1})
    );

    // The heartbeat writes, and waits for its write before the next tick.
    let write = node.recv();
    assert_eq!(write["body"]["type"], "write");
    assert_eq!(
        node.recv_within(Duration::from_millis(100)),
        None,
        "ticks overlapped"
    );
    let msg_id = write["body"]["msg_id"].as_u64().unwrap();
    node.send("lin-kv", json!({"type": "write_ok", "in_reply_to": msg_id}));
    assert_eq!(node.recv()["body"]["type"], "write");

    node.send("c1", json!({"type": "leader", "msg_id": 2}));
    assert_eq!(
        node.recv()["body"],
        json!({"type": "leader_ok", "in_reply_to": 2, "leader": "n1"})
    );
}

#[test]
fn an_init_hook_error_answers_init() {
    #[maelstrom_node]
    struct Picky;

    #[maelstrom_node]
    impl Picky {
        #[init]
        fn check(ctx: &Ctx) -> Result<(), Error> {
            if ctx.node_ids().len() > 1 {
                return Err(Error::abort("Picky runs alone"));
            }
            Ok(())
        }
    }

    let node = TestNode::start(|| Picky);
    let reply = node.request(
        "c0",
        json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1", "n2"]}),
    );
    assert_eq!(
        reply["body"],
        json!({"type": "error", "in_reply_to": 1, "code": 14, "text": "Picky runs alone"})
    );
}

#[test]
fn input_ending_stops_the_node_with_output_flushed() {
    let node = started();
    node.send("c1", json!({"type": "add", "msg_id": 1, "value": 1}));
    node.send("c1", json!({"type": "whoami", "msg_id": 2}));
    let rest = node.close();
    let replies: Vec<&Value> = rest.iter().filter(|m| m["dest"] == "c1").collect();
    assert_eq!(replies.len(), 2, "{rest:?}");
}

#[test]
fn the_output_channel_closes_when_the_node_stops() {
    // The stdio writer ends (and the process exits) only once the channel
    // closes, even with periodic tasks and handlers still holding a `Ctx`.
    let (transport, remote) = glomers::seams::Transport::in_memory();
    let node = std::thread::spawn(move || {
        glomers::seams::run_with(Store::default(), glomers::seams::Env::new(transport))
    });
    let init = json!({"src": "c0", "dest": "n1",
                      "body": {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]}});
    remote.to_node.send_blocking(init.to_string()).unwrap();
    let fetch =
        json!({"src": "c1", "dest": "n1", "body": {"type": "fetch", "msg_id": 2, "key": "k"}});
    remote.to_node.send_blocking(fetch.to_string()).unwrap();
    std::thread::sleep(Duration::from_millis(100)); // a few ticks, and fetch waits on lin-kv
    remote.to_node.close();
    node.join().unwrap();
    let mut lines = 0;
    while remote.from_node.recv_blocking().is_ok() {
        lines += 1;
    }
    assert!(lines >= 2, "init_ok and the lin-kv read were written");
}
