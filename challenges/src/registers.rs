//! The `lin-kv` workload's state machine: registers by key, written and
//! compare-and-set by commands that a replicated log orders, and read.
//!
//! A command's outcome is decided when it is applied, on every replica
//! alike: a compare-and-set whose key is missing or holds another value
//! changes nothing and fails with a definite error (20 or 22), since it
//! surely did not take effect.

use std::collections::HashMap;

use glomers::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A change to the registers, as it travels in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Sets `key` to `value`.
    Write { key: Value, value: Value },
    /// Sets `key` to `to` if it holds `from`.
    Cas { key: Value, from: Value, to: Value },
}

/// Registers, by key (any JSON value; keys that differ as JSON text are
/// different keys).
///
/// ```
/// use challenges::registers::{Command, Registers};
/// use glomers::ErrorCode;
/// use serde_json::json;
///
/// let mut registers = Registers::default();
/// registers.apply(&Command::Write { key: json!(1), value: json!(3) }).unwrap();
/// let cas = Command::Cas { key: json!(1), from: json!(4), to: json!(0) };
/// assert_eq!(registers.apply(&cas).unwrap_err().code, ErrorCode::PreconditionFailed);
/// assert_eq!(registers.read(&json!(1)), Ok(json!(3)));
/// ```
#[derive(Debug, Default)]
pub struct Registers {
    values: HashMap<String, Value>,
}

impl Registers {
    /// The value of `key`, or error 20 if it was never written.
    pub fn read(&self, key: &Value) -> Result<Value, Error> {
        self.values
            .get(&key.to_string())
            .cloned()
            .ok_or_else(|| missing(key))
    }

    /// Applies `command`; a compare-and-set that fails changes nothing.
    pub fn apply(&mut self, command: &Command) -> Result<(), Error> {
        match command {
            Command::Write { key, value } => {
                self.values.insert(key.to_string(), value.clone());
                Ok(())
            }
            Command::Cas { key, from, to } => {
                let current = self
                    .values
                    .get_mut(&key.to_string())
                    .ok_or_else(|| missing(key))?;
                if current != from {
                    return Err(Error::precondition_failed(format!(
                        "expected {from}, but key {key} holds {current}"
                    )));
                }
                *current = to.clone();
                Ok(())
            }
        }
    }
}

fn missing(key: &Value) -> Error {
    Error::key_does_not_exist(format!("key {key} does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use glomers::ErrorCode;
    use serde_json::json;

    fn cas(key: u64, from: u64, to: u64) -> Command {
        Command::Cas {
            key: json!(key),
            from: json!(from),
            to: json!(to),
        }
    }

    #[test]
    fn a_missing_key_fails_reads_and_cas_with_20() {
        let mut r = Registers::default();
        assert_eq!(
            r.read(&json!(1)).unwrap_err().code,
            ErrorCode::KeyDoesNotExist
        );
        assert_eq!(
            r.apply(&cas(1, 0, 1)).unwrap_err().code,
            ErrorCode::KeyDoesNotExist
        );
        assert_eq!(
            r.read(&json!(1)).unwrap_err().code,
            ErrorCode::KeyDoesNotExist
        );
    }

    #[test]
    fn cas_swaps_only_the_expected_value() {
        let mut r = Registers::default();
        let write = Command::Write {
            key: json!(1),
            value: json!(2),
        };
        r.apply(&write).unwrap();
        assert_eq!(
            r.apply(&cas(1, 3, 4)).unwrap_err().code,
            ErrorCode::PreconditionFailed
        );
        assert_eq!(r.read(&json!(1)), Ok(json!(2)));
        r.apply(&cas(1, 2, 4)).unwrap();
        assert_eq!(r.read(&json!(1)), Ok(json!(4)));
        assert_eq!(
            r.read(&json!("1")).unwrap_err().code,
            ErrorCode::KeyDoesNotExist
        );
    }
}
