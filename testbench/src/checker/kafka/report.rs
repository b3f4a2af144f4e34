//! Rendering the result: the counts, the kinds found and, per kind, the
//! most severe examples with the operations that show them, trimmed to the
//! key and offsets involved.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::parse::{mop_name, parse_key, Attempt, Parsed, Status};
use super::{Anomaly, Focus, Kind, MAX_EXAMPLES};
use crate::history::History;

/// How many neighbouring poll entries an example op keeps on each side.
const CONTEXT: usize = 3;
/// Longest JSON text (in characters) kept for an op value that is not trimmed.
const MAX_VALUE_CHARS: usize = 2000;

/// Trims one poll list to the entries around offsets `lo..=hi`.
fn window(entries: &[Value], lo: u64, hi: u64) -> (Vec<Value>, bool) {
    let offset = |e: &Value| e.get(0).and_then(Value::as_u64);
    let hits: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| offset(e).is_some_and(|o| lo <= o && o <= hi))
        .map(|(i, _)| i)
        .collect();
    let (start, end) = match (hits.first(), hits.last()) {
        (Some(&a), Some(&b)) => (a.saturating_sub(CONTEXT), b + CONTEXT + 1),
        _ => {
            let at = entries
                .iter()
                .position(|e| offset(e).is_some_and(|o| o >= lo))
                .unwrap_or(entries.len());
            (at.saturating_sub(CONTEXT), at + CONTEXT)
        }
    };
    let end = end.min(entries.len());
    let start = start.min(end);
    (
        entries[start..end].to_vec(),
        start > 0 || end < entries.len(),
    )
}

/// Caps the size of a value shown in a report.
fn capped(value: &Value) -> Value {
    let text = value.to_string();
    if text.chars().count() <= MAX_VALUE_CHARS {
        value.clone()
    } else {
        let mut cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
        cut.push_str("...");
        Value::String(cut)
    }
}

/// Renders an op for an example, trimmed to the key and offsets of interest.
fn render_op(history: &History, focus: &Focus) -> Value {
    let Some(op) = history.ops.get(focus.pos) else {
        return Value::Null;
    };
    let mut out = Map::new();
    out.insert("index".into(), json!(op.index));
    out.insert("process".into(), json!(op.process));
    out.insert(
        "type".into(),
        serde_json::to_value(op.kind).unwrap_or(Value::Null),
    );
    out.insert("f".into(), json!(op.f));
    out.insert("time".into(), json!(op.time));
    if op.is_final {
        out.insert("final?".into(), json!(true));
    }
    let mut trimmed = false;
    let value = match (&focus.key, op.value.as_array()) {
        (Some((key, lo, hi)), Some(mops)) => {
            let mut kept = Vec::new();
            for mop in mops {
                let parts = mop.as_array().map(Vec::as_slice).unwrap_or(&[]);
                match mop_name(mop) {
                    Some("poll") => match parts.get(1).and_then(Value::as_object) {
                        Some(map) => {
                            trimmed |= map.keys().any(|k| k != key);
                            let entries = map
                                .get(key)
                                .and_then(Value::as_array)
                                .map(Vec::as_slice)
                                .unwrap_or(&[]);
                            let (entries, cut) = window(entries, *lo, *hi);
                            trimmed |= cut;
                            let mut one = Map::new();
                            if map.contains_key(key) {
                                one.insert(key.clone(), Value::Array(entries));
                            }
                            kept.push(json!(["poll", one]));
                        }
                        None => kept.push(capped(mop)),
                    },
                    Some("send") if parse_key(parts.get(1)).as_ref() != Some(key) => {
                        trimmed = true;
                    }
                    _ => kept.push(capped(mop)),
                }
            }
            Value::Array(kept)
        }
        _ => capped(&op.value),
    };
    out.insert("value".into(), value);
    if trimmed {
        out.insert("trimmed?".into(), json!(true));
    }
    if let Some(error) = &op.error {
        out.insert("error".into(), capped(error));
    }
    Value::Object(out)
}

/// Builds the result object.
pub(super) fn report(history: &History, parsed: &Parsed, found: Vec<Anomaly>) -> Value {
    let mut by_kind: BTreeMap<Kind, Vec<Anomaly>> = BTreeMap::new();
    for anomaly in found {
        by_kind.entry(anomaly.kind).or_default().push(anomaly);
    }

    let mut out = Map::new();
    let mut types: Vec<&str> = by_kind.keys().map(|k| k.name()).collect();
    types.sort_unstable();
    let mut bad: Vec<&str> = by_kind
        .keys()
        .filter(|k| k.invalidates())
        .map(|k| k.name())
        .collect();
    bad.sort_unstable();
    out.insert("valid?".into(), json!(bad.is_empty()));
    out.insert("error-types".into(), json!(types));
    out.insert("bad-error-types".into(), json!(bad));

    let count = |f: &dyn Fn(&Attempt) -> bool| parsed.attempts.iter().filter(|a| f(a)).count();
    // Messages are unique per key (Maelstrom sends 1, 2, 3 ... to each).
    let polled: usize = parsed.keys.values().map(|s| s.readers.len()).sum();
    let unseen = by_kind.get(&Kind::Unseen).map_or(0, Vec::len);
    out.insert("send-count".into(), json!(parsed.attempts.len()));
    out.insert(
        "acknowledged-count".into(),
        json!(count(&|a| matches!(a.status, Status::Acked(_)))),
    );
    out.insert(
        "failed-send-count".into(),
        json!(count(&|a| a.status == Status::Failed)),
    );
    out.insert(
        "indefinite-send-count".into(),
        json!(count(&|a| a.status == Status::Indefinite)),
    );
    out.insert("polled-count".into(), json!(polled));
    out.insert("unseen-count".into(), json!(unseen));

    for (kind, mut anomalies) in by_kind {
        let mut entry = Map::new();
        entry.insert("count".into(), json!(anomalies.len()));
        if kind == Kind::Unseen {
            let mut per_key: BTreeMap<String, usize> = BTreeMap::new();
            for a in &anomalies {
                let k = a.detail.get("key").and_then(Value::as_str).unwrap_or("");
                *per_key.entry(k.to_owned()).or_default() += 1;
            }
            entry.insert("by-key".into(), json!(per_key));
        }
        anomalies.sort_by_key(|a| a.severity);
        let examples: Vec<Value> = anomalies
            .into_iter()
            .take(MAX_EXAMPLES)
            .map(|a| {
                let mut detail = a.detail;
                let ops = a.ops.iter().map(|f| render_op(history, f)).collect();
                detail.insert("ops".into(), Value::Array(ops));
                Value::Object(detail)
            })
            .collect();
        entry.insert("errors".into(), Value::Array(examples));
        out.insert(kind.name().into(), Value::Object(entry));
    }
    Value::Object(out)
}
