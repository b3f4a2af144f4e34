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

use std::collections::{BTreeMap, HashMap};

use serde_json::{json, Value};

use crate::protocol::error_body as error;

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

/// A parsed key-value request.
#[derive(Debug, Clone)]
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

impl KvOp {
    fn key(&self) -> &str {
        match self {
            KvOp::Read { key } | KvOp::Write { key, .. } | KvOp::Cas { key, .. } => key,
        }
    }
}

/// Reads a KV request body; `Err` is the error body to answer.
fn parse_kv(body: &Value) -> Result<KvOp, Value> {
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

/// Error 10 for a request of a type the service does not know.
fn unsupported(body: &Value) -> Value {
    error(10, &format!("unsupported request type {}", body["type"]))
}

/// Clojure's truth: anything but null and false.
fn truthy(value: &Value) -> bool {
    !matches!(value, Value::Null | Value::Bool(false))
}

/// What `op` does to a key whose value is `current`: the new value if it
/// changes the store, and the reply. `creates` says whether a `cas` with
/// `create_if_not_exists` may create a missing key (lww-kv's never does).
fn apply(op: &KvOp, current: Option<&Value>, creates: bool) -> (Option<Value>, Value) {
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

/// How Clojure's `pr-str` prints a value read from JSON, for error texts.
fn pr_str(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => java_double(f),
            None => n.to_string(),
        },
        Value::String(s) => {
            let mut out = String::from('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(pr_str).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} {}", pr_str(&json!(k)), pr_str(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// How Clojure's `str` prints a value: `pr-str`, except that null is
/// empty and a string is itself.
fn str_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => pr_str(other),
    }
}

/// A double as Java prints it: `1.0`, `0.5`, `1.0E7`, `1.0E-4`.
fn java_double(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned();
    }
    let magnitude = f.abs();
    if f == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = f.to_string();
        return if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

/// How many whole-store states `seq-kv` keeps, as Maelstrom's ring buffer.
const SEQ_KV_STATES: u64 = 32;

/// Maelstrom's `seq-kv` (its `Sequential` service over a key-value store).
///
/// The store goes through numbered states: state 0 is empty and each change
/// makes the next. Each caller (a request's `src`) has the number of the
/// last state it saw (0 at first). A request first runs on a state drawn
/// uniformly from the caller's one up to the one before the newest (or the
/// newest itself, if the caller is already there):
/// - if that changes nothing (a read, a failed `cas`, a write of the value
///   that state already has), the reply comes from that state, which the
///   caller has now seen: reads are stale unless the caller made the
///   newest change itself;
/// - otherwise the request runs again on the newest state, and the result,
///   changed or not (a `cas` may fail there), becomes the next state; the
///   caller has seen it.
///
/// Like Maelstrom, only the last 32 states are kept. Maelstrom draws the
/// state from the caller's number even when that state is gone, and its
/// ring buffer then wraps around: the caller is served some other state,
/// and may later be shown one older than it saw. The bench draws only
/// among the states it keeps, so a caller never goes back in time.
///
/// The states are kept as each key's values with the state that set them,
/// which is the same as whole stores and costs nothing per unchanged key.
#[derive(Default)]
pub struct SeqKv {
    /// The newest state's number.
    last: u64,
    /// Per key, `(state, value)` for each state that set it, oldest first,
    /// without the values no kept state shows.
    versions: HashMap<String, Vec<(u64, Value)>>,
    /// Per caller, the last state it saw.
    seen: HashMap<String, u64>,
}

impl SeqKv {
    fn handle(&mut self, src: &str, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
        let oldest = self.last.saturating_sub(SEQ_KV_STATES - 1);
        let from = self.seen.get(src).copied().unwrap_or(0).max(oldest);
        let state = if from < self.last {
            rng.u64(from..self.last)
        } else {
            self.last
        };
        let (change, reply) = apply(op, self.value_at(op.key(), state), true);
        if change.is_none() {
            self.seen.insert(src.to_owned(), state);
            return reply;
        }
        let (change, reply) = apply(op, self.value_at(op.key(), self.last), true);
        self.last += 1;
        if let Some(value) = change {
            let oldest = self.last.saturating_sub(SEQ_KV_STATES - 1);
            let versions = self.versions.entry(op.key().to_owned()).or_default();
            versions.push((self.last, value));
            // A value is needed while the next one came after the oldest state.
            let needed = versions.iter().rposition(|(at, _)| *at <= oldest);
            if let Some(first) = needed {
                versions.drain(..first);
            }
        }
        self.seen.insert(src.to_owned(), self.last);
        reply
    }

    /// The value of `key` in state `state`.
    fn value_at(&self, key: &str, state: u64) -> Option<&Value> {
        let versions = self.versions.get(key)?;
        let at = versions.partition_point(|(set, _)| *set <= state);
        at.checked_sub(1).map(|i| &versions[i].1)
    }
}

/// How many replicas `lww-kv` has (Maelstrom's default).
const LWW_REPLICAS: usize = 2;

/// Maelstrom's `lww-kv` (its `Eventual` service over last-write-wins
/// replicas): two replicas, each with a Lamport clock that stamps its
/// writes. Before each request one random replica is merged into another
/// (newer stamp wins; on a tie, the one merged in), then the request runs
/// on a random replica. A `cas` on a missing key is error 20 even with
/// `create_if_not_exists`.
///
/// Maelstrom computes that merge and then throws it away (the next line
/// starts again from the unmerged replicas), so its replicas never
/// converge: a key written on one replica is never read on the other. The
/// bench keeps the merge, so its replicas do converge, as Maelstrom's
/// documentation promises.
///
/// A merge takes in only the entries the source changed since it was last
/// merged into the same replica: every other entry would leave the target
/// as it is (the target took it then, or has since written the key with a
/// newer stamp). So a request costs the same however large the store has
/// grown; taking in every entry each time made a node that writes many
/// keys (Maelstrom's Datomic demo) slower and slower as its run went on.
pub struct LwwKv {
    replicas: Vec<Replica>,
    /// `merged[from][into]`: `from`'s change count when it was last merged
    /// into `into`.
    merged: Vec<Vec<u64>>,
}

/// One replica of `lww-kv`.
#[derive(Default)]
struct Replica {
    clock: u64,
    entries: HashMap<String, Entry>,
    /// How many changes this replica has had.
    changes: u64,
    /// Each key by the number of its latest change.
    changed: BTreeMap<u64, String>,
}

/// A replica's entry: the value, its Lamport stamp, and the number of the
/// replica's change that set it.
struct Entry {
    stamp: u64,
    value: Value,
    change: u64,
}

impl Default for LwwKv {
    fn default() -> Self {
        LwwKv {
            replicas: (0..LWW_REPLICAS).map(|_| Replica::default()).collect(),
            merged: vec![vec![0; LWW_REPLICAS]; LWW_REPLICAS],
        }
    }
}

impl LwwKv {
    fn handle(&mut self, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
        let (from, into) = (rng.usize(..LWW_REPLICAS), rng.usize(..LWW_REPLICAS));
        if from != into {
            let source = std::mem::take(&mut self.replicas[from]);
            self.replicas[into].merge(&source, self.merged[from][into]);
            self.merged[from][into] = source.changes;
            self.replicas[from] = source;
        }
        let replica = &mut self.replicas[rng.usize(..LWW_REPLICAS)];
        let current = replica.entries.get(op.key()).map(|entry| &entry.value);
        let (_, mut reply) = apply(op, current, false);
        if let (KvOp::Cas { from, .. }, Some(value)) = (op, current) {
            if reply["code"] == 22 {
                // Maelstrom's lww-kv prints `from` with `str`, not `pr-str`.
                let text = format!("current value {} is not {}", pr_str(value), str_of(from));
                reply = error(22, &text);
            }
        }
        let written = match op {
            KvOp::Write { value, .. } => Some(value.clone()),
            KvOp::Cas { to, .. } if reply["type"] == "cas_ok" => Some(to.clone()),
            _ => None,
        };
        if let Some(value) = written {
            let stamp = replica.clock;
            replica.set(op.key(), stamp, value);
            replica.clock += 1;
        }
        reply
    }
}

impl Replica {
    /// Sets `key` to `value` with `stamp`, as this replica's next change.
    fn set(&mut self, key: &str, stamp: u64, value: Value) {
        self.changes += 1;
        let change = self.changes;
        let entry = Entry {
            stamp,
            value,
            change,
        };
        if let Some(old) = self.entries.insert(key.to_owned(), entry) {
            self.changed.remove(&old.change);
        }
        self.changed.insert(change, key.to_owned());
    }

    /// Takes in the entries `other` changed after its change `since`: the
    /// newer stamp wins, a tie goes to `other`.
    fn merge(&mut self, other: &Replica, since: u64) {
        self.clock = self.clock.max(other.clock);
        for key in other.changed.range(since + 1..).map(|(_, key)| key) {
            let theirs = &other.entries[key];
            let take = match self.entries.get(key) {
                Some(mine) if mine.stamp > theirs.stamp => false,
                // The same stamp and value: taking it would change nothing.
                Some(mine) => mine.stamp < theirs.stamp || mine.value != theirs.value,
                None => true,
            };
            if take {
                self.set(key, theirs.stamp, theirs.value.clone());
            }
        }
    }
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

    fn call(services: &mut Services, service: Service, src: &str, body: Value) -> Value {
        services.handle(service, src, &body)
    }

    fn kv(services: &mut Services, service: Service, src: &str, body: Value) -> Value {
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
    fn values_print_as_clojure_prints_them() {
        for (value, printed) in [
            (json!(null), "nil"),
            (json!(3), "3"),
            (json!(1.0), "1.0"),
            (json!(2.5e10), "2.5E10"),
            (json!(0.0001), "1.0E-4"),
            (json!("a\"b"), r#""a\"b""#),
            (json!([1, "x", [true]]), r#"[1 "x" [true]]"#),
            (json!({"k": 1}), r#"{"k" 1}"#),
        ] {
            assert_eq!(pr_str(&value), printed);
        }
        assert_eq!(str_of(&json!("x")), "x");
        assert_eq!(str_of(&json!(null)), "");
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

    fn write(s: &mut Services, src: &str, key: &str, value: i64) -> Value {
        kv(
            s,
            Service::SeqKv,
            src,
            json!({"type": "write", "key": key, "value": value}),
        )
    }

    fn read(s: &mut Services, src: &str, key: &str) -> Value {
        kv(s, Service::SeqKv, src, json!({"type": "read", "key": key}))["value"].clone()
    }

    #[test]
    fn seq_kv_reads_are_stale_unless_the_reader_made_the_newest_change() {
        let mut s = Services::new(3);
        let mut stale = 0;
        let mut last = -1;
        for i in 0..300 {
            write(&mut s, "n1", "k", i);
            // The writer sees its own write, always.
            assert_eq!(read(&mut s, "n1", "k"), i);
            let seen = read(&mut s, "n2", "k").as_i64().unwrap_or(-1);
            assert!(seen >= last, "n2 went back from {last} to {seen}");
            assert!(
                seen < i,
                "n2 read the newest state, which it never saw being made"
            );
            stale += i64::from(seen < i - 1);
            last = seen;
        }
        assert!(stale > 100, "reads pick any state since the reader's last");
    }

    #[test]
    fn seq_kv_changes_run_on_the_newest_state_and_no_ops_on_a_stale_one() {
        let (mut not_found, mut mismatched, mut acknowledged_stale) = (0, 0, 0);
        for seed in 0..100 {
            let mut s = Services::new(seed);
            write(&mut s, "n1", "k", 1);
            write(&mut s, "n1", "k", 2);
            // n2 last saw state 0 (empty), so a cas from 1 runs on state 0
            // or 1. On 0 it changes nothing: key does not exist. On 1 it
            // would change k, so it runs on the newest state, where k is 2,
            // fails there, and still makes a (unchanged) state 3.
            let cas = json!({"type": "cas", "key": "k", "from": 1, "to": 3});
            match kv(&mut s, Service::SeqKv, "n2", cas)["code"].as_u64() {
                Some(20) => {
                    not_found += 1;
                    assert_eq!((s.seq_kv.last, s.seq_kv.seen["n2"]), (2, 0));
                }
                Some(22) => {
                    mismatched += 1;
                    assert_eq!((s.seq_kv.last, s.seq_kv.seen["n2"]), (3, 3));
                }
                other => panic!("{other:?}"),
            }
            // n3 writes 1 on a state before the newest: on state 1, where k
            // is 1 already, the write is acknowledged and changes nothing.
            let newest = s.seq_kv.last;
            write(&mut s, "n3", "k", 1);
            if s.seq_kv.last == newest {
                acknowledged_stale += 1;
                assert_eq!(s.seq_kv.value_at(r#""k""#, newest), Some(&json!(2)));
            }
        }
        assert!(
            not_found > 20 && mismatched > 20,
            "{not_found} {mismatched}"
        );
        assert!(acknowledged_stale > 20, "{acknowledged_stale}");
    }

    #[test]
    fn seq_kv_keeps_32_states_and_a_lagging_caller_never_goes_back() {
        let mut s = Services::new(6);
        for i in 0..100 {
            write(&mut s, "n1", "k", i);
        }
        for reader in 2..20 {
            let reader = format!("n{reader}");
            let mut last = -1;
            for _ in 0..20 {
                let seen = read(&mut s, &reader, "k").as_i64().unwrap_or(-1);
                assert!(seen >= 100 - 32, "state {seen} is no longer kept");
                assert!(seen >= last, "{reader} went back from {last} to {seen}");
                last = seen;
            }
        }
        assert!(s.seq_kv.versions[r#""k""#].len() <= 32);
    }

    /// `lww-kv` as its doc describes it, merging every entry each time.
    struct FullMergeLww {
        clocks: [u64; LWW_REPLICAS],
        replicas: [HashMap<String, (u64, Value)>; LWW_REPLICAS],
    }

    impl FullMergeLww {
        fn handle(&mut self, op: &KvOp, rng: &mut fastrand::Rng) -> Value {
            let (from, into) = (rng.usize(..LWW_REPLICAS), rng.usize(..LWW_REPLICAS));
            if from != into {
                self.clocks[into] = self.clocks[into].max(self.clocks[from]);
                for (key, (stamp, value)) in self.replicas[from].clone() {
                    let mine = self.replicas[into].get(&key);
                    if mine.is_none_or(|(mine, _)| *mine <= stamp) {
                        self.replicas[into].insert(key, (stamp, value));
                    }
                }
            }
            let at = rng.usize(..LWW_REPLICAS);
            let current = self.replicas[at].get(op.key()).map(|(_, v)| v.clone());
            let (_, reply) = apply(op, current.as_ref(), false);
            let written = match op {
                KvOp::Write { value, .. } => Some(value.clone()),
                KvOp::Cas { to, .. } if reply["type"] == "cas_ok" => Some(to.clone()),
                _ => None,
            };
            if let Some(value) = written {
                let stamp = self.clocks[at];
                self.replicas[at].insert(op.key().to_owned(), (stamp, value));
                self.clocks[at] += 1;
            }
            reply
        }
    }

    #[test]
    fn lww_kv_merging_only_changes_answers_as_merging_everything() {
        let mut ours = LwwKv::default();
        let mut full = FullMergeLww {
            clocks: [0; LWW_REPLICAS],
            replicas: Default::default(),
        };
        let (mut ours_rng, mut full_rng) =
            (fastrand::Rng::with_seed(9), fastrand::Rng::with_seed(9));
        let mut ops = fastrand::Rng::with_seed(10);
        let mut stale = 0;
        for i in 0..5_000 {
            let key = ops.usize(..8);
            let body = match ops.u8(..3) {
                0 => json!({"type": "read", "key": key}),
                1 => json!({"type": "write", "key": key, "value": i % 3}),
                _ => json!({"type": "cas", "key": key, "from": ops.u8(..3), "to": i % 3}),
            };
            let op = parse_kv(&body).unwrap();
            let reply = ours.handle(&op, &mut ours_rng);
            assert_eq!(
                reply,
                full.handle(&op, &mut full_rng),
                "request {i}: {body}"
            );
            stale += i32::from(reply["code"] == 22);
        }
        assert!(
            stale > 100,
            "the replicas never disagreed ({stale} failed cas)"
        );
        for (ours, full) in ours.replicas.iter().zip(&full.replicas) {
            assert_eq!(ours.entries.len(), full.len());
            for (key, entry) in &ours.entries {
                assert_eq!(full[key], (entry.stamp, entry.value.clone()), "{key}");
            }
            assert!(ours.changed.len() <= ours.entries.len());
        }
    }

    #[test]
    fn lww_kv_serves_stale_replicas_but_converges() {
        let mut s = Services::new(5);
        let lww = Service::LwwKv;
        let mut stale = 0;
        for i in 0..200 {
            kv(
                &mut s,
                lww,
                "n1",
                json!({"type": "write", "key": "k", "value": i}),
            );
            let read = kv(&mut s, lww, "n1", json!({"type": "read", "key": "k"}));
            stale += i32::from(read["value"] != i);
        }
        assert!(stale > 20, "lww-kv behaved linearizably");
        // With no more writes, merges bring both replicas to one value.
        for _ in 0..50 {
            kv(&mut s, lww, "n1", json!({"type": "read", "key": "k"}));
        }
        let value = kv(&mut s, lww, "n2", json!({"type": "read", "key": "k"}))["value"].clone();
        for _ in 0..20 {
            assert_eq!(
                kv(&mut s, lww, "n2", json!({"type": "read", "key": "k"}))["value"],
                value
            );
        }
        let cas =
            json!({"type": "cas", "key": "new", "from": 0, "to": 1, "create_if_not_exists": true});
        assert_eq!(kv(&mut s, lww, "n1", cas)["code"], 20);
        let cas = json!({"type": "cas", "key": "k", "from": "x", "to": 1});
        let text = kv(&mut s, lww, "n1", cas)["text"].clone();
        assert_eq!(text, format!("current value {value} is not x"));
    }
}
