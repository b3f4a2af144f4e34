//! Checker for the `kafka` workload (Gossip Glomers challenge 5).
//!
//! The system under test keeps one append-only log per string *key*. A
//! `send` appends a *message* (unique to its key: Maelstrom sends 1, 2, 3
//! ... to each key) and is answered with the *offset* the message got; a
//! `poll` returns, per key, a run of `[offset, message]` pairs; an `assign`
//! tells a client which keys it consumes, after which the server may move
//! that client's position on those keys anywhere it likes.
//!
//! # The version order
//!
//! Every acknowledged send and every successful poll tells us that some
//! message sits at some offset of some key. Gathered over the whole history
//! this gives, per key, a map from offset to the message(s) seen there. Only
//! offsets that appear somewhere are *known*; offsets may be sparse (0, 5, 9
//! is a fine log). The *index* of a known offset is its rank among the known
//! offsets of its key, so distances ("did this poll jump over something?")
//! are counted in known offsets, never in raw offset numbers.
//!
//! # Anomalies
//!
//! Each kind below is reported under its own name in the result.
//!
//! * `inconsistent-offsets`: one offset of one key was seen holding two or
//!   more different messages (by sends and/or polls).
//! * `duplicate`: one message was seen at two or more different offsets of
//!   the same key.
//! * `lost-write`: a send was acknowledged at offset `o` of key `k`, no poll
//!   ever returned that message on `k`, and yet some poll returned a message
//!   of `k` whose lowest known offset is `o` or higher. The log moved past
//!   the message without ever showing it.
//! * `unseen`: a send was acknowledged but no poll ever returned the message
//!   on its key. Every lost write is also unseen; an unseen write need not be
//!   lost (nothing after it may have been read).
//! * `int-nonmonotonic-poll`: inside one poll's list for one key, an entry's
//!   index is not greater than the index of the entry before it (the list
//!   went backwards or repeated an offset).
//! * `int-poll-skip`: inside one poll's list for one key, two consecutive
//!   entries are more than one index apart: the poll jumped over a message
//!   known to exist.
//! * `nonmonotonic-poll`: two successive successful polls of the same key by
//!   one process, with no successful assign between them, where the second
//!   poll's first entry has an index not greater than the previous poll's
//!   last entry (the consumer went back, or read the same offset again).
//! * `poll-skip`: the same situation where the second poll's first entry is
//!   more than one index after the previous poll's last entry: the consumer
//!   jumped over a message known to exist.
//! * `nonmonotonic-send`: two successive acknowledged sends to the same key
//!   by one process where the later one got an offset not greater than the
//!   earlier one.
//! * `int-nonmonotonic-send` / `int-send-skip`: the same two ideas between
//!   consecutive sends to one key inside a single operation (only possible
//!   when an operation carries several sends; Maelstrom's kafka workload
//!   sends one message per operation, so these normally never show up).
//! * `G1a` (aborted read): a poll returned a message whose send definitely
//!   failed.
//! * `unknown-message`: a poll returned, on some key, a message that no
//!   operation ever tried to send to that key.
//! * `future-read`: a poll that completed before the message's send was
//!   even invoked returned that message.
//! * `malformed`: an operation whose value the checker cannot read (a
//!   completion with no offset, a negative offset, a poll result that is not
//!   a map of lists of pairs, ...). The unreadable part is ignored by every
//!   other analysis and reported here instead of aborting the check.
//!
//! # Validity
//!
//! As in Jepsen, every kind found makes the history invalid except
//! `int-send-skip` (transactional writers interleave, so gaps between two
//! sends of one operation are normal). Jepsen's Maelstrom setup assigns keys
//! (it does not subscribe), so `poll-skip` and `nonmonotonic-poll` count as
//! errors. `unseen` also invalidates, as it does in Jepsen: the workload ends
//! with a final phase in which every client assigns every key from offset 0
//! and polls until it has caught up, so an acknowledged message that nobody
//! ever polled by the end is a message the system failed to deliver. Sends
//! that failed, timed out (`info`) or never completed are never required to
//! show up: they may not have happened. `malformed` invalidates because the
//! checker could not vouch for those operations.
//!
//! # Departures from Jepsen
//!
//! * Jepsen's Elle cycle search is not done. Of what it would find in this
//!   workload, the direct case (reading a message before its send began) is
//!   reported as `future-read`. A polled message nobody sent makes Jepsen
//!   throw; here it is reported as `unknown-message`.
//! * Skip and nonmonotonic distances use the offsets the operations
//!   reported, ranked among the known offsets of the key. Jepsen looks the
//!   message up in its version order instead; the two agree unless a message
//!   sits at several offsets or an offset holds several messages, which are
//!   reported on their own anyway.
//! * An empty (or absent) poll result for a key leaves the process's
//!   position on that key unchanged, so a skip across an empty poll is still
//!   caught; Jepsen forgets the position in that case.
//! * A successful assign forgets the process's poll positions on every key,
//!   as Maelstrom's workload documentation says; Jepsen keeps them for keys
//!   that stay assigned. A failed assign changes nothing.
//! * Positions of sends are not forgotten at an assign: assignment concerns
//!   consuming, and an append-only log never gives a later send of one
//!   client a lower offset.
//! * Not a departure, but worth stating: the `lost-write` bound is Jepsen's
//!   "at or above", not "above". A poll that read a different message at the
//!   very offset of an acknowledged, never-polled message makes that message
//!   lost (and the offset inconsistent).
//! * Only `ok` completions contribute reads and offsets; `info` and `fail`
//!   completions carry no usable value in this bench.
//!
//! # Layout
//!
//! * this file: the entry point `check`, the anomaly kinds (`Kind`) and the
//!   anomalies found (`Anomaly`, `Focus`);
//! * `parse`: reading the history into per-key and per-process facts;
//! * `analysis`: the checks (per key, inside one operation, per process);
//! * `report`: rendering the examples and the result object;
//! * `tests`: the unit tests.

