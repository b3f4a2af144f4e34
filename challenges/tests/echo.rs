//! End-to-end: the `echo` binary over pipes.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::NodeProcess;
use serde_json::{json, Value};

const ECHO: &str = env!("CARGO_BIN_EXE_echo");

fn payload(i: usize) -> Value {
    match i % 5 {
        0 => json!(format!("hello {i}")),
        1 => json!(i),
        2 => json!({"nested": [i, "ünïcödé ☃", null, true], "x": {"y": i as f64 / 3.0}}),
        3 => json!(["a\"quote", "new\nline", i]),
        _ => json!(null),
    }
}

#[test]
fn answers_a_thousand_echoes_with_their_payloads() {
    let mut node = NodeProcess::init(ECHO, "n1", &["n1"]);
    let lines: Vec<String> = (0..1000)
        .map(|i| {
            json!({"src": format!("c{}", i % 7 + 1), "dest": "n1",
                   "body": {"type": "echo", "msg_id": i + 1, "echo": payload(i)}})
            .to_string()
        })
        .collect();
    node.send_all(lines);
    let mut replies = HashMap::new();
    for _ in 0..1000 {
        let reply = node.recv();
        let id = reply["body"]["in_reply_to"].as_u64().expect("in_reply_to");
        assert!(replies.insert(id, reply).is_none(), "two replies to {id}");
    }
    for i in 0..1000usize {
        let reply = &replies[&(i as u64 + 1)];
        assert_eq!(reply["src"], "n1");
        assert_eq!(reply["dest"], format!("c{}", i % 7 + 1));
        assert_eq!(
            reply["body"],
            json!({"type": "echo_ok", "in_reply_to": i + 1, "echo": payload(i)})
        );
    }
    let stderr = node.finish();
    assert!(stderr.is_empty(), "unexpected stderr: {stderr}");
}

#[test]
fn bad_input_is_answered_or_logged_and_the_node_keeps_serving() {
    let mut node = NodeProcess::start(ECHO);
    node.node_id = "n1".into();

    // Before init: definite "temporarily unavailable".
    node.send("c1", json!({"type": "echo", "msg_id": 1, "echo": 1}));
    let early = node.recv();
    assert_eq!(early["body"]["code"], 11, "{early}");

    node.send(
        "c0",
        json!({"type": "init", "msg_id": 2, "node_id": "n1", "node_ids": ["n1"]}),
    );
    assert_eq!(node.recv()["body"]["type"], "init_ok");

    node.send_line("this is not json");
    node.send_line("{\"src\": \"c1\", \"dest\": \"n1\", \"body\": [1, 2]}");
    node.send_line("{\"src\": \"c1\", \"dest\": \"n1\", \"body\": {\"type\": 5}}");
    node.send_line("{\"src\": \"c1\", \"dest\": \"n1\"}");
    node.send_line("");
    node.send("c1", json!({"in_reply_to": 77, "type": "read_ok"}));

    node.send("c1", json!({"type": "frobnicate", "msg_id": 3}));
    let unknown = node.recv();
    assert_eq!(unknown["body"]["type"], "error");
    assert_eq!(unknown["body"]["in_reply_to"], 3);
    assert_eq!(unknown["body"]["code"], 10);
    assert!(unknown["body"]["text"]
        .as_str()
        .unwrap()
        .contains("frobnicate"));

    node.send("c1", json!({"type": "echo", "msg_id": 4}));
    let missing = node.recv();
    assert_eq!(missing["body"]["code"], 12, "{missing}");
    assert!(missing["body"]["text"]
        .as_str()
        .unwrap()
        .contains("missing field `echo`"));

    node.send("c1", json!({"msg_id": 5, "echo": 1}));
    let untyped = node.recv();
    assert_eq!(untyped["body"]["code"], 12, "{untyped}");

    node.send(
        "c0",
        json!({"type": "init", "msg_id": 6, "node_id": "n2", "node_ids": ["n2"]}),
    );
    assert_eq!(node.recv()["body"]["code"], 14, "a second init is refused");

    // Still serving, still the same node.
    node.send(
        "c1",
        json!({"type": "echo", "msg_id": 7, "echo": "still here"}),
    );
    let alive = node.recv();
    assert_eq!(
        alive,
        json!({"src": "n1", "dest": "c1",
               "body": {"type": "echo_ok", "in_reply_to": 7, "echo": "still here"}})
    );
    assert_eq!(node.recv_within(Duration::from_millis(100)), None);

    let stderr = node.finish();
    for expected in [
        "not a message",
        "this is not json",
        "[1, 2]",
        "\"type\": 5",
        "which no RPC is waiting for",
    ] {
        assert!(
            stderr.contains(expected),
            "stderr lacks {expected:?}:\n{stderr}"
        );
    }
}

#[test]
fn payloads_come_back_byte_for_byte() {
    let mut node = NodeProcess::init(ECHO, "n1", &["n1"]);
    for payload in [
        "123456789012345678901234567890",
        "-0.000000000000000000000000000001e-5",
        "1.0",
        r#"{"a": [1, 2.50, "\u00e9"], "b": 18446744073709551616}"#,
    ] {
        node.send_line(&format!(
            r#"{{"src": "c1", "dest": "n1", "body": {{"type": "echo", "msg_id": 1, "echo": {payload}}}}}"#
        ));
        let line = node.recv_line();
        assert!(
            line.contains(&format!(r#""echo":{payload}"#)),
            "{payload} came back as {line}"
        );
    }
    node.finish();
}

#[test]
fn an_unwritable_stderr_does_not_stop_the_node() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let mut node = NodeProcess::start_with_stderr(ECHO, full.into());
    node.node_id = "n1".into();
    node.send_line("this is not json, so it is logged");
    node.send(
        "c0",
        json!({"type": "init", "msg_id": 1, "node_id": "n1", "node_ids": ["n1"]}),
    );
    assert_eq!(node.recv()["body"]["type"], "init_ok");
    node.send("c1", json!({"type": "echo", "msg_id": 2, "echo": "alive"}));
    assert_eq!(node.recv()["body"]["echo"], "alive");
    node.finish();
}
