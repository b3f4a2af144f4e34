//! Maelstrom's Datomic chapter (`-w txn-list-append`): the node is
//! `challenges::nodes::list_append` (its documentation explains how a
//! transaction commits and what it costs); this binary runs it.

use challenges::nodes::list_append::ListAppend;

fn main() {
    glomers::run(ListAppend::new);
}
