//! Synchronous handlers: every receiver, every reply form, special parameters.

use glomers::prelude::*;
use glomers::testing::TestNode;
use serde_json::json;

#[maelstrom_node]
#[derive(Default)]
struct Account {
    balance: i64,
}

#[maelstrom_node]
impl Account {
    /// `()` replies a bare `deposit_ok`.
    #[handle("deposit")]
    fn deposit(&mut self, amount: i64) {
        self.balance += amount;
    }

    /// A `Serialize` struct is merged into the reply; `&self` is enough to read.
    #[handle("balance")]
    fn balance(&self) -> Balance {
        Balance { balance: self.balance }
    }

    /// `Result` replies an error body on `Err`.
    #[handle("withdraw")]
    fn withdraw(&mut self, amount: i64) -> Result<Balance, Error> {
        if amount > self.balance {
            return Err(Error::precondition_failed("insufficient funds"));
        }
        self.balance -= amount;
        Ok(Balance { balance: self.balance })
    }

    /// No receiver at all, the sender, the context by value, and a field
    /// whose name is a Rust keyword.
    #[handle("hello")]
    fn hello(src: Src, ctx: glomers::Ctx, r#in: String) -> Greeting {
        Greeting {
            text: format!("{} greets {src} in {}", ctx.node_id(), r#in),
        }
    }
}

#[derive(Serialize)]
struct Balance {
    balance: i64,
}

#[derive(Serialize)]
struct Greeting {
    text: String,
}

fn main() {
    let mut node = TestNode::start(Account::default);
    node.init("n1", &["n1"]);
    let body = |reply: Value| reply["body"].clone();
    assert_eq!(
        body(node.request("c1", json!({"type": "deposit", "msg_id": 1, "amount": 10}))),
        json!({"type": "deposit_ok", "in_reply_to": 1})
    );
    assert_eq!(
        body(node.request("c1", json!({"type": "withdraw", "msg_id": 2, "amount": 4}))),
        json!({"type": "withdraw_ok", "in_reply_to": 2, "balance": 6})
    );
    assert_eq!(
        body(node.request("c1", json!({"type": "withdraw", "msg_id": 3, "amount": 7}))),
        json!({"type": "error", "in_reply_to": 3, "code": 22, "text": "insufficient funds"})
    );
    assert_eq!(
        body(node.request("c1", json!({"type": "balance", "msg_id": 4}))),
        json!({"type": "balance_ok", "in_reply_to": 4, "balance": 6})
    );
    assert_eq!(
        body(node.request("c7", json!({"type": "hello", "msg_id": 5, "in": "Paris"}))),
        json!({"type": "hello_ok", "in_reply_to": 5, "text": "n1 greets c7 in Paris"})
    );
}