mod analysis;
mod parse;
mod report;
#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

use crate::history::History;

use crate::checker::anomalies::MAX_EXAMPLES;

/// Checks a `kafka` workload history and returns a JSON object with:
///
/// * `"valid?"`: false iff an invalidating anomaly was found;
/// * `"error-types"`: the names of every anomaly kind found, sorted, and
///   `"bad-error-types"`: those among them that invalidate;
/// * `"send-count"` (attempted sends), `"acknowledged-count"` (`ok` sends),
///   `"failed-send-count"`, `"indefinite-send-count"` (`info` or never
///   completed), `"polled-count"` (distinct messages, per key, returned by `ok` polls)
///   and `"unseen-count"` (acknowledged sends never polled on their key);
/// * for each kind found, `{"count": n, "errors": [...]}` with at most 8
///   examples (the largest skips and the furthest steps back first). Each
///   example names the key, offsets and messages involved and lists under
///   `"ops"` the completions (or invocations) that show it, their values
///   trimmed to that key and the entries around those offsets. `"unseen"`
///   also has `"by-key"` counts;
/// * `"check-seconds"`: how long the check took.
///
/// Never panics: values it cannot read are reported as `malformed`.
pub fn check(history: &History) -> Value {
    let started = std::time::Instant::now();
    let parsed = parse::Parsed::new(history);
    let mut found = parsed.malformed.clone();
    analysis::check_keys(&parsed, &mut found);
    analysis::check_internal(&parsed, &mut found);
    analysis::check_processes(&parsed, &mut found);
    let mut result = report::report(history, &parsed, found);
    result["check-seconds"] = started.elapsed().as_secs_f64().into();
    result
}

