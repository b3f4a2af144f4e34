//! Transactions of reads and appends over immutable database values, in
//! the style of Datomic: a stored value is never changed; a commit reads
//! the current database and stores the next one, and a single linearizable
//! pointer, the root, names the current database.
//!
//! A database value is stored as a chain of [`Commit`]s: each holds only
//! the elements its transactions appended and the id of the commit before
//! it, so storing a commit costs the size of its changes, not of the
//! database. A node keeps the latest [`Database`] it has assembled and
//! fetches only the commits it has not seen (usually the one or two that
//! other nodes made since). Every [`CHECKPOINT_EVERY`]th commit also stores
//! the whole database as a [`Checkpoint`], so that a node far behind loads
//! that instead of walking the whole chain.
//!
//! This module is the pure part: running a batch of transactions on a
//! database, and applying commits. Storing, fetching and moving the root is
//! the `list-append` node's business.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One micro-operation as the workload sends it: `["r", key, null]` or
/// `["append", key, element]`; reads come back with the list read.
pub type MicroOp = (String, u64, Value);

/// Every key's list.
pub type Lists = BTreeMap<u64, Vec<Value>>;

/// How often a commit stores the whole database beside itself.
pub const CHECKPOINT_EVERY: u64 = 64;

/// One committed step: the elements appended to each key since commit
/// `prev` (`""` for the empty database), the commit's number in the chain,
/// and the latest checkpoint at or before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Commit {
    pub seq: u64,
    pub prev: String,
    pub appended: Lists,
    pub checkpoint: Option<String>,
}

/// The whole database as of commit `id`, number `seq`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub id: String,
    pub seq: u64,
    pub lists: Lists,
}

/// A database value assembled from commits: as of commit `id` (`""`, the
/// empty database, before the first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Database {
    pub id: String,
    pub seq: u64,
    pub lists: Lists,
    /// The latest checkpoint at or before this commit.
    pub checkpoint: Option<String>,
}

impl Database {
    /// The database of a checkpoint stored as `checkpoint_id`.
    pub fn from_checkpoint(checkpoint_id: &str, checkpoint: Checkpoint) -> Self {
        Database {
            id: checkpoint.id,
            seq: checkpoint.seq,
            lists: checkpoint.lists,
            checkpoint: Some(checkpoint_id.to_owned()),
        }
    }

    /// Moves to commit `id`, which must follow this database; `false`
    /// (and no change) if it does not.
    pub fn apply(&mut self, id: &str, commit: &Commit) -> bool {
        if commit.prev != self.id || commit.seq != self.seq + 1 {
            return false;
        }
        for (key, elements) in &commit.appended {
            self.lists
                .entry(*key)
                .or_default()
                .extend(elements.iter().cloned());
        }
        self.id = id.to_owned();
        self.seq = commit.seq;
        self.checkpoint.clone_from(&commit.checkpoint);
        true
    }

    /// The commit that follows this database with `appended`, and whether
    /// it is due to store a checkpoint (the caller stores it, then sets the
    /// commit's `checkpoint`).
    pub fn next_commit(&self, appended: Lists) -> (Commit, bool) {
        let seq = self.seq + 1;
        let commit = Commit {
            seq,
            prev: self.id.clone(),
            appended,
            checkpoint: self.checkpoint.clone(),
        };
        (commit, seq % CHECKPOINT_EVERY == 0)
    }
}

/// Checks that every micro-operation of `txn` is a read or an append.
pub fn validate(txn: &[MicroOp]) -> Result<(), String> {
    match txn.iter().find(|(f, ..)| f != "r" && f != "append") {
        Some((f, ..)) => Err(format!(
            "unknown micro-operation `{f}`: expected `r` or `append`"
        )),
        None => Ok(()),
    }
}

