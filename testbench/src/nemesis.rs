//! The nemesis: partitions as Maelstrom schedules them, and the process
//! faults of Jepsen's combined nemesis (`kill`, `pause`).
//!
//! Each enabled package keeps its own schedule, as Jepsen's packages do
//! when combined: events alternate start and stop, the first at once, each
//! next one a uniform random 0 to 2 × `--nemesis-interval` after the last.
//! - **partition**: a start picks one of Jepsen's shapes (`one`,
//!   `minority-third`, `majority`, `majorities-ring`) at random; a stop
//!   heals the network.
//! - **kill** and **pause** share one schedule (Jepsen's db package mixes
//!   them, picking one for each start): a start targets a node spec drawn
//!   from random subset, `one`, `minority-third`, `minority`, `majority` and
//!   `all`; its stop restarts (`start`) or resumes every node.
//!
//! Upstream Maelstrom (cb7f072) accepts only `partition`; `kill` and
//! `pause` follow Jepsen's combined nemesis and a Maelstrom fork that
//! implements them: a killed node's process dies with its state, and its
//! restart is a fresh process that gets `init` again with the same id.
//!
//! The nemesis decides; the engine carries its [`Action`]s out on the
//! network and the cluster, and records each event in the history as
//! Jepsen does (an `info` invocation and an `info` completion).

use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::{Config, NemesisKind};

/// The partition shapes a start picks from.
const SHAPES: [&str; 4] = ["one", "minority-third", "majority", "majorities-ring"];
/// The node specs a kill or pause picks from (`random` is a random
/// non-empty subset).
const SPECS: [&str; 6] = [
    "random",
    "one",
    "minority-third",
    "minority",
    "majority",
    "all",
];

/// What the engine must do for a nemesis event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Cut links: each `(receiver, sender)` pair drops messages.
    Partition(Vec<(usize, usize)>),
    /// Restore every link.
    Heal,
    /// Kill these nodes' processes.
    Kill(Vec<usize>),
    /// Start fresh processes for the killed ones among these nodes.
    Start(Vec<usize>),
    /// Stop these nodes' processes from running.
    Pause(Vec<usize>),
    /// Let the paused ones among these nodes run again.
    Resume(Vec<usize>),
}

/// One nemesis event: the history's `f` and invocation `value`, and what to
/// do. The completion value is the engine's to give (it knows the result).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Time since the start of the main phase.
    pub at: Duration,
    /// `start-partition`, `stop-partition`, `kill`, `start`, `pause` or
    /// `resume`.
    pub f: &'static str,
    /// The invocation's value: a shape, a node spec, or null.
    pub value: Value,
    /// What the engine does.
    pub action: Action,
}

/// One package's alternating schedule.
#[derive(Debug)]
struct Schedule {
    next: Duration,
    starts_next: bool,
    /// For the process-fault package: whether the running fault is a pause.
    pausing: bool,
}

impl Schedule {
    fn new() -> Self {
        Schedule {
            next: Duration::ZERO,
            starts_next: true,
            pausing: false,
        }
    }
}

/// The schedule of faults of one run.
pub struct Nemesis {
    interval: Duration,
    ids: Vec<String>,
    rng: fastrand::Rng,
    partitions: Option<Schedule>,
    processes: Option<Schedule>,
    kill: bool,
    pause: bool,
    /// What the nemesis did, for `results.json`.
    log: Vec<Value>,
}

impl Nemesis {
    pub fn new(config: &Config, seed: u64) -> Self {
        let has = |kind| config.nemesis.contains(&kind);
        let (kill, pause) = (has(NemesisKind::Kill), has(NemesisKind::Pause));
        Nemesis {
            interval: Duration::from_secs_f64(config.nemesis_interval),
            ids: config.node_ids(),
            rng: fastrand::Rng::with_seed(seed),
            partitions: has(NemesisKind::Partition).then(Schedule::new),
            processes: (kill || pause).then(Schedule::new),
            kill,
            pause,
            log: Vec::new(),
        }
    }