/// The anomaly kinds, in the order of their names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `G1a`: a poll returned a message whose send definitely failed.
    AbortedRead,
    /// `duplicate`: one message seen at several offsets of one key.
    Duplicate,
    /// `future-read`: a message polled before its send was invoked.
    FutureRead,
    /// `inconsistent-offsets`: one offset of one key holding several messages.
    InconsistentOffsets,
    /// `int-nonmonotonic-poll`: one poll's list went backwards or repeated.
    IntNonmonotonicPoll,
    /// `int-nonmonotonic-send`: within one operation, a later send to a key
    /// got an offset not above an earlier one.
    IntNonmonotonicSend,
    /// `int-poll-skip`: one poll's list jumped over a known entry.
    IntPollSkip,
    /// `int-send-skip`: two sends of one operation are not adjacent.
    IntSendSkip,
    /// `lost-write`: an acknowledged message never polled, although the log
    /// was read at or past its offset.
    LostWrite,
    /// `malformed`: an operation value the checker cannot read.
    Malformed,
    /// `nonmonotonic-poll`: a process's poll went back from its previous one.
    NonmonotonicPoll,
    /// `nonmonotonic-send`: a process's send got an offset not above its
    /// previous send to the key.
    NonmonotonicSend,
    /// `poll-skip`: a process's poll jumped over a known entry.
    PollSkip,
    /// `unknown-message`: a polled message nobody tried to send to that key.
    UnknownMessage,
    /// `unseen`: an acknowledged message never polled on its key.
    Unseen,
}

impl Kind {
    /// The name the kind is reported under.
    fn name(self) -> &'static str {
        match self {
            Kind::AbortedRead => "G1a",
            Kind::Duplicate => "duplicate",
            Kind::FutureRead => "future-read",
            Kind::InconsistentOffsets => "inconsistent-offsets",
            Kind::IntNonmonotonicPoll => "int-nonmonotonic-poll",
            Kind::IntNonmonotonicSend => "int-nonmonotonic-send",
            Kind::IntPollSkip => "int-poll-skip",
            Kind::IntSendSkip => "int-send-skip",
            Kind::LostWrite => "lost-write",
            Kind::Malformed => "malformed",
            Kind::NonmonotonicPoll => "nonmonotonic-poll",
            Kind::NonmonotonicSend => "nonmonotonic-send",
            Kind::PollSkip => "poll-skip",
            Kind::UnknownMessage => "unknown-message",
            Kind::Unseen => "unseen",
        }
    }

    /// Whether finding this kind makes the history invalid.
    fn invalidates(self) -> bool {
        self != Kind::IntSendSkip
    }
}

/// An operation an example points at, with the part of its value to show.
#[derive(Debug, Clone)]
struct Focus {
    /// Position in `History::ops`.
    pos: usize,
    /// Key to trim the value to, and offsets of interest on it.
    key: Option<(String, u64, u64)>,
}

impl Focus {
    /// The whole operation at `pos`, value untrimmed.
    fn whole(pos: usize) -> Focus {
        Focus { pos, key: None }
    }

    /// The operation at `pos`, trimmed to `key` around offsets `lo` and `hi`
    /// (in either order).
    fn at(pos: usize, key: &str, lo: u64, hi: u64) -> Focus {
        Focus {
            pos,
            key: Some((key.to_owned(), lo.min(hi), lo.max(hi))),
        }
    }
}

/// One anomaly found.
#[derive(Debug, Clone)]
struct Anomaly {
    /// What was found.
    kind: Kind,
    /// Lower shows first among the examples of a kind.
    severity: i64,
    /// The example's fields (key, offsets, messages, ...), without `"ops"`.
    detail: Map<String, Value>,
    /// The operations that show it, rendered under `"ops"`.
    ops: Vec<Focus>,
}

impl Anomaly {
    /// An anomaly; a `detail` that is not a JSON object is kept under
    /// `"detail"`.
    fn new(kind: Kind, severity: i64, detail: Value, ops: Vec<Focus>) -> Anomaly {
        let detail = match detail {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("detail".into(), other);
                map
            }
        };
        Anomaly {
            kind,
            severity,
            detail,
            ops,
        }
    }

    /// A `malformed` anomaly about the operation at `pos`.
    fn malformed(pos: usize, problem: String) -> Anomaly {
        Anomaly::new(
            Kind::Malformed,
            0,
            json!({ "problem": problem }),
            vec![Focus::whole(pos)],
        )
    }
}
