//! Maelstrom's error codes and the error type handlers return.

use std::fmt;

/// A Maelstrom error code.
///
/// Codes below 1000 are Maelstrom's own; [`ErrorCode::Custom`] carries any
/// other code. A *definite* code promises that the operation did not and will
/// not happen; an indefinite one ([`Timeout`](ErrorCode::Timeout),
/// [`Crash`](ErrorCode::Crash), every custom code) leaves it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: no reply in time; the operation may or may not have happened.
    Timeout,
    /// 1: the destination node does not exist.
    NodeNotFound,
    /// 10: the message type is not handled by this node.
    NotSupported,
    /// 11: the operation cannot be served now; it did not happen.
    TemporarilyUnavailable,
    /// 12: the request body is missing fields or has fields of the wrong type.
    MalformedRequest,
    /// 13: the node failed while serving; the operation may have happened.
    Crash,
    /// 14: the operation was aborted and did not happen.
    Abort,
    /// 20: the key does not exist.
    KeyDoesNotExist,
    /// 21: the key already exists.
    KeyAlreadyExists,
    /// 22: a precondition (such as a compare-and-set's `from`) did not hold.
    PreconditionFailed,
    /// 30: a transaction conflicted and was aborted.
    TxnConflict,
    /// Any other code; codes of 1000 and above are user-defined.
    Custom(u64),
}

impl ErrorCode {
    /// The numeric code sent on the wire.
    pub fn code(self) -> u64 {
        match self {
            ErrorCode::Timeout => 0,
            ErrorCode::NodeNotFound => 1,
            ErrorCode::NotSupported => 10,
            ErrorCode::TemporarilyUnavailable => 11,
            ErrorCode::MalformedRequest => 12,
            ErrorCode::Crash => 13,
            ErrorCode::Abort => 14,
            ErrorCode::KeyDoesNotExist => 20,
            ErrorCode::KeyAlreadyExists => 21,
            ErrorCode::PreconditionFailed => 22,
            ErrorCode::TxnConflict => 30,
            ErrorCode::Custom(code) => code,
        }
    }

    /// The code for a number read off the wire.
    pub fn from_code(code: u64) -> Self {
        match code {
            0 => ErrorCode::Timeout,
            1 => ErrorCode::NodeNotFound,
            10 => ErrorCode::NotSupported,
            11 => ErrorCode::TemporarilyUnavailable,
            12 => ErrorCode::MalformedRequest,
            13 => ErrorCode::Crash,
            14 => ErrorCode::Abort,
            20 => ErrorCode::KeyDoesNotExist,
            21 => ErrorCode::KeyAlreadyExists,
            22 => ErrorCode::PreconditionFailed,
            30 => ErrorCode::TxnConflict,
            other => ErrorCode::Custom(other),
        }
    }

    /// Whether the code promises the operation did not happen.
    ///
    /// Unknown codes are treated as indefinite: claiming less is always safe.
    pub fn is_definite(self) -> bool {
        !matches!(
            self,
            ErrorCode::Timeout | ErrorCode::Crash | ErrorCode::Custom(_)
        )
    }

    /// Maelstrom's name for the code, such as `"key-does-not-exist"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Timeout => "timeout",
            ErrorCode::NodeNotFound => "node-not-found",
            ErrorCode::NotSupported => "not-supported",
            ErrorCode::TemporarilyUnavailable => "temporarily-unavailable",
            ErrorCode::MalformedRequest => "malformed-request",
            ErrorCode::Crash => "crash",
            ErrorCode::Abort => "abort",
            ErrorCode::KeyDoesNotExist => "key-does-not-exist",
            ErrorCode::KeyAlreadyExists => "key-already-exists",
            ErrorCode::PreconditionFailed => "precondition-failed",
            ErrorCode::TxnConflict => "txn-conflict",
            ErrorCode::Custom(_) => "custom",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

/// An error body: what a handler returns in `Err`, and what an RPC yields
/// when the peer answers with `{"type": "error", ...}` or does not answer.
///
/// ```
/// use glomers::{Error, ErrorCode};
///
/// let err = Error::key_does_not_exist("no key 7");
/// assert_eq!(err.code, ErrorCode::KeyDoesNotExist);
/// assert!(err.is_definite());
/// assert!(!Error::timeout("no reply").is_definite());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The Maelstrom error code.
    pub code: ErrorCode,
    /// A human-readable explanation, sent as the body's `text`.
    pub text: String,
}

macro_rules! constructors {
    ($($(#[$doc:meta])* $name:ident => $code:ident,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(text: impl Into<String>) -> Self {
                Error::new(ErrorCode::$code, text)
            }
        )*
    };
}

impl Error {
    /// An error with any code.
    pub fn new(code: ErrorCode, text: impl Into<String>) -> Self {
        Error {
            code,
            text: text.into(),
        }
    }

    constructors! {
        /// Error 0, indefinite: no answer in time.
        timeout => Timeout,
        /// Error 1, definite: the destination does not exist.
        node_not_found => NodeNotFound,
        /// Error 10, definite: the message type is not handled.
        not_supported => NotSupported,
        /// Error 11, definite: cannot serve now, nothing was done.
        temporarily_unavailable => TemporarilyUnavailable,
        /// Error 12, definite: the request body is malformed.
        malformed_request => MalformedRequest,
        /// Error 13, indefinite: something failed midway.
        crash => Crash,
        /// Error 14, definite: aborted, nothing was done.
        abort => Abort,
        /// Error 20, definite: the key does not exist.
        key_does_not_exist => KeyDoesNotExist,
        /// Error 21, definite: the key already exists.
        key_already_exists => KeyAlreadyExists,
        /// Error 22, definite: the precondition failed.
        precondition_failed => PreconditionFailed,
        /// Error 30, definite: the transaction conflicted.
        txn_conflict => TxnConflict,
    }

    /// Whether the error promises the operation did not happen.
    pub fn is_definite(&self) -> bool {
        self.code.is_definite()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error {}: {}", self.code, self.text)
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in [0, 1, 10, 11, 12, 13, 14, 20, 21, 22, 30, 1000, 5] {
            assert_eq!(ErrorCode::from_code(code).code(), code);
        }
    }

    #[test]
    fn definiteness_follows_maelstrom() {
        let indefinite = [0, 13, 1000, 1234];
        let definite = [1, 10, 11, 12, 14, 20, 21, 22, 30];
        for code in indefinite {
            assert!(!ErrorCode::from_code(code).is_definite(), "{code}");
        }
        for code in definite {
            assert!(ErrorCode::from_code(code).is_definite(), "{code}");
        }
    }

    #[test]
    fn display_names_the_code() {
        let text = Error::precondition_failed("expected 3, found 4").to_string();
        assert_eq!(text, "error precondition-failed (22): expected 3, found 4");
    }
}
