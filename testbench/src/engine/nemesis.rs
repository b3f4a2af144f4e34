//! Faults applied to nodes: partitions, kills and restarts (with `init`
//! again), pauses and resumes, each recorded in the history.

use serde_json::{json, Value};

use super::{Engine, NodeState, INIT_TIMEOUT};
use crate::nemesis::Action;
use crate::net::Endpoint;
use crate::reach::{Cluster, Time};

impl<C: Cluster> Engine<'_, C> {
    /// Carries out a nemesis event and records it in the history: an `info`
    /// invocation and an `info` completion whose value says what happened.
    pub(super) fn apply_nemesis(&mut self, event: crate::nemesis::Event) {
        let time = self.elapsed_nanos();
        self.history
            .push_nemesis(time, event.f, event.value.clone());
        let now = self.now();
        let outcome = match event.action {
            Action::Partition(grudges) => {
                let map = self.nemesis.grudge_map(&grudges);
                self.net.partition(grudges);
                json!(["isolated", map])
            }
            Action::Heal => {
                self.net.heal();
                json!("network-healed")
            }
            Action::Kill(targets) => self.each_node(&targets, |engine, node| {
                if matches!(
                    engine.nodes[node],
                    NodeState::Up | NodeState::Starting { .. }
                ) {
                    engine.cluster.kill(node);
                    engine.net.set_down(Endpoint::Node(node), true, now);
                    engine.nodes[node] = NodeState::Killed;
                    "killed"
                } else {
                    "not-running"
                }
            }),
            Action::Start(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] != NodeState::Killed {
                    return "already-running";
                }
                match engine.cluster.restart(node) {
                    Ok(()) => {
                        engine.net.set_down(Endpoint::Node(node), false, now);
                        engine.reinit(node);
                        "started"
                    }
                    Err(err) => {
                        engine.faults.record("restart-failed", err);
                        engine.nodes[node] = NodeState::Gone;
                        "failed"
                    }
                }
            }),
            Action::Pause(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] == NodeState::Up {
                    engine.cluster.pause(node);
                    engine.nodes[node] = NodeState::Paused;
                    "paused"
                } else {
                    "not-running"
                }
            }),
            Action::Resume(targets) => self.each_node(&targets, |engine, node| {
                if engine.nodes[node] == NodeState::Paused {
                    engine.cluster.resume(node);
                    engine.nodes[node] = NodeState::Up;
                    "resumed"
                } else {
                    "not-paused"
                }
            }),
        };
        let time = self.elapsed_nanos();
        self.history.push_nemesis(time, event.f, outcome);
    }

    /// `{node id: result}` of `act` on each target.
    pub(super) fn each_node(
        &mut self,
        targets: &[usize],
        mut act: impl FnMut(&mut Self, usize) -> &'static str,
    ) -> Value {
        let mut results = serde_json::Map::new();
        for &node in targets {
            let result = act(self, node);
            results.insert(self.directory.nodes()[node].clone(), json!(result));
        }
        Value::Object(results)
    }

    /// Sends `init` again to a restarted node, from a fresh client; the
    /// node is `Starting` until it answers.
    pub(super) fn reinit(&mut self, node: usize) {
        let client = self.clients.fresh_client();
        let ids = self.directory.nodes().to_vec();
        let body = json!({"type": "init", "node_id": ids[node], "node_ids": ids, "msg_id": 1});
        self.side_requests.insert((client, 1), None);
        // A fresh process: Maelstrom reads its output anew.
        self.silenced[node] = false;
        self.send_from_client(client, node, &body);
        self.nodes[node] = NodeState::Starting {
            client,
            deadline: self.now() + INIT_TIMEOUT,
        };
    }

    /// Marks restarted nodes up once they answered `init`, and gives up on
    /// those that did not within [`INIT_TIMEOUT`].
    pub(super) fn check_restarts(&mut self, now: Time) {
        for node in 0..self.nodes.len() {
            let NodeState::Starting { client, deadline } = self.nodes[node] else {
                continue;
            };
            match self.side_requests.get(&(client, 1)) {
                Some(Some(reply)) => {
                    if reply["type"] == "init_ok" {
                        self.nodes[node] = NodeState::Up;
                    } else {
                        self.faults.record(
                            "restart-failed",
                            format!(
                                "{} answered init after its restart with {reply}",
                                self.directory.nodes()[node]
                            ),
                        );
                        self.nodes[node] = NodeState::Up;
                    }
                    self.side_requests.remove(&(client, 1));
                    self.closed_clients.insert(client, now);
                }
                _ if now >= deadline => {
                    self.faults.record(
                        "restart-failed",
                        format!(
                            "{} did not answer init within {INIT_TIMEOUT:?} of its restart",
                            self.directory.nodes()[node]
                        ),
                    );
                    self.side_requests.remove(&(client, 1));
                    self.closed_clients.insert(client, now);
                    self.nodes[node] = NodeState::Up;
                }
                _ => {}
            }
        }
    }
}
