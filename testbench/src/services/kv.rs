//! The key-value requests that lin-kv, seq-kv and lww-kv all take: how a
//! request body is read, and what a request does to a key's value.

use serde_json::{json, Value};

use super::print::pr_str;
use super::unsupported;
use crate::protocol::error_body as error;

/// A parsed key-value request.
#[derive(Debug, Clone)]
pub(super) enum KvOp {
    Read {
        key: String,
    },
    Write {
        key: String,
        value: Value,
    },
    Cas {
        key: String,
        from: Value,
        to: Value,
        create: bool,
    },
}

impl KvOp {
    pub(super) fn key(&self) -> &str {
        match self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

/// Reads a KV request body; `Err` is the error body to answer.
pub(super) fn parse_kv(body: &Value) -> Result<KvOp, Value> {
    let field = |name: &str| {
        body.get(name)
            .cloned()
            .ok_or_else(|| error(12, &format!("missing field `{name}`")))
    };
    let kind = body["type"].as_str();
    if !matches!(kind, Some("read" | "write" | "cas")) {
        return Err(unsupported(body));
    }
    // Keys are compared by their JSON text, so 1 and "1" differ.
    let key = field("key")?.to_string();
    Ok(match kind {
        Some("read") => KvOp::Read { key },
        Some("write") => KvOp::Write {
            key,
            value: field("value")?,
        },
        _ => KvOp::Cas {
            key,
            from: field("from")?,
            to: field("to")?,
            create: truthy(&body["create_if_not_exists"]),
        },
    })
}

/// Clojure's truth: anything but null and false.
fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// What `op` does to a key whose value is `current`: the new value if it
/// changes the store, and the reply. `creates` says whether a `cas` with
/// `create_if_not_exists` may create a missing key (lww-kv's never does).
pub(super) fn apply(op: &KvOp, current: Option<&Value>, creates: bool) -> (Option<Value>, Value) {
    match op {
        KvOp::Read { .. } => match current {
            Some(value) => (None, json!({"type": "read_ok", "value": value})),
            None => (None, error(20, "key does not exist")),
        },
        KvOp::Write { value, .. } => (
            (current != Some(value)).then(|| value.clone()),
            json!({"type": "write_ok"}),
        ),
        KvOp::Cas {
            from, to, create, ..
        } => match current {
            Some(value) if value == from => {
                ((value != to).then(|| to.clone()), json!({"type": "cas_ok"}))
            }
            Some(value) => (
                None,
                error(
                    22,
                    &format!("current value {} is not {}", pr_str(value), pr_str(from)),
                ),
            ),
            None if creates && *create => (Some(to.clone()), json!({"type": "cas_ok"})),
            None => (None, error(20, "key does not exist")),
        },
    }
}
