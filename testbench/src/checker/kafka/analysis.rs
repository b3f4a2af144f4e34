//! The checks, each adding what it finds to a list of anomalies: per key
//! (offsets, duplicates, unseen and lost writes, reads of messages that
//! failed, were never sent or were not sent yet), inside single operations,
//! and between successive operations of each process.

use std::collections::{BTreeSet, HashMap};

use serde_json::{json, Value};

use super::parse::{Attempt, Event, KeyState, Msg, Parsed, Status};
use super::{Anomaly, Focus, Kind, MAX_EXAMPLES};

/// Per-key checks: offsets, duplicates, unseen and lost writes, reads of
/// messages that failed, were never sent, or were not sent yet.
pub(super) fn check_keys(parsed: &Parsed, found: &mut Vec<Anomaly>) {
    for (k, state) in &parsed.keys {
        for (offset, msgs) in &state.log {
            if msgs.len() > 1 {
                found.push(Anomaly::new(
                    Kind::InconsistentOffsets,
                    0,
                    json!({
                        "key": k,
                        "offset": offset,
                        "messages": msgs.keys().map(Msg::json).collect::<Vec<_>>(),
                    }),
                    msgs.values()
                        .map(|&pos| Focus::at(pos, k, *offset, *offset))
                        .collect(),
                ));
            }
        }

        let mut dups: Vec<(&Msg, &BTreeSet<u64>)> = state
            .offsets_of
            .iter()
            .filter(|(_, offsets)| offsets.len() > 1)
            .collect();
        dups.sort();
        for (msg, offsets) in dups {
            let ops = offsets
                .iter()
                .filter_map(|o| {
                    let pos = state.log.get(o)?.get(msg)?;
                    Some(Focus::at(*pos, k, *o, *o))
                })
                .take(MAX_EXAMPLES)
                .collect();
            found.push(Anomaly::new(
                Kind::Duplicate,
                0,
                json!({
                    "key": k,
                    "message": msg.json(),
                    "offsets": offsets.iter().collect::<Vec<_>>(),
                }),
                ops,
            ));
        }

        let mut reads: Vec<(usize, &Msg)> = state.readers.iter().map(|(m, &p)| (p, m)).collect();
        reads.sort();
        for (reader, msg) in reads {
            let offset = state
                .offsets_of
                .get(msg)
                .and_then(|o| o.first())
                .copied()
                .unwrap_or(0);
            let tries: Vec<&Attempt> = state
                .attempts
                .get(msg)
                .map(|is| is.iter().filter_map(|&i| parsed.attempts.get(i)).collect())
                .unwrap_or_default();
            let detail = json!({ "key": k, "message": msg.json(), "offset": offset });
            let reader_focus = Focus::at(reader, k, offset, offset);
            if tries.is_empty() {
                found.push(Anomaly::new(
                    Kind::UnknownMessage,
                    0,
                    detail,
                    vec![reader_focus],
                ));
            } else if tries.iter().all(|a| a.status == Status::Failed) {
                let writer = tries[0].done_pos.unwrap_or(tries[0].invoke_pos);
                found.push(Anomaly::new(
                    Kind::AbortedRead,
                    0,
                    detail,
                    vec![Focus::at(writer, k, offset, offset), reader_focus],
                ));
            } else if let Some(sent) = tries
                .iter()
                .filter(|a| a.status != Status::Failed)
                .map(|a| a.invoke_pos)
                .min()
            {
                if sent > reader {
                    found.push(Anomaly::new(
                        Kind::FutureRead,
                        0,
                        detail,
                        vec![reader_focus, Focus::at(sent, k, offset, offset)],
                    ));
                }
            }
        }

        // The highest "first offset" of any polled message bounds what every
        // acknowledged message must have been polled below.
        let bound = state
            .readers
            .keys()
            .filter_map(|m| Some((*state.offsets_of.get(m)?.first()?, m)))
            .max();
        let mut unread: Vec<usize> = state
            .attempts
            .iter()
            .filter(|(m, _)| !state.readers.contains_key(*m))
            .flat_map(|(_, is)| is.iter().copied())
            .collect();
        unread.sort_unstable();
        for attempt in unread.iter().filter_map(|&i| parsed.attempts.get(i)) {
            let Status::Acked(offset) = attempt.status else {
                continue;
            };
            let writer = attempt.done_pos.unwrap_or(attempt.invoke_pos);
            let writer_focus = Focus::at(writer, k, offset, offset);
            let detail = json!({ "key": k, "message": attempt.msg.json(), "offset": offset });
            found.push(Anomaly::new(
                Kind::Unseen,
                0,
                detail.clone(),
                vec![writer_focus.clone()],
            ));
            let highest = state
                .offsets_of
                .get(&attempt.msg)
                .and_then(|o| o.last())
                .copied()
                .unwrap_or(offset);
            if let Some((max_offset, max_msg)) = bound {
                if highest <= max_offset {
                    let mut detail = detail;
                    if let Value::Object(map) = &mut detail {
                        map.insert("max-polled-offset".into(), json!(max_offset));
                        map.insert("max-polled-message".into(), max_msg.json());
                    }
                    let mut ops = vec![writer_focus];
                    if let Some(&reader) = state.readers.get(max_msg) {
                        ops.push(Focus::at(reader, k, max_offset, max_offset));
                    }
                    found.push(Anomaly::new(Kind::LostWrite, 0, detail, ops));
                }
            }
        }
    }
}

