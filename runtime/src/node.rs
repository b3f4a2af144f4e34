//! The node's state and the contract between generated code and the runtime.

use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;
use std::rc::Rc;
use std::time::Duration;

use crate::ctx::{Ctx, LocalFuture};
use crate::message::Request;
use crate::responder::Responder;

/// The node's state, owned by the runtime.
pub type Shared<S> = Rc<RefCell<S>>;

/// An `async` handler's access to the node's state.
///
/// # The ownership model
///
/// The runtime owns the node's state and runs everything on one thread.
/// Synchronous handlers and `every` methods take `&mut self` and run to the
/// end before anything else runs, so they never meet each other.
///
/// An `async` handler may wait (on an RPC, a timer) while other messages are
/// served, so it cannot hold `&mut self`. It takes a `Node<Self>` instead and
/// reaches the state only inside [`Node::with`], whose closure cannot
/// `.await`: no borrow of the state can be held across an `.await`, and the
/// compiler checks it. `with` takes `&mut self` and `Node` is not `Clone`,
/// so calls cannot nest either.
///
/// ```
/// use glomers::prelude::*;
///
/// #[maelstrom_node]
/// #[derive(Default)]
/// struct Cache {
///     hits: u64,
/// }
///
/// #[maelstrom_node]
/// impl Cache {
///     #[handle("get")]
///     async fn get(mut node: Node<Self>, ctx: Ctx, key: String) -> Result<ReadOk, Error> {
///         let value: u64 = ctx.lin_kv().read(&key).await?; // other messages are served meanwhile
///         node.with(|cache| cache.hits += 1);
///         Ok(ReadOk { value })
///     }
/// }
///
/// #[derive(Serialize)]
/// struct ReadOk {
///     value: u64,
/// }
/// ```
pub struct Node<S> {
    state: Shared<S>,
}

impl<S> Node<S> {
    /// A handle on `state`; generated code makes one per async invocation
    /// (through `__private::node_handle`).
    pub(crate) fn new(state: &Shared<S>) -> Self {
        Node {
            state: state.clone(),
        }
    }

    /// Runs `f` with the node's state and returns what it returns.
    ///
    /// ```
    /// use glomers::prelude::*;
    ///
    /// #[maelstrom_node]
    /// #[derive(Default)]
    /// struct Tally {
    ///     seen: u64,
    /// }
    ///
    /// #[maelstrom_node]
    /// impl Tally {
    ///     #[handle("bump")]
    ///     async fn bump(mut node: Node<Self>, ctx: Ctx) -> Result<BumpOk, Error> {
    ///         ctx.sleep(std::time::Duration::from_millis(1)).await;
    ///         let seen = node.with(|tally| {
    ///             tally.seen += 1;
    ///             tally.seen
    ///         });
    ///         Ok(BumpOk { seen })
    ///     }
    /// }
    ///
    /// #[derive(Serialize)]
    /// struct BumpOk {
    ///     seen: u64,
    /// }
    ///
    /// let mut node = glomers::testing::TestNode::start(Tally::default);
    /// node.init("n1", &["n1"]);
    /// let reply = node.request("c1", serde_json::json!({"type": "bump", "msg_id": 1}));
    /// assert_eq!(reply["body"]["seen"], 1);
    /// ```
    pub fn with<R>(&mut self, f: impl FnOnce(&mut S) -> R) -> R {
        f(&mut self.state.borrow_mut())
    }
}

impl<S> fmt::Debug for Node<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Node { .. }")
    }
}

impl<S> fmt::Debug for Periodic<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Periodic")
            .field("name", &self.name)
            .field("period", &self.period)
            .finish_non_exhaustive()
    }
}

/// The sender of the message being handled; take `src: Src` in a handler to
/// learn who asked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Src(pub String);

impl Deref for Src {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Src {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Src> for String {
    fn from(src: Src) -> String {
        src.0
    }
}

/// A method that runs on a timer, from `#[every(ms = N)]`.
pub struct Periodic<S> {
    /// The method's name, for the log.
    pub name: &'static str,
    /// Time between two runs; the first run comes one period after `init`.
    pub period: Duration,
    /// Runs the method once; an `async` method gives the future to await
    /// before the next run is scheduled.
    pub run: fn(&Shared<S>, &Ctx) -> Option<LocalFuture>,
}

/// What the runtime needs of a node: the message types it handles, how to
/// dispatch one, its periodic methods and its init hook. Every type that
/// `#[maelstrom_node]` expanded has it, through
/// [`OneMaelstromNodeImplBlockPerStruct`].
pub trait Handlers: Sized + 'static {
    /// The message enum `#[maelstrom_node]` generates (the struct's
    /// `<Struct>Msg` is an alias of it).
    type Msg;

    /// The message types with a handler.
    const TYPES: &'static [&'static str];

    /// Parses `request`'s body and runs its handler, which answers through
    /// the responder. A body that does not parse is returned as `Err`; the
    /// runtime answers it with error 12.
    fn dispatch(
        state: &Shared<Self>,
        ctx: &Ctx,
        request: Request<'_>,
    ) -> Result<(), serde_json::Error>;

    /// The node's periodic methods.
    fn periodic() -> Vec<Periodic<Self>>;

    /// Runs after the runtime has taken `init`'s ids; must answer `init`
    /// (with `init_ok`, or an error) through `responder`.
    fn on_init(state: &Shared<Self>, ctx: &Ctx, responder: Responder);
}

/// What `#[maelstrom_node]` implements on the struct of its impl block (the
/// items of [`Handlers`], which every implementer gets).
///
/// Its name is the error a second `#[maelstrom_node]` impl block of one
/// struct meets: both implement it, and rustc reports "conflicting
/// implementations of trait `OneMaelstromNodeImplBlockPerStruct`", which
/// says what to do. Write it by hand only to go without the macro.
pub trait OneMaelstromNodeImplBlockPerStruct: Sized + 'static {
    /// See [`Handlers::Msg`]; `()` in an impl written by hand.
    type Msg;

    /// See [`Handlers::TYPES`].
    const TYPES: &'static [&'static str];

    /// See [`Handlers::dispatch`].
    fn dispatch(
        state: &Shared<Self>,
        ctx: &Ctx,
        request: Request<'_>,
    ) -> Result<(), serde_json::Error>;

    /// See [`Handlers::periodic`]; none by default.
    fn periodic() -> Vec<Periodic<Self>> {
        Vec::new()
    }

    /// See [`Handlers::on_init`]; answers `init_ok` by default.
    fn on_init(state: &Shared<Self>, ctx: &Ctx, responder: Responder) {
        let _ = (state, ctx);
        responder.ok(());
    }
}

impl<T: OneMaelstromNodeImplBlockPerStruct> Handlers for T {
    type Msg = T::Msg;
    const TYPES: &'static [&'static str] = T::TYPES;

    fn dispatch(
        state: &Shared<Self>,
        ctx: &Ctx,
        request: Request<'_>,
    ) -> Result<(), serde_json::Error> {
        <T as OneMaelstromNodeImplBlockPerStruct>::dispatch(state, ctx, request)
    }

    fn periodic() -> Vec<Periodic<Self>> {
        <T as OneMaelstromNodeImplBlockPerStruct>::periodic()
    }

    fn on_init(state: &Shared<Self>, ctx: &Ctx, responder: Responder) {
        <T as OneMaelstromNodeImplBlockPerStruct>::on_init(state, ctx, responder)
    }
}
