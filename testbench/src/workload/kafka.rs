//! `kafka`: append-only logs by key, driven as Maelstrom drives them (its
//! `workload/kafka.clj` over Jepsen's `tests/kafka.clj` and Elle's
//! generator).
//!
//! # The generator
//!
//! - Keys and messages come from Elle's pool ([`KeyPool`]) with one
//!   micro-operation per operation: a read becomes a `poll`, a write of
//!   value `v` to key `k` a `send` of message `v` to key `"k"`, so each key
//!   takes the messages 1 to `--max-writes-per-key` and then gives way to a
//!   fresh key.
//! - Each time an operation is due, with probability 1/64 an `assign` of
//!   the key of the operation that would have come is emitted instead, and
//!   that operation stays due (Jepsen's `interleave-subscribes`).
//! - A third of those assigns also take every key with sent offsets that no
//!   poll has reached yet, across all clients (`poll-unseen`).
//! - Clients crash (`crash`: the operation is `info` at once and the client
//!   starts afresh) on a schedule of their own, the first at the start and
//!   then after pauses uniform on [0, 60/concurrency) s.
//!
//! # The client, as Maelstrom's keeps it
//!
//! Each client process keeps the next offset it wants per key. `assign`
//! asks `list_committed_offsets` and keeps, for the assigned keys only, its
//! own offset, else the committed one, else 0. `poll` sends its offsets,
//! moves them past what came back and then commits the highest offset
//! polled on each key (one operation of two requests). `send` never
//! commits. A crashed or timed-out client is gone with its offsets.
//!
//! # The final phase
//!
//! Ten seconds after the main phase, each client thread crashes its client,
//! assigns every key an `ok` operation touched (seeking to the beginning:
//! no request, all offsets 0) and polls, 0.2 s apart on average, until it
//! has polled up to the highest offset any `ok` operation showed on each
//! key, for at most 10 s. (The bench's engine pauses after the crash and
//! the assign too, where Maelstrom pauses only between polls: 0.4 s more,
//! on average, before a thread's first final poll.)
//!
//! # History values, as Maelstrom records them
//!
//! - `send`: `[["send", key, msg]]`, completed as `[["send", key, [offset, msg]]]`;
//! - `poll`: `[["poll"]]`, completed as `[["poll", {key: [[offset, msg], ...]}]]`;
//! - `assign`: the list of keys; `crash`: null.
//!
//! Maelstrom adds `unseen` to the assigns `poll-unseen` widened, and
//! `seek-to-beginning?` and `poll-ms` to the final assigns and polls; the
//! bench's history has no such extra fields.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::keys::{KeyPool, MicroOp};
use super::schema::{self, Shape};
use super::{FinalPhase, Invocation, Request, Step, Workload};
use crate::checker;
use crate::config::Config;
use crate::history::History;

/// How often an operation is replaced by an assign (Jepsen's `sub-p`).
const ASSIGN_ODDS: u32 = 64;
/// How often an assign also takes the keys with unpolled sends.
const UNSEEN_ODDS: u32 = 3;
/// Seconds between crashes of some client, times the concurrency.
const CRASH_INTERVAL: f64 = 30.0;

const PAIR: Shape = Shape::Tuple(&[Shape::Int, Shape::Any]);
const MSGS: Shape = Shape::Map(&Shape::List(&PAIR));
const OFFSETS: Shape = Shape::Map(&Shape::Int);

/// The generator's state and each client's view.
pub struct Kafka {
    pool: KeyPool,
    /// The operation an assign was emitted in place of; it comes next.
    due: Option<MicroOp>,
    /// When the next crash is due, and the mean pause between crashes.
    next_crash: Duration,
    crash_pause: Duration,
    threads: u64,
    /// Each thread's current client.
    clients: HashMap<u64, Client>,
    /// Per key, the highest offset `ok` sends and polls showed, when polls
    /// lag behind sends (Jepsen's `poll-unseen`).
    sent: BTreeMap<u64, i64>,
    polled: BTreeMap<u64, i64>,
    /// Per key, the highest offset any `ok` operation showed (Jepsen's
    /// `track-key-offsets`): what the final polls must reach.
    highest: BTreeMap<u64, i64>,
    /// The final phase: what each thread has still to reach.
    finals: Option<HashMap<u64, BTreeMap<u64, i64>>>,
}

