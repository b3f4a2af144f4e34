//! The services nodes can call by id: `lin-kv`, `seq-kv`, `lww-kv` and
//! `lin-tso`, with Maelstrom's API and error codes.

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use crate::protocol::error_body as error;

/// One of the bench's services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// Linearizable key-value store: every operation acts on the one state.
    LinKv,
    /// Sequentially consistent store: reads may see a past state, never one
    /// older than the caller has already seen or written.
    SeqKv,
    /// Last-write-wins store over independent replicas that merge now and
    /// then: reads and compare-and-sets may act on a stale replica.
    LwwKv,
    /// Timestamp oracle: `ts` returns strictly increasing integers.
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

/// A parsed key-value request.
enum KvOp {
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

/// Reads a KV request body; `Err` is the error body to answer.
fn parse_kv(body: &Value) -> Result<KvOp, Value> {
    let field = |name: &str| {
        body.get(name)
            .cloned()
            .ok_or_else(|| error(12, &format!("missing field `{name}`")))
    };
    // Keys are compared by their JSON text, so 1 and "1" differ.
    let key = field("key")?.to_string();
    match body["type"].as_str() {
        Some("read") => Ok(KvOp::Read { key }),
        Some("write") => Ok(KvOp::Write {
            key,
            value: field("value")?,
        }),
        Some("cas") => Ok(KvOp::Cas {
            key,
            from: field("from")?,
            to: field("to")?,
            create: body["create_if_not_exists"].as_bool().unwrap_or(false),
        }),
        other => Err(error(10, &format!("unsupported operation {other:?}"))),
    }
}

/// Applies `op` to `state`, returning the reply body.
fn apply(state: &mut HashMap<String, Value>, op: KvOp) -> Value {
    match op {
        KvOp::Read { key } => match state.get(&key) {
            Some(value) => json!({"type": "read_ok", "value": value}),
            None => error(20, "key does not exist"),
        },
        KvOp::Write { key, value } => {
            state.insert(key, value);
            json!({"type": "write_ok"})
        }
        KvOp::Cas {
            key,
            from,
            to,
            create,
        } => match state.get(&key) {
            None if create => {
                state.insert(key, to);
                json!({"type": "cas_ok"})
            }
            None => error(20, "key does not exist"),
            Some(current) if *current == from => {
                state.insert(key, to);
                json!({"type": "cas_ok"})
            }
            Some(current) => error(22, &format!("expected {from}, but had {current}")),
        },
    }
}

/// Versions of one key in `seq-kv`: (version, value or absent), oldest first.
type KeyHistory = Vec<(u64, Option<Value>)>;

/// How many past versions of each key `seq-kv` keeps to serve stale reads.
const SEQ_KV_HISTORY: usize = 32;

#[derive(Default)]
struct SeqKv {
    latest: HashMap<String, Value>,
    history: HashMap<String, KeyHistory>,
    version: u64,
    /// The oldest version each caller may still be shown.
    floor: HashMap<String, u64>,
}

impl SeqKv {
    fn handle(&mut self, src: &str, op: KvOp, rng: &mut fastrand::Rng) -> Value {
        match op {
            KvOp::Read { key } => {
                let floor = self.floor.get(src).copied().unwrap_or(0);
                // Half the time the latest state, else any state since the
                // caller's floor.
                let at = if rng.bool() {
                    self.version
                } else {
                    rng.u64(floor..=self.version)
                };
                let (served, value) = self.value_at(&key, at);
                self.floor.insert(src.to_owned(), at.max(served).max(floor));
                match value {
                    Some(value) => json!({"type": "read_ok", "value": value}),
                    None => error(20, "key does not exist"),
                }
            }
            write => {
                let key = match &write {
                    KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key.clone(),
                    KvOp::Read { .. } => unreachable!("handled above"),
                };
                let before = self.latest.get(&key).cloned();
                let reply = apply(&mut self.latest, write);
                let after = self.latest.get(&key).cloned();
                if after != before {
                    self.version += 1;
                    let history = self.history.entry(key).or_default();
                    if history.is_empty() {
                        history.push((0, before));
                    }
                    history.push((self.version, after));
                    if history.len() > SEQ_KV_HISTORY {
                        history.remove(0);
                    }
                }
                // The caller has now seen the latest state.
                self.floor.insert(src.to_owned(), self.version);
                reply
            }
        }
    }

