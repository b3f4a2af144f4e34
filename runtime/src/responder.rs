//! [`Responder`]: the answer to one request, sent now or later, exactly
//! once; and the two ways a reply leaves, `<type>_ok` and `error`, which the
//! runtime and the panic boundary use for the requests they answer
//! themselves.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use serde::Serialize;

use crate::ctx::Ctx;
use crate::error::Error;
use crate::log;
use crate::message::{Body, ErrorFields, ReplyTo, Request};

/// The reply to one request, to be sent now or later, exactly once: with a
/// value ([`Responder::ok`]), an error ([`Responder::error`]) or either
/// ([`Responder::result`]).
///
/// A handler that takes a `Responder<T>` parameter answers through it
/// instead of returning the reply, so it can keep the responder in the
/// node's state and answer when the answer is known: a Raft leader answers
/// a client once its entry commits, a proxy once a peer has answered.
/// Dropping a responder unanswered is logged on stderr (the client will
/// time out) unless it is [`forget`](Responder::forget)ten; a responder
/// dropped by a panicking handler answers error 13.
///
/// # Late answers
///
/// Maelstrom's clients wait [`CLIENT_TIMEOUT`] (5 s) for an answer, then
/// give up, and in most workloads (echo, broadcast, the counters, g-set,
/// kafka) Maelstrom closes the client: a node that answers it afterwards
/// is never heard from again, because the thread reading its output dies
/// on a message to an id it no longer knows, and every later operation of
/// the run times out. So a responder kept while waiting (on a quorum, a
/// partition healing) should be answered with an indefinite error before
/// its [`deadline`](Responder::deadline) (`Error::timeout`: the client
/// records the operation as maybe done), or forgotten. The runtime warns
/// on stderr, once per node, when an answer to a client leaves later than
/// that; the test bench and the simulator stop listening to the node as
/// Maelstrom does.
///
/// ```
/// use std::collections::BTreeMap;
/// use glomers::prelude::*;
///
/// #[maelstrom_node]
/// #[derive(Default)]
/// struct Queue {
///     waiting: BTreeMap<u64, Responder<TakeOk>>,
///     next: u64,
/// }
///
/// #[maelstrom_node]
/// impl Queue {
///     /// Answered when someone `put`s.
///     #[handle("take")]
///     fn take(&mut self, reply: Responder<TakeOk>) {
///         self.next += 1;
///         self.waiting.insert(self.next, reply);
///     }
///
///     #[handle("put")]
///     fn put(&mut self, value: u64) {
///         if let Some((_, reply)) = self.waiting.pop_first() {
///             reply.ok(TakeOk { value });
///         }
///     }
/// }
///
/// #[derive(Serialize)]
/// struct TakeOk {
///     value: u64,
/// }
/// ```
#[must_use = "a request is answered through its responder; dropping it leaves the client waiting"]
pub struct Responder<T = ()> {
    ctx: Ctx,
    to: Option<ReplyTo>,
    /// When the request arrived, on the node's clock.
    received: Duration,
    reply: PhantomData<fn(T)>,
}

/// How long Maelstrom's clients wait for an answer before they give up
/// (Jepsen records the operation as indefinite). Some workloads wait less
/// (lin-kv: 1 s at the default latency), but those keep their clients, so
/// a late answer there is only ignored.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

impl<T> Responder<T> {
    pub(crate) fn new(ctx: &Ctx, to: ReplyTo) -> Self {
        Responder {
            ctx: ctx.clone(),
            to: Some(to),
            received: ctx.now(),
            reply: PhantomData,
        }
    }

    /// When the request arrived, on the node's clock (as [`Ctx::now`]).
    pub fn received(&self) -> Duration {
        self.received
    }

    /// When a client that sent the request gives up waiting: its arrival
    /// plus [`CLIENT_TIMEOUT`]. `None` for a request from another node,
    /// which waits as long as its own code says.
    pub fn deadline(&self) -> Option<Duration> {
        is_client(self.requester()).then(|| self.received + CLIENT_TIMEOUT)
    }

