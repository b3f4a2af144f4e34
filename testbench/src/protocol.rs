//! Facts of Maelstrom's protocol that several parts of the bench need:
//! the error codes, their names, and which of them are definite.

use serde_json::{json, Value};

/// Whether an error code promises the operation did not happen. Codes
/// Maelstrom does not define (1000 and above are the node author's) are
/// indefinite.
pub fn is_definite(code: u64) -> bool {
    matches!(code, 1 | 10 | 11 | 12 | 14 | 20 | 21 | 22 | 30)
}

/// Maelstrom's name for an error code.
pub fn error_name(code: u64) -> &'static str {
    match code {
        0 => "timeout",
        1 => "node-not-found",
        10 => "not-supported",
        11 => "temporarily-unavailable",
        12 => "malformed-request",
        13 => "crash",
        14 => "abort",
        20 => "key-does-not-exist",
        21 => "key-already-exists",
        22 => "precondition-failed",
        30 => "txn-conflict",
        _ => "unknown",
    }
}

/// An error body, `{"type": "error", "code": code, "text": text}`.
pub fn error_body(code: u64, text: &str) -> Value {
    json!({"type": "error", "code": code, "text": text})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definite_codes_follow_maelstrom() {
        assert!(is_definite(20) && is_definite(11) && is_definite(1));
        assert!(!is_definite(0) && !is_definite(13) && !is_definite(1000));
        assert_eq!(error_name(22), "precondition-failed");
        assert_eq!(error_body(10, "no")["code"], 10);
    }
}