/// One client, as Maelstrom's kafka client keeps it.
#[derive(Default)]
struct Client {
    /// The process the client belongs to.
    process: u64,
    /// The next offset to poll, per key.
    offsets: BTreeMap<String, i64>,
    /// A poll whose `commit_offsets` is in flight: its messages.
    committing: Option<Value>,
}

impl Kafka {
    /// The generator `config` asks for: `--key-count` slots, keys taking
    /// `--max-writes-per-key` messages, crashes paced by `--concurrency`.
    pub fn new(config: &Config) -> Self {
        let threads = config.processes().max(1) as u64;
        Kafka {
            pool: KeyPool::new(config.key_count, config.max_writes_per_key),
            due: None,
            next_crash: Duration::ZERO,
            crash_pause: Duration::from_secs_f64(CRASH_INTERVAL / threads as f64),
            threads,
            clients: HashMap::new(),
            sent: BTreeMap::new(),
            polled: BTreeMap::new(),
            highest: BTreeMap::new(),
            finals: None,
        }
    }

    /// The client of `process` (a fresh one for a new process).
    fn client(&mut self, process: u64) -> &mut Client {
        let client = self.clients.entry(process % self.threads).or_default();
        if client.process != process {
            *client = Client {
                process,
                ..Client::default()
            };
        }
        client
    }

    /// An assign of the operation's key, widened now and then by the keys
    /// whose sends no poll has reached.
    fn assign(&mut self, op: MicroOp, rng: &mut fastrand::Rng) -> Invocation {
        let mut keys: Vec<u64> = Vec::new();
        if rng.u32(..UNSEEN_ODDS) == 0 {
            keys.extend(self.sent.keys());
        }
        if !keys.contains(&op.key()) {
            keys.push(op.key());
        }
        let keys: Vec<String> = keys.iter().map(u64::to_string).collect();
        Invocation::new("assign", json!(keys))
    }

    /// Learns from an `ok` operation's value, as Jepsen's generators do.
    fn learn(&mut self, process: u64, f: &str, value: &Value) {
        let seen = highest_offsets(value);
        match &mut self.finals {
            Some(finals) => {
                if f == "poll" {
                    if let Some(targets) = finals.get_mut(&(process % self.threads)) {
                        targets.retain(|key, target| seen.get(key).is_none_or(|s| s < target));
                    }
                }
            }
            None => {
                for (&key, &offset) in &seen {
                    let into = if f == "send" {
                        &mut self.sent
                    } else {
                        &mut self.polled
                    };
                    raise(into, key, offset);
                    raise(&mut self.highest, key, offset);
                }
                let (sent, polled) = (&mut self.sent, &mut self.polled);
                let caught_up: Vec<u64> = sent
                    .keys()
                    .chain(polled.keys())
                    .copied()
                    .filter(|k| polled.get(k).unwrap_or(&-1) >= sent.get(k).unwrap_or(&-1))
                    .collect();
                for key in caught_up {
                    sent.remove(&key);
                    polled.remove(&key);
                }
            }
        }
    }