    /// Whether the requester is a client that has given up by now: an
    /// answer sent now would come too late (see "Late answers" above).
    pub fn is_overdue(&self) -> bool {
        self.deadline()
            .is_some_and(|deadline| self.ctx.now() >= deadline)
    }

    /// Drops the request knowingly, without an answer and without the log
    /// line an unanswered responder writes: for a request whose client has
    /// given up, where any answer would come too late.
    pub fn forget(mut self) {
        self.to = None;
    }

    /// Warns once per node when an answer to a client leaves after the
    /// client gave up.
    fn warn_if_late(&self, to: &ReplyTo) {
        if !is_client(&to.dest) {
            return;
        }
        let deadline = self.received + CLIENT_TIMEOUT;
        let now = self.ctx.now();
        if now < deadline || !self.ctx.first_late_answer() {
            return;
        }
        log::write(format_args!(
            "answered {}'s `{}` {:.1} s after it arrived, past Maelstrom's {} s client timeout: \
             in most workloads Maelstrom then stops reading this node's output for the rest of \
             the run (answer with an indefinite error before `Responder::deadline`, or `forget` \
             the responder); this warning is shown once",
            to.dest,
            to.kind,
            now.saturating_sub(self.received).as_secs_f64(),
            CLIENT_TIMEOUT.as_secs()
        ));
    }

    /// Who sent the request: the node or client the answer goes to.
    pub fn requester(&self) -> &str {
        self.to.as_ref().map_or("", |to| &to.dest)
    }

    /// The request's `type`.
    pub fn kind(&self) -> &str {
        self.to.as_ref().map_or("", |to| &to.kind)
    }

    /// The request's `msg_id`, if it had one (without one, nothing is sent).
    pub fn msg_id(&self) -> Option<u64> {
        self.to.as_ref().and_then(|to| to.msg_id)
    }

    /// Answers `{"type": "error", "code": ..., "text": ...}`.
    pub fn error(mut self, error: impl Into<Error>) {
        if let Some(to) = self.to.take() {
            self.warn_if_late(&to);
            reply_error(&self.ctx, to, &error.into());
        }
    }

    /// Hands the request on to node `dest`, which answers the requester
    /// itself: `request` goes out as if the requester had sent it to
    /// `dest`, with the requester's id as `src` and the request's `msg_id`,
    /// so `dest`'s reply is the answer the requester waits for, and this
    /// node sends none.
    ///
    /// Maelstrom routes every message by its `dest` and accepts any `src`
    /// it knows; its own Raft demo forwards requests to the leader this
    /// way. A message with a client's `src` is client traffic (no latency,
    /// never partitioned, not among the servers' messages): what a client
    /// redirected to another node would send itself. A `request` that is
    /// not a JSON object is not sent; the requester gets error 13.
    ///
    /// ```
    /// use glomers::prelude::*;
    /// use serde_json::json;
    ///
    /// #[maelstrom_node]
    /// struct Follower;
    ///
    /// #[maelstrom_node]
    /// impl Follower {
    ///     /// Only `n1` writes; the others send writes its way.
    ///     #[handle("write")]
    ///     fn write(&mut self, ctx: &Ctx, value: u64, reply: Responder) {
    ///         if ctx.node_id() == "n1" {
    ///             reply.ok(());
    ///         } else {
    ///             reply.forward("n1", &FollowerMsg::Write { value });
    ///         }
    ///     }
    /// }
    ///
    /// let mut node = glomers::testing::TestNode::start(|| Follower);
    /// node.init("n2", &["n1", "n2"]);
    /// let forwarded = node.request("c4", json!({"type": "write", "msg_id": 9, "value": 5}));
    /// assert_eq!(
    ///     forwarded,
    ///     json!({"src": "c4", "dest": "n1", "body": {"msg_id": 9, "type": "write", "value": 5}})
    /// );
    /// ```
    pub fn forward<M: Serialize + ?Sized>(mut self, dest: &str, request: &M) {
        let Some(to) = self.to.take() else {
            return;
        };
        let body = Body {
            kind: None,
            msg_id: to.msg_id,
            in_reply_to: None,
            fields: request,
        };
        if let Err(err) = self.ctx.write_from(Some(&to.dest), dest, &body) {
            let text = format!(
                "`{}` was not forwarded to {dest}: the request is not a JSON object: {err}",
                to.kind
            );
            log::write(format_args!("{text}"));
            reply_error(&self.ctx, to, &Error::crash(text));
        }
    }
}

