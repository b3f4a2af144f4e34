//! The services nodes can call by id: `lin-kv`, `seq-kv`, `lww-kv` and
//! `lin-tso`, as Maelstrom's `service.clj` implements them.
//!
//! Each request is answered by one reply whose body is the result plus
//! `in_reply_to` (the request's `msg_id`, or null if it had none) and no
//! `msg_id` of its own. The key-value services answer `read` with
//! `read_ok` or error 20 "key does not exist", `write` with `write_ok`, and
//! `cas` with `cas_ok`, error 20, or error 22 "current value 1 is not 2";
//! values are compared as JSON (so `1` and `1.0` differ, as in Clojure).
//!
//! Where the bench answers and Maelstrom does not, on purpose (kinder):
//! - a request of an unknown or missing `type`: Maelstrom's service thread
//!   throws, logs, and sends nothing (the caller times out); the bench
//!   answers error 10 (not-supported);
//! - a request without one of the fields its type needs (`key`, `value`,
//!   `from`, `to`): Maelstrom takes the field as null; the bench answers
//!   error 12 (malformed-request).
//!
//! This file holds the [`Service`] ids and the [`Services`] dispatcher,
//! with lin-kv (the key-value requests on one store) and lin-tso (a
//! counter); beside it are the key-value requests all three stores share
//! (`kv`), seq-kv (`seq_kv`), lww-kv (`lww_kv`), and Clojure's and Java's
//! printing of values for error texts (`print`).

mod kv;
mod lww_kv;
mod print;
mod seq_kv;

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::protocol::error_body as error;

pub use lww_kv::LwwKv;
pub use seq_kv::SeqKv;

use kv::{apply, parse_kv};

/// One of the bench's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Linearizable key-value store: every operation acts on the one state.
    LinKv,
    /// Sequentially consistent store: reads may see a past state, never one
    /// older than the caller has already seen or written ([`SeqKv`]).
    SeqKv,
    /// Last-write-wins store over two replicas ([`LwwKv`]).
    LwwKv,
    /// Timestamp oracle: `ts` returns 0, 1, 2 ... across all callers.
    LinTso,
}

impl Service {
    /// The service with node id `id`.
    pub fn from_id(id: &str) -> Option<Self> {
        Some(match id {
            "lin-kv" => Service::LinKv,
            "seq-kv" => Service::SeqKv,
            "lww-kv" => Service::LwwKv,
            "lin-tso" => Service::LinTso,
            _ => return None,
        })
    }

    /// The service's node id.
    pub fn id(self) -> &'static str {
        match self {
            Service::LinKv => "lin-kv",
            Service::SeqKv => "seq-kv",
            Service::LwwKv => "lww-kv",
            Service::LinTso => "lin-tso",
        }
    }
}

/// Error 10 for a request of a type the service does not know.
fn unsupported(body: &Value) -> Value {
    error(10, &format!("unsupported request type {}", body["type"]))
}

/// Every service's state.
pub struct Services {
    lin_kv: HashMap<String, Value>,
    seq_kv: SeqKv,
    lww_kv: LwwKv,
    next_ts: u64,
    rng: fastrand::Rng,
}

