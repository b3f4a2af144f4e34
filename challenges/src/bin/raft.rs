//! Maelstrom's Raft chapter (`-w lin-kv`): the node is
//! `challenges::nodes::raft` (its documentation explains requests, reads
//! and relays); this binary reads its timing and runs it.
//!
//! # Timeouts
//!
//! Maelstrom's lin-kv clients give up after max(10 × latency, 1 s), so
//! with the default latency of 0 every second lost to an election is a
//! second of requests lost. The defaults suit that network: heartbeats
//! every 50 ms, a follower stands after 150 to 300 ms of silence (drawn at
//! random each time, so that one candidate usually runs alone), and a
//! leader that has heard from no majority for 150 ms steps down (then its
//! clients are turned away at once instead of timing out). A node that is
//! cut off asks for a pre-vote before it raises its term, and nodes that
//! hear from a live leader refuse votes, so a node coming back from a
//! partition does not depose a healthy leader. These suit latencies of a
//! few milliseconds; with `--latency L` a round trip takes 2L, and the
//! election timeout should stay well above it (`--election-ms` of 4L or
//! more, `--heartbeat-ms` of L or more).
//!
//! # Batching
//!
//! A leader has at most one append in flight to each follower, and sends
//! the next one no sooner than `--batch-ms` (25 ms by default) after the
//! previous: the entries proposed meanwhile, and every read waiting for a
//! round, travel together in one append (up to 256 entries; catching up a
//! follower takes as many). So a leader sends each follower at most 40
//! appends per second however high the request rate, and at least one per
//! heartbeat; each append is answered, so servers' messages per operation
//! are at most 2 × (N - 1) × 40 ÷ operations per second, relays aside (3
//! nodes at 100 operations per second: at most 1.6; measured 1.5 on the
//! guide's hardest run, relays included), and a request waits up to one
//! batch interval plus one round trip (measured median 13 ms, 99th
//! percentile 29 ms). `--batch-ms 1` answers in under a millisecond for
//! 4.3 messages per operation, `--batch-ms 50` in 26 ms for 0.86 (README).
//!
//! Arguments: `--heartbeat-ms N`, `--election-ms N`, `--batch-ms N`.

use std::time::Duration;

use challenges::nodes::raft::{self, Replica};
use challenges::raft::Timing;
use glomers::prelude::*;

/// The timing from the command line: `--heartbeat-ms`, `--election-ms`,
/// `--batch-ms` over the node's own.
fn timing() -> Result<Timing, String> {
    let mut timing = raft::timing();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let ms: u64 = value
            .parse()
            .map_err(|_| format!("{flag} takes whole milliseconds, not `{value}`"))?;
        let slot = match flag.as_str() {
            "--heartbeat-ms" => &mut timing.heartbeat,
            "--election-ms" => &mut timing.election,
            "--batch-ms" => &mut timing.batch,
            _ => return Err(format!("unknown argument `{flag}`")),
        };
        *slot = Duration::from_millis(ms.max(1));
    }
    Ok(timing)
}

fn main() {
    let timing = timing().unwrap_or_else(|err| {
        glomers::log!(
            "raft: {err}\nusage: raft [--heartbeat-ms N] [--election-ms N] [--batch-ms N]"
        );
        std::process::exit(2);
    });
    glomers::run(move |ctx: &Ctx| Replica::new(ctx, timing));
}
