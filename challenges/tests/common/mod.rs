//! Runs a node binary as Maelstrom would: JSON lines on stdin and stdout.

#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};

/// How long a test waits for one line before it fails.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct NodeProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    /// A thread writing a batch of lines; it hands stdin back when done.
    writer: Option<JoinHandle<ChildStdin>>,
    stdout: Receiver<String>,
    stderr: Option<JoinHandle<String>>,
    pub node_id: String,
}

impl NodeProcess {
    pub fn start(binary: &str) -> Self {
        Self::start_with_stderr(binary, Stdio::piped())
    }

    /// Starts the binary with its stderr going to `stderr` (`finish` then
    /// returns an empty string unless it is piped).
    pub fn start_with_stderr(binary: &str, stderr: Stdio) -> Self {
        let mut child = Command::new(binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|err| panic!("starting {binary}: {err}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().map(|mut stderr| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text);
                text
            })
        });
        NodeProcess {
            stdin: child.stdin.take(),
            writer: None,
            child,
            stdout: rx,
            stderr,
            node_id: String::new(),
        }
    }

    /// Starts the binary and initialises it as `node_id` of `node_ids`.
    pub fn init(binary: &str, node_id: &str, node_ids: &[&str]) -> Self {
        let mut node = Self::start(binary);
        node.node_id = node_id.to_owned();
        node.send(
            "c0",
            json!({"type": "init", "msg_id": 0, "node_id": node_id, "node_ids": node_ids}),
        );
        let reply = node.recv();
        assert_eq!(
            reply,
            json!({"src": node_id, "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 0}})
        );
        node
    }

    pub fn send_line(&mut self, line: &str) {
        self.wait_for_writer();
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("writing to the node");
        stdin.flush().unwrap();
    }

    pub fn send(&mut self, src: &str, body: Value) {
        let line = json!({"src": src, "dest": self.node_id, "body": body}).to_string();
        self.send_line(&line);
    }

    /// Writes many lines at once, from a thread, so that a full pipe
    /// cannot block the test while the node waits for its stdout to drain.
    pub fn send_all(&mut self, lines: Vec<String>) {
        self.wait_for_writer();
        let mut stdin = self.stdin.take().expect("stdin is open");
        self.writer = Some(std::thread::spawn(move || {
            let mut out = std::io::BufWriter::new(&mut stdin);
            for line in lines {
                writeln!(out, "{line}").expect("writing to the node");
            }
            out.flush().unwrap();
            drop(out);
            stdin
        }));
    }

    fn wait_for_writer(&mut self) {
        if let Some(writer) = self.writer.take() {
            self.stdin = Some(writer.join().expect("the writer thread failed"));
        }
    }

    pub fn recv(&mut self) -> Value {
        let line = self.recv_line();
        serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("the node wrote a line that is not JSON ({err}): {line}"))
    }

    /// The next line, as written.
    pub fn recv_line(&mut self) -> String {
        self.stdout
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("no output from the node within {TIMEOUT:?}"))
    }

    /// The next line, if one comes within `wait`.
    pub fn recv_within(&mut self, wait: Duration) -> Option<Value> {
        let line = self.stdout.recv_timeout(wait).ok()?;
        Some(serde_json::from_str(&line).expect("the node wrote a line that is not JSON"))
    }

    /// Closes stdin, waits for the node to exit, and returns its stderr.
    /// The node must exit by itself, successfully, at end of input.
    pub fn finish(mut self) -> String {
        self.wait_for_writer();
        drop(self.stdin.take());
        let status = self.child.wait().expect("waiting for the node");
        let stderr = self
            .stderr
            .take()
            .map(|reader| reader.join().unwrap())
            .unwrap_or_default();
        assert!(
            status.success(),
            "the node exited with {status}; stderr:\n{stderr}"
        );
        let leftover: Vec<String> = self.stdout.try_iter().collect();
        assert!(leftover.is_empty(), "unread output: {leftover:?}");
        stderr
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
