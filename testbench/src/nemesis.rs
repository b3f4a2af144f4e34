//! The partition nemesis, scheduled as Maelstrom schedules it: starts and
//! stops alternate, the first start at once, each next event a uniform
//! random 0 to 2 × interval after the previous one. Each start picks one of
//! Jepsen's partition shapes at random.

use std::time::Duration;

use serde_json::{json, Value};

use crate::config::Config;
use crate::net::Network;

/// The partition shapes a start picks from.
const SHAPES: [&str; 4] = ["one", "minority-third", "majority", "majorities-ring"];

/// The schedule of partitions and heals of one run.
pub struct Nemesis {
    enabled: bool,
    interval: Duration,
    /// The node ids, by index.
    ids: Vec<String>,
    nodes: usize,
    rng: fastrand::Rng,
    /// Time since the start of the next event.
    next: Duration,
    /// Whether the next event is a start.
    starts_next: bool,
    log: Vec<Value>,
}

impl Nemesis {
    pub fn new(config: &Config, seed: u64) -> Self {
        Nemesis {
            enabled: config.partitions(),
            interval: Duration::from_secs_f64(config.nemesis_interval),
            ids: config.node_ids(),
            nodes: config.node_total(),
            rng: fastrand::Rng::with_seed(seed),
            next: Duration::ZERO,
            starts_next: true,
            log: Vec::new(),
        }
    }

    /// Time since the start of the next event (far away when disabled).
    pub fn next_event(&self) -> Duration {
        if self.enabled {
            self.next
        } else {
            Duration::from_secs(u64::from(u32::MAX))
        }
    }

    /// Acts on every event due by `elapsed`.
    pub fn tick(&mut self, elapsed: Duration, net: &mut Network) {
        while self.enabled && elapsed >= self.next {
            let at = self.next.as_secs_f64();
            if self.starts_next {
                let shape = SHAPES[self.rng.usize(..SHAPES.len())];
                let grudges = self.grudges(shape);
                let mut drops: Vec<Vec<String>> = vec![Vec::new(); self.nodes];
                for &(receiver, sender) in &grudges {
                    drops[receiver].push(self.ids[sender].clone());
                }
                let isolated: serde_json::Map<String, Value> = drops
                    .into_iter()
                    .enumerate()
                    .map(|(i, mut from)| {
                        from.sort();
                        (self.ids[i].clone(), json!(from))
                    })
                    .collect();
                self.log.push(json!({"time": at, "f": "start-partition", "value": shape, "isolated": isolated}));
                net.partition(grudges);
            } else {
                self.log.push(json!({"time": at, "f": "stop-partition"}));
                net.heal();
            }
            self.starts_next = !self.starts_next;
            self.next +=
                Duration::from_secs_f64(self.rng.f64() * 2.0 * self.interval.as_secs_f64());
        }
    }

    /// Heals the network for good (before the final phase).
    pub fn heal(&mut self, net: &mut Network) {
        if self.enabled {
            self.log
                .push(json!({"f": "stop-partition", "final?": true}));
        }
        net.heal();
        self.enabled = false;
    }

    /// What the nemesis did, for results.json.
    pub fn log(&self) -> &[Value] {
        &self.log
    }

    /// `(receiver, sender)` pairs of a partition of the given shape.
    fn grudges(&mut self, shape: &str) -> Vec<(usize, usize)> {
        let mut nodes: Vec<usize> = (0..self.nodes).collect();
        self.rng.shuffle(&mut nodes);
        let split = match shape {
            "one" => 1,
            "minority-third" => (self.nodes.saturating_sub(1)) / 3,
            "majority" => self.nodes / 2,
            _ => return self.ring(&nodes),
        };
        let (a, b) = nodes.split_at(split);
        let mut grudges = Vec::new();
        for &x in a {
            for &y in b {
                grudges.push((x, y));
                grudges.push((y, x));
            }
        }
        grudges
    }

    /// Each node hears only the majority window that starts at it on a
    /// random ring: overlapping majorities, so the grudges are one-way.
    fn ring(&self, ring: &[usize]) -> Vec<(usize, usize)> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Workload};

    fn nemesis(nodes: u64) -> Nemesis {
        let mut config = Config::new(Workload::Echo, "x");
        config.node_count = Some(nodes);
        config.nemesis = vec![crate::config::NemesisKind::Partition];
        config.nemesis_interval = 1.0;
        Nemesis::new(&config, 9)
    }

    #[test]
    fn shapes_cut_the_expected_links() {
        let mut n = nemesis(5);
        let one = n.grudges("one");
        assert_eq!(one.len(), 2 * 4, "one node against four, both ways");
        let majority = n.grudges("majority");
        assert_eq!(majority.len(), 2 * 2 * 3);
        assert!(n.grudges("minority-third").len() == 2 * 4);
        let ring = n.grudges("majorities-ring");
        // Each of 5 nodes hears 3 (itself included) and drops 2.
        assert_eq!(ring.len(), 5 * 2);
        let symmetric = ring.iter().all(|(a, b)| ring.contains(&(*b, *a)));
        assert!(!symmetric, "a majorities ring is one-way somewhere");
        assert!(nemesis(3).grudges("minority-third").is_empty());
    }

    #[test]
    fn starts_and_stops_alternate_from_time_zero() {
        let mut n = nemesis(3);
        let mut net = Network::new(0.0, crate::config::LatencyDist::Constant, 1);
        n.tick(Duration::ZERO, &mut net);
        assert_eq!(n.log.len(), 1);
        n.tick(Duration::from_secs(60), &mut net);
        let kinds: Vec<&str> = n.log.iter().map(|e| e["f"].as_str().unwrap()).collect();
        assert!(kinds.len() > 10);
        for (i, kind) in kinds.iter().enumerate() {
            assert_eq!(
                *kind,
                if i % 2 == 0 {
                    "start-partition"
                } else {
                    "stop-partition"
                }
            );
        }
        n.heal(&mut net);
        assert!(!net.is_partitioned());
    }
}