    /// Time since the start of the main phase of the next event (far away
    /// when nothing is scheduled).
    pub fn next_event(&self) -> Duration {
        [&self.partitions, &self.processes]
            .into_iter()
            .flatten()
            .map(|s| s.next)
            .min()
            .unwrap_or(Duration::from_secs(u64::from(u32::MAX)))
    }

    /// The events due by `elapsed` (since the start of the main phase), in
    /// time order.
    pub fn due(&mut self, elapsed: Duration) -> Vec<Event> {
        let mut events = Vec::new();
        loop {
            let partition_due = self.partitions.as_ref().is_some_and(|s| s.next <= elapsed);
            let process_due = self.processes.as_ref().is_some_and(|s| s.next <= elapsed);
            let event = match (partition_due, process_due) {
                (false, false) => break,
                (true, false) => self.partition_event(),
                (false, true) => self.process_event(),
                (true, true) => {
                    let p = self.partitions.as_ref().map(|s| s.next);
                    let q = self.processes.as_ref().map(|s| s.next);
                    if p <= q {
                        self.partition_event()
                    } else {
                        self.process_event()
                    }
                }
            };
            self.log_event(&event);
            events.push(event);
        }
        events
    }

    /// The events that end every fault for good (before the final phase):
    /// heal, resume and start every node.
    pub fn finish(&mut self, elapsed: Duration) -> Vec<Event> {
        let all: Vec<usize> = (0..self.ids.len()).collect();
        let mut events = Vec::new();
        if self.partitions.take().is_some() {
            events.push(Event {
                at: elapsed,
                f: "stop-partition",
                value: Value::Null,
                action: Action::Heal,
            });
        }
        if self.processes.take().is_some() {
            if self.pause {
                events.push(Event {
                    at: elapsed,
                    f: "resume",
                    value: json!("all"),
                    action: Action::Resume(all.clone()),
                });
            }
            if self.kill {
                events.push(Event {
                    at: elapsed,
                    f: "start",
                    value: json!("all"),
                    action: Action::Start(all),
                });
            }
        }
        for event in &events {
            self.log_event(event);
        }
        events
    }

    /// What the nemesis did, for `results.json`.
    pub fn log(&self) -> &[Value] {
        &self.log
    }

    fn log_event(&mut self, event: &Event) {
        let mut entry = json!({"time": event.at.as_secs_f64(), "f": event.f, "value": event.value});
        if let Action::Partition(grudges) = &event.action {
            entry["isolated"] = self.grudge_map(grudges);
        }
        self.log.push(entry);
    }

    /// The pause before a package's next event.
    fn gap(&mut self) -> Duration {
        Duration::from_secs_f64(self.rng.f64() * 2.0 * self.interval.as_secs_f64())
    }

    fn partition_event(&mut self) -> Event {
        let gap = self.gap();
        let shape_pick = self.rng.usize(..SHAPES.len());
        let schedule = self.partitions.as_mut().expect("due");
        let at = schedule.next;
        let starts = schedule.starts_next;
        schedule.starts_next = !starts;
        schedule.next += gap;
        if starts {
            let shape = SHAPES[shape_pick];
            Event {
                at,
                f: "start-partition",
                value: json!(shape),
                action: Action::Partition(self.grudges(shape)),
            }
        } else {
            Event {
                at,
                f: "stop-partition",
                value: Value::Null,
                action: Action::Heal,
            }
        }
    }

