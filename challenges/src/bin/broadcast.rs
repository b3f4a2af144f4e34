//! Challenge 3a–3e, broadcast: the node is `challenges::nodes::broadcast`;
//! this binary reads its batching interval and runs it.

use std::time::Duration;

use challenges::gossip::Timing;
use challenges::nodes::broadcast::Broadcast;
use glomers::prelude::*;

/// The batching interval from the command line or the environment.
fn interval() -> Result<Duration, String> {
    let mut args = std::env::args().skip(1);
    let text = match args.next() {
        Some(flag) if flag == "--interval-ms" => {
            args.next().ok_or("--interval-ms needs a value")?
        }
        Some(value) => value,
        None => std::env::var("BROADCAST_INTERVAL_MS").unwrap_or_else(|_| "150".to_owned()),
    };
    let ms: u64 = text
        .parse()
        .map_err(|_| format!("the interval is a whole number of milliseconds, not `{text}`"))?;
    Ok(Duration::from_millis(ms))
}

fn main() {
    let interval = interval().unwrap_or_else(|err| {
        glomers::log!(
            "broadcast: {err}\nusage: broadcast [--interval-ms N]   (0 sends every value at once)"
        );
        std::process::exit(2);
    });
    let timing = Timing::with_interval(interval);
    glomers::run(move |ctx: &Ctx| Broadcast::new(ctx, timing));
}