/// Compares two consecutive entries of one key by known-offset index.
/// Returns the anomaly, if any, for the given pair of kinds.
fn compare(
    state: &KeyState,
    key: &str,
    before: &(u64, Msg),
    after: &(u64, Msg),
    backwards: Kind,
    skip: Option<Kind>,
    ops: (usize, usize),
) -> Option<Anomaly> {
    let delta = state.rank(after.0) - state.rank(before.0);
    let focus = if ops.0 == ops.1 {
        vec![Focus::at(ops.0, key, before.0, after.0)]
    } else {
        vec![
            Focus::at(ops.0, key, before.0, before.0),
            Focus::at(ops.1, key, after.0, after.0),
        ]
    };
    let mut detail = json!({
        "key": key,
        "offsets": [before.0, after.0],
        "messages": [before.1.json(), after.1.json()],
        "delta": delta,
    });
    if delta < 1 {
        return Some(Anomaly::new(backwards, delta, detail, focus));
    }
    match skip {
        Some(kind) if delta > 1 => {
            if let Value::Object(map) = &mut detail {
                map.insert(
                    "skipped".into(),
                    Value::Array(state.between(before.0, after.0)),
                );
                map.insert("skipped-count".into(), json!(delta - 1));
            }
            Some(Anomaly::new(kind, -delta, detail, focus))
        }
        _ => None,
    }
}

/// Checks inside single operations.
pub(super) fn check_internal(parsed: &Parsed, found: &mut Vec<Anomaly>) {
    for op in &parsed.ok_ops {
        let groups = [
            (&op.reads, Kind::IntNonmonotonicPoll, Kind::IntPollSkip),
            (&op.sends, Kind::IntNonmonotonicSend, Kind::IntSendSkip),
        ];
        for (entries_by_key, backwards, skip) in groups {
            for (k, entries) in entries_by_key {
                let Some(state) = parsed.keys.get(k) else {
                    continue;
                };
                for pair in entries.windows(2) {
                    let ops = (op.pos, op.pos);
                    if let Some(a) =
                        compare(state, k, &pair[0], &pair[1], backwards, Some(skip), ops)
                    {
                        found.push(a);
                    }
                }
            }
        }
    }
}

/// Checks between successive operations of each process.
pub(super) fn check_processes(parsed: &Parsed, found: &mut Vec<Anomaly>) {
    for events in parsed.processes.values() {
        // Key -> (last entry polled, op position).
        let mut polled: HashMap<&str, (&(u64, Msg), usize)> = HashMap::new();
        let mut sent: HashMap<&str, (&(u64, Msg), usize)> = HashMap::new();
        for event in events {
            let index = match event {
                Event::Assign => {
                    polled.clear();
                    continue;
                }
                Event::Ok(index) => *index,
            };
            let Some(op) = parsed.ok_ops.get(index) else {
                continue;
            };
            let groups = [
                (
                    &op.reads,
                    &mut polled,
                    Kind::NonmonotonicPoll,
                    Some(Kind::PollSkip),
                ),
                (&op.sends, &mut sent, Kind::NonmonotonicSend, None),
            ];
            for (entries_by_key, last, backwards, skip) in groups {
                for (k, entries) in entries_by_key {
                    let (Some(first), Some(latest)) = (entries.first(), entries.last()) else {
                        continue;
                    };
                    if let (Some(&(prev, prev_pos)), Some(state)) =
                        (last.get(k.as_str()), parsed.keys.get(k))
                    {
                        let ops = (prev_pos, op.pos);
                        if let Some(a) = compare(state, k, prev, first, backwards, skip, ops) {
                            found.push(a);
                        }
                    }
                    last.insert(k.as_str(), (latest, op.pos));
                }
            }
        }
    }
}
