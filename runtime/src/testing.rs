//! Drive a node in-process, message by message, for tests.
//!
//! ```
//! use glomers::prelude::*;
//! use glomers::testing::TestNode;
//! use serde_json::json;
//!
//! #[maelstrom_node]
//! struct Echo;
//!
//! #[maelstrom_node]
//! impl Echo {
//!     #[handle("echo")]
//!     fn echo(&mut self, echo: Value) -> EchoOk {
//!         EchoOk { echo }
//!     }
//! }
//!
//! #[derive(Serialize)]
//! struct EchoOk {
//!     echo: Value,
//! }
//!
//! let mut node = TestNode::start(|| Echo);
//! node.init("n1", &["n1"]);
//! let reply = node.request("c1", json!({"type": "echo", "msg_id": 7, "echo": "hi"}));
//! assert_eq!(reply["body"], json!({"type": "echo_ok", "in_reply_to": 7, "echo": "hi"}));
//! ```

use std::cell::RefCell;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use smol::channel::Sender;

use crate::ctx::Ctx;
use crate::env::{Env, Remote, Transport};
use crate::start::Start;

/// A [`Ctx`] outside any running node, initialised as `node_id` among
/// `node_ids`, with the far end of its transport: for unit tests of code that
/// takes a `Ctx`. What it sends is read from [`Remote::from_node`]; nothing
/// routes replies to it, so its RPCs time out, and [`Ctx::spawn`] does
/// nothing (it has no executor).
///
/// ```
/// let (ctx, remote) = glomers::testing::detached_ctx("n1", &["n1", "n2"]);
/// assert_eq!(ctx.peers().collect::<Vec<_>>(), ["n2"]);
/// ctx.send("n2", &serde_json::json!({"type": "ping"}));
/// let line = remote.from_node.try_recv().unwrap();
/// assert_eq!(line, r#"{"src":"n1","dest":"n2","body":{"type":"ping"}}"#);
/// ```
pub fn detached_ctx(node_id: &str, node_ids: &[&str]) -> (Ctx, Remote) {
    let (transport, remote) = Transport::in_memory();
    let executor = std::rc::Rc::new(smol::LocalExecutor::new());
    let ctx = Ctx::new(&Env::new(transport), &executor);
    ctx.initialise(
        node_id.to_owned(),
        node_ids.iter().map(|id| (*id).to_owned()).collect(),
    );
    (ctx, remote)
}

/// How long [`TestNode::recv`] waits before it fails the test.
pub const RECV_TIMEOUT: Duration = Duration::from_secs(5);

/// A node running on its own thread behind an in-memory transport, with the
/// system clock.
#[derive(Debug)]
pub struct TestNode {
    remote: Remote,
    node_id: RefCell<String>,
    thread: Option<JoinHandle<()>>,
}

impl TestNode {
    /// Starts the node that `make` gives (on the node's thread, so the node
    /// need not be `Send`): the node's state, or its constructor, as
    /// [`run`](crate::run) takes them (`TestNode::start(Counter::default)`,
    /// `TestNode::start(|| Raft::new)`).
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// ```
    pub fn start<How, N, F>(make: F) -> Self
    where
        N: Start<How>,
        F: FnOnce() -> N + Send + 'static,
    {
        Self::start_seeded(make, fastrand::u64(..))
    }

    /// [`TestNode::start`] with a fixed random seed.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start_seeded(|| Echo, 42);
    /// node.init("n1", &["n1"]);
    /// ```
    pub fn start_seeded<How, N, F>(make: F, seed: u64) -> Self
    where
        N: Start<How>,
        F: FnOnce() -> N + Send + 'static,
    {
        let (transport, remote) = Transport::in_memory();
        let thread = std::thread::spawn(move || {
            let mut env = Env::new(transport);
            env.seed = seed;
            crate::runtime::run_with(make(), env);
        });
        TestNode {
            remote,
            node_id: RefCell::new(String::new()),
            thread: Some(thread),
        }
    }

    /// Sends `init` and checks that the node answers `init_ok`.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n2", &["n1", "n2"]); // fails the test unless the node answers init_ok
    /// ```
    pub fn init(&mut self, node_id: &str, node_ids: &[&str]) -> &mut Self {
        let reply = self.request(
            "c0",
            json!({"type": "init", "msg_id": 0, "node_id": node_id, "node_ids": node_ids}),
        );
        assert_eq!(
            reply["body"]["type"], "init_ok",
            "the node did not accept init: {reply}"
        );
        self
    }

