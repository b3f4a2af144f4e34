//! The wire format: parsing incoming lines and writing outgoing bodies.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::ctx::Ctx;
use crate::error::{Error, ErrorCode};
use crate::log;

/// An incoming line: `{"src", "dest", "body"}` with the body left unparsed.
#[derive(Deserialize)]
pub(crate) struct Incoming<'a> {
    #[serde(borrow)]
    pub src: Cow<'a, str>,
    #[serde(borrow, default)]
    pub dest: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub body: &'a RawValue,
}

/// The fields of a body that the runtime itself reads.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<Cow<'a, str>>,
    #[serde(default)]
    pub msg_id: Option<u64>,
    #[serde(default)]
    pub in_reply_to: Option<u64>,
}

/// The ids of a body whose [`Header`] did not parse (a `type` that is not a
/// string, or given twice): enough to answer it, or to see it is a reply.
#[derive(Deserialize)]
pub(crate) struct Ids {
    #[serde(default)]
    pub msg_id: Option<u64>,
    #[serde(default)]
    pub in_reply_to: Option<u64>,
}

/// The body of an error message.
#[derive(Serialize, Deserialize)]
pub(crate) struct ErrorFields<'a> {
    pub code: u64,
    #[serde(borrow, default)]
    pub text: Cow<'a, str>,
}

/// A body on the wire: the runtime's fields, then the message's own.
#[derive(Serialize)]
pub(crate) struct Body<'a, T: ?Sized> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<u64>,
    #[serde(flatten)]
    pub fields: &'a T,
}

/// A whole outgoing message.
#[derive(Serialize)]
pub(crate) struct Outgoing<'a, B> {
    pub src: &'a str,
    pub dest: &'a str,
    pub body: B,
}

/// A request being dispatched to a handler: who sent it, its type, and its
/// body, still unparsed.
///
/// Generated code parses the body into the handler's fields with
/// [`Request::parse`]; a failure becomes error 12 (malformed-request).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub(crate) src: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) msg_id: Option<u64>,
    pub(crate) body: &'a RawValue,
}

impl<'a> Request<'a> {
    /// The id of the node or client that sent the request.
    pub fn src(&self) -> &'a str {
        self.src
    }

    /// The request's `type`.
    pub fn kind(&self) -> &'a str {
        self.kind
    }

    /// The request's `msg_id`, if it has one.
    pub fn msg_id(&self) -> Option<u64> {
        self.msg_id
    }

    /// The body parsed as `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.body.get())
    }

    /// The handle that answers this request, now or later.
    pub fn responder<T>(&self, ctx: &Ctx) -> Responder<T> {
        Responder::new(self.reply_to(ctx))
    }

    pub(crate) fn reply_to(&self, ctx: &Ctx) -> ReplyTo {
        ReplyTo {
            ctx: ctx.clone(),
            from: None,
            dest: self.src.to_owned(),
            kind: self.kind.to_owned(),
            msg_id: self.msg_id,
        }
    }
}

/// The address of one reply: the requester, its `msg_id`, and the request
/// type from which the reply's `<type>_ok` is made.
pub(crate) struct ReplyTo {
    pub ctx: Ctx,
    /// The reply's `src` when it is not the node's id (before `init`).
    pub from: Option<String>,
    pub dest: String,
    pub kind: String,
    pub msg_id: Option<u64>,
}

impl ReplyTo {
    /// Replies `{"type": "<type>_ok", ...fields}`; fields that do not
    /// serialize as an object are answered with error 13 and logged.
    pub fn ok<T: Serialize + ?Sized>(self, fields: &T) {
        let Some(in_reply_to) = self.reachable() else {
            return;
        };
        let kind = format!("{}_ok", self.kind);
        let body = Body {
            kind: Some(&kind),
            msg_id: None,
            in_reply_to: Some(in_reply_to),
            fields,
        };
        if let Err(err) = self.ctx.write_from(self.from.as_deref(), &self.dest, &body) {
            let text = format!(
                "the reply to `{}` did not serialize as a JSON object: {err}",
                self.kind
            );
            log::write(format_args!("{text}"));
            self.error(&Error::crash(text));
        }
    }