    fn process_event(&mut self) -> Event {
        let gap = self.gap();
        // The coin is tossed whether or not both faults are on, so that
        // turning one off (as a simulator's shrinking does) leaves the rest
        // of the schedule where it was.
        let coin = self.rng.bool();
        let pause_pick = match (self.kill, self.pause) {
            (true, true) => coin,
            (kill, _) => !kill,
        };
        let spec = SPECS[self.rng.usize(..SPECS.len())];
        let targets = self.targets(spec);
        let all: Vec<usize> = (0..self.ids.len()).collect();
        let schedule = self.processes.as_mut().expect("due");
        let at = schedule.next;
        let starts = schedule.starts_next;
        schedule.starts_next = !starts;
        schedule.next += gap;
        if starts {
            schedule.pausing = pause_pick;
            let (f, action) = if pause_pick {
                ("pause", Action::Pause(targets))
            } else {
                ("kill", Action::Kill(targets))
            };
            Event {
                at,
                f,
                value: json!(spec),
                action,
            }
        } else if schedule.pausing {
            Event {
                at,
                f: "resume",
                value: json!("all"),
                action: Action::Resume(all),
            }
        } else {
            Event {
                at,
                f: "start",
                value: json!("all"),
                action: Action::Start(all),
            }
        }
    }

    /// The nodes a kill or pause with node spec `spec` hits.
    fn targets(&mut self, spec: &str) -> Vec<usize> {
        let n = self.ids.len();
        let mut nodes: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut nodes);
        let count = match spec {
            "one" => 1,
            "minority-third" => minority_third(n),
            "minority" => n.saturating_sub(1) / 2,
            "majority" => n / 2 + 1,
            "all" => n,
            _ => 1 + self.rng.usize(..n.max(1)),
        };
        nodes.truncate(count.min(n));
        nodes.sort_unstable();
        nodes
    }

    /// `{receiver id: [sender ids it drops]}`, as Jepsen shows a grudge.
    pub fn grudge_map(&self, grudges: &[(usize, usize)]) -> Value {
        let mut drops: Vec<Vec<String>> = vec![Vec::new(); self.ids.len()];
        for &(receiver, sender) in grudges {
            drops[receiver].push(self.ids[sender].clone());
        }
        let map: Map<String, Value> = drops
            .into_iter()
            .enumerate()
            .map(|(i, mut from)| {
                from.sort();
                (self.ids[i].clone(), json!(from))
            })
            .collect();
        Value::Object(map)
    }

    /// `(receiver, sender)` pairs of a partition of the given shape.
    fn grudges(&mut self, shape: &str) -> Vec<(usize, usize)> {
        let n = self.ids.len();
        let mut nodes: Vec<usize> = (0..n).collect();
        self.rng.shuffle(&mut nodes);
        let split = match shape {
            "one" => 1,
            "minority-third" => minority_third(n),
            "majority" => n / 2,
            _ => return ring(&nodes),
        };
        let (a, b) = nodes.split_at(split.min(n));
        let mut grudges = Vec::new();
        for &x in a {
            for &y in b {
                grudges.push((x, y));
                grudges.push((y, x));
            }
        }
        grudges
    }
}

/// The largest whole number below n / 3 (so 0 for 3 nodes or fewer, as in
/// Jepsen: a `minority-third` partition of 3 nodes cuts nothing).
fn minority_third(n: usize) -> usize {
    n.saturating_sub(1) / 3
}

