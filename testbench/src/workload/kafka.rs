//! `kafka`: append-only logs by key. Clients `send` messages, `poll` from
//! their own position on the keys they are assigned (committing what they
//! polled), and are re-`assign`ed keys from time to time, starting again at
//! the committed offsets, as Maelstrom's kafka client does.
//!
//! History values, as Maelstrom records them:
//! - `send`: `[["send", key, msg]]`, completed as `[["send", key, [offset, msg]]]`;
//! - `poll`: `[["poll"]]`, completed as `[["poll", {key: [[offset, msg], ...]}]]`;
//! - `assign`: the list of keys.
//!
//! A poll is one operation of two requests: `poll`, then `commit_offsets`
//! of the highest offset polled on each key. The client only moves its
//! position once both are acknowledged, so an operation that fails leaves it
//! where it was. The final phase assigns every key from offset 0 to each
//! client and polls until it has read past every acknowledged send (or
//! three polls in a row bring nothing new).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::{field, FinalPhase, Invocation, Step, Workload};
use crate::checker;
use crate::history::History;

/// Polls in a row that bring nothing new before a final client gives up.
const EMPTY_POLLS_TO_STOP: usize = 3;

/// The generator's state: the keys, the next message, each client's view.
pub struct Kafka {
    key_count: u64,
    next_msg: u64,
    clients: HashMap<u64, Client>,
    /// The highest acknowledged offset of each key.
    acked: BTreeMap<String, u64>,
}

/// One client's position, as Maelstrom's kafka client keeps it.
#[derive(Default)]
struct Client {
    /// The next offset to poll, for each assigned key (empty until the
    /// first assign, which always names at least one key).
    offsets: BTreeMap<String, u64>,
    /// A poll whose `commit_offsets` is in flight: its messages and the
    /// positions it leads to.
    polled: Option<(Value, BTreeMap<String, u64>)>,
    /// Whether the assign in flight starts every key at 0.
    seek_to_beginning: bool,
    empty_polls: usize,
}

impl Kafka {
    /// Sends go to `key_count` keys, `"0"` to `"<key_count - 1>"`.
    pub fn new(key_count: u64) -> Self {
        Kafka {
            key_count: key_count.max(1),
            next_msg: 1,
            clients: HashMap::new(),
            acked: BTreeMap::new(),
        }
    }

    fn keys(&self) -> impl Iterator<Item = String> {
        (0..self.key_count).map(|k| k.to_string())
    }

    fn random_keys(&self, rng: &mut fastrand::Rng) -> Vec<String> {
        let mut keys: Vec<String> = self.keys().filter(|_| rng.bool()).collect();
        if keys.is_empty() {
            keys.push(rng.u64(..self.key_count).to_string());
        }
        keys
    }

    /// Whether `client` has polled past every acknowledged send.
    fn caught_up(&self, client: &Client) -> bool {
        self.acked
            .iter()
            .all(|(key, &offset)| client.offsets.get(key).is_some_and(|&next| next > offset))
    }

    fn complete_poll(&mut self, process: u64, reply: &Value) -> Result<Step, String> {
        let client = self.clients.entry(process).or_default();
        if let Some((msgs, offsets)) = client.polled.take() {
            // The reply to `commit_offsets`: the poll is over.
            client.offsets = offsets;
            return Ok(Step::Done(json!([["poll", msgs]])));
        }
        let msgs = field(reply, "msgs")?;
        let by_key = msgs
            .as_object()
            .ok_or_else(|| format!("`msgs` is not an object: {reply}"))?;
        let mut offsets = client.offsets.clone();
        let mut commits = Map::new();
        for (key, pairs) in by_key {
            let highest = highest_offset(pairs).ok_or_else(|| {
                format!("`msgs` of key {key} is not a list of [offset, msg]: {reply}")
            })?;
            if let Some(highest) = highest {
                let next = offsets.entry(key.clone()).or_insert(0);
                *next = (*next).max(highest + 1);
                commits.insert(key.clone(), json!(highest));
            }
        }
        if commits.is_empty() {
            client.empty_polls += 1;
            return Ok(Step::Done(json!([["poll", msgs]])));
        }
        client.empty_polls = 0;
        client.polled = Some((msgs.clone(), offsets));
        Ok(Step::Then(
            json!({"type": "commit_offsets", "offsets": commits}),
        ))
    }

    fn complete_assign(
        &mut self,
        process: u64,
        op: &Invocation,
        reply: &Value,
    ) -> Result<Step, String> {
        let committed = field(reply, "offsets")?
            .as_object()
            .ok_or_else(|| format!("`offsets` is not an object: {reply}"))?;
        let client = self.clients.entry(process).or_default();
        let mut offsets = BTreeMap::new();
        for key in op
            .value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let start = if client.seek_to_beginning {
                0
            } else if let Some(&current) = client.offsets.get(key) {
                current
            } else {
                match committed.get(key) {
                    None => 0,
                    Some(offset) => offset.as_u64().ok_or_else(|| {
                        format!("committed offset of key {key} is not a whole number: {reply}")
                    })?,
                }
            };
            offsets.insert(key.to_owned(), start);
        }
        client.offsets = offsets;
        client.seek_to_beginning = false;
        Ok(Step::Done(op.value.clone()))
    }
}

