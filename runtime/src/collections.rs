//! Hash maps and sets whose iteration order depends only on what was put
//! in them, not on a random seed drawn per process.
//!
//! `std::collections::HashMap` seeds its hasher at random in every
//! process, so iterating one visits entries in a different order each run.
//! A node that sends messages while iterating one therefore behaves
//! differently under the same seed, which defeats replaying a failure in
//! the simulator (`glomers-sim`). These aliases use a fixed hasher instead;
//! build them with `default()` (`new()` belongs to the random hasher).
//! `BTreeMap` and `BTreeSet` are deterministic too, and sorted.
//!
//! Only use them for data a peer cannot choose: with a fixed hasher, keys
//! crafted to collide make a map slow. Values from clients and peers are
//! usually fine at Gossip Glomers' scale.
//!
//! ```
//! use glomers::collections::HashMap;
//!
//! let mut seen: HashMap<String, u64> = HashMap::default();
//! seen.insert("n1".to_owned(), 3);
//! seen.insert("n2".to_owned(), 4);
//! let order: Vec<&String> = seen.keys().collect();
//! // The same inserts give the same order, in every process and every run.
//! let mut again: HashMap<String, u64> = HashMap::default();
//! again.insert("n1".to_owned(), 3);
//! again.insert("n2".to_owned(), 4);
//! assert_eq!(order, again.keys().collect::<Vec<_>>());
//! ```

use std::collections::hash_map::DefaultHasher;
use std::hash::BuildHasherDefault;

/// A fixed-seed hasher: the same keys always hash the same.
pub type FixedState = BuildHasherDefault<DefaultHasher>;

/// `std::collections::HashMap` with a fixed hasher (see the module docs).
pub type HashMap<K, V> = std::collections::HashMap<K, V, FixedState>;

/// `std::collections::HashSet` with a fixed hasher (see the module docs).
pub type HashSet<T> = std::collections::HashSet<T, FixedState>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_maps_with_the_same_inserts_iterate_alike() {
        let fill = || {
            let mut map: HashMap<u64, u64> = HashMap::default();
            for i in 0..1000 {
                map.insert(i * 7919 % 1013, i);
            }
            map.into_iter().collect::<Vec<_>>()
        };
        assert_eq!(fill(), fill());
    }
}