    /// The key's value as of `version`, with the version of the entry that
    /// served it (newer than `version` when history was trimmed).
    fn value_at(&self, key: &str, version: u64) -> (u64, Option<Value>) {
        let Some(history) = self.history.get(key) else {
            return (0, self.latest.get(key).cloned());
        };
        match history.iter().rev().find(|(v, _)| *v <= version) {
            Some((v, value)) => (*v, value.clone()),
            None => history.first().cloned().expect("never empty"),
        }
    }
}

/// Replicas of `lww-kv`.
const LWW_REPLICAS: usize = 3;

#[derive(Default)]
struct LwwKv {
    /// Each replica: key → (timestamp, value).
    replicas: Vec<HashMap<String, (u64, Value)>>,
    clock: u64,
}

impl LwwKv {
    fn handle(&mut self, op: KvOp, rng: &mut fastrand::Rng) -> Value {
        if self.replicas.is_empty() {
            self.replicas = vec![HashMap::new(); LWW_REPLICAS];
        }
        let replica = rng.usize(..LWW_REPLICAS);
        let mut state: HashMap<String, Value> = self.replicas[replica]
            .iter()
            .map(|(k, (_, v))| (k.clone(), v.clone()))
            .collect();
        let key = match &op {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key.clone(),
        };
        let before = state.get(&key).cloned();
        let reply = apply(&mut state, op);
        if let Some(after) = state.remove(&key) {
            if Some(&after) != before.as_ref() {
                self.clock += 1;
                self.replicas[replica].insert(key, (self.clock, after));
            }
        }
        // Now and then, one replica catches up with another.
        if rng.u8(..4) == 0 {
            let (from, to) = (rng.usize(..LWW_REPLICAS), rng.usize(..LWW_REPLICAS));
            if from != to {
                let source = self.replicas[from].clone();
                for (key, (ts, value)) in source {
                    let entry = self.replicas[to].entry(key).or_insert((0, Value::Null));
                    if ts > entry.0 {
                        *entry = (ts, value);
                    }
                }
            }
        }
        reply
    }
}

/// Every service's state.
pub struct Services {
    lin_kv: HashMap<String, Value>,
    seq_kv: SeqKv,
    lww_kv: LwwKv,
    tso: u64,
    rng: fastrand::Rng,
}

impl Services {
    pub fn new(seed: u64) -> Self {
        Services {
            lin_kv: HashMap::new(),
            seq_kv: SeqKv::default(),
            lww_kv: LwwKv::default(),
            tso: 0,
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// Handles a request from `src`; returns the reply body (with
    /// `in_reply_to` set), or `None` if the request had no `msg_id`.
    pub fn handle(&mut self, service: Service, src: &str, body: &Value) -> Option<Value> {
        let msg_id = body.get("msg_id").and_then(Value::as_u64)?;
        let mut reply = match service {
            Service::LinTso => match body["type"].as_str() {
                Some("ts") => {
                    self.tso += 1;
                    json!({"type": "ts_ok", "ts": self.tso})
                }
                other => error(10, &format!("unsupported operation {other:?}")),
            },
            kv => match parse_kv(body) {
                Err(reply) => reply,
                Ok(op) => match kv {
                    Service::LinKv => apply(&mut self.lin_kv, op),
                    Service::SeqKv => self.seq_kv.handle(src, op, &mut self.rng),
                    Service::LwwKv => self.lww_kv.handle(op, &mut self.rng),
                    Service::LinTso => unreachable!("matched above"),
                },
            },
        };
        reply.as_object_mut().map(|reply: &mut Map<String, Value>| {
            reply.insert("in_reply_to".into(), json!(msg_id))
        });
        Some(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(services: &mut Services, service: Service, src: &str, body: Value) -> Value {
        services.handle(service, src, &body).expect("has msg_id")
    }

    #[test]
    fn lin_kv_reads_writes_and_compares() {
        let mut s = Services::new(1);
        let kv = Service::LinKv;
        let missing = call(
            &mut s,
            kv,
            "n1",
            json!({"type": "read", "msg_id": 1, "key": "a"}),
        );
        assert_eq!(missing["code"], 20);
        assert_eq!(missing["in_reply_to"], 1);
        let created = json!({"type": "cas", "msg_id": 2, "key": "a", "from": 0, "to": 1, "create_if_not_exists": true});
        assert_eq!(call(&mut s, kv, "n1", created)["type"], "cas_ok");
        let stale = json!({"type": "cas", "msg_id": 3, "key": "a", "from": 0, "to": 2});
        assert_eq!(call(&mut s, kv, "n1", stale)["code"], 22);
        let no_key = json!({"type": "cas", "msg_id": 4, "key": "b", "from": 0, "to": 2});
        assert_eq!(call(&mut s, kv, "n1", no_key)["code"], 20);
        call(
            &mut s,
            kv,
            "n2",
            json!({"type": "write", "msg_id": 5, "key": "a", "value": [1]}),
        );
        let read = call(
            &mut s,
            kv,
            "n1",
            json!({"type": "read", "msg_id": 6, "key": "a"}),
        );
        assert_eq!(
            read,
            json!({"type": "read_ok", "value": [1], "in_reply_to": 6})
        );
        assert_eq!(
            call(&mut s, kv, "n1", json!({"type": "read", "msg_id": 7}))["code"],
            12
        );
        assert_eq!(
            call(
                &mut s,
                kv,
                "n1",
                json!({"type": "scan", "msg_id": 8, "key": 1})
            )["code"],
            10
        );
        assert!(s
            .handle(kv, "n1", &json!({"type": "read", "key": "a"}))
            .is_none());
    }

    #[test]
    fn seq_kv_serves_stale_reads_but_never_goes_back_for_one_caller() {
        let mut s = Services::new(3);
        let kv = Service::SeqKv;
        let mut saw_stale = false;
        let mut last = -1;
        for i in 0..200 {
            call(
                &mut s,
                kv,
                "n1",
                json!({"type": "write", "msg_id": i, "key": "k", "value": i}),
            );
            let read = call(
                &mut s,
                kv,
                "n2",
                json!({"type": "read", "msg_id": 1000 + i, "key": "k"}),
            );
            let value = read["value"].as_i64().unwrap_or(-1);
            assert!(value >= last, "n2 went back from {last} to {value}");
            saw_stale |= value < i as i64;
            last = value;
            // The writer always sees its own write.
            let own = call(
                &mut s,
                kv,
                "n1",
                json!({"type": "read", "msg_id": 5000 + i, "key": "k"}),
            );
            assert_eq!(own["value"], i);
        }
        assert!(saw_stale, "seq-kv never served a past state");
    }

    #[test]
    fn lin_tso_counts_up() {
        let mut s = Services::new(1);
        let a = call(
            &mut s,
            Service::LinTso,
            "n1",
            json!({"type": "ts", "msg_id": 1}),
        );
        let b = call(
            &mut s,
            Service::LinTso,
            "n2",
            json!({"type": "ts", "msg_id": 1}),
        );
        assert!(b["ts"].as_u64() > a["ts"].as_u64());
    }

    #[test]
    fn lww_kv_can_lose_to_a_stale_replica() {
        let mut s = Services::new(5);
        let kv = Service::LwwKv;
        let mut stale = false;
        for i in 0..200 {
            call(
                &mut s,
                kv,
                "n1",
                json!({"type": "write", "msg_id": i, "key": "k", "value": i}),
            );
            let read = call(
                &mut s,
                kv,
                "n1",
                json!({"type": "read", "msg_id": 1000 + i, "key": "k"}),
            );
            stale |= read["value"] != i;
        }
        assert!(stale, "lww-kv behaved linearizably");
    }
}