/// The highest offset of a list of `[offset, msg]` pairs: `None` if the
/// list is malformed, `Some(None)` if it is empty.
fn highest_offset(pairs: &Value) -> Option<Option<u64>> {
    let mut highest = None;
    for pair in pairs.as_array()? {
        let offset = pair.as_array().filter(|p| p.len() == 2)?[0].as_u64()?;
        highest = highest.max(Some(offset));
    }
    Some(highest)
}

impl Workload for Kafka {
    fn next_op(&mut self, process: u64, rng: &mut fastrand::Rng) -> Invocation {
        let assigned = self
            .clients
            .get(&process)
            .is_some_and(|c| !c.offsets.is_empty());
        let roll = rng.u8(..100);
        if !assigned || roll < 10 {
            Invocation::new("assign", json!(self.random_keys(rng)))
        } else if roll < 55 {
            let key = rng.u64(..self.key_count).to_string();
            let msg = self.next_msg;
            self.next_msg += 1;
            Invocation::new("send", json!([["send", key, msg]]))
        } else {
            Invocation::new("poll", json!([["poll"]]))
        }
    }

    fn request(&mut self, process: u64, op: &Invocation) -> Option<Value> {
        Some({
            match op.f {
                "send" => json!({"type": "send", "key": op.value[0][1], "msg": op.value[0][2]}),
                "poll" => {
                    let client = self.clients.entry(process).or_default();
                    client.polled = None;
                    json!({"type": "poll", "offsets": client.offsets})
                }
                _ => json!({"type": "list_committed_offsets", "keys": op.value}),
            }
        })
    }

    fn complete(&mut self, process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        match op.f {
            "send" => {
                let offset = field(reply, "offset")?
                    .as_u64()
                    .ok_or_else(|| format!("`offset` is not a whole number: {reply}"))?;
                let key = op.value[0][1].as_str().unwrap_or_default().to_owned();
                let acked = self.acked.entry(key.clone()).or_insert(offset);
                *acked = (*acked).max(offset);
                Ok(Step::Done(json!([["send", key, [offset, op.value[0][2]]]])))
            }
            "poll" => self.complete_poll(process, reply),
            _ => self.complete_assign(process, op, reply),
        }
    }

    fn idempotent(&self, f: &str) -> bool {
        // A poll or assign that fails moved nothing the checker relies on.
        f == "poll" || f == "assign"
    }

    fn final_phase(&self) -> Option<FinalPhase> {
        Some(FinalPhase {
            quiet: Duration::from_secs(10),
            limit: Duration::from_secs(10),
            stagger: Duration::ZERO,
        })
    }

    fn final_op(&mut self, process: u64, done: usize) -> Option<Invocation> {
        if done == 0 {
            let keys: BTreeSet<String> = self.keys().chain(self.acked.keys().cloned()).collect();
            let client = self.clients.entry(process).or_default();
            client.seek_to_beginning = true;
            client.empty_polls = 0;
            return Some(Invocation::new("assign", json!(keys)));
        }
        let client = self.clients.get(&process)?;
        if client.offsets.is_empty()
            || self.caught_up(client)
            || client.empty_polls >= EMPTY_POLLS_TO_STOP
        {
            return None;
        }
        Some(Invocation::new("poll", json!([["poll"]])))
    }