    /// Writes a raw line to the node.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send_line(r#"{"src": "c1", "dest": "n1", "body": {"type": "echo", "msg_id": 1, "echo": 1.50}}"#);
    /// assert!(node.recv_line().contains(r#""echo":1.50"#));
    /// ```
    pub fn send_line(&self, line: &str) {
        self.sender()
            .send_blocking(line.to_owned())
            .expect("the node has stopped reading");
    }

    /// Sends `body` from `src` to the node (addressed to the id of the last
    /// `init` sent, or of this one if it is an `init`).
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send("c1", json!({"type": "echo", "msg_id": 1, "echo": "hi"}));
    /// assert_eq!(node.recv()["body"]["echo"], "hi");
    /// ```
    pub fn send(&self, src: &str, body: Value) {
        if body["type"] == "init" {
            if let Some(id) = body["node_id"].as_str() {
                *self.node_id.borrow_mut() = id.to_owned();
            }
        }
        let message = json!({"src": src, "dest": *self.node_id.borrow(), "body": body});
        self.send_line(&message.to_string());
    }

    /// Sends `body` from `src` and returns the next message the node writes.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// let reply = node.request("c1", json!({"type": "echo", "msg_id": 1, "echo": "hi"}));
    /// assert_eq!(reply["dest"], "c1");
    /// ```
    pub fn request(&self, src: &str, body: Value) -> Value {
        self.send(src, body);
        self.recv()
    }

    /// The next message the node writes; fails the test after
    /// [`RECV_TIMEOUT`].
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send("c1", json!({"type": "nope", "msg_id": 1}));
    /// assert_eq!(node.recv()["body"]["code"], 10);
    /// ```
    pub fn recv(&self) -> Value {
        self.recv_within(RECV_TIMEOUT)
            .unwrap_or_else(|| panic!("the node wrote nothing within {RECV_TIMEOUT:?}"))
    }

    /// The next message the node writes within `timeout`, if any.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send("c1", json!({"type": "echo", "echo": "no msg_id, no reply"}));
    /// assert_eq!(node.recv_within(std::time::Duration::from_millis(20)), None);
    /// ```
    pub fn recv_within(&self, timeout: Duration) -> Option<Value> {
        let line = self.recv_line_within(timeout)?;
        Some(
            serde_json::from_str(&line).unwrap_or_else(|err| {
                panic!("the node wrote a line that is not JSON ({err}): {line}")
            }),
        )
    }

    /// The next line the node writes, as written; fails the test after
    /// [`RECV_TIMEOUT`].
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send("c1", json!({"type": "echo", "msg_id": 1, "echo": [1, 2]}));
    /// assert!(node.recv_line().ends_with(r#""echo":[1,2]}}"#));
    /// ```
    pub fn recv_line(&self) -> String {
        self.recv_line_within(RECV_TIMEOUT)
            .unwrap_or_else(|| panic!("the node wrote nothing within {RECV_TIMEOUT:?}"))
    }

    /// The next line the node writes within `timeout`, if any.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// assert_eq!(node.recv_line_within(std::time::Duration::from_millis(20)), None);
    /// ```
    pub fn recv_line_within(&self, timeout: Duration) -> Option<String> {
        smol::block_on(smol::future::or(
            async { self.remote.from_node.recv().await.ok() },
            async {
                smol::Timer::after(timeout).await;
                None
            },
        ))
    }

    /// Closes the node's input, waits for it to stop, and returns whatever
    /// it wrote that was not yet read.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// # #[maelstrom_node] struct Echo;
    /// # #[maelstrom_node] impl Echo {
    /// #     #[handle("echo")] fn echo(&self, echo: RawJson) -> EchoOk { EchoOk { echo } }
    /// # }
    /// # #[derive(Serialize)] struct EchoOk { echo: RawJson }
    /// use glomers::testing::TestNode;
    /// use serde_json::json;
    ///
    /// let mut node = TestNode::start(|| Echo);
    /// node.init("n1", &["n1"]);
    /// node.send("c1", json!({"type": "echo", "msg_id": 1, "echo": 1}));
    /// let unread = node.close(); // waits for the node to stop
    /// assert_eq!(unread.len(), 1);
    /// ```
    pub fn close(mut self) -> Vec<Value> {
        self.remote.to_node.close();
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the node panicked");
        }
        std::iter::from_fn(|| self.remote.from_node.try_recv().ok())
            .map(|line| {
                serde_json::from_str(&line).expect("the node wrote a line that is not JSON")
            })
            .collect()
    }

    fn sender(&self) -> &Sender<String> {
        &self.remote.to_node
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.remote.to_node.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
