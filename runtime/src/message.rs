//! The wire format: parsing incoming lines and writing outgoing bodies.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{Ctx, Error, ErrorCode};

/// An incoming line: `{"src", "dest", "body"}` with the body left unparsed.
#[derive(Deserialize)]
pub(crate) struct Incoming<'a> {
    pub src: &'a str,
    #[serde(borrow)]
    pub body: &'a RawValue,
}

/// The fields of a body that the runtime itself reads.
#[derive(Deserialize)]
pub(crate) struct Header<'a> {
    #[serde(rename = "type", borrow, default)]
    pub kind: Option<std::borrow::Cow<'a, str>>,
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
    pub text: std::borrow::Cow<'a, str>,
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
/// Generated code parses the body into the node's message enum with
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

    /// What it takes to answer this request later.
    pub fn responder(&self) -> Responder {
        Responder {
            dest: self.src.to_owned(),
            kind: self.kind.to_owned(),
            msg_id: self.msg_id,
        }
    }
}

/// The address of one reply: the requester, its `msg_id`, and the request
/// type from which the reply's `<type>_ok` is made.
///
/// Each method consumes the responder, so a request is answered at most once.
#[derive(Debug)]
pub struct Responder {
    dest: String,
    kind: String,
    msg_id: Option<u64>,
}

impl Responder {
    /// Replies `{"type": "<type>_ok", ...fields}`; `fields` must serialize as
    /// a struct, a map or `()`. A value that does not is answered with error
    /// 13 (crash) and reported on stderr.
    pub fn ok<T: Serialize + ?Sized>(self, ctx: &Ctx, fields: &T) {
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
        if let Err(err) = ctx.write(&self.dest, &body) {
            let text = format!(
                "the reply to `{}` did not serialize as a JSON object: {err}",
                self.kind
            );
            eprintln!("glomers: {text}");
            self.error(ctx, &Error::crash(text));
        }
    }

    /// Replies with `Ok` as [`Responder::ok`] does and with `Err` as
    /// [`Responder::error`] does.
    pub fn result<T: Serialize, E: Into<Error>>(self, ctx: &Ctx, result: Result<T, E>) {
        match result {
            Ok(fields) => self.ok(ctx, &fields),
            Err(err) => self.error(ctx, &err.into()),
        }
    }

    /// Replies `{"type": "error", "code": ..., "text": ...}`.
    pub fn error(self, ctx: &Ctx, error: &Error) {
        let Some(in_reply_to) = self.reachable() else {
            eprintln!(
                "glomers: {} from {} failed, and it had no msg_id to answer: {error}",
                self.kind, self.dest
            );
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
        ctx.write(&self.dest, &body)
            .expect("an error body always serializes");
    }

    /// The `msg_id` to answer, or `None` (with a note on stderr) when the
    /// request carried none and so cannot be answered.
    fn reachable(&self) -> Option<u64> {
        if self.msg_id.is_none() {
            eprintln!(
                "glomers: not replying to `{}` from {}: it has no msg_id",
                self.kind, self.dest
            );
        }
        self.msg_id
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
    fn unparseable_replies_are_indefinite() {
        let err = parse_reply::<ReadOk>(&raw(r#"{"type":"read_ok","value":"x"}"#)).unwrap_err();
        assert_eq!(err.code, ErrorCode::Crash);
        assert!(!err.is_definite());
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
