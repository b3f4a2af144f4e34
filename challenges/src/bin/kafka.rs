//! Challenge 5a–5c, kafka-style logs: runs `challenges::nodes::kafka`,
//! pushing every 10 ms or every `--interval-ms N`.

use std::time::Duration;

use challenges::nodes::kafka::{Kafka, INTERVAL};
use glomers::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let interval = match args.as_slice() {
        [] => Some(INTERVAL),
        [flag, ms] if flag == "--interval-ms" => ms.parse().ok().map(Duration::from_millis),
        _ => None,
    };
    let Some(interval) = interval else {
        glomers::log!("usage: kafka [--interval-ms N]   (N whole milliseconds, default 10)");
        std::process::exit(2);
    };
    glomers::run(move |ctx: &Ctx| Kafka::with_interval(ctx, interval));
}
