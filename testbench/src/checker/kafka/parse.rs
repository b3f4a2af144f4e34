//! Reading the history, once, into the facts the checks work on: per key,
//! which messages were seen at which offsets, who polled them and who tried
//! to send them; per process, its successful operations and assigns in order.
//! Anything unreadable becomes a `malformed` anomaly instead.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};

use super::Anomaly;
use crate::history::{History, Op, OpType};

/// How many skipped entries a skip example lists.
const MAX_SKIPPED: usize = 16;

/// A message: integers compare as integers, anything else by its JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Msg {
    /// An integer message (what Maelstrom sends).
    Int(i64),
    /// Any other JSON value, as its text.
    Other(String),
}

impl Msg {
    /// Reads a message from its JSON value.
    fn new(value: &Value) -> Msg {
        match value.as_i64() {
            Some(n) => Msg::Int(n),
            None => Msg::Other(value.to_string()),
        }
    }

    /// The message as JSON, as it appeared in the history.
    pub(super) fn json(&self) -> Value {
        match self {
            Msg::Int(n) => Value::from(*n),
            Msg::Other(text) => {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
            }
        }
    }
}

/// What became of one attempted send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    /// Acknowledged at this offset.
    Acked(u64),
    /// The operation definitely failed.
    Failed,
    /// Timed out (`info`), never completed, or acknowledged without an offset.
    Indefinite,
}

/// One attempted send of one message to one key.
#[derive(Debug, Clone)]
pub(super) struct Attempt {
    /// The message sent.
    pub(super) msg: Msg,
    /// Position of the invocation in `History::ops`.
    pub(super) invoke_pos: usize,
    /// Completion position, if the operation completed.
    pub(super) done_pos: Option<usize>,
    /// What became of it.
    pub(super) status: Status,
}

/// A successful send/poll/txn completion, reduced to what it tells us.
#[derive(Debug, Default)]
pub(super) struct OkOp {
    /// Position of the completion in `History::ops`.
    pub(super) pos: usize,
    /// Per key, the acknowledged sends in operation order.
    pub(super) sends: BTreeMap<String, Vec<(u64, Msg)>>,
    /// Per key, the polled entries in operation order.
    pub(super) reads: BTreeMap<String, Vec<(u64, Msg)>>,
}

/// Something a process did that matters to the per-process checks.
#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    /// An `ok` send/poll/txn, by index into `Parsed::ok_ops`.
    Ok(usize),
    /// An assign that may have taken effect.
    Assign,
}

/// Everything known about one key.
#[derive(Debug, Default)]
pub(super) struct KeyState {
    /// Offset -> message -> position of the first op showing it there.
    pub(super) log: BTreeMap<u64, BTreeMap<Msg, usize>>,
    /// Message -> offsets it was seen at.
    pub(super) offsets_of: HashMap<Msg, BTreeSet<u64>>,
    /// Known offsets, ascending (filled after parsing).
    known: Vec<u64>,
    /// Message -> position of the earliest ok completion that polled it.
    pub(super) readers: HashMap<Msg, usize>,
    /// Message -> indices into `Parsed::attempts`.
    pub(super) attempts: HashMap<Msg, Vec<usize>>,
}

impl KeyState {
    /// Records that the op at `pos` showed `msg` at `offset`.
    fn witness(&mut self, offset: u64, msg: &Msg, pos: usize) {
        let at = self.log.entry(offset).or_default();
        let first = at.entry(msg.clone()).or_insert(pos);
        *first = (*first).min(pos);
        self.offsets_of
            .entry(msg.clone())
            .or_default()
            .insert(offset);
    }

    /// The index of an offset among the known offsets (for an unknown
    /// offset, the index it would get).
    pub(super) fn rank(&self, offset: u64) -> i64 {
        let at = match self.known.binary_search(&offset) {
            Ok(i) | Err(i) => i,
        };
        i64::try_from(at).unwrap_or(i64::MAX)
    }

    /// Known entries strictly between two offsets, at most `MAX_SKIPPED`.
    pub(super) fn between(&self, lo: u64, hi: u64) -> Vec<Value> {
        if hi <= lo.saturating_add(1) {
            return Vec::new();
        }
        self.log
            .range(lo + 1..hi)
            .flat_map(|(o, msgs)| msgs.keys().map(move |m| json!([o, m.json()])))
            .take(MAX_SKIPPED)
            .collect()
    }
}

