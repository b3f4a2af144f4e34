//! [`Ctx`]: the node's handle on the runtime (identity, sending, RPC, time,
//! randomness, spawning).

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use smol::channel::{self, Receiver, Sender, TrySendError};
use smol::LocalExecutor;

use crate::env::{Clock, Env};
use crate::error::Error;
use crate::log;
use crate::message::{parse_reply, Body, Outgoing, ReplyTo};

/// How long [`Ctx::rpc`] waits for a reply unless told otherwise.
pub const DEFAULT_RPC_TIMEOUT: Duration = Duration::from_secs(1);

/// A future the runtime drives on the node's executor (the one a [`Ctx`]
/// spawns on), boxed: a periodic method's async run, a guarded task.
pub type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

/// A reply that carries nothing but its type, such as `write_ok`; use it as
/// the reply type of [`Ctx::rpc`] when only success matters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Ack {}

/// The runtime, as seen from a handler: who this node is, and how it sends
/// messages, calls peers and services, reads the clock and spawns tasks.
///
/// `Ctx` is a cheap, clonable handle (an `Rc`); clone it into a task that
/// outlives the handler.
///
/// ```no_run
/// use glomers::prelude::*;
///
/// # #[derive(Serialize)] struct Gossip { values: Vec<u64> }
/// fn fan_out(ctx: &Ctx, values: Vec<u64>) {
///     for peer in ctx.peers() {
///         ctx.send(peer, &Gossip { values: values.clone() });
///     }
/// }
/// ```
#[derive(Clone)]
pub struct Ctx {
    inner: Rc<Inner>,
}

struct Inner {
    node_id: OnceCell<String>,
    node_ids: OnceCell<Vec<String>>,
    next_msg_id: Cell<u64>,
    pending: RefCell<HashMap<u64, Pending>>,
    rpc_timeout: Cell<Duration>,
    outbox: Outbox,
    clock: Rc<dyn Clock>,
    rng: RefCell<fastrand::Rng>,
    /// Weak: the executor owns tasks that own `Ctx` clones.
    executor: Weak<LocalExecutor<'static>>,
    /// Requests left unanswered by a panic, for the runtime to answer.
    orphans: RefCell<Vec<ReplyTo>>,
    /// Set while the runtime drops a future that panicked.
    unwinding: Cell<bool>,
    /// Set when the node is torn down (a simulated crash or the end of a
    /// simulated run): its pending requests go unanswered, as a killed
    /// process's would, without a log line each.
    torn_down: Cell<bool>,
    /// Set once the node was warned that it answered a client too late.
    warned_late: Cell<bool>,
}

/// An RPC waiting for its reply.
struct Pending {
    /// Whom it was sent to: only they may answer it.
    dest: String,
    reply: Sender<Box<RawValue>>,
}

/// What became of a reply handed to [`Ctx::complete`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The RPC waiting for it has it.
    Delivered,
    /// No RPC waits for this `in_reply_to` (never sent, timed out, answered).
    NobodyWaiting,
    /// An RPC waits for it, but from another node: a stray reply.
    WrongSender { expected: String },
}

/// The lines a node writes, on their way to the transport.
///
/// Writing is synchronous (`Ctx::send` and replies do not await), but the
/// transport's channel may be bounded. A line that finds it full waits in
/// `backlog`, in order, and a task moves the backlog into the channel as
/// room appears; meanwhile every new line queues behind it. The router
/// reads no further input until the backlog is empty ([`Ctx::room`]), so a
/// node that cannot write stops reading instead of growing without bound.
struct Outbox {
    channel: Sender<String>,
    backlog: RefCell<VecDeque<String>>,
    /// Whether the backlog task runs (a line may be in its hands).
    draining: Cell<bool>,
    /// Signalled when the backlog task ends.
    drained: (Sender<()>, Receiver<()>),
}

