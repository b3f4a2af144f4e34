//! # glomers
//!
//! Write [Maelstrom](https://github.com/jepsen-io/maelstrom) nodes (the
//! fly.io "Gossip Glomers" challenges) as a small annotated struct.
//!
//! ```no_run
//! use glomers::prelude::*;
//!
//! #[maelstrom_node]
//! #[derive(Default)]
//! struct Counter {
//!     total: u64,
//! }
//!
//! #[maelstrom_node]
//! impl Counter {
//!     /// `{"type": "add", "delta": 3}` → `{"type": "add_ok"}`
//!     #[handle("add")]
//!     fn add(&mut self, delta: u64) {
//!         self.total += delta;
//!     }
//!
//!     /// `{"type": "read"}` → `{"type": "read_ok", "value": 3}`
//!     #[handle("read")]
//!     fn read(&self) -> ReadOk {
//!         ReadOk { value: self.total }
//!     }
//! }
//!
//! #[derive(Serialize)]
//! struct ReadOk {
//!     value: u64,
//! }
//!
//! fn main() {
//!     glomers::run(Counter::default());
//! }
//! ```
//!
//! ## What the macro makes
//!
//! `#[maelstrom_node]` goes on the struct and on one `impl` block of it.
//! Inside the block:
//!
//! - `#[handle("type")]` marks the handler of a message type. Its parameters
//!   are the body's fields, by name and type (any serde type, owned), plus
//!   any of these, recognised by their type: `ctx: &Ctx` (or `Ctx`),
//!   `src: Src` (the sender), and for an `async` handler `node: Node<Self>`
//!   in place of `self` (see [`Node`] for why).
//! - The return type is the reply: `()` answers `{"type": "<type>_ok"}`, a
//!   `Serialize` struct is merged into that body, and `Result<T, E>` (with
//!   `E: Into<Error>`) answers an error body on `Err`.
//!   `#[handle("type", no_reply)]` answers nothing (for messages between
//!   nodes).
//! - `#[every(ms = N)]` runs a method every N milliseconds after `init`,
//!   with `&mut self` (or `node: Node<Self>` when `async`) and optionally
//!   `ctx`.
//! - `#[init]` runs once after the runtime has handled `init`.
//!
//! It also generates `enum <Struct>Msg`, one variant per handled type (named
//! in CamelCase, fields as the handler's), which serializes with its `type`
//! tag: send it to peers with [`Ctx::send`] or [`Ctx::rpc`].
//!
//! Errors follow Maelstrom: a body that is missing a field or has one of the
//! wrong type is answered with error 12, an unknown type with error 10, a
//! line that is not JSON is reported on stderr, and the node keeps serving.

mod checks;
mod ctx;
mod env;
mod error;
mod kv;
mod log;
mod message;
mod node;
mod panic;
mod raw;
mod runtime;
mod start;
pub mod testing;

pub use ctx::{Ctx, RpcReply, DEFAULT_RPC_TIMEOUT};
pub use env::{Clock, Env, Remote, StdioThreads, SystemClock, Transport, STDIO_QUEUE};
pub use error::{Error, ErrorCode};
pub use glomers_macros::maelstrom_node;
pub use kv::{Ack, Kv};
pub use message::{Request, Responder};
pub use node::{Handlers, LocalFuture, Node, Periodic, Shared, Src};
pub use raw::RawJson;
pub use runtime::{run, run_with};
pub use start::{IntoNode, Start};

/// What a node file needs: `use glomers::prelude::*;`.
pub mod prelude {
    pub use crate::{
        maelstrom_node, Ack, Ctx, Error, ErrorCode, Kv, Node, RawJson, Responder, Src,
    };
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::Value;
}

/// Items for the code `#[maelstrom_node]` generates; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use serde_json;

    pub use crate::checks::*;
    pub use crate::start::{how, Starting};

    use crate::node::{LocalFuture, Shared};
    use crate::Ctx;

    /// Implemented by `#[maelstrom_node]` on the struct.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is missing `#[maelstrom_node]` on its struct",
        label = "this type's struct is not marked",
        note = "put `#[maelstrom_node]` on the struct definition as well as on its impl block"
    )]
    pub trait NodeStruct {}

    /// Checks at compile time that `S` carries `#[maelstrom_node]`.
    pub const fn assert_node_struct<S: NodeStruct>() {}

    /// Runs a synchronous method with the state borrowed for the call only
    /// (the borrow ends even if the method panics).
    pub fn with_state<S, R>(state: &Shared<S>, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut state.borrow_mut())
    }

    /// Writes one line to stderr, ignoring failures (`glomers::log!`).
    pub fn log_line(args: std::fmt::Arguments<'_>) {
        crate::log::line(args);
    }

    /// Spawns an async handler's run; a panic in it answers its request
    /// with error 13.
    pub fn spawn_handler(
        ctx: &Ctx,
        what: &'static str,
        future: impl std::future::Future<Output = ()> + 'static,
    ) {
        ctx.spawn_guarded(what, Box::pin(future));
    }

    /// What a periodic method may return: nothing, or a `Result` whose
    /// error is logged.
    pub trait PeriodicOutput {
        /// Reports a failed run on stderr.
        fn report(self, method: &str);
    }

    impl PeriodicOutput for () {
        fn report(self, _: &str) {}
    }

    impl<E: std::fmt::Display> PeriodicOutput for Result<(), E> {
        fn report(self, method: &str) {
            if let Err(err) = self {
                crate::log::write(format_args!("periodic `{method}` failed: {err}"));
            }
        }
    }

    /// Boxes an async periodic run for the runtime.
    pub fn periodic_future<O: PeriodicOutput>(
        method: &'static str,
        future: impl std::future::Future<Output = O> + 'static,
    ) -> Option<LocalFuture> {
        Some(Box::pin(async move { future.await.report(method) }))
    }
}