    fn complete_poll(&mut self, process: u64, reply: &Value) -> Result<Step, String> {
        if let Some(msgs) = self.client(process).committing.take() {
            schema::check(reply, "commit_offsets_ok", &[])?;
            return Ok(self.poll_done(process, msgs));
        }
        schema::check(reply, "poll_ok", &[("msgs", MSGS)])?;
        let msgs = reply["msgs"].clone();
        let client = self.client(process);
        let mut commits = Map::new();
        for (key, pairs) in msgs.as_object().into_iter().flatten() {
            let highest = pairs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|pair| pair[0].as_i64())
                .max();
            // Like Maelstrom's client, move past what came back at once.
            let next = client.offsets.entry(key.clone()).or_insert(i64::MIN);
            *next = (*next).max(highest.unwrap_or(-1).saturating_add(1));
            if let Some(highest) = highest {
                commits.insert(key.clone(), json!(highest));
            }
        }
        if commits.is_empty() {
            return Ok(self.poll_done(process, msgs));
        }
        client.committing = Some(msgs);
        Ok(Step::Then(
            json!({"type": "commit_offsets", "offsets": commits}),
        ))
    }

    /// The end of a poll that brought `msgs`.
    fn poll_done(&mut self, process: u64, msgs: Value) -> Step {
        let value = json!([["poll", msgs]]);
        self.learn(process, "poll", &value);
        Step::Done(value)
    }

    fn complete_assign(
        &mut self,
        process: u64,
        op: &Invocation,
        reply: &Value,
    ) -> Result<Step, String> {
        schema::check(reply, "list_committed_offsets_ok", &[("offsets", OFFSETS)])?;
        let committed = &reply["offsets"];
        let client = self.client(process);
        let offsets = keys_of(op)
            .map(|key| {
                let start = client
                    .offsets
                    .get(key)
                    .copied()
                    .or_else(|| committed[key].as_i64())
                    .unwrap_or(0);
                (key.to_owned(), start)
            })
            .collect();
        client.offsets = offsets;
        Ok(Step::Done(op.value.clone()))
    }
}

/// The keys an assign names.
fn keys_of(op: &Invocation) -> impl Iterator<Item = &str> {
    op.value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Raises `map[key]` to `offset`.
fn raise(map: &mut BTreeMap<u64, i64>, key: u64, offset: i64) {
    let entry = map.entry(key).or_insert(offset);
    *entry = (*entry).max(offset);
}

/// The highest offset a completed `send` or `poll` value shows on each key
/// (-1 for a key polled empty), as Jepsen's `op->max-offsets` reads it.
/// Keys that are not whole numbers are not the generator's, and are left
/// out.
fn highest_offsets(value: &Value) -> BTreeMap<u64, i64> {
    let mut seen = BTreeMap::new();
    for mop in value.as_array().into_iter().flatten() {
        match mop[0].as_str() {
            Some("send") => {
                if let (Some(key), Some(offset)) = (key_number(&mop[1]), mop[2][0].as_i64()) {
                    raise(&mut seen, key, offset);
                }
            }
            Some("poll") => {
                for (key, pairs) in mop[1].as_object().into_iter().flatten() {
                    let Some(key) = key.parse().ok() else {
                        continue;
                    };
                    let highest = pairs
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|pair| pair[0].as_i64())
                        .fold(-1, i64::max);
                    raise(&mut seen, key, highest);
                }
            }
            _ => {}
        }
    }
    seen
}

fn key_number(key: &Value) -> Option<u64> {
    key.as_str()?.parse().ok()
}

impl Workload for Kafka {
    fn next_op(&mut self, process: u64, elapsed: Duration, rng: &mut fastrand::Rng) -> Invocation {
        let _ = process;
        if elapsed >= self.next_crash {
            self.next_crash += self.crash_pause.mul_f64(2.0 * rng.f64());
            return Invocation::new("crash", Value::Null);
        }
        let op = match self.due {
            Some(op) => op,
            None => *self.due.insert(self.pool.micro_op(rng)),
        };
        if rng.u32(..ASSIGN_ODDS) == 0 {
            return self.assign(op, rng);
        }
        self.due = None;
        match op {
            MicroOp::Read(_) => Invocation::new("poll", json!([["poll"]])),
            MicroOp::Write(key, msg) => {
                Invocation::new("send", json!([["send", key.to_string(), msg]]))
            }
        }
    }

    fn request(&mut self, process: u64, op: &Invocation) -> Request {
        let in_final_phase = self.finals.is_some();
        let client = self.client(process);
        match op.f {
            "crash" => Request::Crash,
            "send" => {
                Request::Send(json!({"type": "send", "key": op.value[0][1], "msg": op.value[0][2]}))
            }
            "poll" => {
                client.committing = None;
                Request::Send(json!({"type": "poll", "offsets": client.offsets}))
            }
            _ if in_final_phase => {
                // Seeking to the beginning asks the server nothing.
                client.offsets = keys_of(op).map(|key| (key.to_owned(), 0)).collect();
                Request::Ok(op.value.clone())
            }
            _ => Request::Send(json!({"type": "list_committed_offsets", "keys": op.value})),
        }
    }