impl<T: Serialize> Responder<T> {
    /// Answers `{"type": "<type>_ok", ...value}`: `value`'s fields are
    /// merged into the reply body (`()` adds none).
    pub fn ok(mut self, value: T) {
        if let Some(to) = self.to.take() {
            self.warn_if_late(&to);
            reply_ok(&self.ctx, to, &value);
        }
    }

    /// Answers `Ok` as [`Responder::ok`] does and `Err` as
    /// [`Responder::error`] does.
    pub fn result<E: Into<Error>>(self, result: Result<T, E>) {
        match result {
            Ok(value) => self.ok(value),
            Err(err) => self.error(err),
        }
    }
}

impl<T> Drop for Responder<T> {
    fn drop(&mut self) {
        let Some(to) = self.to.take() else {
            return;
        };
        if to.msg_id.is_none() || self.ctx.is_torn_down() {
            return; // nothing could be answered anyway
        }
        if std::thread::panicking() || self.ctx.is_unwinding() {
            // The runtime answers it with error 13 and the panic's message.
            self.ctx.orphan(to);
        } else {
            log::write(format_args!(
                "the reply to `{}` (msg {}) from {} was dropped unanswered; the client will time out",
                to.kind,
                to.msg_id.unwrap_or_default(),
                to.dest
            ));
        }
    }
}

/// Whether `id` names one of Maelstrom's clients: Maelstrom takes every id
/// that starts with `c` for a client (`c1`, `c42`).
fn is_client(id: &str) -> bool {
    id.starts_with('c')
}

impl<T> fmt::Debug for Responder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Responder")
            .field("requester", &self.requester())
            .field("kind", &self.kind())
            .field("msg_id", &self.msg_id())
            .field("answered", &self.to.is_none())
            .finish()
    }
}

impl Request<'_> {
    /// The handle that answers this request, now or later.
    pub fn responder<T>(&self, ctx: &Ctx) -> Responder<T> {
        Responder::new(ctx, self.reply_to())
    }
}

/// Replies to `to` with `{"type": "<type>_ok", ...fields}`; fields that do
/// not serialize as an object are answered with error 13 and logged.
pub(crate) fn reply_ok<T: Serialize + ?Sized>(ctx: &Ctx, to: ReplyTo, fields: &T) {
    let Some(in_reply_to) = reachable(&to) else {
        return;
    };
    let kind = format!("{}_ok", to.kind);
    let body = Body {
        kind: Some(&kind),
        msg_id: None,
        in_reply_to: Some(in_reply_to),
        fields,
    };
    if let Err(err) = ctx.write_from(to.from.as_deref(), &to.dest, &body) {
        let text = format!(
            "the reply to `{}` did not serialize as a JSON object: {err}",
            to.kind
        );
        log::write(format_args!("{text}"));
        reply_error(ctx, to, &Error::crash(text));
    }
}

/// Replies to `to` with `{"type": "error", "code": ..., "text": ...}`.
pub(crate) fn reply_error(ctx: &Ctx, to: ReplyTo, error: &Error) {
    let Some(in_reply_to) = to.msg_id else {
        log::write(format_args!(
            "`{}` from {} failed, and it had no msg_id to answer: {error}",
            to.kind, to.dest
        ));
        return;
    };
    let fields = ErrorFields {
        code: error.code.code(),
        text: error.text.as_str().into(),
    };
    let body = Body {
        kind: Some("error"),
        msg_id: None,
        in_reply_to: Some(in_reply_to),
        fields: &fields,
    };
    // An error body is a struct of a number and a string: it serializes.
    let _ = ctx.write_from(to.from.as_deref(), &to.dest, &body);
}

