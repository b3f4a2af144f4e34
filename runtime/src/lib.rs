//! # glomers
//!
//! Write [Maelstrom](https://github.com/jepsen-io/maelstrom) nodes (the
//! fly.io "Gossip Glomers" challenges) as a small annotated struct: the
//! [`maelstrom_node`] attribute turns it into a program that speaks
//! Maelstrom's JSON protocol on stdin and stdout, and [`run`] runs it.
//!
//! ## What a node author uses
//!
//! - [`maelstrom_node`] on the struct and its impl block, with
//!   [`handle`], [`every`] and [`init`] on its methods (all their forms
//!   are below), [`run`] in `main` with the node or its constructor
//!   ([`Start`]).
//! - [`Ctx`], the node's handle on the runtime: its id and peers, `send`,
//!   `rpc` and `rpc_ack`, the key-value services ([`Kv`]), time, randomness,
//!   `spawn`.
//! - [`Node`] (an async method's access to the state), [`Src`] (the
//!   sender), [`Responder`] (a reply to send now or later), [`RawJson`] (a
//!   field kept byte for byte).
//! - [`Error`] and [`ErrorCode`], Maelstrom's error codes; [`Ack`], a
//!   reply with nothing in it; [`log!`], a log line that never fails.
//! - [`testing::TestNode`], to drive a node in a test, message by message.
//!
//! Not needed to write a node: [`seams`], the seams between a node and the
//! world, for simulators and tests ([`seams::run_with`] runs a node in an
//! [`seams::Env`] of their own: a transport of lines, a clock, a random
//! seed).
//!
//! Errors follow Maelstrom: a body that is missing a field or has one of the
//! wrong type is answered with error 12, an unknown type with error 10, a
//! request before `init` with error 11, a line that is not JSON is reported
//! on stderr, and the node keeps serving.
//!
//! # `#[maelstrom_node]`
//!
#![doc = include_str!("../../macros/src/dsl.md")]
#![warn(missing_docs, missing_debug_implementations)]

// Layers, bottom to top: a module imports only from the layers below it
// (and, within a layer, from the modules listed before it); no circle.
//
// 1. `error`, `raw`, `log`, `collections`: leaves.
// 2. `env` (transport, clock), `message` (the wire format, the request and
//    its reply's address; nothing that sends).
// 3. `ctx`: `Ctx`, sending, RPC (`Ack`), the executor (`LocalFuture`).
// 4. `responder`, then `kv`, `panic` (the boundary, with `Ctx::spawn`) and
//    `node` (the contract with generated code), on `ctx` and `responder`.
// 5. `checks`, `start`.
// 6. `runtime`: the event loop, on all of the above.
// 7. `testing`; this file re-exports.
mod checks;
pub mod collections;
mod ctx;
mod env;
mod error;
mod kv;
mod log;
mod message;
mod node;
mod panic;
mod raw;
mod responder;
mod runtime;
mod start;
pub mod testing;

// What a node author uses.
pub use ctx::{Ack, Ctx, RpcReply, DEFAULT_RPC_TIMEOUT};
pub use error::{Error, ErrorCode};
pub use glomers_macros::{every, handle, init, maelstrom_node};
pub use kv::Kv;
pub use node::{Node, Src};
pub use raw::RawJson;
pub use responder::{Responder, CLIENT_TIMEOUT};
pub use runtime::run;
pub use start::{IntoNode, Start};

pub mod seams {
    //! The seams between a node and the world, for simulators and tests:
    //! not needed to write a node.
    //!
    //! [`run`](crate::run) wires a node to stdin, stdout and the system
    //! clock. [`run_with`] runs it in an [`Env`] instead (a [`Transport`]
    //! of lines, a [`Clock`], a random seed) on the calling thread only, and
    //! a [`Stepper`] runs it step by step, so that a test or a simulator
    //! drives the same node code over in-memory channels, with a clock and
    //! a seed of its own.

    pub use crate::env::{Clock, Env, Remote, StdioThreads, SystemClock, Transport, STDIO_QUEUE};
    pub use crate::runtime::{run_with, Stepper};
}

/// What a node file needs: `use glomers::prelude::*;`.
pub mod prelude {
    pub use crate::{
        every, handle, init, maelstrom_node, Ack, Ctx, Error, ErrorCode, Kv, Node, RawJson,
        Responder, Src,
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
    pub use crate::ctx::LocalFuture;
    pub use crate::message::Request;
    pub use crate::node::{Handlers, OneMaelstromNodeImplBlockPerStruct, Periodic, Shared};
    pub use crate::start::{how, Starting};

    use crate::ctx::Ctx;
    use crate::node::Node;

    /// Implemented by `#[maelstrom_node]` on the struct.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is missing `#[maelstrom_node]` on its struct",
        label = "this type's struct is not marked",
        note = "put `#[maelstrom_node]` on the struct definition as well as on its impl block"
    )]
    pub trait NodeStruct {}

    /// Checks at compile time that `S` carries `#[maelstrom_node]`.
    pub const fn assert_node_struct<S: NodeStruct>() {}

    /// An async method's `Node<Self>`: a handle on the state, one per run.
    pub fn node_handle<S>(state: &Shared<S>) -> Node<S> {
        Node::new(state)
    }

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
