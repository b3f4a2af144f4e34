//! Challenge 6a–6c, totally available transactions: runs
//! `challenges::nodes::txn`.

use challenges::nodes::txn::Txn;

fn main() {
    glomers::run(Txn::new);
}