impl Services {
    /// Fresh services whose random choices follow `seed`.
    pub fn new(seed: u64) -> Self {
        Services {
            lin_kv: HashMap::new(),
            seq_kv: SeqKv::default(),
            lww_kv: LwwKv::default(),
            next_ts: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Handles a request from `src`; returns the reply body, with
    /// `in_reply_to` set to the request's `msg_id` (null without one).
    pub fn handle(&mut self, service: Service, src: &str, body: &Value) -> Value {
        let mut reply = match service {
            Service::LinTso => match body["type"].as_str() {
                Some("ts") => {
                    self.next_ts += 1;
                    json!({"type": "ts_ok", "ts": self.next_ts - 1})
                }
                _ => unsupported(body),
            },
            kv => match parse_kv(body) {
                Err(reply) => reply,
                Ok(op) => match kv {
                    Service::LinKv => {
                        let current = self.lin_kv.get(op.key());
                        let (change, reply) = apply(&op, current, true);
                        if let Some(value) = change {
                            self.lin_kv.insert(op.key().to_owned(), value);
                        }
                        reply
                    }
                    Service::SeqKv => self.seq_kv.handle(src, &op, &mut self.rng),
                    Service::LwwKv => self.lww_kv.handle(&op, &mut self.rng),
                    Service::LinTso => unreachable!("matched above"),
                },
            },
        };
        reply["in_reply_to"] = body.get("msg_id").cloned().unwrap_or(Value::Null);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn call(services: &mut Services, service: Service, src: &str, body: Value) -> Value {
        services.handle(service, src, &body)
    }

    pub(super) fn kv(services: &mut Services, service: Service, src: &str, body: Value) -> Value {
        let mut reply = call(services, service, src, body);
        reply.as_object_mut().unwrap().remove("in_reply_to");
        reply
    }

    #[test]
    fn lin_kv_reads_writes_and_compares_with_maelstroms_texts() {
        let mut s = Services::new(1);
        let lin = Service::LinKv;
        let missing = call(
            &mut s,
            lin,
            "n1",
            json!({"type": "read", "msg_id": 1, "key": "a"}),
        );
        assert_eq!(
            missing,
            json!({"type": "error", "code": 20, "text": "key does not exist", "in_reply_to": 1})
        );
        let created =
            json!({"type": "cas", "key": "a", "from": 0, "to": 1, "create_if_not_exists": true});
        assert_eq!(kv(&mut s, lin, "n1", created)["type"], "cas_ok");
        let stale = json!({"type": "cas", "key": "a", "from": "x", "to": 2});
        assert_eq!(
            kv(&mut s, lin, "n1", stale),
            json!({"type": "error", "code": 22, "text": "current value 1 is not \"x\""})
        );
        let no_key = json!({"type": "cas", "key": "b", "from": 0, "to": 2});
        assert_eq!(kv(&mut s, lin, "n1", no_key)["code"], 20);
        kv(
            &mut s,
            lin,
            "n2",
            json!({"type": "write", "key": "a", "value": [1]}),
        );
        let read = call(
            &mut s,
            lin,
            "n1",
            json!({"type": "read", "msg_id": 6, "key": "a"}),
        );
        assert_eq!(
            read,
            json!({"type": "read_ok", "value": [1], "in_reply_to": 6})
        );
        assert!(
            read.get("msg_id").is_none(),
            "service replies carry no msg_id"
        );
    }

    #[test]
    fn odd_requests_are_answered_kindly_where_maelstrom_stays_silent() {
        let mut s = Services::new(1);
        let read = call(
            &mut s,
            Service::LinKv,
            "n1",
            json!({"type": "read", "msg_id": 7}),
        );
        assert_eq!(read["code"], 12);
        for service in [
            Service::LinKv,
            Service::SeqKv,
            Service::LwwKv,
            Service::LinTso,
        ] {
            let scan = call(
                &mut s,
                service,
                "n1",
                json!({"type": "scan", "msg_id": 8, "key": 1}),
            );
            assert_eq!(scan["code"], 10, "{service:?}");
            assert_eq!(scan["in_reply_to"], 8);
        }
        let untyped = call(&mut s, Service::SeqKv, "n1", json!({"msg_id": 9}));
        assert_eq!(untyped["code"], 10);
        // Like Maelstrom, a request without msg_id is answered, in reply to null.
        let write = call(
            &mut s,
            Service::LinKv,
            "n1",
            json!({"type": "write", "key": 1, "value": 2}),
        );
        assert_eq!(write, json!({"type": "write_ok", "in_reply_to": null}));
    }

    #[test]
    fn lin_tso_starts_at_zero_for_everyone() {
        let mut s = Services::new(1);
        let ts = |s: &mut Services, src| {
            call(s, Service::LinTso, src, json!({"type": "ts", "msg_id": 1}))["ts"].clone()
        };
        assert_eq!(ts(&mut s, "n1"), 0);
        assert_eq!(ts(&mut s, "n2"), 1);
        assert_eq!(ts(&mut s, "n1"), 2);
    }
}
