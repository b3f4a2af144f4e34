//! Challenge 6a–6c, totally available transactions: runs
//! `challenges::nodes::txn`, pushing every 50 ms or every `--interval-ms N`.

use std::time::Duration;

use challenges::nodes::txn::{Txn, INTERVAL};
use glomers::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let interval = match args.as_slice() {
        [] => Some(INTERVAL),
        [flag, ms] if flag == "--interval-ms" => ms.parse().ok().map(Duration::from_millis),
        _ => None,
    };
    let Some(interval) = interval else {
        glomers::log!("usage: txn [--interval-ms N]   (N whole milliseconds, default 50)");
        std::process::exit(2);
    };
    glomers::run(move |ctx: &Ctx| Txn::with_interval(ctx, interval));
}