/// The `msg_id` to answer, or `None` (with a note on stderr) when the
/// request carried none and so cannot be answered.
fn reachable(to: &ReplyTo) -> Option<u64> {
    if to.msg_id.is_none() {
        log::write(format_args!(
            "not replying to `{}` from {}: it has no msg_id",
            to.kind, to.dest
        ));
    }
    to.msg_id
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use smol::LocalExecutor;

    use super::*;
    use crate::env::{Env, Remote, Transport};

    /// A `Ctx` initialised as `n2` among `n1` and `n2`, and the far end of its
    /// transport.
    fn detached_ctx() -> (Ctx, Remote) {
        let (transport, remote) = Transport::in_memory();
        let executor = Rc::new(LocalExecutor::new());
        let ctx = Ctx::new(&Env::new(transport), &executor);
        ctx.initialise("n2".to_owned(), vec!["n1".to_owned(), "n2".to_owned()]);
        (ctx, remote)
    }

    fn responder(ctx: &Ctx) -> Responder<()> {
        Responder::new(
            ctx,
            ReplyTo {
                from: None,
                dest: "c3".to_owned(),
                kind: "write".to_owned(),
                msg_id: Some(4),
            },
        )
    }

    /// A clock that moves only when told.
    #[derive(Default)]
    struct SteppedClock(std::cell::Cell<Duration>);

    impl crate::env::Clock for SteppedClock {
        fn now(&self) -> Duration {
            self.0.get()
        }

        fn sleep(&self, _: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
            Box::pin(std::future::pending())
        }
    }

    #[test]
    fn a_responder_knows_when_its_client_gives_up() {
        let (transport, remote) = Transport::in_memory();
        let clock = Rc::new(SteppedClock::default());
        clock.0.set(Duration::from_secs(100));
        let mut env = Env::new(transport);
        env.clock = clock.clone();
        let executor = Rc::new(LocalExecutor::new());
        let ctx = Ctx::new(&env, &executor);
        ctx.initialise("n2".to_owned(), vec!["n1".to_owned(), "n2".to_owned()]);

        // Answered in time: no warning.
        responder(&ctx).ok(());
        assert!(remote.from_node.try_recv().is_ok());

        let reply = responder(&ctx);
        assert_eq!(reply.received(), Duration::from_secs(100));
        assert_eq!(reply.deadline(), Some(Duration::from_secs(105)));
        assert!(!reply.is_overdue());
        clock.0.set(Duration::from_secs(105));
        assert!(reply.is_overdue());
        // A late answer still goes out, with the node's one warning on
        // stderr (which takes the flag: no second warning).
        reply.ok(());
        assert!(remote.from_node.try_recv().is_ok());
        assert!(!ctx.first_late_answer(), "the late answer warned");

        // Forgotten: nothing is sent.
        responder(&ctx).forget();
        assert!(remote.from_node.try_recv().is_err());

        // A peer node's request has no client deadline.
        let peer = Responder::<()>::new(
            &ctx,
            ReplyTo {
                from: None,
                dest: "n1".to_owned(),
                kind: "gossip".to_owned(),
                msg_id: Some(1),
            },
        );
        assert_eq!(peer.deadline(), None);
        assert!(!peer.is_overdue());
        peer.forget();
    }

    #[test]
    fn a_forwarded_request_keeps_the_requesters_id_and_msg_id() {
        let (ctx, remote) = detached_ctx();
        #[derive(Serialize)]
        #[serde(tag = "type", rename = "write")]
        struct Write {
            value: u64,
        }
        responder(&ctx).forward("n1", &Write { value: 7 });
        assert_eq!(
            remote.from_node.try_recv().unwrap(),
            r#"{"src":"c3","dest":"n1","body":{"msg_id":4,"type":"write","value":7}}"#
        );
        assert!(remote.from_node.try_recv().is_err(), "nothing else is sent");
    }

    #[test]
    fn a_request_that_cannot_be_forwarded_is_answered_with_a_crash() {
        let (ctx, remote) = detached_ctx();
        responder(&ctx).forward("n1", &5);
        let line = remote.from_node.try_recv().unwrap();
        let reply: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            (reply["src"].as_str(), reply["dest"].as_str()),
            (Some("n2"), Some("c3"))
        );
        assert_eq!(reply["body"]["code"], 13);
        assert_eq!(reply["body"]["in_reply_to"], 4);
    }
}
