//! `broadcast`: values broadcast to any node must reach every node's reads.

use serde_json::{json, Map, Value};

use super::schema::{self, Shape};
use super::{FinalPhase, Invocation, Request, Step, Workload};
use crate::checker::set_full;
use crate::config::Topology;
use crate::history::History;

/// Sends the topology, then broadcasts of 0, 1, 2 ... mixed with reads.
pub struct Broadcast {
    topology: Topology,
    next_value: u64,
}

impl Broadcast {
    pub fn new(topology: Topology) -> Self {
        Broadcast {
            topology,
            next_value: 0,
        }
    }
}

impl Workload for Broadcast {
    fn setup(&self, nodes: &[String]) -> Vec<(usize, Value)> {
        let topology = topology(self.topology, nodes);
        (0..nodes.len())
            .map(|node| (node, json!({"type": "topology", "topology": topology})))
            .collect()
    }

    fn next_op(
        &mut self,
        _process: u64,
        _elapsed: std::time::Duration,
        rng: &mut fastrand::Rng,
    ) -> Invocation {
        if rng.bool() {
            let value = self.next_value;
            self.next_value += 1;
            Invocation::new("broadcast", json!(value))
        } else {
            Invocation::new("read", Value::Null)
        }
    }

    fn request(&mut self, _process: u64, op: &Invocation) -> Request {
        Request::Send(match op.f {
            "broadcast" => json!({"type": "broadcast", "message": op.value}),
            _ => json!({"type": "read"}),
        })
    }

    fn complete(&mut self, _process: u64, op: &Invocation, reply: &Value) -> Result<Step, String> {
        if op.f == "broadcast" {
            schema::check(reply, "broadcast_ok", &[])?;
            return Ok(Step::Done(op.value.clone()));
        }
        schema::check(reply, "read_ok", &[("messages", Shape::List(&Shape::Any))])?;
        Ok(Step::Done(reply["messages"].clone()))
    }

    fn idempotent(&self, f: &str) -> bool {
        f == "read"
    }

    fn final_phase(&self) -> Option<FinalPhase> {
        Some(FinalPhase::reads())
    }

    fn check(&self, history: &History) -> Value {
        set_full::check(history, "broadcast")
    }
}

/// The neighbours of each node under `kind`, as the `topology` message
/// carries them.
pub fn topology(kind: Topology, nodes: &[String]) -> Map<String, Value> {
    let n = nodes.len();
    let neighbours = |i: usize| -> Vec<usize> {
        match kind {
            Topology::Total => (0..n).filter(|&j| j != i).collect(),
            Topology::Line => [i.checked_sub(1), (i + 1 < n).then_some(i + 1)]
                .into_iter()
                .flatten()
                .collect(),
            Topology::Grid => {
                // Below, above, right, left: Maelstrom's order.
                let width = (n as f64).sqrt().ceil() as usize;
                let (row, col) = (i / width, i % width);
                let mut around = Vec::new();
                if i + width < n {
                    around.push(i + width);
                }
                if row > 0 {
                    around.push(i - width);
                }
                if col + 1 < width && i + 1 < n {
                    around.push(i + 1);
                }
                if col > 0 {
                    around.push(i - 1);
                }
                around
            }
            Topology::Tree2 | Topology::Tree3 | Topology::Tree4 => {
                let k = match kind {
                    Topology::Tree2 => 2,
                    Topology::Tree3 => 3,
                    _ => 4,
                };
                let parent = (i > 0).then(|| (i - 1) / k);
                let children = (k * i + 1..=k * i + k).filter(|&c| c < n);
                parent.into_iter().chain(children).collect()
            }
        }
    };
    (0..n)
        .map(|i| {
            let ids = neighbours(i).into_iter().map(|j| json!(nodes[j])).collect();
            (nodes[i].clone(), Value::Array(ids))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("n{i}")).collect()
    }

    #[test]
    fn topologies_are_symmetric_and_connected() {
        for kind in [
            Topology::Grid,
            Topology::Line,
            Topology::Total,
            Topology::Tree2,
            Topology::Tree3,
            Topology::Tree4,
        ] {
            for n in [1, 2, 5, 25] {
                let nodes = ids(n);
                let map = topology(kind, &nodes);
                for (node, around) in &map {
                    for other in around.as_array().unwrap() {
                        let back = map[other.as_str().unwrap()].as_array().unwrap();
                        assert!(
                            back.contains(&json!(node)),
                            "{kind:?} {n}: {node} → {other} is one-way"
                        );
                    }
                }
                // Everyone is reachable from n1.
                let mut seen = vec!["n1".to_owned()];
                let mut i = 0;
                while i < seen.len() {
                    for other in map[&seen[i]].as_array().unwrap() {
                        let other = other.as_str().unwrap().to_owned();
                        if !seen.contains(&other) {
                            seen.push(other);
                        }
                    }
                    i += 1;
                }
                assert_eq!(seen.len(), n, "{kind:?} with {n} nodes is not connected");
            }
        }
    }

    #[test]
    fn a_grid_of_25_is_five_by_five() {
        let map = topology(Topology::Grid, &ids(25));
        assert_eq!(map["n1"], json!(["n6", "n2"]));
        assert_eq!(map["n7"], json!(["n12", "n2", "n8", "n6"]));
        assert_eq!(map["n25"], json!(["n20", "n24"]));
    }
}
