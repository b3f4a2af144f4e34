//! What [`run`](crate::run) takes: a node built before `init`, or a
//! constructor that builds it at `init`, once the node's id is known.

use std::future::Future;
use std::pin::Pin;

use crate::ctx::Ctx;
use crate::error::Error;
use crate::node::Handlers;

/// Something [`run`](crate::run) can start: the node's state itself, or a
/// function that builds it at `init` from the [`Ctx`] (which knows the node
/// id and its peers by then).
///
/// | what `run` is given | when the state is built |
/// | --- | --- |
/// | a node value: `glomers::run(Counter::default())` | before `init` |
/// | `fn new(ctx: &Ctx) -> Self` (or `Ctx` by value): `glomers::run(Raft::new)` | at `init` |
/// | `fn new(ctx: &Ctx) -> Result<Self, E>` | at `init`; `Err` answers `init` with the error |
/// | `async fn new(ctx: Ctx) -> Self` (or `Result<Self, E>`) | at `init`; `init_ok` goes out when it is done |
///
/// A closure works as well, to hand the constructor something of its own:
/// `glomers::run(move |ctx: &Ctx| Broadcast::new(ctx, interval))` (name the
/// parameter's type: a closure whose `&Ctx` is inferred is not general
/// enough). Until the state is built, requests are answered with error 11
/// (temporarily unavailable: nothing was done).
///
/// ```
/// use glomers::prelude::*;
///
/// #[maelstrom_node]
/// struct Ring {
///     me: String,
///     next: String,
/// }
///
/// impl Ring {
///     fn new(ctx: &Ctx) -> Self {
///         let ids = ctx.node_ids();
///         let at = ids.iter().position(|id| id == ctx.node_id()).unwrap_or(0);
///         Ring {
///             me: ctx.node_id().to_owned(),
///             next: ids[(at + 1) % ids.len()].clone(),
///         }
///     }
/// }
///
/// #[maelstrom_node]
/// impl Ring {
///     #[handle("next")]
///     fn next(&self) -> NextOk {
///         NextOk { next: self.next.clone() }
///     }
/// }
///
/// #[derive(Serialize)]
/// struct NextOk {
///     next: String,
/// }
///
/// fn main() {
/// #   return; // a doctest has no Maelstrom on stdin
///     glomers::run(Ring::new);
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot start a node",
    label = "not a node, nor a function that builds one at init",
    note = "give `run` the node (`MyNode::default()`), or a constructor such as `fn new(ctx: &Ctx) -> Self`, `fn new(ctx: &Ctx) -> Result<Self, Error>` or `async fn new(ctx: Ctx) -> Self`",
    note = "a closure must name its parameter's type: `|ctx: &Ctx| MyNode::new(ctx, config)`"
)]
pub trait Start<How>: 'static {
    /// The node that starts.
    type Node: Handlers;

    /// Builds the node (or starts building it), once `init` has given the
    /// context its ids.
    #[doc(hidden)]
    fn start(self, ctx: &Ctx) -> Starting<Self::Node>;
}

/// A node being built at `init`.
#[doc(hidden)]
pub enum Starting<S> {
    /// Built (or failed) at once.
    Ready(Result<S, Error>),
    /// Built by a future.
    Later(Pin<Box<dyn Future<Output = Result<S, Error>>>>),
}

impl<S> std::fmt::Debug for Starting<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Starting::Ready(_) => "Starting::Ready",
            Starting::Later(_) => "Starting::Later",
        })
    }
}

/// What a constructor returns: the node, or a `Result` of it.
#[diagnostic::on_unimplemented(
    message = "a constructor must return the node, or `Result<Node, E>` with `E: Into<glomers::Error>`; `{Self}` is neither"
)]
pub trait IntoNode {
    /// The node built.
    type Node: Handlers;

    /// The node, or the error that answers `init`.
    fn into_node(self) -> Result<Self::Node, Error>;
}

impl<S: Handlers> IntoNode for S {
    type Node = S;

    fn into_node(self) -> Result<S, Error> {
        Ok(self)
    }
}

impl<S: Handlers, E: Into<Error>> IntoNode for Result<S, E> {
    type Node = S;

    fn into_node(self) -> Result<S, Error> {
        self.map_err(Into::into)
    }
}

/// The ways to start a node, told apart by type (see [`Start`]).
#[doc(hidden)]
pub mod how {
    /// A node value, built before `init`.
    #[derive(Debug)]
    pub struct Built;
    /// `fn(&Ctx) -> Node`.
    #[derive(Debug)]
    pub struct BorrowsCtx;
    /// `fn(Ctx) -> Node`.
    #[derive(Debug)]
    pub struct TakesCtx;
    /// `async fn(Ctx) -> Node`.
    #[derive(Debug)]
    pub struct Async;
}

impl<S: Handlers> Start<how::Built> for S {
    type Node = S;

    fn start(self, _: &Ctx) -> Starting<S> {
        Starting::Ready(Ok(self))
    }
}

impl<F, O> Start<how::BorrowsCtx> for F
where
    F: FnOnce(&Ctx) -> O + 'static,
    O: IntoNode,
{
    type Node = O::Node;

    fn start(self, ctx: &Ctx) -> Starting<O::Node> {
        Starting::Ready(self(ctx).into_node())
    }
}

impl<F, O> Start<how::TakesCtx> for F
where
    F: FnOnce(Ctx) -> O + 'static,
    O: IntoNode,
{
    type Node = O::Node;

    fn start(self, ctx: &Ctx) -> Starting<O::Node> {
        Starting::Ready(self(ctx.clone()).into_node())
    }
}

impl<F, Fut> Start<how::Async> for F
where
    F: FnOnce(Ctx) -> Fut + 'static,
    Fut: Future + 'static,
    Fut::Output: IntoNode,
{
    type Node = <Fut::Output as IntoNode>::Node;

    fn start(self, ctx: &Ctx) -> Starting<Self::Node> {
        let building = self(ctx.clone());
        Starting::Later(Box::pin(async move { building.await.into_node() }))
    }
}
