//! The baseline of the echo benchmark: the least a Maelstrom echo node can
//! do with serde_json and no framework. Each line is parsed into a `Value`,
//! the reply is built as a `Value` and written to a buffered stdout that is
//! flushed whenever no more input is waiting.

use std::io::{BufRead, BufReader, BufWriter, Write};

use serde_json::{json, Value};

fn main() {
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    let mut line = String::new();
    let mut next_id = 0u64;
    loop {
        if input.buffer().is_empty() {
            output.flush().expect("writing stdout");
        }
        line.clear();
        if input.read_line(&mut line).expect("reading stdin") == 0 {
            break;
        }
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let body = &message["body"];
        next_id += 1;
        let mut reply = json!({"in_reply_to": body["msg_id"], "msg_id": next_id});
        match body["type"].as_str() {
            Some("init") => reply["type"] = json!("init_ok"),
            Some("echo") => {
                reply["type"] = json!("echo_ok");
                reply["echo"] = body["echo"].clone();
            }
            _ => continue,
        }
        let out = json!({"src": message["dest"], "dest": message["src"], "body": reply});
        serde_json::to_writer(&mut output, &out).expect("writing stdout");
        output.write_all(b"\n").expect("writing stdout");
    }
    output.flush().expect("writing stdout");
}
