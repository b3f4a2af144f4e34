//! The wire format: parsing incoming lines and writing outgoing bodies,
//! the request a handler is given and the address its reply goes to. Nothing
//! here sends: `Ctx` writes messages, a `Responder` answers a request.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::{Error, ErrorCode};

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

    // `responder`, which needs a `Ctx`, is in the `responder` module.

    /// Where the reply to this request goes.
    pub(crate) fn reply_to(&self) -> ReplyTo {
        ReplyTo {
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
    /// The reply's `src` when it is not the node's id (before `init`).
    pub from: Option<String>,
    pub dest: String,
    pub kind: String,
    pub msg_id: Option<u64>,
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