/// Runs `txns` one after another on `lists`, each seeing the ones before
/// it (and its own earlier appends); returns each transaction with its
/// reads filled in (a key never appended to reads as `[]`) and the
/// elements appended, by key.
///
/// ```
/// use challenges::datomic::{run, Lists};
/// use serde_json::json;
///
/// let first = vec![("append".to_owned(), 1, json!(5)), ("r".to_owned(), 1, json!(null))];
/// let second = vec![("r".to_owned(), 1, json!(null))];
/// let (done, appended) = run(&Lists::new(), vec![first, second]);
/// assert_eq!(done[0][1].2, json!([5]));
/// assert_eq!(done[1][0].2, json!([5]));
/// assert_eq!(appended[&1], vec![json!(5)]);
/// ```
pub fn run(lists: &Lists, txns: Vec<Vec<MicroOp>>) -> (Vec<Vec<MicroOp>>, Lists) {
    let mut appended = Lists::new();
    let done = txns
        .into_iter()
        .map(|txn| {
            txn.into_iter()
                .map(|(f, key, value)| {
                    if f == "append" {
                        appended.entry(key).or_default().push(value.clone());
                        return (f, key, value);
                    }
                    let before = lists.get(&key).into_iter().flatten();
                    let mine = appended.get(&key).into_iter().flatten();
                    let read = Value::Array(before.chain(mine).cloned().collect());
                    (f, key, read)
                })
                .collect()
        })
        .collect();
    (done, appended)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(f: &str, key: u64, value: Value) -> MicroOp {
        (f.to_owned(), key, value)
    }

    #[test]
    fn reads_of_untouched_keys_see_the_database_or_nothing() {
        let lists: Lists = [(1, vec![json!(1), json!(2)])].into();
        let txn = vec![op("r", 1, Value::Null), op("r", 2, Value::Null)];
        let (done, appended) = run(&lists, vec![txn]);
        assert_eq!(done[0][0].2, json!([1, 2]));
        assert_eq!(done[0][1].2, json!([]));
        assert!(appended.is_empty());
    }

    #[test]
    fn appends_are_seen_later_in_the_transaction_and_the_batch() {
        let lists: Lists = [(1, vec![json!(1)])].into();
        let txns = vec![
            vec![op("append", 1, json!(2)), op("r", 1, Value::Null)],
            vec![op("r", 1, Value::Null), op("append", 3, json!(9))],
        ];
        let (done, appended) = run(&lists, txns);
        assert_eq!(done[0][1].2, json!([1, 2]));
        assert_eq!(done[1][0].2, json!([1, 2]));
        assert_eq!(appended, [(1, vec![json!(2)]), (3, vec![json!(9)])].into());
    }

    #[test]
    fn commits_apply_in_chain_order_only() {
        let mut db = Database::default();
        let (first, checkpoint) = db.next_commit([(1, vec![json!(1)])].into());
        assert!(!checkpoint);
        let mut ahead = db.clone();
        assert!(ahead.apply("a", &first));
        let (second, _) = ahead.next_commit([(1, vec![json!(2)])].into());
        assert!(
            !db.apply("b", &second),
            "commit b does not follow the empty database"
        );
        assert_eq!(db, Database::default());
        assert!(db.apply("a", &first) && db.apply("b", &second));
        assert_eq!(db.lists[&1], vec![json!(1), json!(2)]);
        assert_eq!((db.id.as_str(), db.seq), ("b", 2));
    }

    #[test]
    fn every_64th_commit_is_due_a_checkpoint_that_later_commits_name() {
        let mut db = Database::default();
        for seq in 1..=CHECKPOINT_EVERY + 1 {
            let (mut commit, due) = db.next_commit(Lists::new());
            assert_eq!(due, seq == CHECKPOINT_EVERY, "commit {seq}");
            if due {
                commit.checkpoint = Some("cp".to_owned());
            }
            assert!(db.apply(&format!("c{seq}"), &commit));
        }
        assert_eq!(db.checkpoint.as_deref(), Some("cp"), "carried forward");
        let restored = Database::from_checkpoint(
            "cp",
            Checkpoint {
                id: "c64".to_owned(),
                seq: 64,
                lists: Lists::new(),
            },
        );
        assert_eq!((restored.id.as_str(), restored.seq), ("c64", 64));
    }

    #[test]
    fn only_reads_and_appends_are_accepted() {
        assert!(validate(&[op("r", 1, Value::Null), op("append", 1, json!(1))]).is_ok());
        let err = validate(&[op("w", 1, json!(1))]).unwrap_err();
        assert!(err.contains("`w`"), "{err}");
    }
}
