//! Methods without attributes, other attributes, constants, a tuple struct,
//! and an error type of the user's that converts into `glomers::Error`.

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Limits(u64);

enum LimitError {
    TooBig(u64),
}

impl From<LimitError> for Error {
    fn from(err: LimitError) -> Error {
        match err {
            LimitError::TooBig(n) => Error::new(ErrorCode::Custom(1000), format!("{n} is too big")),
        }
    }
}

#[maelstrom_node]
impl Limits {
    const MAX: u64 = 100;

    /// Not a handler: an ordinary method the handlers call.
    fn check(value: u64) -> Result<u64, LimitError> {
        if value > Self::MAX {
            Err(LimitError::TooBig(value))
        } else {
            Ok(value)
        }
    }

    /// Sets the limit.
    #[inline]
    #[allow(clippy::needless_pass_by_value)]
    #[handle("set-limit")]
    fn set_limit(&mut self, value: u64) -> Result<(), LimitError> {
        self.0 = Self::check(value)?;
        Ok(())
    }
}

fn main() {
    let mut node = TestNode::start(Limits::default);
    node.init("n1", &["n1"]);
    assert_eq!(
        node.request("c1", json!({"type": "set-limit", "msg_id": 1, "value": 5}))["body"],
        json!({"type": "set-limit_ok", "in_reply_to": 1})
    );
    assert_eq!(
        node.request("c1", json!({"type": "set-limit", "msg_id": 2, "value": 500}))["body"],
        json!({"type": "error", "in_reply_to": 2, "code": 1000, "text": "500 is too big"})
    );
    // The generated enum names "set-limit" in CamelCase.
    let msg = LimitsMsg::SetLimit { value: 3 };
    assert_eq!(
        serde_json::to_value(&msg).unwrap(),
        json!({"type": "set-limit", "value": 3})
    );
}