/// The history, read once.
#[derive(Debug, Default)]
pub(super) struct Parsed {
    /// Everything known about each key.
    pub(super) keys: BTreeMap<String, KeyState>,
    /// Every attempted send, in invocation order.
    pub(super) attempts: Vec<Attempt>,
    /// Every `ok` send/poll/txn completion, in invocation order.
    pub(super) ok_ops: Vec<OkOp>,
    /// Per process, what it did, in invocation order.
    pub(super) processes: BTreeMap<u64, Vec<Event>>,
    /// What could not be read.
    pub(super) malformed: Vec<Anomaly>,
}

/// Reads a key: a string, or an integer (taken as its decimal text).
pub(super) fn parse_key(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Reads an `[offset, message]` pair.
fn parse_pair(value: &Value) -> Option<(u64, Msg)> {
    match value.as_array()?.as_slice() {
        [offset, msg] => Some((offset.as_u64()?, Msg::new(msg))),
        _ => None,
    }
}

/// The micro-op name of a `[name, ...]` value.
pub(super) fn mop_name(mop: &Value) -> Option<&str> {
    mop.as_array()?.first()?.as_str()
}

impl Parsed {
    /// Reads the whole history.
    pub(super) fn new(history: &History) -> Parsed {
        let mut parsed = Parsed::default();
        // Pair invocations with completions by process, keeping positions.
        let mut open: HashMap<u64, usize> = HashMap::new();
        let mut pairs: Vec<(usize, Option<usize>)> = Vec::new();
        for (pos, op) in history.ops.iter().enumerate() {
            if op.kind == OpType::Invoke {
                open.insert(op.process, pairs.len());
                pairs.push((pos, None));
            } else if let Some(at) = open.remove(&op.process) {
                pairs[at].1 = Some(pos);
            }
        }
        for (invoke_pos, done_pos) in pairs {
            let invoke = &history.ops[invoke_pos];
            let done = done_pos.map(|p| (p, &history.ops[p]));
            match invoke.f.as_str() {
                "assign" | "subscribe" => parsed.assign(invoke_pos, invoke, done),
                "send" | "poll" | "txn" => parsed.txn(invoke_pos, invoke, done),
                _ => {}
            }
        }
        for state in parsed.keys.values_mut() {
            state.known = state.log.keys().copied().collect();
        }
        parsed
    }

    /// Reports the op at `pos` as malformed.
    fn bad(&mut self, pos: usize, problem: String) {
        self.malformed.push(Anomaly::malformed(pos, problem));
    }

    /// Reads an assign (or subscribe) and its completion, if any. Unless it
    /// failed, it may have taken effect, so it is recorded for its process.
    fn assign(&mut self, invoke_pos: usize, invoke: &Op, done: Option<(usize, &Op)>) {
        let keys_ok = |pos: usize, value: &Value, parsed: &mut Parsed| {
            let ok = value
                .as_array()
                .is_some_and(|ks| ks.iter().all(|k| parse_key(Some(k)).is_some()));
            if !ok {
                parsed.bad(pos, format!("{} value is not a list of keys", invoke.f));
            }
        };
        keys_ok(invoke_pos, &invoke.value, self);
        if let Some((pos, op)) = done {
            if op.kind == OpType::Ok {
                keys_ok(pos, &op.value, self);
            }
            if op.kind == OpType::Fail {
                return;
            }
        }
        self.processes
            .entry(invoke.process)
            .or_default()
            .push(Event::Assign);
    }

    /// Reads a send/poll/txn invocation and its completion, if any: what it
    /// tried to send, what became of each send and, if `ok`, what it shows.
    fn txn(&mut self, invoke_pos: usize, invoke: &Op, done: Option<(usize, &Op)>) {
        // What the invocation tried to send.
        let mut tried: Vec<(String, Msg)> = Vec::new();
        match invoke.value.as_array() {
            None => self.bad(invoke_pos, "invocation value is not a list".into()),
            Some(mops) => {
                for mop in mops {
                    match mop_name(mop) {
                        Some("send") => {
                            let parts = mop.as_array().map(Vec::as_slice).unwrap_or(&[]);
                            match (parse_key(parts.get(1)), parts.get(2)) {
                                (Some(k), Some(m)) if parts.len() == 3 => {
                                    tried.push((k, Msg::new(m)));
                                }
                                _ => self.bad(invoke_pos, format!("bad send invocation {mop}")),
                            }
                        }
                        Some("poll") => {}
                        _ => self.bad(invoke_pos, format!("unknown micro-op {mop}")),
                    }
                }
            }
        }

        let (done_pos, kind) = match done {
            Some((pos, op)) => (Some(pos), Some(op.kind)),
            None => (None, None),
        };
        let mut statuses = vec![Status::Indefinite; tried.len()];
        let mut extra: Vec<(String, Msg, u64)> = Vec::new();

        match (kind, done) {
            (Some(OpType::Fail), _) => statuses.fill(Status::Failed),
            (Some(OpType::Ok), Some((pos, op))) => {
                let ok = self.ok_completion(pos, op);
                // Match acknowledged sends to attempted ones.
                for (k, sends) in &ok.sends {
                    for (offset, msg) in sends {
                        let slot = tried.iter().enumerate().position(|(i, (tk, tm))| {
                            tk == k && tm == msg && statuses[i] == Status::Indefinite
                        });
                        match slot {
                            Some(i) => statuses[i] = Status::Acked(*offset),
                            None => {
                                self.bad(
                                    pos,
                                    format!("acknowledges message {} on key {k}, which the invocation did not send", msg.json()),
                                );
                                extra.push((k.clone(), msg.clone(), *offset));
                            }
                        }
                    }
                }
                for (i, (k, msg)) in tried.iter().enumerate() {
                    if statuses[i] == Status::Indefinite {
                        self.bad(
                            pos,
                            format!(
                                "ok completion gives no offset for message {} on key {k}",
                                msg.json()
                            ),
                        );
                    }
                }
                self.record_ok(invoke.process, ok);
            }
            _ => {}
        }

        let attempts = tried
            .into_iter()
            .zip(statuses)
            .map(|((k, m), s)| (k, m, s))
            .chain(extra.into_iter().map(|(k, m, o)| (k, m, Status::Acked(o))));
        for (key, msg, status) in attempts {
            let index = self.attempts.len();
            self.keys
                .entry(key)
                .or_default()
                .attempts
                .entry(msg.clone())
                .or_default()
                .push(index);
            self.attempts.push(Attempt {
                msg,
                invoke_pos,
                done_pos,
                status,
            });
        }
    }

    /// Reads an ok completion's value, reporting what cannot be read.
    fn ok_completion(&mut self, pos: usize, op: &Op) -> OkOp {
        let mut ok = OkOp {
            pos,
            ..OkOp::default()
        };
        let Some(mops) = op.value.as_array() else {
            self.bad(pos, "completion value is not a list".into());
            return ok;
        };
        for mop in mops {
            let parts = mop.as_array().map(Vec::as_slice).unwrap_or(&[]);
            match mop_name(mop) {
                Some("send") => {
                    let pair = parts.get(2).and_then(parse_pair);
                    match (parse_key(parts.get(1)), pair) {
                        (Some(k), Some(pair)) if parts.len() == 3 => {
                            ok.sends.entry(k).or_default().push(pair);
                        }
                        _ => self.bad(pos, format!("bad send completion {mop}")),
                    }
                }
                Some("poll") => {
                    let Some(map) = parts.get(1).and_then(Value::as_object) else {
                        self.bad(pos, format!("poll result is not a map: {mop}"));
                        continue;
                    };
                    for (k, entries) in map {
                        let Some(entries) = entries.as_array() else {
                            self.bad(pos, format!("poll entries of key {k} are not a list"));
                            continue;
                        };
                        let list = ok.reads.entry(k.clone()).or_default();
                        for entry in entries {
                            match parse_pair(entry) {
                                Some(pair) => list.push(pair),
                                None => {
                                    self.malformed.push(Anomaly::malformed(
                                        pos,
                                        format!("bad poll entry {entry} on key {k}"),
                                    ));
                                }
                            }
                        }
                    }
                }
                _ => self.bad(pos, format!("unknown micro-op {mop}")),
            }
        }
        ok
    }

    /// Records what an `ok` completion by `process` shows.
    fn record_ok(&mut self, process: u64, ok: OkOp) {
        let pos = ok.pos;
        for (k, sends) in &ok.sends {
            let state = self.keys.entry(k.clone()).or_default();
            for (offset, msg) in sends {
                state.witness(*offset, msg, pos);
            }
        }
        for (k, reads) in &ok.reads {
            let state = self.keys.entry(k.clone()).or_default();
            for (offset, msg) in reads {
                state.witness(*offset, msg, pos);
                let first = state.readers.entry(msg.clone()).or_insert(pos);
                *first = (*first).min(pos);
            }
        }
        self.processes
            .entry(process)
            .or_default()
            .push(Event::Ok(self.ok_ops.len()));
        self.ok_ops.push(ok);
    }
}
