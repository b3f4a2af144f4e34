//! What a node survives: panicking handlers, malformed and misaddressed
//! messages, forged replies, bad `init`s, huge numbers, and a peer that
//! does not read.

use std::time::Duration;

use glomers::prelude::*;
use glomers::seams::{Env, Transport};
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Fragile {
    count: u64,
    ticks: u64,
}

#[maelstrom_node]
impl Fragile {
    #[handle("count")]
    fn count(&mut self) -> CountOk {
        self.count += 1;
        CountOk { count: self.count }
    }

    /// Panics halfway through, with the state borrowed.
    #[handle("boom")]
    fn boom(&mut self, reason: String) {
        self.count += 100;
        panic!("{reason}");
    }

    #[handle("async_boom")]
    async fn async_boom(ctx: Ctx) -> Result<(), Error> {
        ctx.sleep(Duration::from_millis(1)).await;
        panic!("failed after a wait");
    }

    /// Echoes its payload untouched.
    #[handle("echo")]
    fn echo(&self, echo: RawJson) -> EchoOk {
        EchoOk { echo }
    }

    /// Asks `peer` for its count.
    #[handle("ask")]
    async fn ask(ctx: Ctx, peer: String) -> Result<CountOk, Error> {
        ctx.rpc(&peer, &FragileMsg::Count {}).await
    }

    /// What the compiler suggests for an RPC whose reply goes unused.
    #[handle("poke")]
    async fn poke(ctx: Ctx, peer: String) -> Result<(), Error> {
        ctx.rpc::<(), _>(&peer, &FragileMsg::Count {}).await
    }

    #[handle("ticks")]
    fn ticks(&self) -> CountOk {
        CountOk { count: self.ticks }
    }