    fn complete(&mut self, process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        match op.f {
            "send" => {
                schema::check(reply, "send_ok", &[("offset", Shape::Int)])?;
                let value = json!([["send", op.value[0][1], [reply["offset"], op.value[0][2]]]]);
                self.learn(process, "send", &value);
                Ok(Step::Done(value))
            }
            "poll" => self.complete_poll(process, reply),
            _ => self.complete_assign(process, op, reply),
        }
    }

    fn sorts_errors(&self) -> bool {
        false
    }

    fn final_phase(&self) -> Option<FinalPhase> {
        Some(FinalPhase {
            quiet: Duration::from_secs(10),
            limit: Duration::from_secs(10),
            stagger: Duration::from_millis(200),
        })
    }

    fn final_op(&mut self, process: u64, done: usize) -> Option<Invocation> {
        let highest = &self.highest;
        let finals = self.finals.get_or_insert_with(HashMap::new);
        let targets = finals
            .entry(process % self.threads)
            .or_insert_with(|| highest.clone());
        if targets.is_empty() {
            return None;
        }
        Some(match done {
            0 => Invocation::new("crash", Value::Null),
            1 => {
                let keys: Vec<String> = self.highest.keys().map(u64::to_string).collect();
                Invocation::new("assign", json!(keys))
            }
            _ => Invocation::new("poll", json!([["poll"]])),
        })
    }

