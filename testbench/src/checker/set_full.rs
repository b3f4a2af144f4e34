//! The set checker of broadcast and g-set (Jepsen's `set-full`): for each
//! added element, whether reads came to show it for good (stable), stopped
//! showing it (lost), or never showed it, and how long it took to become
//! stable.
//!
//! Walking the history in order, an element is tracked from its add's
//! invocation. It becomes *known* at its add's `ok` or at the completion of
//! the first read that shows it, whichever comes first. Each `ok` read, taken
//! at its invocation, is the element's latest *present* or latest *absent*
//! read. An element is stable if some read showed it and no later-invoked
//! read lacked it; lost if it was known and a read invoked after both the
//! last one showing it and the moment it was known lacked it. The stable
//! latency is the time from known to just after the last absent read's
//! invocation (0 if none), in whole milliseconds, truncated.
//!
//! Beyond Maelstrom, reads that show values nobody ever added are reported
//! as `unexpected` and make the result invalid (Maelstrom ignores them).

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::history::{History, Op, OpType};

/// The quantiles Maelstrom reports.
const POINTS: [(f64, &str); 5] = [
    (0.0, "0"),
    (0.5, "0.5"),
    (0.95, "0.95"),
    (0.99, "0.99"),
    (1.0, "1"),
];

struct Element<'h> {
    value: &'h Value,
    known: Option<&'h Op>,
    last_present: Option<&'h Op>,
    last_absent: Option<&'h Op>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Stable,
    Lost,
    NeverRead,
}

/// Checks a history whose adds are `add_f` (`"broadcast"` or `"add"`) and
/// whose reads are `"read"` returning a list.
pub fn check(history: &History, add_f: &str) -> Value {
    let mut elements: Vec<Element> = Vec::new();
    let mut by_value: HashMap<String, usize> = HashMap::new();
    let mut invocations: HashMap<u64, &Op> = HashMap::new();
    let mut duplicated: HashMap<String, (Value, usize)> = HashMap::new();
    let mut present = Vec::new();
    let added: std::collections::HashSet<String> = history
        .ops
        .iter()
        .filter(|op| op.f == add_f && op.kind == OpType::Invoke)
        .map(|op| op.value.to_string())
        .collect();
    let mut unexpected: HashMap<String, Value> = HashMap::new();
    for op in &history.ops {
        if op.kind == OpType::Invoke {
            invocations.insert(op.process, op);
        }
        if op.f == add_f {
            let key = op.value.to_string();
            match op.kind {
                OpType::Invoke => {
                    let element = Element {
                        value: &op.value,
                        known: None,
                        last_present: None,
                        last_absent: None,
                    };
                    match by_value.get(&key) {
                        Some(&at) => elements[at] = element,
                        None => {
                            by_value.insert(key, elements.len());
                            elements.push(element);
                        }
                    }
                }
                OpType::Ok => {
                    if let Some(&at) = by_value.get(&key) {
                        elements[at].known.get_or_insert(op);
                    }
                }
                OpType::Fail | OpType::Info => {}
            }
        } else if op.f == "read" && op.kind == OpType::Ok {
            let Some(&invoke) = invocations.get(&op.process) else {
                continue;
            };
            present.clear();
            present.resize(elements.len(), false);
            let mut seen: HashMap<String, usize> = HashMap::new();
            for value in op.value.as_array().into_iter().flatten() {
                let key = value.to_string();
                let times = seen.entry(key.clone()).or_default();
                *times += 1;
                if *times > 1 {
                    let entry = duplicated.entry(key.clone()).or_insert((value.clone(), 0));
                    entry.1 = entry.1.max(*times);
                }
                if let Some(&at) = by_value.get(&key) {
                    present[at] = true;
                } else if !added.contains(&key) {
                    unexpected.entry(key).or_insert_with(|| value.clone());
                }
            }
            for (element, &shown) in elements.iter_mut().zip(&present) {
                let slot = if shown {
                    element.known.get_or_insert(op);
                    &mut element.last_present
                } else {
                    &mut element.last_absent
                };
                if slot.is_none_or(|last| last.index < invoke.index) {
                    *slot = Some(invoke);
                }
            }
        }
    }
    let mut result = summarise(&elements, duplicated);
    let mut unexpected: Vec<Value> = unexpected.into_values().collect();
    unexpected.sort_by(compare_values);
    if !unexpected.is_empty() {
        result["valid?"] = json!(false);
    }
    result["unexpected-count"] = json!(unexpected.len());
    result["unexpected"] = json!(unexpected);
    result
}

