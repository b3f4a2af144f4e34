//! Challenge 1, echo: answer every `echo` with the same payload.
//!
//! ```text
//! {"type": "echo", "msg_id": 1, "echo": "hi"} → {"type": "echo_ok", "in_reply_to": 1, "echo": "hi"}
//! ```

use glomers::prelude::*;

#[maelstrom_node]
struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle("echo")]
    fn echo(&mut self, echo: Value) -> EchoOk {
        EchoOk { echo }
    }
}

#[derive(Serialize)]
struct EchoOk {
    echo: Value,
}

fn main() {
    glomers::run(Echo);
}
