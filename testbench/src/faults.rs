//! What the nodes did wrong: every fault counted by kind, with a bounded
//! number of examples each, so that a node printing gigabytes of garbage
//! costs the bench (and `results.json`) a few kilobytes. Beside the faults
//! that make a run invalid, notes: what a node did that Maelstrom answers
//! without failing the run (a node it stops listening to), which a user
//! must still see.

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// Examples kept per kind of fault.
pub const EXAMPLES_PER_KIND: usize = 10;
/// The longest example text kept; longer ones are cut with a note.
pub const MAX_EXAMPLE_CHARS: usize = 1000;

/// The faults of one run.
#[derive(Debug, Default)]
pub struct Faults {
    kinds: BTreeMap<&'static str, Kind>,
    notes: BTreeMap<&'static str, Kind>,
}

#[derive(Debug, Default)]
struct Kind {
    count: u64,
    examples: Vec<String>,
}

impl Faults {
    /// Records one fault of `kind` (a short stable name such as
    /// `not-a-message`) described by `text`.
    pub fn record(&mut self, kind: &'static str, text: impl Into<String>) {
        let entry = self.kinds.entry(kind).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES_PER_KIND {
            entry.examples.push(shorten(text.into()));
        }
    }

    /// Records one note of `kind`: something a node did that does not make
    /// the run invalid by itself (its consequences may).
    pub fn note(&mut self, kind: &'static str, text: impl Into<String>) {
        let entry = self.notes.entry(kind).or_default();
        entry.count += 1;
        if entry.examples.len() < EXAMPLES_PER_KIND {
            entry.examples.push(shorten(text.into()));
        }
    }

    /// Whether nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// How many faults were recorded in all.
    pub fn count(&self) -> u64 {
        self.kinds.values().map(|k| k.count).sum()
    }

    /// The first example recorded, of the first kind by name.
    pub fn first(&self) -> Option<&str> {
        self.kinds
            .values()
            .find_map(|k| k.examples.first())
            .map(String::as_str)
    }

    /// The `nodes` section of the results: `valid?`, the examples of every
    /// kind in one list (`errors`), and the counts by kind; the notes too
    /// (`notes`, `note-counts`) when there are any.
    pub fn to_json(&self) -> Value {
        let examples = |kinds: &BTreeMap<&'static str, Kind>| -> Vec<String> {
            kinds.values().flat_map(|k| k.examples.clone()).collect()
        };
        let counts = |kinds: &BTreeMap<&'static str, Kind>| -> serde_json::Map<String, Value> {
            kinds
                .iter()
                .map(|(kind, k)| ((*kind).to_owned(), json!(k.count)))
                .collect()
        };
        let mut json = json!({
            "valid?": self.is_empty(),
            "errors": examples(&self.kinds),
            "error-count": self.count(),
            "error-counts": counts(&self.kinds),
        });
        if !self.notes.is_empty() {
            json["notes"] = json!(examples(&self.notes));
            json["note-counts"] = json!(counts(&self.notes));
        }
        json
    }
}

/// Cuts `text` to [`MAX_EXAMPLE_CHARS`] characters, saying how much is left.
fn shorten(text: String) -> String {
    match text.char_indices().nth(MAX_EXAMPLE_CHARS) {
        None => text,
        Some((at, _)) => {
            let rest = text.len() - at;
            format!("{}... ({rest} more bytes)", &text[..at])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_is_counted_and_examples_are_bounded() {
        let mut faults = Faults::default();
        for i in 0..100_000 {
            faults.record("not-a-message", format!("line {i}: {}", "x".repeat(5000)));
        }
        faults.record("exited", "n2 exited (exit status: 3)");
        let json = faults.to_json();
        assert_eq!(json["valid?"], false);
        assert_eq!(json["error-count"], 100_001);
        assert_eq!(json["error-counts"]["not-a-message"], 100_000);
        let errors = json["errors"].as_array().unwrap();
        assert_eq!(errors.len(), EXAMPLES_PER_KIND + 1);
        assert!(json.to_string().len() < 20 * (MAX_EXAMPLE_CHARS + 100));
        assert!(errors[1].as_str().unwrap().ends_with("(4008 more bytes)"));
        assert_eq!(faults.first(), Some("n2 exited (exit status: 3)"));
    }

    #[test]
    fn a_note_is_reported_and_leaves_the_run_valid() {
        let mut faults = Faults::default();
        faults.note("silenced", "n0 replied to c9 after c9 gave up");
        assert!(faults.is_empty());
        let json = faults.to_json();
        assert_eq!(json["valid?"], true);
        assert_eq!(json["notes"][0], "n0 replied to c9 after c9 gave up");
        assert_eq!(json["note-counts"]["silenced"], 1);
    }

    #[test]
    fn no_fault_is_valid() {
        assert_eq!(Faults::default().to_json()["valid?"], true);
    }
}
