//! The workload's side of a run: `init` and setup requests, invoking each
//! operation, matching replies to it, timeouts, and the final operations.

use std::time::Duration;

use serde_json::{json, Value};

use super::{Engine, CLIENT_TIMEOUT, INIT_TIMEOUT};
use crate::clients::InFlight;
use crate::history::{Op, OpType};
use crate::net::{Endpoint, Packet};
use crate::reach::Cluster;
use crate::workload::{Invocation, Request, Step};

impl<C: Cluster> Engine<'_, C> {
    /// Ends every operation still in flight when the run stops early: it
    /// may or may not have happened.
    pub(super) fn end_in_flight(&mut self) {
        let why = match self.interrupted {
            Some(signal) => format!("interrupted by {}", crate::interrupt::name(signal)),
            None => "no node left to answer".to_owned(),
        };
        for slot in 0..self.clients.len() {
            if let Some(in_flight) = &self.clients.slot(slot).busy {
                let kind = self.unsure(in_flight.op.f);
                let value = in_flight.op.value.clone();
                self.complete(slot, kind, value, Some(json!(why)));
            }
        }
    }

    /// How an operation that may or may not have happened ends: `fail` if
    /// repeating it is harmless (a read), else `info`.
    pub(super) fn unsure(&self, f: &str) -> OpType {
        if self.workload.idempotent(f) {
            OpType::Fail
        } else {
            OpType::Info
        }
    }

    /// Sends `init` to every node and waits for every `init_ok`.
    pub(super) fn init(&mut self) -> Result<(), String> {
        let ids = self.directory.nodes().to_vec();
        let calls = ids
            .iter()
            .enumerate()
            .map(|(index, id)| {
                (
                    index,
                    json!({"type": "init", "node_id": id, "node_ids": ids}),
                )
            })
            .collect();
        self.side_calls(calls, "init", 0)
    }

    /// Sends each request from a client of its own and waits (up to
    /// [`INIT_TIMEOUT`]) for every reply to be `<type>_ok`.
    pub(super) fn side_calls(
        &mut self,
        calls: Vec<(usize, Value)>,
        what: &str,
        first_client: u64,
    ) -> Result<(), String> {
        let mut waiting = Vec::new();
        for (node, mut body) in calls {
            // The client that talks to node i is the i-th of these.
            let client = first_client + node as u64;
            let msg_id = 1;
            let kind = body["type"].as_str().unwrap_or_default().to_owned();
            body["msg_id"] = json!(msg_id);
            self.side_requests.insert((client, msg_id), None);
            self.send_from_client(client, node, &body);
            waiting.push((node, client, msg_id, kind));
        }
        let deadline = self.now() + INIT_TIMEOUT;
        loop {
            if let Some(error) = self.faults.first() {
                return Err(format!("{what} failed: {error}"));
            }
            if self.must_end() {
                return match self.interrupted {
                    Some(signal) => Err(format!(
                        "{what} interrupted by {}",
                        crate::interrupt::name(signal)
                    )),
                    None => Err(format!("{what} failed: every node has stopped")),
                };
            }
            let missing: Vec<_> = waiting
                .iter()
                .filter(|(_, client, msg_id, _)| self.side_requests[&(*client, *msg_id)].is_none())
                .collect();
            if missing.is_empty() {
                break;
            }
            if self.now() >= deadline {
                let names: Vec<&str> = missing
                    .iter()
                    .map(|(node, ..)| self.directory.nodes()[*node].as_str())
                    .collect();
                return Err(format!(
                    "no reply to {what} within {INIT_TIMEOUT:?} from {}",
                    names.join(", ")
                ));
            }
            self.step(Some(deadline));
        }
        for (node, client, msg_id, kind) in waiting {
            let reply = self.side_requests.remove(&(client, msg_id)).flatten();
            let now = self.now();
            self.closed_clients.insert(client, now);
            let reply = reply.unwrap_or_default();
            let expected = format!("{kind}_ok");
            if reply["type"] != json!(expected) {
                return Err(format!(
                    "{} answered {what} `{kind}` with {reply} instead of `{expected}`",
                    self.directory.nodes()[node]
                ));
            }
        }
        Ok(())
    }

    /// The pause before the next operation: uniform with mean 1/rate.
    pub(super) fn stagger(&mut self) -> Duration {
        Duration::from_secs_f64(self.rng.f64() * 2.0 / self.config.rate)
    }

    /// Records `op`'s invocation by `slot`'s process (marked final in the
    /// final phase) and sends its first request; an operation without one
    /// ends at once as `info`.
    pub(super) fn invoke(&mut self, slot: usize, op: Invocation, is_final: bool) {
        let (process, client, node) = {
            let s = self.clients.slot(slot);
            (s.process, s.client, s.node)
        };
        let request = self.workload.request(process, &op);
        self.history.push_op(Op {
            index: 0,
            time: self.elapsed_nanos(),
            kind: OpType::Invoke,
            process,
            f: op.f.to_owned(),
            value: op.value.clone(),
            error: None,
            is_final,
        });
        let deadline = self.now() + self.client_timeout();
        let mut body = match request {
            Request::Send(body) => body,
            Request::Ok(_) | Request::Crash => {
                let (kind, value) = match request {
                    Request::Ok(value) => (OpType::Ok, value),
                    _ => (OpType::Info, op.value.clone()),
                };
                self.clients.slot_mut(slot).busy = Some(InFlight {
                    msg_id: 0,
                    op,
                    deadline,
                    is_final,
                });
                return self.complete(slot, kind, value, None);
            }
        };
        let msg_id = self.clients.next_msg_id(slot);
        body["msg_id"] = json!(msg_id);
        self.clients.slot_mut(slot).busy = Some(InFlight {
            msg_id,
            op,
            deadline,
            is_final,
        });
        self.send_from_client(client, node, &body);
    }

    pub(super) fn send_from_client(&mut self, client: u64, node: usize, body: &Value) {
        let line = json!({"src": format!("c{client}"), "dest": self.directory.nodes()[node], "body": body});
        let packet = Packet {
            src: Endpoint::Client(client),
            dest: Endpoint::Node(node),
            line: line.to_string(),
        };
        let now = self.now();
        self.net.send(packet, now);
    }

    /// Records how `slot`'s operation ended; an indefinite end retires the
    /// process, as Jepsen does, and the slot continues as a new one.
    pub(super) fn complete(
        &mut self,
        slot: usize,
        kind: OpType,
        value: Value,
        error: Option<Value>,
    ) {
        let Some(in_flight) = self.clients.slot_mut(slot).busy.take() else {
            return;
        };
        let process = self.clients.slot(slot).process;
        self.history.push_op(Op {
            index: 0,
            time: self.elapsed_nanos(),
            kind,
            process,
            f: in_flight.op.f.to_owned(),
            value,
            error,
            is_final: in_flight.is_final,
        });
        if kind == OpType::Info {
            let reuse = self.workload.reuses_clients();
            if let Some(closed) = self.clients.retire(slot, reuse) {
                let now = self.now();
                self.closed_clients.insert(closed, now);
            }
        }
    }

    pub(super) fn deliver_to_client(&mut self, client: u64, line: &str) {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            return;
        };
        let body = &message["body"];
        let Some(in_reply_to) = body["in_reply_to"].as_u64() else {
            return;
        };
        if let Some(waiting) = self.side_requests.get_mut(&(client, in_reply_to)) {
            *waiting = Some(body.clone());
            return;
        }
        let Some(slot) = self.clients.slot_of_client(client) else {
            return; // a late reply to a retired client
        };
        let Some(in_flight) = &self.clients.slot(slot).busy else {
            return;
        };
        if in_flight.msg_id != in_reply_to {
            return;
        }
        if body["type"] == "error" {
            let code = body["code"].as_u64().unwrap_or(13);
            let kind = if crate::protocol::is_definite(code) && self.workload.sorts_errors() {
                OpType::Fail
            } else {
                self.unsure(in_flight.op.f)
            };
            let error = json!([crate::protocol::error_name(code), body["text"]]);
            let value = in_flight.op.value.clone();
            self.complete(slot, kind, value, Some(error));
            return;
        }
        let op = in_flight.op.clone();
        let process = self.clients.slot(slot).process;
        match self.workload.complete(process, &op, body) {
            Ok(Step::Done(value)) => self.complete(slot, OpType::Ok, value, None),
            Ok(Step::Then(mut next)) => {
                let msg_id = self.clients.next_msg_id(slot);
                next["msg_id"] = json!(msg_id);
                let deadline = self.now() + self.client_timeout();
                if let Some(in_flight) = &mut self.clients.slot_mut(slot).busy {
                    in_flight.msg_id = msg_id;
                    in_flight.deadline = deadline;
                }
                let (client, node) = (self.clients.slot(slot).client, self.clients.slot(slot).node);
                self.send_from_client(client, node, &next);
            }
            Err(problem) => {
                let value = op.value.clone();
                self.complete(
                    slot,
                    OpType::Info,
                    value,
                    Some(json!(format!("indeterminate: {problem}"))),
                );
            }
        }
    }

    /// Lets every operation in flight finish or time out.
    pub(super) fn drain_in_flight(&mut self) {
        while self.clients.any_busy() && !self.must_end() {
            self.step(None);
        }
    }

    /// How long a client waits for a reply to each request.
    pub(super) fn client_timeout(&self) -> Duration {
        self.workload.timeout().unwrap_or(CLIENT_TIMEOUT)
    }

    /// Every client process runs the workload's final operations, marked
    /// final, one after another (spaced by the phase's stagger) until it
    /// has none left; after the phase's limit no new one starts.
    pub(super) fn final_ops(&mut self, phase: &crate::workload::FinalPhase) {
        let end = self.now() + phase.limit;
        // Operations done by each slot in this phase, and when it may
        // start the next.
        let mut done = vec![0usize; self.clients.len()];
        let mut not_before = vec![self.now(); self.clients.len()];
        let mut finished = vec![false; self.clients.len()];
        while self.now() < end && !self.must_end() {
            let now = self.now();
            for slot in 0..self.clients.len() {
                if finished[slot]
                    || self.clients.slot(slot).busy.is_some()
                    || not_before[slot] > now
                {
                    continue;
                }
                let process = self.clients.slot(slot).process;
                match self.workload.final_op(process, done[slot]) {
                    Some(op) => {
                        done[slot] += 1;
                        self.invoke(slot, op, true);
                        let pause = phase.stagger.as_secs_f64() * 2.0 * self.rng.f64();
                        not_before[slot] = self.now() + Duration::from_secs_f64(pause);
                    }
                    None => finished[slot] = true,
                }
            }
            if finished.iter().all(|&f| f) {
                break;
            }
            let next = not_before.iter().copied().filter(|t| *t > now).min();
            self.step(Some(next.unwrap_or(end).min(end)));
        }
        self.drain_in_flight();
    }
}
