//! Challenge 5a–5c, kafka-style logs: runs `challenges::nodes::kafka`,
//! pushing every 10 ms or every `--interval-ms N`.

use challenges::args::interval_or_exit;
use challenges::nodes::kafka::{Kafka, INTERVAL};
use glomers::prelude::*;

fn main() {
    let interval = interval_or_exit("kafka", INTERVAL);
    glomers::run(move |ctx: &Ctx| Kafka::with_interval(ctx, interval));
}
