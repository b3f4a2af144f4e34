//! What the checkers share to report anomalies: a bounded set of examples
//! per anomaly type, and how an operation is shown in one. A leaf module:
//! it depends on no checker.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::history::Op;

/// Most examples any checker keeps per anomaly type.
pub const MAX_EXAMPLES: usize = 8;

/// The anomalies found so far: type → how many in all, and the first
/// [`MAX_EXAMPLES`] examples.
#[derive(Debug, Default)]
pub struct Anomalies {
    by_type: BTreeMap<&'static str, (usize, Vec<Value>)>,
}

impl Anomalies {
    /// Records one anomaly; the example is only built if it will be kept.
    pub fn add(&mut self, kind: &'static str, example: impl FnOnce() -> Value) {
        let (count, examples) = self.by_type.entry(kind).or_default();
        *count += 1;
        if examples.len() < MAX_EXAMPLES {
            examples.push(example());
        }
    }

    /// The anomaly types found, sorted.
    pub fn types(&self) -> Vec<&'static str> {
        self.by_type.keys().copied().collect()
    }

    /// Each type with its count and examples, sorted by type.
    pub fn into_types(self) -> impl Iterator<Item = (&'static str, usize, Vec<Value>)> {
        self.by_type
            .into_iter()
            .map(|(kind, (count, examples))| (kind, count, examples))
    }
}

/// An entry of the history as JSON, for an example.
pub fn op_json(op: &Op) -> Value {
    serde_json::to_value(op).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_everything_and_keeps_a_few_examples() {
        let mut found = Anomalies::default();
        let mut built = 0;
        for i in 0..100 {
            found.add("G0", || {
                built += 1;
                json!(i)
            });
        }
        found.add("G1a", || json!("x"));
        assert_eq!(
            built, MAX_EXAMPLES,
            "examples past the bound are never built"
        );
        assert_eq!(found.types(), ["G0", "G1a"]);
        let all: Vec<_> = found.into_types().collect();
        assert_eq!(all[0].1, 100);
        assert_eq!(all[0].2.len(), MAX_EXAMPLES);
    }
}