impl Ctx {
    pub(crate) fn new(env: &Env, executor: &Rc<LocalExecutor<'static>>) -> Self {
        Ctx {
            inner: Rc::new(Inner {
                node_id: OnceCell::new(),
                node_ids: OnceCell::new(),
                next_msg_id: Cell::new(1),
                pending: RefCell::new(HashMap::new()),
                rpc_timeout: Cell::new(DEFAULT_RPC_TIMEOUT),
                outbox: Outbox {
                    channel: env.transport.outgoing.clone(),
                    backlog: RefCell::new(VecDeque::new()),
                    draining: Cell::new(false),
                    drained: channel::bounded(1),
                },
                clock: env.clock.clone(),
                rng: RefCell::new(fastrand::Rng::with_seed(env.seed)),
                executor: Rc::downgrade(executor),
                orphans: RefCell::new(Vec::new()),
                unwinding: Cell::new(false),
                torn_down: Cell::new(false),
                warned_late: Cell::new(false),
            }),
        }
    }

    /// Records the identity `init` gave; `false` if it was already set.
    pub(crate) fn initialise(&self, node_id: String, node_ids: Vec<String>) -> bool {
        self.inner.node_id.set(node_id).is_ok() && self.inner.node_ids.set(node_ids).is_ok()
    }

    /// Whether `init` has been handled.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert!(ctx.is_initialised());
    /// ```
    pub fn is_initialised(&self) -> bool {
        self.inner.node_id.get().is_some()
    }

