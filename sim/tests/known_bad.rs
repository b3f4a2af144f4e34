//! The test bench's known-bad nodes (`testbench/tests/nodes/*.py`), written
//! in the DSL and run in the simulator: a sweep of seeds 0..50 must catch
//! each one, for the anomaly `testbench/tests/known_bad.rs` rejects it for,
//! and the correct node beside it must pass every seed, so that each test
//! can fail both ways. (Kafka and transactions are in `known_bad_logs.rs`.)

mod common;

use common::broadcast;
use common::{caught, count, passes, sim, STORMY_BROADCAST};

/// Echo that appends `!` to the payload (`echo_alters_payload.py`).
mod echo {
    use glomers::prelude::*;

    #[maelstrom_node]
    pub struct Exclaim;

    #[maelstrom_node]
    impl Exclaim {
        #[handle("echo")]
        fn echo(&mut self, echo: String) -> EchoOk {
            EchoOk {
                echo: format!("{echo}!"),
            }
        }
    }

    #[derive(Serialize)]
    struct EchoOk {
        echo: String,
    }
}

#[test]
fn an_echo_that_alters_the_payload_is_caught() {
    let sim = sim(
        || echo::Exclaim,
        "-w echo --node-count 1 --time-limit 2 --rate 20",
    );
    let failure = caught("echo that alters the payload", &sim);
    let error = &failure.results["workload"]["errors"][0];
    let expected = error["expected"].as_str().unwrap_or_default();
    assert!(expected.starts_with("Please echo "), "{error}");
    assert_eq!(error["received"]["value"]["echo"], format!("{expected}!"));
}

/// Ids from a counter of each node's own (`unique_ids_collide.py`).
mod unique_ids {
    use glomers::prelude::*;

    #[maelstrom_node]
    #[derive(Default)]
    pub struct Counting {
        count: u64,
    }

    #[maelstrom_node]
    impl Counting {
        #[handle("generate")]
        fn generate(&mut self) -> GenerateOk {
            self.count += 1;
            GenerateOk { id: self.count }
        }
    }

    #[derive(Serialize)]
    struct GenerateOk {
        id: u64,
    }
}

#[test]
fn colliding_unique_ids_are_caught() {
    let sim = sim(
        unique_ids::Counting::default,
        "-w unique-ids --node-count 3 --time-limit 2 --rate 50",
    );
    let failure = caught("unique ids that collide", &sim);
    let workload = &failure.results["workload"];
    assert!(
        count(&failure.results, "duplicated-count") > 0,
        "{workload}"
    );
    assert_eq!(
        workload["duplicated"][0]["id"], 1,
        "every node hands out id 1 first: {workload}"
    );
}

/// Challenge 3c's official run, as the target names it.
const OFFICIAL_3C: &str =
    "-w broadcast --node-count 5 --time-limit 20 --rate 10 --nemesis partition";

#[test]
fn a_broadcast_that_never_gossips_is_caught() {
    use broadcast::{Broadcast, Spread};
    let sim = sim(
        || Broadcast::new(Spread::Never),
        "-w broadcast --node-count 3 --time-limit 3 --rate 10",
    );
    let failure = caught("broadcast that never gossips", &sim);
    assert!(
        count(&failure.results, "lost-count") > 0,
        "{}",
        failure.results["workload"]
    );
}

#[test]
fn a_broadcast_that_gossips_once_passes_calm_seeds_and_is_caught_under_partitions() {
    use broadcast::{Broadcast, Spread};
    let calm = sim(
        || Broadcast::new(Spread::Once),
        "-w broadcast --node-count 5 --time-limit 3 --rate 10",
    );
    passes("broadcast that gossips once, no partitions", &calm);
    for (what, flags) in [
        (
            "broadcast that gossips once, with no retry",
            STORMY_BROADCAST,
        ),
        ("broadcast that gossips once, 3c's flags", OFFICIAL_3C),
    ] {
        let failure = caught(what, &sim(|| Broadcast::new(Spread::Once), flags));
        assert!(
            count(&failure.results, "lost-count") > 0,
            "{}",
            failure.results["workload"]
        );
    }
}

#[test]
fn a_broadcast_that_retries_passes_every_seed_under_partitions() {
    use broadcast::{Broadcast, Spread};
    let sim = sim(|| Broadcast::new(Spread::Retry), STORMY_BROADCAST);
    passes("broadcast that retries", &sim);
}

/// A counter two ways (`counter.py`).
mod counter {
    use std::collections::BTreeMap;

    use glomers::prelude::*;

    #[maelstrom_node]
    #[derive(Default)]
    pub struct Counter {
        /// Whether the node shares its totals (a CRDT) or counts only the
        /// adds it received itself.
        crdt: bool,
        /// Per node, the total of its positive deltas.
        up: BTreeMap<String, u64>,
        /// Per node, the total of its negative deltas (as a positive number).
        down: BTreeMap<String, u64>,
    }

