//! The history of client operations, as Jepsen records it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an entry of the history says of its operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// The client sent the request.
    Invoke,
    /// The operation happened.
    Ok,
    /// The operation surely did not happen (a definite error).
    Fail,
    /// Unknown: it may or may not have happened (timeout, indefinite error).
    Info,
}

/// One entry: an invocation or a completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Op {
    pub index: usize,
    /// Nanoseconds since the run started.
    pub time: u64,
    #[serde(rename = "type")]
    pub kind: OpType,
    pub process: u64,
    pub f: String,
    pub value: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Set on the final reads after the main phase.
    #[serde(rename = "final?", default, skip_serializing_if = "std::ops::Not::not")]
    pub is_final: bool,
}

/// Every entry of a run, in the order they happened: the client
/// operations the checkers read, and the nemesis's entries beside them.
/// Both share one sequence of indexes, as in Jepsen's history, so an
/// operation's `index` is its line in `history.jsonl`.
#[derive(Debug, Default, Clone)]
pub struct History {
    /// The client operations.
    pub ops: Vec<Op>,
    /// The nemesis's entries (`"process": "nemesis"`), whole.
    pub nemesis: Vec<Value>,
    next_index: usize,
}

impl History {
    /// Appends an entry of the main phase and gives it the next index.
    pub fn push(
        &mut self,
        time: u64,
        kind: OpType,
        process: u64,
        f: &str,
        value: Value,
        error: Option<Value>,
    ) {
        self.push_op(Op {
            index: 0,
            time,
            kind,
            process,
            f: f.to_owned(),
            value,
            error,
            is_final: false,
        });
    }

    /// Appends `op`, giving it the next index.
    pub fn push_op(&mut self, mut op: Op) {
        op.index = self.next_index;
        self.next_index += 1;
        self.ops.push(op);
    }

    /// Appends a nemesis entry (`type` info, `process` "nemesis") at `time`.
    pub fn push_nemesis(&mut self, time: u64, f: &str, value: Value) {
        self.nemesis.push(serde_json::json!({
            "index": self.next_index,
            "time": time,
            "type": "info",
            "process": "nemesis",
            "f": f,
            "value": value,
        }));
        self.next_index += 1;
    }

    /// Reads a history written one JSON object a line (as Maelstrom's
    /// histories are converted). Entries whose process is not an integer
    /// (the nemesis) are kept apart, in [`History::nemesis`].
    pub fn from_jsonl(text: &str) -> Result<Self, String> {
        let mut ops: Vec<Op> = Vec::new();
        let mut nemesis = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let entry: Value = serde_json::from_str(line)
                .map_err(|err| format!("history line {}: {err}", n + 1))?;
            if !entry["process"].is_u64() {
                nemesis.push(entry);
                continue;
            }
            let op = serde_json::from_value(entry)
                .map_err(|err| format!("history line {}: {err}", n + 1))?;
            ops.push(op);
        }
        let next_index = ops
            .iter()
            .map(|op| op.index + 1)
            .chain(
                nemesis
                    .iter()
                    .filter_map(|e| e["index"].as_u64().map(|i| i as usize + 1)),
            )
            .max()
            .unwrap_or(0);
        Ok(History {
            ops,
            nemesis,
            next_index,
        })
    }

    /// Writes the history one JSON object a line, client and nemesis
    /// entries in the order of their indexes.
    pub fn to_jsonl(&self) -> String {
        let mut lines: Vec<(usize, String)> = self
            .ops
            .iter()
            .map(|op| (op.index, serde_json::to_string(op).unwrap_or_default()))
            .chain(self.nemesis.iter().map(|entry| {
                let index = entry["index"].as_u64().unwrap_or(u64::MAX) as usize;
                (index, entry.to_string())
            }))
            .collect();
        lines.sort_by_key(|(index, _)| *index);
        let mut out = String::new();
        for (_, line) in lines {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Pairs each invocation with its completion (if any), by process.
    pub fn pairs(&self) -> Vec<(&Op, Option<&Op>)> {
        let mut open: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
        let mut pairs: Vec<(&Op, Option<&Op>)> = Vec::new();
        for op in &self.ops {
            match op.kind {
                OpType::Invoke => {
                    open.insert(op.process, pairs.len());
                    pairs.push((op, None));
                }
                _ => {
                    if let Some(at) = open.remove(&op.process) {
                        pairs[at].1 = Some(op);
                    }
                }
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nemesis_entries_share_the_index_sequence_and_survive_a_round_trip() {
        let mut history = History::default();
        history.push(10, OpType::Invoke, 0, "read", Value::Null, None);
        history.push_nemesis(15, "start-partition", json!("majority"));
        history.push(20, OpType::Ok, 0, "read", json!([1]), None);
        let text = history.to_jsonl();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let indexes: Vec<u64> = lines.iter().map(|l| l["index"].as_u64().unwrap()).collect();
        assert_eq!(indexes, [0, 1, 2]);
        assert_eq!(lines[1]["process"], "nemesis");
        let back = History::from_jsonl(&text).unwrap();
        assert_eq!(back.ops.len(), 2);
        assert_eq!(back.ops[1].index, 2);
        assert_eq!(back.nemesis.len(), 1);
        assert_eq!(back.to_jsonl(), text);
    }
}
