//! Compile-time checks of the types a node's methods use, for the code
//! `#[maelstrom_node]` generates, with errors in the node author's words.
//!
//! Each check is a probe: `(&Probe::<T>::new()).field()` resolves to the
//! `*Pass` trait's method when `T` has what it needs and to the `*Fail`
//! trait's otherwise (the second needs one more auto-reference, so it is
//! found only when the first does not apply). The result, `Pass` or
//! `Fail`, then meets a trait that only `Pass` implements and whose
//! `on_unimplemented` message names the author's type: one error, on the
//! type as written, with no path into serde's internals.
//!
//! The generated code also goes through the probes to parse, serialize
//! and answer, so that a type that fails its check causes no second error;
//! the `Fail` branches never run, since the program does not compile.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::ser::{Error as _, SerializeMap};
use serde::Serialize;

use crate::error::Error;
use crate::message::Request;
use crate::responder::Responder;

/// A question about `T`, answered by which trait's method a call finds.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe.
    pub const fn new() -> Self {
        Probe(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> std::fmt::Debug for Probe<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Probe")
    }
}

/// The type has what it needs.
#[derive(Debug)]
pub struct Pass;

/// The type lacks what it needs.
#[derive(Debug)]
pub struct Fail;

/// `T` is a body field: `Deserialize` and `Serialize`.
pub trait FieldPass {
    /// The answer.
    fn field(&self) -> Pass {
        Pass
    }
}
impl<T: Serialize + DeserializeOwned> FieldPass for Probe<T> {}

/// `T` is not a body field.
pub trait FieldFail {
    /// The answer.
    fn field(&self) -> Fail {
        Fail
    }
}
impl<T> FieldFail for &Probe<T> {}

/// Implemented by [`Pass`] only.
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be a body field: it must implement `Deserialize` and `Serialize`",
    label = "not `Deserialize` and `Serialize`",
    note = "a handler's parameters are read from the request body (`Deserialize`), and the generated message enum sends them (`Serialize`)",
    note = "derive both on your type: `#[derive(Serialize, Deserialize)]`"
)]
pub trait BodyField<T> {}
impl<T> BodyField<T> for Pass {}

/// Fails to compile unless the probe passed.
pub fn body_field<T, R: BodyField<T>>(_: R) {}

/// `T` can be a reply: `Serialize`.
pub trait ReplyPass {
    /// The answer.
    fn reply(&self) -> Pass {
        Pass
    }
}
impl<T: Serialize> ReplyPass for Probe<T> {}

/// `T` cannot be a reply.
pub trait ReplyFail {
    /// The answer.
    fn reply(&self) -> Fail {
        Fail
    }
}
impl<T> ReplyFail for &Probe<T> {}

/// Implemented by [`Pass`] only.
#[diagnostic::on_unimplemented(
    message = "`{T}` cannot be a reply: it does not implement `Serialize`",
    label = "not `Serialize`",
    note = "a reply's fields are merged into the reply body: derive `Serialize` on a struct, `#[derive(Serialize)] struct ReadOk {{ value: u64 }}`"
)]
pub trait ReplyBody<T> {}
impl<T> ReplyBody<T> for Pass {}

/// Fails to compile unless the probe passed.
pub fn reply_body<T, R: ReplyBody<T>>(_: R) {}

/// `E` can be a handler's error: `Into<glomers::Error>`.
pub trait ErrorPass {
    /// The answer.
    fn error_type(&self) -> Pass {
        Pass
    }
}
impl<E: Into<Error>> ErrorPass for Probe<E> {}

/// `E` cannot be a handler's error.
pub trait ErrorFail {
    /// The answer.
    fn error_type(&self) -> Fail {
        Fail
    }
}
impl<E> ErrorFail for &Probe<E> {}

/// Implemented by [`Pass`] only.
#[diagnostic::on_unimplemented(
    message = "`{E}` cannot be a handler's error: it does not convert into `glomers::Error`",
    label = "no `Into<glomers::Error>`",
    note = "an `Err` is answered with an error code and a text: return `Result<_, glomers::Error>` (e.g. `Error::abort(text)`), or implement `From<{E}> for glomers::Error`"
)]
pub trait HandlerError<E> {}
impl<E> HandlerError<E> for Pass {}

/// Fails to compile unless the probe passed.
pub fn handler_error<E, R: HandlerError<E>>(_: R) {}

/// Parses a request body into `T` when it can be.
pub trait ParsePass<T> {
    /// The body parsed.
    fn parse_body(&self, request: &Request<'_>) -> Result<T, serde_json::Error>;
}
impl<T: DeserializeOwned> ParsePass<T> for Probe<T> {
    fn parse_body(&self, request: &Request<'_>) -> Result<T, serde_json::Error> {
        request.parse()
    }
}

/// Stands in where `T` cannot be parsed (the program does not compile).
pub trait ParseFail<T> {
    /// Never runs.
    fn parse_body(&self, _: &Request<'_>) -> Result<T, serde_json::Error> {
        Err(serde::de::Error::custom("this body cannot be parsed"))
    }
}
impl<T> ParseFail<T> for &Probe<T> {}

/// Serializes one field of a message into a map, when it can be.
pub trait EntryPass<T> {
    /// `key: value`, into `map`.
    fn entry<M: SerializeMap>(&self, map: &mut M, key: &str, value: &T) -> Result<(), M::Error>;
}
impl<T: Serialize> EntryPass<T> for Probe<T> {
    fn entry<M: SerializeMap>(&self, map: &mut M, key: &str, value: &T) -> Result<(), M::Error> {
        map.serialize_entry(key, value)
    }
}

/// Stands in where `T` cannot be serialized (the program does not compile).
pub trait EntryFail<T> {
    /// Never runs.
    fn entry<M: SerializeMap>(&self, _: &mut M, key: &str, _: &T) -> Result<(), M::Error> {
        Err(M::Error::custom(format_args!(
            "field `{key}` cannot be serialized"
        )))
    }
}
impl<T> EntryFail<T> for &Probe<T> {}

/// Answers a request with a handler's return value, when it can be.
pub trait AnswerPass<T> {
    /// Sends the reply.
    fn answer(&self, responder: Responder<T>, value: T);
}
impl<T: Serialize> AnswerPass<T> for Probe<T> {
    fn answer(&self, responder: Responder<T>, value: T) {
        responder.ok(value);
    }
}

/// Stands in where `T` cannot be sent (the program does not compile).
pub trait AnswerFail<T> {
    /// Never runs.
    fn answer(&self, responder: Responder<T>, value: T) {
        drop((responder, value));
    }
}
impl<T> AnswerFail<T> for &Probe<T> {}

/// Answers a request with a handler's `Result`, when it can be.
pub trait ResultPass<T, E> {
    /// Sends the reply or the error.
    fn answer_result(&self, responder: Responder<T>, result: Result<T, E>);
}
impl<T: Serialize, E: Into<Error>> ResultPass<T, E> for Probe<Result<T, E>> {
    fn answer_result(&self, responder: Responder<T>, result: Result<T, E>) {
        responder.result(result);
    }
}

/// Stands in where the `Result` cannot be sent (the program does not compile).
pub trait ResultFail<T, E> {
    /// Never runs.
    fn answer_result(&self, responder: Responder<T>, result: Result<T, E>) {
        drop((responder, result));
    }
}
impl<T, E> ResultFail<T, E> for &Probe<Result<T, E>> {}