    impl Counter {
        pub fn new(crdt: bool) -> Self {
            Counter {
                crdt,
                ..Counter::default()
            }
        }
    }

    #[maelstrom_node]
    impl Counter {
        #[handle("add")]
        fn add(&mut self, ctx: &Ctx, delta: i64) {
            let side = if delta >= 0 {
                &mut self.up
            } else {
                &mut self.down
            };
            *side.entry(ctx.node_id().to_owned()).or_default() += delta.unsigned_abs();
        }

        #[handle("read")]
        fn read(&self, ctx: &Ctx) -> ReadOk {
            let sum = |side: &BTreeMap<String, u64>| -> i64 {
                if self.crdt {
                    side.values().map(|v| *v as i64).sum()
                } else {
                    side.get(ctx.node_id()).map_or(0, |v| *v as i64)
                }
            };
            ReadOk {
                value: sum(&self.up) - sum(&self.down),
            }
        }

        #[handle("state", no_reply)]
        fn state(&mut self, up: BTreeMap<String, u64>, down: BTreeMap<String, u64>) {
            for (mine, theirs) in [(&mut self.up, up), (&mut self.down, down)] {
                for (who, total) in theirs {
                    let entry = mine.entry(who).or_default();
                    *entry = (*entry).max(total);
                }
            }
        }

        #[every(ms = 100)]
        fn share(&mut self, ctx: &Ctx) {
            if self.crdt {
                for peer in ctx.peers() {
                    let state = CounterMsg::State {
                        up: self.up.clone(),
                        down: self.down.clone(),
                    };
                    ctx.send(peer, &state);
                }
            }
        }
    }

    #[derive(Serialize)]
    struct ReadOk {
        value: i64,
    }
}

