//! The simulator itself: determinism and its self-check, a node that
//! never waits, kill and pause, clock skew, shrinking and storing a
//! failure, and replaying it byte for byte.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use common::broadcast::{Broadcast, Spread};
use common::{caught, caught_and_stored, sim, STORMY_BROADCAST};
use glomers::prelude::*;
use glomers_sim::{override_flags, EPOCH};

/// A broadcast node that gossips everything it has every 100 ms, in the
/// iteration order of its map `Map` (made by `new_map`), for each module
/// that defines those.
macro_rules! map_gossiper {
    () => {
        #[maelstrom_node]
        pub struct Gossiper {
            seen: Map<u64, ()>,
        }

        impl Gossiper {
            pub fn new() -> Self {
                Gossiper { seen: new_map() }
            }
        }

        #[maelstrom_node]
        impl Gossiper {
            #[handle("topology")]
            fn topology(&mut self) {}

            #[handle("broadcast")]
            fn broadcast(&mut self, message: u64) {
                self.seen.insert(message, ());
            }

            #[handle("read")]
            fn read(&self) -> ReadOk {
                let mut messages: Vec<u64> = self.seen.keys().copied().collect();
                messages.sort_unstable();
                ReadOk { messages }
            }

            #[handle("gossip", no_reply)]
            fn gossip(&mut self, values: Vec<u64>) {
                for value in values {
                    self.seen.insert(value, ());
                }
            }

            #[every(ms = 100)]
            fn share(&mut self, ctx: &Ctx) {
                // The map's order goes out on the wire.
                let values: Vec<u64> = self.seen.keys().copied().collect();
                for peer in ctx.peers() {
                    let values = values.clone();
                    ctx.send(peer, &GossiperMsg::Gossip { values });
                }
            }
        }

        #[derive(Serialize)]
        struct ReadOk {
            messages: Vec<u64>,
        }
    };
}

/// Gossips in the order of a `std` map, whose hasher is seeded at random
/// per map.
mod std_map {
    use glomers::prelude::*;

    type Map<K, V> = std::collections::HashMap<K, V>;

    fn new_map() -> Map<u64, ()> {
        std::collections::HashMap::new()
    }

    map_gossiper!();
}

/// Gossips in the order of `glomers::collections::HashMap` (a fixed hasher).
mod fixed_map {
    use glomers::prelude::*;

    type Map<K, V> = glomers::collections::HashMap<K, V>;

    fn new_map() -> Map<u64, ()> {
        Map::default()
    }

    map_gossiper!();
}

const GOSSIP: &str = "-w broadcast --node-count 5 --time-limit 2 --rate 20";