    /// Replies `{"type": "error", "code": ..., "text": ...}`.
    pub fn error(self, error: &Error) {
        let Some(in_reply_to) = self.msg_id else {
            log::write(format_args!(
                "`{}` from {} failed, and it had no msg_id to answer: {error}",
                self.kind, self.dest
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
        let _ = self.ctx.write_from(self.from.as_deref(), &self.dest, &body);
    }

    /// The `msg_id` to answer, or `None` (with a note on stderr) when the
    /// request carried none and so cannot be answered.
    fn reachable(&self) -> Option<u64> {
        if self.msg_id.is_none() {
            log::write(format_args!(
                "not replying to `{}` from {}: it has no msg_id",
                self.kind, self.dest
            ));
        }
        self.msg_id
    }
}

/// The reply to one request, to be sent now or later, exactly once: with a
/// value ([`Responder::ok`]), an error ([`Responder::error`]) or either
/// ([`Responder::result`]).
///
/// A handler that takes a `Responder<T>` parameter answers through it
/// instead of returning the reply, so it can keep the responder in the
/// node's state and answer when the answer is known: a Raft leader answers
/// a client once its entry commits, a proxy once a peer has answered.
/// Dropping a responder unanswered is logged on stderr (the client will
/// time out); a responder dropped by a panicking handler answers error 13.
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
    to: Option<ReplyTo>,
    reply: PhantomData<fn(T)>,
}

impl<T> Responder<T> {
    pub(crate) fn new(to: ReplyTo) -> Self {
        Responder {
            to: Some(to),
            reply: PhantomData,
        }
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
            to.error(&error.into());
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
        if let Err(err) = to.ctx.write_from(Some(&to.dest), dest, &body) {
            let text = format!(
                "`{}` was not forwarded to {dest}: the request is not a JSON object: {err}",
                to.kind
            );
            log::write(format_args!("{text}"));
            to.error(&Error::crash(text));
        }
    }
}

impl<T: Serialize> Responder<T> {
    /// Answers `{"type": "<type>_ok", ...value}`: `value`'s fields are
    /// merged into the reply body (`()` adds none).
    pub fn ok(mut self, value: T) {
        if let Some(to) = self.to.take() {
            to.ok(&value);
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
        if to.msg_id.is_none() || to.ctx.is_torn_down() {
            return; // nothing could be answered anyway
        }
        if std::thread::panicking() || to.ctx.is_unwinding() {
            // The runtime answers it with error 13 and the panic's message.
            let ctx = to.ctx.clone();
            ctx.orphan(to);
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

/// Reads a reply body: an `error` body becomes `Err`, anything else is
/// parsed as `T`. A reply that does not parse is an indefinite error (13):
/// the peer did act on the request.
pub(crate) fn parse_reply<T: DeserializeOwned>(body: &RawValue) -> Result<T, Error> {
    let header: Header = serde_json::from_str(body.get())
        .map_err(|err| Error::crash(format!("a reply body did not parse: {err}")))?;
    if header.kind.as_deref() == Some("error") {
        let fields: ErrorFields = serde_json::from_str(body.get())
            .map_err(|err| Error::crash(format!("an error reply did not parse: {err}")))?;
        return Err(Error::new(
            ErrorCode::from_code(fields.code),
            fields.text.into_owned(),
        ));
    }
    if std::any::type_name::<T>() == "()" {
        // `rpc::<(), _>` (what the compiler falls back to, and suggests, for
        // an RPC whose reply goes unused) asks for success only.
        return serde_json::from_str("null")
            .map_err(|err| Error::crash(format!("unreachable: {err}")));
    }
    serde_json::from_str(body.get()).map_err(|err| {
        Error::crash(format!(
            "the reply {} did not parse as {}: {err}",
            body.get(),
            std::any::type_name::<T>()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_owned()).unwrap()
    }

    #[derive(Deserialize, Debug, PartialEq)]
    struct ReadOk {
        value: u64,
    }

    #[test]
    fn replies_parse_into_the_asked_type() {
        let ok = parse_reply::<ReadOk>(&raw(r#"{"type":"read_ok","in_reply_to":3,"value":7}"#));
        assert_eq!(ok, Ok(ReadOk { value: 7 }));
    }

    #[test]
    fn error_replies_become_errors_with_their_code() {
        let err = parse_reply::<ReadOk>(&raw(
            r#"{"type":"error","in_reply_to":3,"code":20,"text":"not found"}"#,
        ))
        .unwrap_err();
        assert_eq!(err, Error::key_does_not_exist("not found"));
    }

    #[test]
    fn a_unit_reply_type_asks_for_success_only() {
        let ok = parse_reply::<()>(&raw(r#"{"type":"write_ok","in_reply_to":3}"#));
        assert_eq!(ok, Ok(()));
        let err = parse_reply::<()>(&raw(r#"{"type":"error","in_reply_to":3,"code":22}"#));
        assert_eq!(err.unwrap_err().code, ErrorCode::PreconditionFailed);
    }

    #[test]
    fn unparseable_replies_are_indefinite() {
        let err = parse_reply::<ReadOk>(&raw(r#"{"type":"read_ok","value":"x"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Crash);
        assert!(!err.is_definite());
    }

    fn responder(ctx: &Ctx) -> Responder<()> {
        Responder::new(ReplyTo {
            ctx: ctx.clone(),
            from: None,
            dest: "c3".to_owned(),
            kind: "write".to_owned(),
            msg_id: Some(4),
        })
    }

    #[test]
    fn a_forwarded_request_keeps_the_requesters_id_and_msg_id() {
        let (ctx, remote) = crate::testing::detached_ctx("n2", &["n1", "n2"]);
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
        let (ctx, remote) = crate::testing::detached_ctx("n2", &["n1", "n2"]);
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

    #[test]
    fn bodies_flatten_the_fields_after_the_header() {
        #[derive(Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        enum Msg {
            Gossip { values: Vec<u64> },
        }
        let body = Body {
            kind: None,
            msg_id: Some(4),
            in_reply_to: None,
            fields: &Msg::Gossip { values: vec![1, 2] },
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"msg_id":4,"type":"gossip","values":[1,2]}"#
        );
        let unit = Body {
            kind: Some("init_ok"),
            msg_id: None,
            in_reply_to: Some(1),
            fields: &(),
        };
        assert_eq!(
            serde_json::to_string(&unit).unwrap(),
            r#"{"type":"init_ok","in_reply_to":1}"#
        );
        let scalar = Body {
            kind: Some("x_ok"),
            msg_id: None,
            in_reply_to: Some(1),
            fields: &5,
        };
        assert!(serde_json::to_string(&scalar).is_err());
    }
}