/// Each node hears only the majority window that starts at it on a random
/// ring: overlapping majorities, so the grudges are one-way.
fn ring(ring: &[usize]) -> Vec<(usize, usize)> {
    let n = ring.len();
    let window = n / 2 + 1;
    let mut grudges = Vec::new();
    for (at, &receiver) in ring.iter().enumerate() {
        let heard: Vec<usize> = (0..window).map(|k| ring[(at + k) % n]).collect();
        for &sender in ring {
            if !heard.contains(&sender) {
                grudges.push((receiver, sender));
            }
        }
    }
    grudges
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Workload};

    fn nemesis(nodes: u64, kinds: &[NemesisKind]) -> Nemesis {
        let mut config = Config::new(Workload::Echo, "x");
        config.node_count = Some(nodes);
        config.nemesis = kinds.to_vec();
        config.nemesis_interval = 1.0;
        Nemesis::new(&config, 9)
    }

    #[test]
    fn shapes_cut_the_expected_links() {
        let mut n = nemesis(5, &[NemesisKind::Partition]);
        let one = n.grudges("one");
        assert_eq!(one.len(), 2 * 4, "one node against four, both ways");
        let majority = n.grudges("majority");
        assert_eq!(majority.len(), 2 * 2 * 3);
        assert_eq!(n.grudges("minority-third").len(), 2 * 4);
        let ring = n.grudges("majorities-ring");
        // Each of 5 nodes hears 3 (itself included) and drops 2.
        assert_eq!(ring.len(), 5 * 2);
        let symmetric = ring.iter().all(|(a, b)| ring.contains(&(*b, *a)));
        assert!(!symmetric, "a majorities ring is one-way somewhere");
        let mut three = nemesis(3, &[NemesisKind::Partition]);
        assert!(three.grudges("minority-third").is_empty());
        let map = three.grudge_map(&[(0, 2)]);
        assert_eq!(map, json!({"n0": ["n2"], "n1": [], "n2": []}));
    }

    #[test]
    fn starts_and_stops_alternate_from_time_zero() {
        let mut n = nemesis(3, &[NemesisKind::Partition]);
        let first = n.due(Duration::ZERO);
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].f, "start-partition");
        let rest = n.due(Duration::from_secs(60));
        assert!(rest.len() > 10);
        for (i, event) in rest.iter().enumerate() {
            let expected = if i % 2 == 0 {
                "stop-partition"
            } else {
                "start-partition"
            };
            assert_eq!(event.f, expected);
        }
        let gaps: Vec<f64> = rest
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_secs_f64())
            .collect();
        assert!(gaps.iter().all(|g| *g < 2.0), "gaps are below 2 × interval");
        let last = n.finish(Duration::from_secs(61));
        assert_eq!(last[0].action, Action::Heal);
        assert!(n.due(Duration::from_secs(1000)).is_empty());
    }

    #[test]
    fn kills_are_followed_by_starts_and_pauses_by_resumes() {
        let mut n = nemesis(5, &[NemesisKind::Kill, NemesisKind::Pause]);
        let events = n.due(Duration::from_secs(100));
        assert!(events.len() > 20);
        let mut kills = 0;
        let mut pauses = 0;
        for pair in events.chunks(2) {
            match (&pair[0].action, pair.get(1).map(|e| &e.action)) {
                (Action::Kill(nodes), Some(Action::Start(all))) => {
                    kills += 1;
                    assert!(!nodes.is_empty() && nodes.len() <= 5);
                    assert_eq!(all.len(), 5);
                }
                (Action::Pause(nodes), Some(Action::Resume(all))) => {
                    pauses += 1;
                    assert!(!nodes.is_empty());
                    assert_eq!(all.len(), 5);
                }
                (_, None) => {}
                other => panic!("out of order: {other:?}"),
            }
        }
        assert!(kills > 3 && pauses > 3, "{kills} kills, {pauses} pauses");
        let finish: Vec<&str> = n
            .finish(Duration::from_secs(101))
            .iter()
            .map(|e| e.f)
            .collect();
        assert_eq!(finish, ["resume", "start"]);
    }

    #[test]
    fn partitions_and_process_faults_keep_their_own_schedules() {
        let mut n = nemesis(5, &[NemesisKind::Partition, NemesisKind::Kill]);
        let events = n.due(Duration::from_secs(30));
        let partitions = events.iter().filter(|e| e.f.ends_with("partition")).count();
        let kills = events
            .iter()
            .filter(|e| e.f == "kill" || e.f == "start")
            .count();
        assert!(partitions > 5 && kills > 5);
        assert!(
            events.windows(2).all(|w| w[0].at <= w[1].at),
            "in time order"
        );
    }

    #[test]
    fn node_specs_pick_the_expected_counts() {
        let mut n = nemesis(5, &[NemesisKind::Kill]);
        assert_eq!(n.targets("one").len(), 1);
        assert_eq!(n.targets("minority").len(), 2);
        assert_eq!(n.targets("majority").len(), 3);
        assert_eq!(n.targets("all").len(), 5);
        assert_eq!(n.targets("minority-third").len(), 1);
        for _ in 0..50 {
            let random = n.targets("random");
            assert!((1..=5).contains(&random.len()));
        }
    }
}