    fn check(&self, history: &History) -> Value {
        checker::kafka::check(history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(kafka: &mut Kafka, op: &Invocation, reply: Value) -> Step {
        kafka.complete(0, op, &reply).expect("a well-formed reply")
    }

    #[test]
    fn a_client_assigns_first_then_polls_from_its_committed_offsets() {
        let mut kafka = Kafka::new(2);
        let mut rng = fastrand::Rng::with_seed(3);
        let assign = kafka.next_op(0, &mut rng);
        assert_eq!(assign.f, "assign", "a fresh client has no keys yet");
        let assign = Invocation::new("assign", json!(["0", "1"]));
        assert_eq!(
            kafka.request(0, &assign),
            Some(json!({"type": "list_committed_offsets", "keys": ["0", "1"]}))
        );
        let reply = json!({"type": "list_committed_offsets_ok", "offsets": {"1": 4}});
        assert_eq!(
            ok(&mut kafka, &assign, reply),
            Step::Done(json!(["0", "1"]))
        );
        let poll = Invocation::new("poll", json!([["poll"]]));
        assert_eq!(
            kafka.request(0, &poll),
            Some(json!({"type": "poll", "offsets": {"0": 0, "1": 4}}))
        );
    }

    #[test]
    fn a_poll_commits_what_it_read_and_moves_only_once_committed() {
        let mut kafka = Kafka::new(1);
        let assign = Invocation::new("assign", json!(["0"]));
        kafka.request(0, &assign);
        ok(
            &mut kafka,
            &assign,
            json!({"type": "list_committed_offsets_ok", "offsets": {}}),
        );
        let poll = Invocation::new("poll", json!([["poll"]]));
        kafka.request(0, &poll);
        let msgs = json!({"0": [[0, 10], [2, 11]]});
        let step = ok(&mut kafka, &poll, json!({"type": "poll_ok", "msgs": msgs}));
        assert_eq!(
            step,
            Step::Then(json!({"type": "commit_offsets", "offsets": {"0": 2}}))
        );
        // The commit is lost: the next poll starts where the last one did.
        assert_eq!(
            kafka.request(0, &poll),
            Some(json!({"type": "poll", "offsets": {"0": 0}}))
        );
        ok(&mut kafka, &poll, json!({"type": "poll_ok", "msgs": msgs}));
        let step = ok(&mut kafka, &poll, json!({"type": "commit_offsets_ok"}));
        assert_eq!(step, Step::Done(json!([["poll", msgs]])));
        assert_eq!(
            kafka.request(0, &poll),
            Some(json!({"type": "poll", "offsets": {"0": 3}}))
        );
        let empty = ok(&mut kafka, &poll, json!({"type": "poll_ok", "msgs": {}}));
        assert_eq!(empty, Step::Done(json!([["poll", {}]])));
    }

    #[test]
    fn malformed_replies_are_errors() {
        let mut kafka = Kafka::new(1);
        let send = Invocation::new("send", json!([["send", "0", 5]]));
        assert!(kafka
            .complete(0, &send, &json!({"type": "send_ok"}))
            .is_err());
        assert!(kafka
            .complete(0, &send, &json!({"type": "send_ok", "offset": -1}))
            .is_err());
        let poll = Invocation::new("poll", json!([["poll"]]));
        kafka.request(0, &poll);
        for msgs in [json!([]), json!({"0": [[1]]}), json!({"0": [["a", 1]]})] {
            let reply = json!({"type": "poll_ok", "msgs": msgs});
            assert!(kafka.complete(0, &poll, &reply).is_err(), "{reply}");
        }
    }

    #[test]
    fn the_final_phase_reads_every_key_from_zero_until_caught_up() {
        let mut kafka = Kafka::new(2);
        let send = Invocation::new("send", json!([["send", "1", 7]]));
        let step = ok(&mut kafka, &send, json!({"type": "send_ok", "offset": 5}));
        assert_eq!(step, Step::Done(json!([["send", "1", [5, 7]]])));
        let assign = kafka.final_op(9, 0).unwrap();
        assert_eq!(assign.value, json!(["0", "1"]));
        kafka.request(9, &assign);
        let committed = json!({"type": "list_committed_offsets_ok", "offsets": {"1": 3}});
        kafka.complete(9, &assign, &committed).unwrap();
        let poll = kafka.final_op(9, 1).unwrap();
        assert_eq!(
            kafka.request(9, &poll),
            Some(json!({"type": "poll", "offsets": {"0": 0, "1": 0}})),
            "the final assign ignores committed offsets"
        );
        let msgs = json!({"1": [[5, 7]]});
        kafka
            .complete(9, &poll, &json!({"type": "poll_ok", "msgs": msgs}))
            .unwrap();
        kafka
            .complete(9, &poll, &json!({"type": "commit_offsets_ok"}))
            .unwrap();
        assert_eq!(
            kafka.final_op(9, 2),
            None,
            "read past every acknowledged send"
        );
    }

    #[test]
    fn a_final_client_that_sees_nothing_new_gives_up() {
        let mut kafka = Kafka::new(1);
        let send = Invocation::new("send", json!([["send", "0", 1]]));
        ok(&mut kafka, &send, json!({"type": "send_ok", "offset": 0}));
        let assign = kafka.final_op(1, 0).unwrap();
        kafka.request(1, &assign);
        kafka
            .complete(
                1,
                &assign,
                &json!({"type": "list_committed_offsets_ok", "offsets": {}}),
            )
            .unwrap();
        for done in 1..=EMPTY_POLLS_TO_STOP {
            let poll = kafka.final_op(1, done).expect("still polling");
            kafka.request(1, &poll);
            kafka
                .complete(1, &poll, &json!({"type": "poll_ok", "msgs": {}}))
                .unwrap();
        }
        assert_eq!(kafka.final_op(1, EMPTY_POLLS_TO_STOP + 1), None);
    }
}