    /// This node's id, such as `"n1"` (empty before `init`).
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.node_id(), "n1");
    /// ```
    pub fn node_id(&self) -> &str {
        self.inner.node_id.get().map_or("", String::as_str)
    }

    /// Every node's id, this one included, in the order `init` gave them
    /// (the same order on every node; empty before `init`).
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.node_ids(), ["n1", "n2", "n3"]);
    /// ```
    pub fn node_ids(&self) -> &[String] {
        self.inner.node_ids.get().map_or(&[], Vec::as_slice)
    }

    /// The other nodes' ids.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// assert_eq!(ctx.peers().collect::<Vec<_>>(), ["n2", "n3"]);
    /// ```
    pub fn peers(&self) -> impl Iterator<Item = &str> {
        let me = self.node_id();
        self.node_ids()
            .iter()
            .map(String::as_str)
            .filter(move |id| *id != me)
    }

    /// Sends `message` to `dest` without expecting a reply.
    ///
    /// `message` must serialize as a JSON object with a `type` field, such
    /// as a variant of the message enum `#[maelstrom_node]` generates. One
    /// that does not is reported on stderr and not sent.
    ///
    /// ```
    /// # use glomers::prelude::*;
    /// #[derive(Serialize)]
    /// #[serde(tag = "type", rename = "gossip")]
    /// struct Gossip {
    ///     values: Vec<u64>,
    /// }
    ///
    /// let (ctx, remote) = glomers::testing::detached_ctx("n1", &["n1", "n2"]);
    /// ctx.send("n2", &Gossip { values: vec![7] });
    /// assert_eq!(
    ///     remote.from_node.try_recv().unwrap(),
    ///     r#"{"src":"n1","dest":"n2","body":{"type":"gossip","values":[7]}}"#
    /// );
    /// ```
    pub fn send<M: Serialize + ?Sized>(&self, dest: &str, message: &M) {
        let body = Body {
            kind: None,
            msg_id: None,
            in_reply_to: None,
            fields: message,
        };
        if let Err(err) = self.write(dest, &body) {
            log::write(format_args!(
                "not sending to {dest}: the message is not a JSON object: {err}"
            ));
        }
    }

    /// Sends `message` to `dest` and waits up to the RPC timeout (see
    /// [`Ctx::set_rpc_timeout`]) for the reply, parsed as `R`.
    ///
    /// The message leaves at once, when `rpc` is called; awaiting only waits
    /// for the answer, and the node serves other messages meanwhile. An
    /// `error` reply becomes `Err` with its code; no reply in time becomes
    /// error 0 (timeout, indefinite). When the reply carries nothing of
    /// interest, use [`Ctx::rpc_ack`] (or [`Ack`] for `R`).
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// # #[derive(Serialize)] #[serde(tag = "type", rename = "read")] struct Read {}
    /// # #[derive(Deserialize)] struct ReadOk { messages: Vec<u64> }
    /// async fn pull(ctx: Ctx, peer: String) -> Result<Vec<u64>, Error> {
    ///     let reply: ReadOk = ctx.rpc(&peer, &Read {}).await?;
    ///     Ok(reply.messages)
    /// }
    /// ```
    pub fn rpc<R, M>(&self, dest: &str, message: &M) -> RpcReply<R>
    where
        R: DeserializeOwned,
        M: Serialize + ?Sized,
    {
        self.rpc_with_timeout(dest, message, self.inner.rpc_timeout.get())
    }

    /// Sends an RPC and waits for its acknowledgement: any reply that is not
    /// an error; its fields are ignored. Like [`Ctx::rpc`], `message` leaves
    /// at once; an `error` reply becomes `Err` with its code, and no reply
    /// in time error 0 (timeout).
    ///
    /// `ctx.rpc(peer, &msg).await?` with the reply unused leaves the reply
    /// type for the compiler to guess; `rpc_ack` says what is meant.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// # #[derive(Serialize)] #[serde(tag = "type", rename = "replicate")] struct Replicate { value: u64 }
    /// async fn replicate(ctx: Ctx, value: u64) -> Result<(), Error> {
    ///     for peer in ctx.peers() {
    ///         ctx.rpc_ack(peer, &Replicate { value }).await?;
    ///     }
    ///     Ok(())
    /// }
    /// ```
    pub fn rpc_ack<M>(&self, dest: &str, message: &M) -> impl Future<Output = Result<(), Error>>
    where
        M: Serialize + ?Sized,
    {
        let reply = self.rpc::<Ack, M>(dest, message);
        async move { reply.await.map(|Ack {}| ()) }
    }

    /// [`Ctx::rpc`] with its own timeout.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// # use std::time::Duration;
    /// # #[derive(Serialize)] #[serde(tag = "type", rename = "read")] struct Read {}
    /// # #[derive(Deserialize)] struct ReadOk { value: u64 }
    /// async fn quick_read(ctx: Ctx, peer: String) -> Result<u64, Error> {
    ///     let reply: ReadOk = ctx.rpc_with_timeout(&peer, &Read {}, Duration::from_millis(50)).await?;
    ///     Ok(reply.value)
    /// }
    /// ```
    pub fn rpc_with_timeout<R, M>(&self, dest: &str, message: &M, timeout: Duration) -> RpcReply<R>
    where
        R: DeserializeOwned,
        M: Serialize + ?Sized,
    {
        let msg_id = self.next_msg_id();
        let body = Body {
            kind: None,
            msg_id: Some(msg_id),
            in_reply_to: None,
            fields: message,
        };
        let sent = self.write(dest, &body).map(|()| {
            let (tx, rx) = channel::bounded(1);
            let pending = Pending {
                dest: dest.to_owned(),
                reply: tx,
            };
            self.inner.pending.borrow_mut().insert(msg_id, pending);
            let guard = PendingReply {
                ctx: self.clone(),
                msg_id,
            };
            (guard, rx)
        });
        let sleep = self.inner.clock.sleep(timeout);
        let dest = dest.to_owned();
        let reply = async move {
            let (_guard, rx) = sent.map_err(|err| {
                Error::malformed_request(format!(
                    "the request to {dest} was not sent: it is not a JSON object: {err}"
                ))
            })?;
            let reply = smol::future::or(async { rx.recv().await.ok() }, async {
                sleep.await;
                None
            })
            .await;
            reply.ok_or_else(|| {
                Error::timeout(format!(
                    "no reply from {dest} to msg {msg_id} within {timeout:?}"
                ))
            })
        };
        RpcReply {
            body: Box::pin(reply),
            reply: PhantomData,
        }
    }

    /// Sets the timeout of [`Ctx::rpc`] (and so of the KV clients); the
    /// default is [`DEFAULT_RPC_TIMEOUT`].
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// ctx.set_rpc_timeout(std::time::Duration::from_millis(250));
    /// ```
    pub fn set_rpc_timeout(&self, timeout: Duration) {
        self.inner.rpc_timeout.set(timeout);
    }

    /// The time from the node's clock, as a duration since the Unix epoch.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// let before = ctx.now();
    /// assert!(ctx.now() >= before);
    /// ```
    pub fn now(&self) -> Duration {
        self.inner.clock.now()
    }

    /// A future that completes after `duration` on the node's clock.
    ///
    /// ```no_run
    /// # use glomers::prelude::*;
    /// # use std::time::Duration;
    /// /// Retries a read until the key exists.
    /// async fn wait_for(ctx: Ctx, key: &str) -> Result<u64, Error> {
    ///     loop {
    ///         match ctx.lin_kv().read(key).await {
    ///             Err(err) if err.code == ErrorCode::KeyDoesNotExist => {
    ///                 ctx.sleep(Duration::from_millis(10)).await
    ///             }
    ///             done => return done,
    ///         }
    ///     }
    /// }
    /// ```
    pub fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        self.inner.clock.sleep(duration)
    }

    /// A random number from the node's generator (seeded by its [`Env`]).
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// let (a, b) = (ctx.random_u64(), ctx.random_u64());
    /// assert_ne!(a, b); // from the node's seeded generator
    /// ```
    pub fn random_u64(&self) -> u64 {
        self.inner.rng.borrow_mut().u64(..)
    }

    /// A random number in `0..bound`; `bound` must not be zero.
    ///
    /// ```
    /// let (ctx, _) = glomers::testing::detached_ctx("n1", &["n1", "n2", "n3"]);
    /// let peer = ctx.random_below(ctx.node_ids().len() as u64);
    /// assert!(peer < 3);
    /// ```
    pub fn random_below(&self, bound: u64) -> u64 {
        self.inner.rng.borrow_mut().u64(..bound)
    }

    /// Runs `future` on the node's executor as it is, with no panic
    /// boundary: a panic in it would end the node. For the runtime's own
    /// tasks that cannot panic, and for guarded ones (`Ctx::spawn` and
    /// `Ctx::spawn_guarded`, in the panic module). It is dropped when the
    /// node stops (and not started if it has stopped).
    pub(crate) fn spawn_unguarded(&self, future: impl Future<Output = ()> + 'static) {
        if let Some(executor) = self.inner.executor.upgrade() {
            executor.spawn(future).detach();
        }
    }

    /// Delivers a reply from `src` to the RPC waiting for it.
    pub(crate) fn complete(&self, in_reply_to: u64, src: &str, body: &RawValue) -> Delivery {
        let mut pending = self.inner.pending.borrow_mut();
        let Some(waiting) = pending.get(&in_reply_to) else {
            return Delivery::NobodyWaiting;
        };
        if waiting.dest != src {
            return Delivery::WrongSender {
                expected: waiting.dest.clone(),
            };
        }
        if let Some(waiting) = pending.remove(&in_reply_to) {
            let _ = waiting.reply.try_send(body.to_owned());
        }
        Delivery::Delivered
    }

    /// Keeps a request a panic left unanswered, for the panic boundary to
    /// answer.
    pub(crate) fn orphan(&self, reply_to: ReplyTo) {
        self.inner.orphans.borrow_mut().push(reply_to);
    }

    pub(crate) fn take_orphans(&self) -> Vec<ReplyTo> {
        std::mem::take(&mut *self.inner.orphans.borrow_mut())
    }

    pub(crate) fn is_unwinding(&self) -> bool {
        self.inner.unwinding.get()
    }

    pub(crate) fn set_unwinding(&self, unwinding: bool) {
        self.inner.unwinding.set(unwinding);
    }

    /// Whether this is the first late answer to a client (the runtime
    /// warns about the first only).
    pub(crate) fn first_late_answer(&self) -> bool {
        !self.inner.warned_late.replace(true)
    }

    pub(crate) fn is_torn_down(&self) -> bool {
        self.inner.torn_down.get()
    }

    pub(crate) fn set_torn_down(&self) {
        self.inner.torn_down.set(true);
    }

    fn next_msg_id(&self) -> u64 {
        let id = self.inner.next_msg_id.get();
        self.inner.next_msg_id.set(id + 1);
        id
    }

    /// Serializes one message from this node to `dest` and queues it.
    pub(crate) fn write<T: Serialize + ?Sized>(
        &self,
        dest: &str,
        body: &Body<'_, T>,
    ) -> Result<(), serde_json::Error> {
        self.write_from(None, dest, body)
    }

    /// [`Ctx::write`] with another `src` than the node's id (before `init`,
    /// the id the message was addressed to).
    pub(crate) fn write_from<T: Serialize + ?Sized>(
        &self,
        src: Option<&str>,
        dest: &str,
        body: &Body<'_, T>,
    ) -> Result<(), serde_json::Error> {
        let line = serde_json::to_string(&Outgoing {
            src: src.unwrap_or_else(|| self.node_id()),
            dest,
            body,
        })?;
        self.queue(line);
        Ok(())
    }

    /// Hands a line to the transport, or to the backlog when it is full.
    fn queue(&self, line: String) {
        let outbox = &self.inner.outbox;
        if !outbox.draining.get() {
            match outbox.channel.try_send(line) {
                Ok(()) => return,
                // The writer only goes away when the process is ending.
                Err(TrySendError::Closed(_)) => return,
                Err(TrySendError::Full(line)) => outbox.backlog.borrow_mut().push_back(line),
            }
            outbox.draining.set(true);
            // Unguarded: moving lines between two queues cannot panic.
            let ctx = self.clone();
            self.spawn_unguarded(async move { ctx.drain().await });
        } else {
            outbox.backlog.borrow_mut().push_back(line);
        }
    }

    /// Moves the backlog into the transport as room appears, in order.
    async fn drain(&self) {
        let outbox = &self.inner.outbox;
        loop {
            let line = outbox.backlog.borrow_mut().pop_front();
            let Some(line) = line else { break };
            if outbox.channel.send(line).await.is_err() {
                outbox.backlog.borrow_mut().clear(); // the process is ending
                break;
            }
        }
        outbox.draining.set(false);
        let _ = outbox.drained.0.try_send(());
    }

    /// Waits until every line written so far is in the transport's hands.
    pub(crate) async fn room(&self) {
        let outbox = &self.inner.outbox;
        while outbox.draining.get() {
            if outbox.drained.1.recv().await.is_err() {
                return;
            }
        }
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("node_id", &self.node_id())
            .field("node_ids", &self.node_ids())
            .field("pending_rpcs", &self.inner.pending.borrow().len())
            .field("rpc_timeout", &self.inner.rpc_timeout.get())
            .finish_non_exhaustive()
    }
}

/// The reply of [`Ctx::rpc`], parsed as `R` when it arrives.
#[must_use = "the request is sent already; awaiting the reply is what is left"]
pub struct RpcReply<R> {
    body: Pin<Box<dyn Future<Output = Result<Box<RawValue>, Error>>>>,
    reply: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> Future for RpcReply<R> {
    type Output = Result<R, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.body
            .as_mut()
            .poll(cx)
            .map(|body| body.and_then(|body| parse_reply(&body)))
    }
}

impl<R> std::fmt::Debug for RpcReply<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RpcReply<{}>", std::any::type_name::<R>())
    }
}

/// Removes an RPC's entry from the pending table when its future completes
/// or is dropped, so that a late reply is reported rather than kept.
struct PendingReply {
    ctx: Ctx,
    msg_id: u64,
}

impl Drop for PendingReply {
    fn drop(&mut self) {
        self.ctx.inner.pending.borrow_mut().remove(&self.msg_id);
    }
}