    fn check(&self, history: &History) -> Value {
        checker::kafka::check(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kafka(args: &str) -> Kafka {
        Kafka::new(&crate::config::Config::from_flags(&format!("-w kafka {args}")).unwrap())
    }

    /// A reply to the latest request, as a node would send it.
    fn reply(body: Value) -> Value {
        let mut body = body;
        body["in_reply_to"] = json!(1);
        body
    }

    fn ok(kafka: &mut Kafka, process: u64, op: &Invocation, body: Value) -> Step {
        kafka
            .complete(process, op, &reply(body))
            .expect("a well-formed reply")
    }

    const LATER: Duration = Duration::from_secs(1);

    #[test]
    fn the_first_operation_is_a_crash_and_crashes_follow_every_30_over_concurrency_seconds() {
        let mut kafka = kafka("--node-count 2 --concurrency 2n");
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(kafka.next_op(0, Duration::ZERO, &mut rng).f, "crash");
        assert_eq!(
            kafka.request(0, &Invocation::new("crash", Value::Null)),
            Request::Crash
        );
        // Over 10 000 simulated seconds, one crash each 7.5 s on average.
        let mut crashes = 0;
        for ms in (0..10_000_000).step_by(10) {
            if kafka.next_op(0, Duration::from_millis(ms), &mut rng).f == "crash" {
                crashes += 1;
            }
        }
        let mean = 10_000.0 / f64::from(crashes);
        assert!((7.0..8.0).contains(&mean), "a crash each {mean} s");
    }

    #[test]
    fn operations_follow_elle_and_assigns_replace_one_in_64_without_consuming_it() {
        let mut kafka = kafka("--node-count 2 --concurrency 2n");
        let mut rng = fastrand::Rng::with_seed(2);
        kafka.next_op(0, Duration::ZERO, &mut rng);
        let mut counts: HashMap<&str, u32> = HashMap::new();
        let mut previous: Option<Invocation> = None;
        let mut assigns_before_their_op = 0;
        let mut values: HashMap<String, Vec<u64>> = HashMap::new();
        for _ in 0..64_000 {
            let op = kafka.next_op(0, LATER, &mut rng);
            *counts.entry(op.f).or_default() += 1;
            if op.f == "send" {
                let key = op.value[0][1].as_str().unwrap().to_owned();
                values
                    .entry(key.clone())
                    .or_default()
                    .push(op.value[0][2].as_u64().unwrap());
                if let Some(assign) = previous.as_ref().filter(|p| p.f == "assign") {
                    assigns_before_their_op += u32::from(assign.value == json!([key]));
                }
            }
            previous = Some(op);
        }
        let share = |f| f64::from(counts[f]) / 64_000.0;
        assert!((0.0140..0.0172).contains(&share("assign")), "{counts:?}");
        assert!((0.47..0.50).contains(&share("send")), "{counts:?}");
        assert!(
            share("poll") > share("send"),
            "retired keys redraw toward polls"
        );
        assert!(
            assigns_before_their_op > 100,
            "an assign names the key that comes next"
        );
        for (key, sent) in &values {
            assert_eq!(
                sent,
                &(1..=sent.len() as u64).collect::<Vec<_>>(),
                "key {key}"
            );
            assert!(sent.len() <= 16);
        }
        assert!(values.len() > 1000, "keys roll over after 16 sends");
    }

    #[test]
    fn a_third_of_assigns_take_the_keys_whose_sends_no_poll_reached() {
        let mut kafka = kafka("--node-count 1");
        let send = Invocation::new("send", json!([["send", "5", 1]]));
        ok(
            &mut kafka,
            0,
            &send,
            json!({"type": "send_ok", "offset": 3}),
        );
        let send = Invocation::new("send", json!([["send", "7", 1]]));
        ok(
            &mut kafka,
            0,
            &send,
            json!({"type": "send_ok", "offset": 0}),
        );
        let poll = Invocation::new("poll", json!([["poll"]]));
        kafka.request(0, &poll);
        let msgs = json!({"7": [[0, 1]]});
        ok(
            &mut kafka,
            0,
            &poll,
            json!({"type": "poll_ok", "msgs": msgs}),
        );
        ok(&mut kafka, 0, &poll, json!({"type": "commit_offsets_ok"}));
        assert_eq!(kafka.sent.keys().collect::<Vec<_>>(), [&5], "7 caught up");
        let mut rng = fastrand::Rng::with_seed(3);
        let mut widened = 0;
        for _ in 0..3000 {
            let assign = kafka.assign(MicroOp::Read(2), &mut rng);
            match assign.value.as_array().unwrap().len() {
                1 => assert_eq!(assign.value, json!(["2"])),
                _ => {
                    assert_eq!(assign.value, json!(["5", "2"]));
                    widened += 1;
                }
            }
        }
        assert!((850..1150).contains(&widened), "{widened} of 3000");
    }

    #[test]
    fn a_client_assigns_from_committed_offsets_polls_and_commits_the_highest() {
        let mut kafka = kafka("--node-count 1");
        let poll = Invocation::new("poll", json!([["poll"]]));
        assert_eq!(
            kafka.request(0, &poll),
            Request::Send(json!({"type": "poll", "offsets": {}})),
            "a client with nothing assigned polls nothing"
        );
        let assign = Invocation::new("assign", json!(["0", "1"]));
        assert_eq!(
            kafka.request(0, &assign),
            Request::Send(json!({"type": "list_committed_offsets", "keys": ["0", "1"]}))
        );
        let committed = json!({"type": "list_committed_offsets_ok", "offsets": {"1": 4}});
        assert_eq!(
            ok(&mut kafka, 0, &assign, committed),
            Step::Done(json!(["0", "1"]))
        );
        assert_eq!(
            kafka.request(0, &poll),
            Request::Send(json!({"type": "poll", "offsets": {"0": 0, "1": 4}}))
        );
        let msgs = json!({"1": [[4, 10], [6, 11]], "0": []});
        let step = ok(
            &mut kafka,
            0,
            &poll,
            json!({"type": "poll_ok", "msgs": msgs}),
        );
        assert_eq!(
            step,
            Step::Then(json!({"type": "commit_offsets", "offsets": {"1": 6}}))
        );
        let step = ok(&mut kafka, 0, &poll, json!({"type": "commit_offsets_ok"}));
        assert_eq!(step, Step::Done(json!([["poll", msgs]])));
        // Re-assigning keeps the client's own offsets over committed ones.
        let assign = Invocation::new("assign", json!(["1", "2"]));
        kafka.request(0, &assign);
        let committed = json!({"type": "list_committed_offsets_ok", "offsets": {"1": 0, "2": 9}});
        ok(&mut kafka, 0, &assign, committed);
        assert_eq!(
            kafka.request(0, &poll),
            Request::Send(json!({"type": "poll", "offsets": {"1": 7, "2": 9}}))
        );
        // A new process is a new client, with nothing assigned.
        assert_eq!(
            kafka.request(1, &poll),
            Request::Send(json!({"type": "poll", "offsets": {}}))
        );
    }

    #[test]
    fn replies_outside_maelstroms_schemas_are_errors() {
        let mut kafka = kafka("--node-count 1");
        let send = Invocation::new("send", json!([["send", "0", 5]]));
        for body in [
            json!({"type": "send_ok"}),
            json!({"type": "send_ok", "offset": 1.0}),
            json!({"type": "send_ok", "offset": 1, "key": "0"}),
        ] {
            assert!(
                kafka.complete(0, &send, &reply(body.clone())).is_err(),
                "{body}"
            );
        }
        let step = ok(
            &mut kafka,
            0,
            &send,
            json!({"type": "send_ok", "offset": -1}),
        );
        assert_eq!(
            step,
            Step::Done(json!([["send", "0", [-1, 5]]])),
            "s/Int allows it"
        );
        let poll = Invocation::new("poll", json!([["poll"]]));
        for msgs in [json!([]), json!({"0": [[1]]}), json!({"0": [["a", 1]]})] {
            kafka.request(0, &poll);
            let body = reply(json!({"type": "poll_ok", "msgs": msgs}));
            assert!(kafka.complete(0, &poll, &body).is_err(), "{body}");
        }
    }

    #[test]
    fn the_final_phase_crashes_seeks_every_key_and_polls_until_caught_up() {
        let mut kafka = kafka("--node-count 1 --concurrency 2");
        let send = Invocation::new("send", json!([["send", "1", 7]]));
        ok(
            &mut kafka,
            0,
            &send,
            json!({"type": "send_ok", "offset": 5}),
        );
        let send = Invocation::new("send", json!([["send", "3", 1]]));
        ok(
            &mut kafka,
            1,
            &send,
            json!({"type": "send_ok", "offset": 0}),
        );
        assert_eq!(kafka.final_op(0, 0).unwrap().f, "crash");
        let assign = kafka.final_op(2, 1).unwrap();
        assert_eq!(assign, Invocation::new("assign", json!(["1", "3"])));
        assert_eq!(kafka.request(2, &assign), Request::Ok(json!(["1", "3"])));
        let poll = kafka.final_op(2, 2).unwrap();
        assert_eq!(
            kafka.request(2, &poll),
            Request::Send(json!({"type": "poll", "offsets": {"1": 0, "3": 0}}))
        );
        let msgs = json!({"1": [[5, 7]]});
        ok(
            &mut kafka,
            2,
            &poll,
            json!({"type": "poll_ok", "msgs": msgs}),
        );
        ok(&mut kafka, 2, &poll, json!({"type": "commit_offsets_ok"}));
        assert_eq!(
            kafka.final_op(2, 3),
            Some(poll.clone()),
            "key 3 not reached yet"
        );
        kafka.request(2, &poll);
        let msgs = json!({"3": [[0, 1]]});
        ok(
            &mut kafka,
            2,
            &poll,
            json!({"type": "poll_ok", "msgs": msgs}),
        );
        ok(&mut kafka, 2, &poll, json!({"type": "commit_offsets_ok"}));
        assert_eq!(kafka.final_op(2, 4), None, "caught up");
        assert_eq!(
            kafka.final_op(1, 0).unwrap().f,
            "crash",
            "threads wait each on its own"
        );
    }

    #[test]
    fn without_any_ok_operation_there_is_no_final_phase() {
        let mut kafka = kafka("--node-count 1");
        assert_eq!(kafka.final_op(0, 0), None);
    }
}
