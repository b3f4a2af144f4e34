//! `#[maelstrom_node]` takes off only its own attributes (`handle`, `every`,
//! `init`, also by their path, `#[glomers::handle]`): every other attribute
//! on a method stays as written, for rustc to resolve. Here another crate's
//! attribute macros named `on`, `route`, `timer`, `start` and `msg` run on
//! the methods (each adds a constant that says it ran), and rustc's own
//! attributes and a tool attribute stay on handlers that still work.

use foreign_attrs::{msg, on, route, start, timer};
use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Switch {
    count: u64,
    started: bool,
}

#[maelstrom_node]
impl Switch {
    /// Another crate's attributes, before and after ours.
    #[route("/echo")]
    #[handle("echo")]
    #[on(echo)]
    fn echo(&mut self, echo: String) -> EchoOk {
        EchoOk { echo }
    }

    #[doc = "rustc's own attributes on a handler."]
    #[cfg_attr(all(), allow(dead_code))]
    #[inline]
    #[must_use]
    #[deprecated = "a handler may be deprecated; the dispatch still calls it"]
    #[rustfmt::skip]
    #[glomers::handle("count")]
    fn count(&mut self) -> CountOk { self.count += 1; CountOk { count: self.count } }

    #[timer(every = 10)]
    #[every(ms = 10)]
    #[allow(clippy::needless_pass_by_ref_mut)]
    fn tick(&mut self) {}

    #[start]
    #[init]
    fn begin(&mut self) {
        self.started = true;
    }

    /// A method that is no handler keeps its attributes too.
    #[msg("plain")]
    #[cfg(all())]
    fn plain(&self) -> bool {
        self.started
    }

    #[handle("started")]
    fn started(&self) -> StartedOk {
        StartedOk { started: self.plain() }
    }
}

#[derive(Serialize)]
struct StartedOk {
    started: bool,
}

#[derive(Serialize)]
struct EchoOk {
    echo: String,
}

#[derive(Serialize)]
struct CountOk {
    count: u64,
}

fn main() {
    assert_eq!(Switch::echo_route, "\"/echo\"");
    assert_eq!(Switch::echo_on, "echo");
    assert_eq!(Switch::tick_timer, "every = 10");
    assert_eq!(Switch::begin_start, "");
    assert_eq!(Switch::plain_msg, "\"plain\"");

    let mut node = TestNode::start(Switch::default);
    node.init("n1", &["n1"]);
    let reply = node.request("c1", json!({"type": "echo", "msg_id": 1, "echo": "hi"}));
    assert_eq!(reply["body"], json!({"type": "echo_ok", "in_reply_to": 1, "echo": "hi"}));
    let reply = node.request("c1", json!({"type": "count", "msg_id": 2}));
    assert_eq!(reply["body"], json!({"type": "count_ok", "in_reply_to": 2, "count": 1}));
    let reply = node.request("c1", json!({"type": "started", "msg_id": 3}));
    assert_eq!(reply["body"]["started"], true);
    let _ = SwitchMsg::Count {};
}