fn outcome(element: &Element) -> Outcome {
    let index = |op: Option<&Op>| op.map_or(-1, |op| op.index as i64);
    let (present, absent) = (index(element.last_present), index(element.last_absent));
    if element.last_present.is_some() && absent < present {
        Outcome::Stable
    } else if element
        .known
        .is_some_and(|known| (known.index as i64) < absent)
        && present < absent
    {
        Outcome::Lost
    } else {
        Outcome::NeverRead
    }
}

/// Whole milliseconds from `known` to `until` (nanoseconds), truncated, ≥ 0.
fn latency(known: &Op, until: u64) -> u64 {
    until.saturating_sub(known.time) / 1_000_000
}

/// `(element, outcome, stable latency, lost latency)` for each element.
type Verdict<'e, 'h> = (&'e Element<'h>, Outcome, Option<u64>, Option<u64>);

fn summarise(elements: &[Element], duplicated: HashMap<String, (Value, usize)>) -> Value {
    let verdicts: Vec<Verdict> = elements
        .iter()
        .map(|element| {
            let outcome = outcome(element);
            let after = |op: Option<&Op>| op.map_or(0, |op| op.time + 1);
            let known = element.known;
            let stable = (outcome == Outcome::Stable).then(|| {
                latency(
                    known.expect("stable means shown"),
                    after(element.last_absent),
                )
            });
            let lost = (outcome == Outcome::Lost).then(|| {
                latency(
                    known.expect("lost means known"),
                    after(element.last_present),
                )
            });
            (element, outcome, stable, lost)
        })
        .collect();
    let values = |wanted: Outcome| -> Vec<Value> {
        let mut values: Vec<Value> = verdicts
            .iter()
            .filter(|(_, outcome, ..)| *outcome == wanted)
            .map(|(element, ..)| element.value.clone())
            .collect();
        values.sort_by(compare_values);
        values
    };
    let lost = values(Outcome::Lost);
    let never_read = values(Outcome::NeverRead);
    let stable_count = verdicts.iter().filter(|v| v.1 == Outcome::Stable).count();
    let mut stale: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| v.2.is_some_and(|l| l > 0))
        .collect();
    stale.sort_by(|a, b| compare_values(a.0.value, b.0.value));
    // Ascending by latency (ties in element order), then reversed: the
    // order Maelstrom lists them in.
    let mut worst = stale.clone();
    worst.sort_by_key(|v| v.2);
    worst.reverse();
    let worst_stale: Vec<Value> = worst
        .iter()
        .take(8)
        .map(|(element, _, latency, _)| {
            json!({
                "element": element.value,
                "outcome": "stable",
                "stable-latency": latency,
                "known": element.known,
                "last-absent": element.last_absent,
            })
        })
        .collect();
    let valid = if !lost.is_empty() {
        json!(false)
    } else if stable_count == 0 {
        json!("unknown")
    } else {
        json!(true)
    };
    let mut duplicated: Vec<(Value, usize)> = duplicated.into_values().collect();
    duplicated.sort_by(|a, b| compare_values(&a.0, &b.0));
    let mut result = json!({
        "valid?": valid,
        "attempt-count": elements.len(),
        "stable-count": stable_count,
        "lost-count": lost.len(),
        "lost": lost,
        "never-read-count": never_read.len(),
        "never-read": never_read,
        "stale-count": stale.len(),
        "stale": stale.iter().map(|v| v.0.value.clone()).collect::<Vec<_>>(),
        "worst-stale": worst_stale,
        "duplicated-count": duplicated.len(),
        "duplicated": duplicated.iter().map(|(v, n)| json!({"element": v, "count": n})).collect::<Vec<_>>(),
    });
    let stable: Vec<u64> = verdicts.iter().filter_map(|v| v.2).collect();
    let lost_latencies: Vec<u64> = verdicts.iter().filter_map(|v| v.3).collect();
    if let Some(q) = quantiles(stable) {
        result["stable-latencies"] = q;
    }
    if let Some(q) = quantiles(lost_latencies) {
        result["lost-latencies"] = q;
    }
    result
}

