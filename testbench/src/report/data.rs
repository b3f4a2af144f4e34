//! What a run's stored files say, loaded once for every picture:
//! `history.jsonl` (client operations and nemesis entries), `messages.jsonl`
//! (the network journal), `results.json` and, when present, `test.json`.
//!
//! Everything drawn is a function of these files, so a run written by the
//! bench, by the simulator or copied from someone else draws the same.

use serde_json::Value;

use crate::config::Config;
use crate::history::{History, Op, OpType};
use crate::store::RunDir;

/// A run's files, parsed.
#[derive(Debug, Default)]
pub struct RunData {
    /// Client operations, in file order.
    pub history: History,
    /// History entries that are not client operations (their `process` is
    /// not a number, such as `"nemesis"`), in file order.
    pub nemesis: Vec<Value>,
    /// The journal: one entry per message.
    pub messages: Vec<Message>,
    /// `results.json` (`Null` when missing).
    pub results: Value,
    /// `test.json`, when the run stored it.
    pub config: Option<Config>,
}

/// One message of the journal and its fate.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Its line in `messages.jsonl`, from 1.
    pub line: usize,
    /// When it was sent (ns from the start of the main phase).
    pub sent: i64,
    /// What became of it.
    pub fate: Fate,
    /// When it arrived or was dropped (`None` when still in flight).
    pub at: Option<i64>,
    pub src: String,
    pub dest: String,
    /// Its body's `type` (`"?"` when it has none).
    pub kind: String,
    pub body: Value,
}

/// A message's fate in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    Received,
    /// Dropped on arrival by a partition.
    Dropped,
    /// Still travelling when the run ended.
    InFlight,
}

impl RunData {
    /// Reads the stored run `run`. A missing journal or history counts as
    /// empty; a line that does not parse is an error naming it.
    pub fn load(run: &RunDir) -> Result<RunData, String> {
        let (history, nemesis) = parse_history(&run.history_text()?)?;
        let messages = parse_journal(&run.journal_text()?)?;
        let results = run.results()?;
        let config = run.config().ok();
        Ok(RunData {
            history,
            nemesis,
            messages,
            results,
            config,
        })
    }

    /// The last time anything happened (ns), 0 for an empty run.
    pub fn end(&self) -> i64 {
        let ops = self.history.ops.iter().map(|op| op.time as i64);
        let messages = self
            .messages
            .iter()
            .map(|m| m.at.unwrap_or(m.sent).max(m.sent));
        let nemesis = self.nemesis.iter().filter_map(|e| e["time"].as_i64());
        ops.chain(messages).chain(nemesis).max().unwrap_or(0).max(0)
    }

    /// When the nemesis was healed for good before the final reads, as far
    /// as the files tell: after the main phase's last operation ended (and
    /// not before the time limit, when `test.json` gives it).
    pub fn main_phase_end(&self) -> i64 {
        let last = self
            .history
            .ops
            .iter()
            .filter(|op| !op.is_final)
            .map(|op| op.time as i64)
            .max()
            .unwrap_or(0);
        let limit = self
            .config
            .as_ref()
            .map_or(0, |c| (c.time_limit * 1e9) as i64);
        last.max(limit)
    }

    /// Each invocation with its completion (if any), by process.
    pub fn pairs(&self) -> Vec<(&Op, Option<&Op>)> {
        self.history.pairs()
    }
}

/// Splits a history into client operations and the other entries (the
/// nemesis's).
pub fn parse_history(text: &str) -> Result<(History, Vec<Value>), String> {
    let mut history = History::from_jsonl(text)?;
    let others = std::mem::take(&mut history.nemesis);
    Ok((history, others))
}

/// Reads the network journal.
pub fn parse_journal(text: &str) -> Result<Vec<Message>, String> {
    let mut messages = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("messages.jsonl line {}: {what}", n + 1);
        let entry: Value = serde_json::from_str(line).map_err(|err| bad(&err.to_string()))?;
        let fate = match entry["fate"].as_str() {
            Some("received") => Fate::Received,
            Some("dropped") => Fate::Dropped,
            Some("in-flight") => Fate::InFlight,
            _ => return Err(bad("no known `fate`")),
        };
        let sent = entry["sent"]
            .as_i64()
            .ok_or_else(|| bad("no `sent` time"))?;
        let message = &entry["message"];
        let id = |field: &str| message[field].as_str().unwrap_or("?").to_owned();
        let body = message["body"].clone();
        messages.push(Message {
            line: n + 1,
            sent,
            fate,
            at: entry["at"].as_i64(),
            src: id("src"),
            dest: id("dest"),
            kind: body["type"].as_str().unwrap_or("?").to_owned(),
            body,
        });
    }
    Ok(messages)
}

/// An operation's outcome, for colours and series.
pub fn outcome(kind: OpType) -> &'static str {
    match kind {
        OpType::Invoke => "invoke",
        OpType::Ok => "ok",
        OpType::Fail => "fail",
        OpType::Info => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nemesis_entries_are_set_apart_and_journal_fates_read() {
        let history = r#"{"index":0,"time":5,"type":"invoke","process":0,"f":"read","value":null}
{"index":1,"time":6,"type":"info","process":"nemesis","f":"start-partition","value":"majority"}
{"index":2,"time":9,"type":"ok","process":0,"f":"read","value":[]}
"#;
        let (ops, nemesis) = parse_history(history).unwrap();
        assert_eq!(ops.ops.len(), 2);
        assert_eq!(nemesis.len(), 1);
        let journal = r#"{"sent":-5,"fate":"received","at":-5,"message":{"src":"c1","dest":"n0","body":{"type":"init","msg_id":1}}}
{"sent":3,"fate":"dropped","at":8,"message":{"src":"n0","dest":"n1","body":{"type":"gossip"}},"extra":1}
{"sent":4,"fate":"in-flight","at":null,"message":{"src":"n1","dest":"n0","body":{}}}
"#;
        let messages = parse_journal(journal).unwrap();
        assert_eq!(
            messages.iter().map(|m| m.fate).collect::<Vec<_>>(),
            [Fate::Received, Fate::Dropped, Fate::InFlight]
        );
        assert_eq!(messages[1].line, 2);
        assert_eq!(messages[1].at, Some(8));
        assert_eq!(messages[2].kind, "?");
        assert!(parse_journal(r#"{"sent":1,"fate":"lost"}"#).is_err());
    }
}
