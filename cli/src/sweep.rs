//! `glomers sim CHALLENGE`: runs a challenge's node in the deterministic
//! simulator over a range of seeds, with its official flags or others, and
//! stops at the first invalid run, which is shrunk, stored and printed with
//! the command that replays it.
//!
//! ```text
//! glomers sim broadcast --seeds 1000                    # seeds 0..1000 of 3c
//! glomers sim broadcast --seed 17 -- --time-limit 5     # one seed, other flags
//! glomers sim kafka --check-determinism --seeds 3       # each seed twice, compared
//! ```

use std::process::ExitCode;
use std::time::Instant;

use challenges::gossip::Timing;
use challenges::nodes::{
    broadcast, counter, echo, g_set, kafka, list_append, raft, txn, unique_ids,
};
use glomers::Ctx;
use glomers_sim::Sim;

use crate::args::Sweep as Args;

/// Each challenge's workload and flags when none are given: its official
/// run (3c for broadcast, so that partitions are in play).
fn defaults(challenge: &str) -> Option<&'static str> {
    Some(match challenge {
        "echo" => "-w echo --node-count 1 --time-limit 10",
        "unique-ids" => {
            "-w unique-ids --time-limit 30 --rate 1000 --node-count 3 --availability total --nemesis partition"
        }
        "broadcast" => "-w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition",
        "broadcast-3d" => {
            "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100"
        }
        "g-counter" => "-w g-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
        "pn-counter" => "-w pn-counter --node-count 3 --rate 100 --time-limit 20 --nemesis partition",
        "g-set" => "-w g-set --node-count 5 --rate 50 --time-limit 20 --nemesis partition",
        "kafka" => "-w kafka --node-count 2 --concurrency 2n --time-limit 20 --rate 1000",
        "txn" => {
            "-w txn-rw-register --node-count 2 --concurrency 2n --time-limit 20 --rate 1000 --consistency-models read-committed --availability total --nemesis partition"
        }
        "raft" => {
            "-w lin-kv --node-count 3 --concurrency 10n --rate 100 --time-limit 20 --nemesis partition --nemesis-interval 3"
        }
        "list-append" => {
            "-w txn-list-append --node-count 2 --rate 100 --time-limit 20 --consistency-models strict-serializable --nemesis partition"
        }
        _ => return None,
    })
}

/// Runs the sweep `args` asks for and says how the process should exit.
pub fn run(args: &Args) -> ExitCode {
    let Some(flags) = defaults(&args.challenge) else {
        eprintln!("sim: no challenge `{}`", args.challenge);
        return ExitCode::from(254);
    };
    let flags = if args.bare {
        let workload = flags
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ");
        format!("{workload} {}", args.flags.join(" "))
    } else {
        format!("{flags} {}", args.flags.join(" "))
    };
    let seeds = match (args.seed, parse_seeds(&args.seeds)) {
        (Some(seed), _) => seed..seed + 1,
        (None, Ok(seeds)) => seeds,
        (None, Err(err)) => {
            eprintln!("sim: {err}");
            return ExitCode::from(254);
        }
    };
    let replay = format!(
        "cargo run --release -p glomers-cli -- sim {} --seed",
        args.challenge
    );
    let outcome = match args.challenge.as_str() {
        "echo" => sweep(|| echo::Echo, &flags, args, seeds, &replay),
        "unique-ids" => sweep(|| unique_ids::UniqueIds::new, &flags, args, seeds, &replay),
        "broadcast" | "broadcast-3d" => sweep(
            || {
                move |ctx: &Ctx| {
                    broadcast::Broadcast::new(
                        ctx,
                        Timing::with_interval(std::time::Duration::from_millis(150)),
                    )
                }
            },
            &flags,
            args,
            seeds,
            &replay,
        ),
        "g-counter" | "pn-counter" => {
            sweep(counter::Counter::default, &flags, args, seeds, &replay)
        }
        "g-set" => sweep(|| g_set::GSet::new, &flags, args, seeds, &replay),
        "kafka" => sweep(|| kafka::Kafka::new, &flags, args, seeds, &replay),
        "raft" => sweep(
            || move |ctx: &Ctx| raft::Replica::new(ctx, raft::timing()),
            &flags,
            args,
            seeds,
            &replay,
        ),
        "list-append" => sweep(
            || list_append::ListAppend::new,
            &flags,
            args,
            seeds,
            &replay,
        ),
        _ => sweep(|| txn::Txn::new, &flags, args, seeds, &replay),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            eprintln!("{report}");
            ExitCode::from(1)
        }
    }
}

/// `N` (seeds 0..N) or `A..B`.
fn parse_seeds(text: &str) -> Result<std::ops::Range<u64>, String> {
    let bad = || format!("--seeds takes N or A..B, not `{text}`");
    match text.split_once("..") {
        Some((a, b)) => Ok(a.parse().map_err(|_| bad())?..b.parse().map_err(|_| bad())?),
        None => Ok(0..text.parse().map_err(|_| bad())?),
    }
}

fn sweep<F, N, How>(
    make: F,
    flags: &str,
    args: &Args,
    seeds: std::ops::Range<u64>,
    replay: &str,
) -> Result<(), String>
where
    F: Fn() -> N,
    N: glomers::Start<How> + 'static,
    How: 'static,
{
    let sim = Sim::new(make, flags)?.replay_with(replay.replace(" --seed", ""));
    if let (Some(seed), false) = (args.seed, args.check_determinism) {
        let run = sim.run(seed)?;
        let store = glomers_sim::store(sim.config(), seed, &run)?;
        print!("{}", testbench::results::summary(&run.results, &store));
        return if run.valid {
            Ok(())
        } else {
            Err(format!("seed {seed} is not valid"))
        };
    }
    if args.check_determinism {
        let started = Instant::now();
        for seed in seeds.clone() {
            sim.check_determinism(seed)
                .map_err(|d| format!("seed {seed}: {d}"))?;
        }
        println!(
            "{}: {} seeds each ran twice alike ({:.1} s)",
            args.challenge,
            seeds.end - seeds.start,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let total = seeds.end - seeds.start;
    let sweep = sim.sweep(seeds);
    println!(
        "{}: {} of {total} seeds valid, {:.0} virtual s in {:.2} s of wall time ({:.0} virtual s per s)",
        args.challenge,
        sweep.valid,
        sweep.virtual_seconds,
        sweep.wall.as_secs_f64(),
        sweep.virtual_seconds / sweep.wall.as_secs_f64().max(1e-9)
    );
    match sweep.failure {
        Some(failure) => Err(failure.to_string()),
        None => Ok(()),
    }
}
