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

/// Every entry of a run, in the order they happened.
#[derive(Debug, Default, Clone)]
pub struct History {
    pub ops: Vec<Op>,
}

impl History {
    /// Appends an entry and gives it the next index.
    pub fn push(
        &mut self,
        time: u64,
        kind: OpType,
        process: u64,
        f: &str,
        value: Value,
        error: Option<Value>,
    ) {
        let index = self.ops.len();
        self.ops.push(Op {
            index,
            time,
            kind,
            process,
            f: f.to_owned(),
            value,
            error,
            is_final: false,
        });
    }

    /// Reads a history written one JSON object a line (as Maelstrom's
    /// histories are converted). Only client operations are kept: entries
    /// whose process is not an integer (the nemesis) are skipped.
    pub fn from_jsonl(text: &str) -> Result<Self, String> {
        let mut ops = Vec::new();
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let entry: Value = serde_json::from_str(line)
                .map_err(|err| format!("history line {}: {err}", n + 1))?;
            if !entry["process"].is_u64() {
                continue;
            }
            let op = serde_json::from_value(entry)
                .map_err(|err| format!("history line {}: {err}", n + 1))?;
            ops.push(op);
        }
        Ok(History { ops })
    }

    /// Writes the history one JSON object a line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for op in &self.ops {
            out.push_str(&serde_json::to_string(op).expect("ops serialize"));
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
