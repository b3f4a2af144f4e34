//! Challenge 1, echo: answer every `echo` with the same payload, byte for
//! byte (`RawJson` keeps it unparsed, so 123456789012345678901234567890
//! stays itself).
//!
//! ```text
//! {"type": "echo", "msg_id": 1, "echo": "hi"} → {"type": "echo_ok", "in_reply_to": 1, "echo": "hi"}
//! ```

use glomers::prelude::*;

#[maelstrom_node]
pub struct Echo;

#[maelstrom_node]
impl Echo {
    #[handle("echo")]
    fn echo(&mut self, echo: RawJson) -> EchoOk {
        EchoOk { echo }
    }
}

#[derive(Serialize)]
struct EchoOk {
    echo: RawJson,
}