/// Maelstrom's quantiles: the element at ⌊n·p⌋ of the sorted values.
pub fn quantiles(mut values: Vec<u64>) -> Option<Value> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let mut out = serde_json::Map::new();
    for (p, name) in POINTS {
        let at = ((n as f64 * p).floor() as usize).min(n - 1);
        out.insert(name.to_owned(), json!(values[at]));
    }
    Some(Value::Object(out))
}

/// Numbers by value, then anything else by its JSON text.
fn compare_values(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::OpType::*;

    /// A history from `(time ms, type, process, f, value)` rows.
    fn history(rows: &[(u64, OpType, u64, &str, Value)]) -> History {
        let mut h = History::default();
        for (time, kind, process, f, value) in rows {
            h.push(time * 1_000_000, *kind, *process, f, value.clone(), None);
        }
        h
    }

    #[test]
    fn an_element_every_later_read_shows_is_stable() {
        let h = history(&[
            (0, Invoke, 0, "broadcast", json!(1)),
            (10, Ok, 0, "broadcast", json!(1)),
            (20, Invoke, 1, "read", Value::Null),
            (21, Ok, 1, "read", json!([])),
            (150, Invoke, 1, "read", Value::Null),
            (151, Ok, 1, "read", json!([1])),
        ]);
        let result = check(&h, "broadcast");
        assert_eq!(result["valid?"], true);
        assert_eq!(result["stable-count"], 1);
        // From the ack at 10 ms to just after the absent read's invocation at 20 ms.
        assert_eq!(result["stable-latencies"]["0.5"], 10);
        assert_eq!(result["stale"], json!([1]));
    }

    #[test]
    fn an_element_that_disappears_is_lost() {
        let h = history(&[
            (0, Invoke, 0, "add", json!(7)),
            (1, Ok, 0, "add", json!(7)),
            (2, Invoke, 1, "read", Value::Null),
            (3, Ok, 1, "read", json!([7])),
            (4, Invoke, 1, "read", Value::Null),
            (5, Ok, 1, "read", json!([])),
        ]);
        let result = check(&h, "add");
        assert_eq!(result["valid?"], false);
        assert_eq!(result["lost"], json!([7]));
        // From the ack at 1 ms to just after the last read showing it, at 2 ms.
        assert_eq!(result["lost-latencies"]["1"], 1);
    }

    #[test]
    fn unacknowledged_never_seen_elements_are_not_lost() {
        let h = history(&[
            (0, Invoke, 0, "add", json!(1)),
            (1, Info, 0, "add", json!(1)),
            (2, Invoke, 2, "add", json!(2)),
            (3, Ok, 2, "add", json!(2)),
            (4, Invoke, 1, "read", Value::Null),
            (5, Ok, 1, "read", json!([2, 2])),
        ]);
        let result = check(&h, "add");
        assert_eq!(result["valid?"], true);
        assert_eq!(result["never-read"], json!([1]));
        assert_eq!(result["stable-count"], 1);
        assert_eq!(result["duplicated"], json!([{"element": 2, "count": 2}]));
    }

    #[test]
    fn values_nobody_added_are_unexpected() {
        let h = history(&[
            (0, Invoke, 0, "add", json!(1)),
            (1, Ok, 0, "add", json!(1)),
            (2, Invoke, 1, "read", Value::Null),
            (3, Ok, 1, "read", json!([1, 99])),
        ]);
        let result = check(&h, "add");
        assert_eq!(result["valid?"], false);
        assert_eq!(result["unexpected"], json!([99]));
    }

    #[test]
    fn nothing_read_is_unknown() {
        let h = history(&[(0, Invoke, 0, "add", json!(1)), (1, Ok, 0, "add", json!(1))]);
        assert_eq!(check(&h, "add")["valid?"], "unknown");
    }

    #[test]
    fn quantiles_pick_floor_of_n_p() {
        let q = quantiles((1..=10).collect()).unwrap();
        assert_eq!(
            q,
            json!({"0": 1, "0.5": 6, "0.95": 10, "0.99": 10, "1": 10})
        );
    }
}