    /// Panics on every other run.
    #[every(ms = 10)]
    fn tick(&mut self) {
        self.ticks += 1;
        if self.ticks % 2 == 1 {
            panic!("odd tick");
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CountOk {
    count: u64,
}

#[derive(Serialize)]
struct EchoOk {
    echo: RawJson,
}

fn started() -> TestNode {
    let mut node = TestNode::start(Fragile::default);
    node.init("n1", &["n1", "n2"]);
    node
}

#[test]
fn a_panicking_handler_answers_error_13_and_the_node_keeps_serving() {
    let node = started();
    let reply = node.request(
        "c1",
        json!({"type": "boom", "msg_id": 1, "reason": "bad luck"}),
    );
    assert_eq!(reply["body"]["type"], "error", "{reply}");
    assert_eq!(reply["body"]["code"], 13);
    assert_eq!(reply["body"]["in_reply_to"], 1);
    let text = reply["body"]["text"].as_str().unwrap();
    assert!(text.contains("bad luck"), "{text}");
    // The state is as the panic left it, and not borrowed any more.
    let count = node.request("c1", json!({"type": "count", "msg_id": 2}));
    assert_eq!(count["body"]["count"], 101);
}

#[test]
fn a_panicking_async_handler_answers_error_13() {
    let node = started();
    let reply = node.request("c1", json!({"type": "async_boom", "msg_id": 1}));
    assert_eq!(reply["body"]["code"], 13, "{reply}");
    assert!(reply["body"]["text"]
        .as_str()
        .unwrap()
        .contains("failed after a wait"));
    let count = node.request("c1", json!({"type": "count", "msg_id": 2}));
    assert_eq!(count["body"]["count"], 1);
}

#[test]
fn a_panicking_periodic_method_keeps_being_scheduled() {
    let node = started();
    std::thread::sleep(Duration::from_millis(150));
    let ticks = node.request("c1", json!({"type": "ticks", "msg_id": 1}));
    assert!(ticks["body"]["count"].as_u64().unwrap() >= 4, "{ticks}");
}

#[test]
fn a_type_that_is_not_one_string_is_answered_with_error_12() {
    let node = started();
    node.send_line(r#"{"src": "c1", "dest": "n1", "body": {"type": 5, "msg_id": 7}}"#);
    let reply = node.recv();
    assert_eq!(reply["dest"], "c1");
    assert_eq!(reply["body"]["code"], 12, "{reply}");
    assert_eq!(reply["body"]["in_reply_to"], 7);
    node.send_line(
        r#"{"src": "c1", "dest": "n1", "body": {"type": "count", "type": "echo", "msg_id": 8}}"#,
    );
    let reply = node.recv();
    assert_eq!(reply["body"]["code"], 12, "{reply}");
    assert_eq!(reply["body"]["in_reply_to"], 8);
    let count = node.request("c1", json!({"type": "count", "msg_id": 9}));
    assert_eq!(count["body"]["count"], 1, "nothing ran");
}

#[test]
fn replies_before_init_come_from_the_id_addressed() {
    let node = TestNode::start(Fragile::default);
    node.send_line(r#"{"src": "c1", "dest": "n7", "body": {"type": "count", "msg_id": 1}}"#);
    let reply = node.recv();
    assert_eq!(reply["src"], "n7", "{reply}");
    assert_eq!(reply["body"]["code"], 11);
}

#[test]
fn rpc_replies_from_anyone_but_the_callee_are_stray() {
    let node = started();
    node.send("c1", json!({"type": "ask", "msg_id": 1, "peer": "n2"}));
    let call = node.recv();
    assert_eq!(call["dest"], "n2");
    let id = call["body"]["msg_id"].clone();
    // A client forges the reply: it is dropped, the RPC still waits.
    node.send(
        "c1",
        json!({"type": "count_ok", "in_reply_to": id, "count": 666}),
    );
    node.send(
        "n2",
        json!({"type": "count_ok", "in_reply_to": id, "count": 5}),
    );
    let reply = node.recv();
    assert_eq!(
        reply["body"],
        json!({"type": "ask_ok", "in_reply_to": 1, "count": 5})
    );
}

#[test]
fn an_rpc_for_unit_wants_only_success() {
    let node = started();
    node.send("c1", json!({"type": "poke", "msg_id": 1, "peer": "n2"}));
    let id = node.recv()["body"]["msg_id"].clone();
    node.send(
        "n2",
        json!({"type": "count_ok", "in_reply_to": id, "count": 3}),
    );
    assert_eq!(
        node.recv()["body"],
        json!({"type": "poke_ok", "in_reply_to": 1})
    );
}

#[test]
fn a_bad_init_is_refused_and_the_node_stays_uninitialised() {
    let node = TestNode::start(Fragile::default);
    for (id, ids) in [
        ("n3", json!(["n1", "n2"])),
        ("", json!(["", "n1"])),
        ("n1", json!(["n1", "n2", "n1"])),
    ] {
        let reply = node.request(
            "c0",
            json!({"type": "init", "msg_id": 1, "node_id": id, "node_ids": ids}),
        );
        assert_eq!(reply["body"]["code"], 12, "{id} {ids}: {reply}");
        let early = node.request("c1", json!({"type": "count", "msg_id": 2}));
        assert_eq!(early["body"]["code"], 11, "{id} {ids}: {early}");
    }
    let ok = node.request(
        "c0",
        json!({"type": "init", "msg_id": 3, "node_id": "n2", "node_ids": ["n1", "n2"]}),
    );
    assert_eq!(ok["body"]["type"], "init_ok");
}

#[test]
fn messages_for_another_node_are_dropped() {
    let node = started();
    node.send_line(r#"{"src": "c1", "dest": "n2", "body": {"type": "count", "msg_id": 1}}"#);
    node.send("c1", json!({"type": "count", "msg_id": 2}));
    let reply = node.recv();
    assert_eq!(reply["body"]["in_reply_to"], 2, "{reply}");
    assert_eq!(reply["body"]["count"], 1, "the misaddressed count ran");
}

#[test]
fn raw_json_payloads_come_back_byte_for_byte() {
    let node = started();
    let payload =
        r#"{"big": 123456789012345678901234567890, "float": 1.0, "exp": 1e400, "list": [ 1 ,2 ]}"#;
    node.send_line(&format!(
        r#"{{"src": "c1", "dest": "n1", "body": {{"type": "echo", "msg_id": 1, "echo": {payload}}}}}"#
    ));
    let line = node.recv_line();
    assert!(line.contains(payload), "{line}");
}

#[test]
fn a_peer_that_does_not_read_stops_the_node_reading_and_loses_nothing() {
    let (to_node, incoming) = smol::channel::unbounded();
    let (outgoing, from_node) = smol::channel::bounded(4);
    let node = std::thread::spawn(move || {
        let transport = Transport { incoming, outgoing };
        glomers::seams::run_with(Fragile::default(), Env::new(transport));
    });
    let send = |body: Value| {
        let line = json!({"src": "c1", "dest": "n1", "body": body}).to_string();
        to_node.send_blocking(line).unwrap();
    };
    send(json!({"type": "init", "msg_id": 0, "node_id": "n1", "node_ids": ["n1"]}));
    for i in 1..=200 {
        send(json!({"type": "count", "msg_id": i}));
    }
    std::thread::sleep(Duration::from_millis(200));
    // The node stopped reading once its output backed up.
    assert!(
        to_node.len() > 150,
        "the node read on: {} left",
        to_node.len()
    );
    let mut replies = Vec::new();
    while replies.len() < 200 {
        let line = from_node.recv_blocking().unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap();
        if reply["body"]["type"] == "count_ok" {
            replies.push(reply["body"]["count"].as_u64().unwrap());
        }
    }
    assert_eq!(replies, (1..=200).collect::<Vec<_>>(), "lost or reordered");
    to_node.close();
    node.join().unwrap();
}

/// Keeps `hold` requests to answer later, and drops them on `forget`.
#[maelstrom_node]
#[derive(Default)]
struct Holder {
    held: Vec<Responder<CountOk>>,
}

#[maelstrom_node]
impl Holder {
    #[handle("hold")]
    fn hold(&mut self, reply: Responder<CountOk>) {
        self.held.push(reply);
    }

    #[handle("release")]
    fn release(&mut self) -> CountOk {
        let count = self.held.len() as u64;
        for reply in self.held.drain(..) {
            reply.ok(CountOk { count });
        }
        CountOk { count }
    }

    #[handle("forget")]
    fn forget(&mut self) {
        self.held.clear();
    }
}

#[test]
fn a_responder_answers_later_exactly_once() {
    let mut node = TestNode::start(Holder::default);
    node.init("n1", &["n1"]);
    node.send("c1", json!({"type": "hold", "msg_id": 1}));
    node.send("c2", json!({"type": "hold", "msg_id": 2}));
    assert_eq!(
        node.recv_within(Duration::from_millis(50)),
        None,
        "answered early"
    );
    node.send("c3", json!({"type": "release", "msg_id": 3}));
    let answers: Vec<Value> = (0..3).map(|_| node.recv()).collect();
    assert_eq!(
        answers[0],
        json!({"src": "n1", "dest": "c1", "body": {"type": "hold_ok", "in_reply_to": 1, "count": 2}})
    );
    assert_eq!(answers[1]["dest"], "c2");
    assert_eq!(answers[2]["body"]["type"], "release_ok");
    node.send("c3", json!({"type": "release", "msg_id": 4}));
    assert_eq!(node.recv()["body"]["count"], 0, "answered twice");
}

/// Runs in a child process of the test below (it does nothing otherwise):
/// a responder dropped unanswered, with stderr captured by the parent.
#[test]
fn child_drops_a_responder() {
    if std::env::var_os("GLOMERS_CHILD_DROPS_A_RESPONDER").is_none() {
        return;
    }
    let mut node = TestNode::start(Holder::default);
    node.init("n1", &["n1"]);
    node.send("c1", json!({"type": "hold", "msg_id": 7}));
    node.request("c2", json!({"type": "forget", "msg_id": 8}));

    // A node torn down as a simulator kills one: what it held is lost
    // without a line each, as with a killed process.
    let (transport, remote) = Transport::in_memory();
    let stepper = glomers::seams::Stepper::new(Holder::default(), Env::new(transport));
    let init = json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]}});
    let hold = json!({"src": "c1", "dest": "n1", "body": {"type": "hold", "msg_id": 9}});
    for line in [init, hold] {
        remote.to_node.try_send(line.to_string()).unwrap();
        stepper.run_until_idle();
    }
    assert!(remote.from_node.try_recv().unwrap().contains("init_ok"));
    drop(stepper);
}

#[test]
fn dropping_a_responder_unanswered_is_logged() {
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_drops_a_responder", "--nocapture"])
        .env("GLOMERS_CHILD_DROPS_A_RESPONDER", "1")
        .output()
        .unwrap();
    assert!(child.status.success());
    let stderr = String::from_utf8_lossy(&child.stderr);
    assert!(
        stderr.contains("the reply to `hold` (msg 7) from c1 was dropped unanswered"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("(msg 9)"),
        "a torn-down node logs nothing for what it held: {stderr}"
    );
}

impl Fragile {
    fn refuse_to_start(ctx: &Ctx) -> Self {
        panic!("no node may be {}", ctx.node_id());
    }

    async fn refuse_later(ctx: Ctx) -> Self {
        ctx.sleep(Duration::from_millis(1)).await;
        panic!("still no");
    }
}

#[test]
fn a_panicking_constructor_answers_init_with_error_13() {
    let node = TestNode::start(|| Fragile::refuse_to_start);
    let init = json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]});
    let reply = node.request("c0", init.clone());
    assert_eq!(reply["body"]["code"], 13, "{reply}");
    assert!(reply["body"]["text"]
        .as_str()
        .unwrap()
        .contains("no node may be n1"));
    let count = node.request("c1", json!({"type": "count", "msg_id": 2}));
    assert_eq!(count["body"]["code"], 11, "{count}");

    let node = TestNode::start(|| Fragile::refuse_later);
    let reply = node.request("c0", init);
    assert_eq!(reply["body"]["code"], 13, "{reply}");
    assert!(reply["body"]["text"].as_str().unwrap().contains("still no"));
}