#[test]
fn a_node_iterating_a_randomly_seeded_map_is_named_by_the_determinism_check() {
    let sim = sim(std_map::Gossiper::new, GOSSIP);
    let divergence = sim
        .check_determinism(0)
        .expect_err("a std HashMap's order differs between two runs");
    assert_eq!(divergence.file, "messages.jsonl", "{divergence}");
    assert!(divergence.line > 1, "{divergence}");
    assert_ne!(divergence.first, divergence.second);
    for line in [&divergence.first, &divergence.second] {
        assert!(line.contains(r#""type":"gossip""#), "{divergence}");
    }
    let sender = divergence.sender.as_deref().unwrap_or_default();
    assert!(sender.starts_with('n'), "{divergence}");
    assert!(divergence.first.contains(&format!(r#""src":"{sender}""#)));
    let said = divergence.to_string();
    assert!(said.contains("glomers::collections"), "{said}");
    eprintln!("{said}");
}

#[test]
fn the_same_node_on_a_fixed_hasher_is_deterministic() {
    let sim = sim(fixed_map::Gossiper::new, GOSSIP);
    for seed in 0..3 {
        if let Err(divergence) = sim.check_determinism(seed) {
            panic!("seed {seed}: {divergence}");
        }
    }
    assert!(sim.run(0).is_ok_and(|run| run.valid));
}

/// A future that is ready the second time it is polled: gives way to the
/// node's other tasks, but not to time.
struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// An echo node that waits for its clock to move on before answering, by
/// yielding in a loop rather than sleeping: under virtual time the clock
/// never moves while a node runs.
#[maelstrom_node]
struct Spinner;

#[maelstrom_node]
impl Spinner {
    #[handle("echo")]
    async fn echo(ctx: Ctx, echo: RawJson) -> EchoOk {
        let start = ctx.now();
        while ctx.now() == start {
            YieldNow(false).await;
        }
        EchoOk { echo }
    }
}

#[derive(Serialize)]
struct EchoOk {
    echo: RawJson,
}

#[test]
fn a_node_that_never_waits_is_taken_out_and_named() {
    let sim = sim(|| Spinner, "-w echo --node-count 1 --time-limit 1 --rate 5");
    let run = sim.run(0).expect("the run ends");
    assert!(!run.valid);
    let nodes = run.results["nodes"].to_string();
    assert!(nodes.contains("n0 never waited"), "{nodes}");
}

/// An echo node that spins on its clock inside a synchronous handler,
/// never yielding: only the clock can tell the simulator it is stuck.
#[maelstrom_node]
struct SyncSpinner;

#[maelstrom_node]
impl SyncSpinner {
    #[handle("echo")]
    fn echo(&mut self, ctx: &Ctx, echo: RawJson) -> EchoOk {
        let start = ctx.now();
        while ctx.now() == start {
            std::hint::spin_loop();
        }
        EchoOk { echo }
    }
}

#[test]
fn a_node_that_spins_on_its_clock_without_yielding_is_taken_out() {
    let sim = sim(
        || SyncSpinner,
        "-w echo --node-count 1 --time-limit 1 --rate 5",
    );
    let run = sim.run(0).expect("the run ends");
    assert!(!run.valid);
    let nodes = run.results["nodes"].to_string();
    assert!(nodes.contains("read its clock"), "{nodes}");
}

/// A counter that keeps its total in memory only: on one node it is
/// right, until the node is killed.
#[maelstrom_node]
#[derive(Default)]
struct InMemory {
    total: i64,
}

#[maelstrom_node]
impl InMemory {
    #[handle("add")]
    fn add(&mut self, delta: i64) {
        self.total += delta;
    }

    #[handle("read")]
    fn read(&self) -> ReadOk {
        ReadOk { value: self.total }
    }
}

#[derive(Serialize)]
struct ReadOk {
    value: i64,
}

const COUNTER: &str =
    "-w g-counter --node-count 1 --time-limit 4 --rate 20 --nemesis-interval 1 --nemesis";

#[test]
fn a_killed_node_loses_its_memory_and_a_paused_one_does_not() {
    // Paused, the node keeps its total. A pause that outlasts a client's
    // 5 s timeout (one that spans the end of the main phase, when Jepsen
    // waits for every operation in flight before it resumes the node)
    // makes the node answer late, and Maelstrom stops listening to a node
    // that answers a client it closed: such a seed ends without a final
    // read, its verdict unknown. No seed may read less than was added.
    let paused = sim(InMemory::default, &format!("{COUNTER} pause"));
    let mut judged = 0;
    for seed in 0..50 {
        let run = paused.run(seed).expect("the run happens");
        let workload = &run.results["workload"];
        let errors = workload["errors"].as_array();
        assert!(errors.is_none_or(Vec::is_empty), "seed {seed}: {workload}");
        if run.valid {
            judged += 1;
        } else {
            let notes = &run.results["nodes"]["notes"];
            assert!(notes[0].as_str().is_some(), "seed {seed}: {}", run.results);
        }
    }
    assert!(judged >= 20, "only {judged} of 50 paused runs were valid");
    let sim = sim(InMemory::default, &format!("{COUNTER} kill,pause"));
    let failure = caught("in-memory counter, killed and paused", &sim);
    let workload = &failure.results["workload"];
    assert!(
        workload["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{workload}"
    );
    // The restarted node answers, from a total that starts again at 0.
    let lowest = workload["acceptable"][0][0].as_i64().unwrap_or_default();
    let read = workload["final-reads"][0].as_i64();
    assert!(read.is_some_and(|read| read < lowest), "{workload}");
    let run = sim.run(failure.seed).expect("the failing seed runs");
    assert!(
        run.history.nemesis.iter().any(|entry| entry["f"] == "kill"),
        "a kill happened"
    );
}

/// A unique-ids node whose ids are its clock's microseconds, times 8, plus
/// its index: every id says what the node's clock read.
#[maelstrom_node]
struct Clocked {
    index: u64,
}

impl Clocked {
    fn new(ctx: &Ctx) -> Self {
        let index = ctx.node_ids().iter().position(|id| id == ctx.node_id());
        Clocked {
            index: index.unwrap_or(0) as u64,
        }
    }
}

#[maelstrom_node]
impl Clocked {
    #[handle("generate")]
    fn generate(&mut self, ctx: &Ctx) -> GenerateOk {
        let micros = u64::try_from(ctx.now().as_micros()).unwrap_or(u64::MAX);
        GenerateOk {
            id: micros * 8 + self.index,
        }
    }
}

#[derive(Serialize)]
struct GenerateOk {
    id: u64,
}

/// Per node (by index), how far its clock was ahead of the run's time when
/// it answered, in microseconds (the same constant off for every node).
fn clock_offsets(skew: &str) -> Vec<i64> {
    let flags = format!("-w unique-ids --node-count 3 --time-limit 2 --rate 30 {skew}");
    let run = sim(|| Clocked::new, &flags)
        .run(3)
        .expect("the run happens");
    let mut offsets: Vec<Vec<i64>> = vec![Vec::new(); 3];
    for op in &run.history.ops {
        let Some(id) = op.value.as_u64().filter(|_| op.f == "generate") else {
            continue;
        };
        let clock = (id / 8) as i64 - EPOCH.as_micros() as i64;
        offsets[(id % 8) as usize].push(clock - (op.time / 1000) as i64);
    }
    offsets
        .into_iter()
        .map(|o| {
            assert!(!o.is_empty(), "every node answered");
            o.iter().sum::<i64>() / o.len() as i64
        })
        .collect()
}

fn spread(offsets: &[i64]) -> i64 {
    offsets.iter().max().unwrap_or(&0) - offsets.iter().min().unwrap_or(&0)
}

#[test]
fn clock_skew_sets_the_nodes_clocks_apart() {
    let calm = clock_offsets("");
    assert!(calm.iter().all(|o| o.abs() < 1_000), "no skew: {calm:?} µs");
    let skewed = clock_offsets("--clock-skew 200");
    assert!(
        skewed.iter().all(|o| o.abs() <= 200_000) && spread(&skewed) > 1_000,
        "clocks apart by up to 200 ms either way: {skewed:?} µs"
    );
}

#[test]
fn a_failure_is_shrunk_stored_and_replayed_byte_for_byte() {
    let sim = sim(|| Broadcast::new(Spread::Once), STORMY_BROADCAST);
    let failure = caught_and_stored("broadcast that gossips once (shrinking)", &sim);

    // Shrunk: a shorter run, or fewer faults, than the sweep's.
    let shrunk = override_flags(sim.config(), &failure.flags).expect("the shrunk flags parse");
    let swept = sim.config();
    assert!(
        shrunk.time_limit < swept.time_limit || shrunk.nemesis.len() < swept.nemesis.len(),
        "not shrunk: {}",
        failure.flags
    );

    // Stored with the usual artefacts (and its pictures, with the
    // `report` feature; without it, `glomers serve` draws them).
    let store = failure.store.as_ref().expect("the failure was stored");
    let pictures: &[&str] = if cfg!(feature = "report") {
        &["index.html"]
    } else {
        &[]
    };
    for file in [
        "test.json",
        "history.jsonl",
        "messages.jsonl",
        "results.json",
    ]
    .iter()
    .chain(pictures)
    {
        assert!(
            store.join(file).is_file(),
            "{} lacks {file}",
            store.display()
        );
    }
    let seed = format!("GLOMERS_SIM_SEED={} ", failure.seed);
    assert!(failure.replay.contains(&seed), "{}", failure.replay);
    assert!(
        failure.replay.contains(&failure.flags),
        "{}",
        failure.replay
    );

    assert_replays(&sim, &failure);
}

/// Runs `failure`'s seed under the sweep's flags with the failure's shrunk
/// flags laid over them, as its replay command does, and compares the run
/// with the stored one, byte for byte.
fn assert_replays<F, N, How>(sim: &glomers_sim::Sim<F, How>, failure: &glomers_sim::Failure)
where
    F: Fn() -> N,
    N: glomers::Start<How> + 'static,
    How: 'static,
{
    let config = override_flags(sim.config(), &failure.flags).expect("the shrunk flags parse");
    let replay = sim
        .run_config(&config, failure.seed)
        .expect("the replay runs");
    assert!(!replay.valid);
    let store = failure.store.as_ref().expect("the failure was stored");
    let stored = |file: &str| std::fs::read_to_string(store.join(file)).expect("stored file");
    assert_eq!(replay.history.to_jsonl(), stored("history.jsonl"));
    assert_eq!(replay.journal, stored("messages.jsonl"));
    assert_eq!(replay.results, failure.results);
    let results: serde_json::Value =
        serde_json::from_str(&stored("results.json")).expect("results.json is JSON");
    assert_eq!(results["workload"], failure.results["workload"]);
    let _ = std::fs::remove_dir_all(store);
}

/// Shrinking this case drops the pauses and the loss; `Failure::flags`
/// then lists neither (it lists only what differs from the workload's
/// defaults), and `override_flags` lays it over the sweep's flags, which
/// still have both (and it appends to `--nemesis` rather than replacing
/// it: `[Partition, Pause, Partition]`). So the printed replay runs
/// another case than the stored one.
#[test]
fn a_case_shrunk_to_fewer_faults_replays_byte_for_byte() {
    let sim = sim(
        || Broadcast::new(Spread::Once),
        "-w broadcast --node-count 5 --time-limit 6 --rate 10 --nemesis partition,pause \
         --nemesis-interval 1 --loss 0.1",
    );
    let failure = caught_and_stored("broadcast that gossips once (fewer faults)", &sim);
    assert!(!failure.flags.contains("pause"), "{}", failure.flags);
    assert_replays(&sim, &failure);
}
