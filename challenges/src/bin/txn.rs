//! Challenge 6a–6c, totally available transactions: runs
//! `challenges::nodes::txn`, pushing every 50 ms or every `--interval-ms N`.

use challenges::args::interval_or_exit;
use challenges::nodes::txn::{Txn, INTERVAL};
use glomers::prelude::*;

fn main() {
    let interval = interval_or_exit("txn", INTERVAL);
    glomers::run(move |ctx: &Ctx| Txn::with_interval(ctx, interval));
}
