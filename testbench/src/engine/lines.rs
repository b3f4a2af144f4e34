//! What nodes print and what the network hands over: a node's line is
//! parsed once and sent on by its `dest`; a delivered message reaches a
//! node, a client or a service.
//!
//! A line addressed to a client id Maelstrom has closed (a reply after
//! its client gave up, in a workload whose clients are not reused) or
//! never opened is, in Maelstrom, an "invalid dest": the assertion kills
//! the thread that reads that node's output, and nothing more the node
//! prints is read for the rest of the run, while its clients' requests
//! still reach it and time out. The bench does the same (the node is
//! *silenced*) and says so in the results' `nodes.notes`, which Maelstrom
//! only logs.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::{Engine, NodeState};
use crate::net::{Delivery, Endpoint, Packet};
use crate::reach::Cluster;

/// The envelope of a line a node wrote, parsed once; the body stays raw
/// until a client or service needs its fields. As in Maelstrom, no other
/// top-level field is allowed, `src` and `dest` are strings, and a missing
/// or null body is an empty one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    #[serde(borrow)]
    src: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    dest: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    body: Option<&'a RawValue>,
    /// A top-level `id` the node set itself (the network sets its own).
    #[serde(default)]
    id: Option<u64>,
}

impl<C: Cluster> Engine<'_, C> {
    /// Sends a line a node wrote into the network, addressed by its `dest`.
    pub(super) fn on_line(&mut self, node: usize, line: String) {
        if self.silenced[node] {
            return;
        }
        let me = &self.directory.nodes()[node];
        let message: Line = match serde_json::from_str(&line) {
            Ok(message) => message,
            Err(err) => {
                return self.faults.record(
                    "not-a-message",
                    format!("{me} wrote a line on stdout that is not a message ({err}): {line}"),
                );
            }
        };
        let body = message.body.map(RawValue::get).filter(|b| *b != "null");
        if body.is_some_and(|b| !b.starts_with('{')) {
            return self.faults.record(
                "body-not-an-object",
                format!("{me} sent a message whose body is not an object: {line}"),
            );
        }
        // Like Maelstrom, route by `dest` whatever `src` says: a node may
        // forward a client's request with the client's `src`.
        let src = self.directory.resolve(&message.src);
        if src == Endpoint::Unknown {
            return self.faults.record(
                "unknown-src",
                format!("{me} sent a message whose src is no known id: {line}"),
            );
        }
        let dest = self.directory.resolve(&message.dest);
        if dest == Endpoint::Unknown {
            return self.faults.record(
                "unknown-dest",
                format!("{me} sent a message to an id that does not exist: {line}"),
            );
        }
        if let Endpoint::Client(client) = dest {
            if !self.client_is_open(client) {
                return self.silence(node, client, body);
            }
        }
        let line = if message.id.is_some() || body.is_none() {
            // The network's `id` replaces the node's own; no body is `{}`.
            let mut value: Value = serde_json::from_str(&line).unwrap_or_default();
            if let Some(object) = value.as_object_mut() {
                object.remove("id");
                if body.is_none() {
                    object.insert("body".to_owned(), json!({}));
                }
            }
            value.to_string()
        } else {
            line
        };
        let now = self.now();
        self.net.send_printed(node, Packet { src, dest, line }, now);
    }

    /// Whether Maelstrom has a queue for client `client`: a process's
    /// client, or an init or setup client still waiting for its reply.
    fn client_is_open(&self, client: u64) -> bool {
        self.clients.slot_of_client(client).is_some()
            || self.side_requests.keys().any(|(c, _)| *c == client)
    }

    /// Stops reading node `node`'s output, as Maelstrom does after its
    /// line to `client`, and notes why.
    fn silence(&mut self, node: usize, client: u64, body: Option<&str>) {
        self.silenced[node] = true;
        let me = &self.directory.nodes()[node];
        let what = body
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
            .and_then(|b| b["type"].as_str().map(str::to_owned))
            .map_or_else(|| "a message".to_owned(), |kind| format!("`{kind}`"));
        let now = self.now();
        let when = match self.closed_clients.get(&client) {
            Some(&closed) => format!(
                " {:.1} s after c{client} gave up (Maelstrom closes a client whose request timed out, and an init or setup client once answered)",
                now.saturating_sub(closed).as_secs_f64()
            ),
            None => ", an id Maelstrom never opened".to_owned(),
        };
        let note = format!(
            "{me} sent {what} to c{client}{when}; Maelstrom stops reading {me}'s output from here, so {me} is silent for the rest of the run"
        );
        self.faults.note("silenced", note);
    }

    pub(super) fn deliver(&mut self, delivery: Delivery) {
        let Delivery { id, packet, .. } = delivery;
        match packet.dest {
            Endpoint::Node(node) => {
                if self.nodes[node] != NodeState::Gone {
                    self.cluster.send(node, with_id(&packet.line, id));
                }
            }
            Endpoint::Client(client) => self.deliver_to_client(client, &packet.line),
            Endpoint::Service(service) => {
                let Ok(message) = serde_json::from_str::<Value>(&packet.line) else {
                    return;
                };
                let src = message["src"].as_str().unwrap_or_default().to_owned();
                let reply = self.services.handle(service, &src, &message["body"]);
                let line = json!({"src": service.id(), "dest": src, "body": reply});
                let packet = Packet {
                    src: packet.dest,
                    dest: packet.src,
                    line: line.to_string(),
                };
                let now = self.now();
                self.net.send(packet, now);
            }
            Endpoint::Unknown => {}
        }
    }
}

/// `line` (a JSON object) with Maelstrom's top-level message `id` first.
fn with_id(line: &str, id: u64) -> String {
    match line.strip_prefix('{') {
        Some(rest) if rest.trim_start().starts_with('}') => format!("{{\"id\":{id}}}"),
        Some(rest) => format!("{{\"id\":{id},{rest}"),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_id_goes_first_in_a_delivered_line() {
        let line = r#"{"src":"c1","dest":"n0","body":{"type":"echo"}}"#;
        let out = with_id(line, 42);
        let value: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["id"], 42);
        assert_eq!(value["body"]["type"], "echo");
        assert_eq!(with_id("{}", 1), r#"{"id":1}"#);
    }
}
