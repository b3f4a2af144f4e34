//! The journal of every message's fate (received, dropped or still in
//! flight), written one JSON object a line, and the network's calls that
//! open, time and close it.

use std::cmp::Reverse;
use std::io::{BufWriter, Write};

use super::message::Pending;
use super::Network;
use crate::reach::Time;

/// Where each message's fate is written, one JSON object a line:
/// `{"id": n, "sent": ns, "fate": "received" | "dropped" | "in-flight",
/// "at": ns, "message": {...}}`, times in nanoseconds from the origin, the
/// start of the main phase as in the history (negative before it, as for
/// `init`). A dropped message's `at` is when its receiver took it off the
/// queue. Until the origin is set, entries wait in memory.
pub(super) struct Journal {
    out: BufWriter<Box<dyn Write>>,
    origin: Option<Time>,
    early: Vec<Entry>,
    failed: Option<std::io::Error>,
}

/// One message's fate.
struct Entry {
    id: u64,
    sent: Time,
    fate: &'static str,
    at: Option<Time>,
    line: String,
}

impl Journal {
    pub(super) fn record(&mut self, pending: &Pending, fate: &'static str, at: Option<Time>) {
        let entry = Entry {
            id: pending.id,
            sent: pending.sent,
            fate,
            at,
            line: String::new(),
        };
        match self.origin {
            Some(origin) => self.write(origin, &entry, &pending.packet.line),
            None => self.early.push(Entry {
                line: pending.packet.line.clone(),
                ..entry
            }),
        }
    }

    fn set_origin(&mut self, origin: Time) {
        self.origin = Some(origin);
        for entry in std::mem::take(&mut self.early) {
            self.write(origin, &entry, &entry.line);
        }
    }

    fn write(&mut self, origin: Time, entry: &Entry, line: &str) {
        if self.failed.is_some() {
            return;
        }
        let nanos = |t: Time| t.as_nanos() as i128 - origin.as_nanos() as i128;
        let at = entry
            .at
            .map_or_else(|| "null".to_owned(), |t| nanos(t).to_string());
        // The line is a message the bench parsed or built: valid JSON.
        if let Err(err) = writeln!(
            self.out,
            r#"{{"id":{},"sent":{},"fate":"{}","at":{at},"message":{line}}}"#,
            entry.id,
            nanos(entry.sent),
            entry.fate,
        ) {
            self.failed = Some(err);
        }
    }
}

impl Network {
    /// Writes the fate of every message from now on to `out` (see
    /// [`Network::set_journal_origin`] and [`Network::close_journal`]).
    pub fn journal_to(&mut self, out: impl Write + 'static) {
        self.journal = Some(Journal {
            out: BufWriter::new(Box::new(out)),
            origin: None,
            early: Vec::new(),
            failed: None,
        });
    }

    /// Sets the journal's time 0 (the start of the main phase); what was
    /// recorded before is written now, with negative times.
    pub fn set_journal_origin(&mut self, origin: Time) {
        if let Some(journal) = &mut self.journal {
            journal.set_origin(origin);
        }
    }

    /// Records the messages still in flight (queued or held) and flushes
    /// the journal (whose origin defaults to `now` if it was never set).
    /// The first write error, if any, is returned.
    pub fn close_journal(&mut self, now: Time) -> std::io::Result<()> {
        let Some(mut journal) = self.journal.take() else {
            return Ok(());
        };
        if journal.origin.is_none() {
            journal.set_origin(now);
        }
        let mut left: Vec<Pending> = Vec::new();
        for receiver in self.receivers.values_mut() {
            left.extend(receiver.holding.take().map(|(_, p)| p));
            left.extend(
                std::mem::take(&mut receiver.queue)
                    .into_iter()
                    .map(|Reverse(p)| p),
            );
        }
        left.sort_by_key(|p| p.id);
        for pending in &left {
            journal.record(pending, "in-flight", None);
        }
        match journal.failed.take() {
            Some(err) => Err(err),
            None => journal.out.flush(),
        }
    }
}