#[test]
fn a_counter_that_counts_only_local_adds_is_caught() {
    let sim = sim(
        || counter::Counter::new(false),
        "-w g-counter --node-count 3 --time-limit 3 --rate 20",
    );
    let failure = caught("counter that counts only local adds", &sim);
    let workload = &failure.results["workload"];
    assert!(
        workload["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{workload}"
    );
    assert!(
        workload["final-reads"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{workload}"
    );
}

#[test]
fn crdt_counters_pass_every_seed_under_partitions() {
    for workload in ["g-counter", "pn-counter"] {
        let sim = sim(
            || counter::Counter::new(true),
            &format!(
                "-w {workload} --node-count 3 --time-limit 4 --rate 20 --nemesis partition --nemesis-interval 1"
            ),
        );
        passes(&format!("CRDT {workload}"), &sim);
    }
}

/// A g-set that keeps only its 20 newest elements (`g_set.py forgetful`).
mod g_set {
    use glomers::prelude::*;

    #[maelstrom_node]
    #[derive(Default)]
    pub struct Forgetful {
        /// Oldest first.
        elements: Vec<u64>,
    }

    impl Forgetful {
        fn keep(&mut self, new: &[u64]) {
            for element in new {
                if !self.elements.contains(element) {
                    self.elements.push(*element);
                }
            }
            let excess = self.elements.len().saturating_sub(20);
            self.elements.drain(..excess);
        }
    }

    #[maelstrom_node]
    impl Forgetful {
        #[handle("add")]
        fn add(&mut self, element: u64) {
            self.keep(&[element]);
        }

        #[handle("read")]
        fn read(&self) -> ReadOk {
            let mut value = self.elements.clone();
            value.sort_unstable();
            ReadOk { value }
        }

        #[handle("state", no_reply)]
        fn state(&mut self, elements: Vec<u64>) {
            self.keep(&elements);
        }

        #[every(ms = 100)]
        fn share(&mut self, ctx: &Ctx) {
            for peer in ctx.peers() {
                let elements = self.elements.clone();
                ctx.send(peer, &ForgetfulMsg::State { elements });
            }
        }
    }

    #[derive(Serialize)]
    struct ReadOk {
        value: Vec<u64>,
    }
}

#[test]
fn a_g_set_that_forgets_is_caught() {
    let sim = sim(
        g_set::Forgetful::default,
        "-w g-set --node-count 3 --time-limit 4 --rate 20",
    );
    let failure = caught("g-set that forgets", &sim);
    assert!(
        count(&failure.results, "lost-count") > 0,
        "{}",
        failure.results["workload"]
    );
}

/// lin-kv two ways (`lin_kv.py`).
mod lin_kv {
    use std::collections::BTreeMap;

    use glomers::prelude::*;

    #[maelstrom_node]
    #[derive(Default)]
    pub struct Proxy {
        /// Whether reads are answered from `local` (which only this node's
        /// own writes update) when it has the key.
        local_reads: bool,
        local: BTreeMap<String, Value>,
    }

    impl Proxy {
        pub fn new(local_reads: bool) -> Self {
            Proxy {
                local_reads,
                ..Proxy::default()
            }
        }
    }

    #[maelstrom_node]
    impl Proxy {
        #[handle("read")]
        async fn read(mut node: Node<Self>, ctx: Ctx, key: Value) -> Result<ReadOk, Error> {
            let name = key.to_string();
            let local = node.with(|p| p.local_reads.then(|| p.local.get(&name).cloned()));
            if let Some(Some(value)) = local {
                return Ok(ReadOk { value });
            }
            let value = ctx.lin_kv().read(&key).await?;
            Ok(ReadOk { value })
        }

        #[handle("write")]
        async fn write(
            mut node: Node<Self>,
            ctx: Ctx,
            key: Value,
            value: Value,
        ) -> Result<(), Error> {
            ctx.lin_kv().write(&key, &value).await?;
            node.with(|p| p.local.insert(key.to_string(), value));
            Ok(())
        }

        #[handle("cas")]
        async fn cas(
            mut node: Node<Self>,
            ctx: Ctx,
            key: Value,
            from: Value,
            to: Value,
        ) -> Result<(), Error> {
            ctx.lin_kv().cas(&key, &from, &to, false).await?;
            node.with(|p| p.local.insert(key.to_string(), to));
            Ok(())
        }
    }

    #[derive(Serialize)]
    struct ReadOk {
        value: Value,
    }
}

#[test]
fn a_lin_kv_proxy_passes_every_seed_under_partitions() {
    let sim = sim(
        || lin_kv::Proxy::new(false),
        "-w lin-kv --node-count 3 --time-limit 4 --rate 50 --concurrency 2n --nemesis partition --nemesis-interval 1",
    );
    passes("lin-kv proxy", &sim);
}

#[test]
fn a_lin_kv_that_reads_a_local_copy_is_caught() {
    let sim = sim(
        || lin_kv::Proxy::new(true),
        "-w lin-kv --node-count 3 --time-limit 4 --rate 50 --concurrency 2n",
    );
    let failure = caught("lin-kv that reads a local copy", &sim);
    let workload = &failure.results["workload"];
    let key = workload["failures"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no failing key: {workload}"));
    assert_eq!(workload["results"][key]["valid?"], false, "{workload}");
    assert!(
        workload["results"][key]["stuck-op"].is_object(),
        "{workload}"
    );
}

/// A broadcast node that answers its first `broadcast` 6 s late, after
/// the client gave up (the newcomer's quorum node did this through a
/// partition). Maelstrom's thread reading the node's output dies on that
/// reply ("Invalid dest": the client's queue is gone), so nothing more
/// the node says is heard: every later operation times out.
mod late {
    use std::collections::BTreeSet;
    use std::time::Duration;

    use glomers::prelude::*;

    #[maelstrom_node]
    #[derive(Default)]
    pub struct Late {
        values: BTreeSet<u64>,
        answered_one: bool,
    }

    #[maelstrom_node]
    impl Late {
        #[handle("broadcast")]
        async fn broadcast(mut node: Node<Self>, ctx: Ctx, message: u64) {
            let first = node.with(|s| {
                s.values.insert(message);
                !std::mem::replace(&mut s.answered_one, true)
            });
            if first {
                ctx.sleep(Duration::from_secs(6)).await;
            }
        }

        #[handle("read")]
        fn read(&self) -> ReadOk {
            ReadOk {
                messages: self.values.iter().copied().collect(),
            }
        }

        #[handle("topology")]
        fn topology(&mut self, topology: Value) {
            let _ = topology;
        }
    }

    #[derive(Serialize)]
    pub struct ReadOk {
        messages: Vec<u64>,
    }
}

#[test]
fn a_reply_after_its_client_gave_up_silences_the_node_as_on_maelstrom() {
    let flags = "-w broadcast --node-count 1 --time-limit 20 --rate 10";
    let run = sim(late::Late::default, flags)
        .run(1)
        .expect("the run happens");
    let notes = &run.results["nodes"]["notes"];
    let note = notes[0]
        .as_str()
        .unwrap_or_else(|| panic!("no note: {}", run.results["nodes"]));
    assert!(note.starts_with("n0 sent `broadcast_ok` to c"), "{note}");
    assert!(
        note.contains("Maelstrom stops reading n0's output"),
        "{note}"
    );
    // The node is heard no more: after the late reply (6 s into the run at
    // the latest), no operation succeeds.
    let late_ok = run
        .history
        .ops
        .iter()
        .filter(|op| op.kind == testbench::history::OpType::Ok && op.time > 7_000_000_000)
        .count();
    assert_eq!(late_ok, 0, "{}", run.results["stats"]);
    eprintln!(
        "late reply: {} operations, {} ok, valid {}",
        run.results["stats"]["count"], run.results["stats"]["ok-count"], run.valid
    );
}
