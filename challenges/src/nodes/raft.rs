//! Maelstrom's Raft chapter (`-w lin-kv`): a linearizable key-value store
//! of registers (`read`, `write`, `cas`) replicated by the Raft core in
//! `challenges::raft`, with the state machine `challenges::registers`.
//!
//! # Requests
//!
//! The leader appends each `write` and `cas` to its log and keeps the
//! request's [`Responder`] by log index; the answer goes out when the entry
//! is applied, with the outcome decided then (a `cas` that finds another
//! value fails with 22, a missing key with 20: definite, since the command
//! changed nothing). If the entry applied at that index is another one
//! (the leader lost its office and a successor's entry took the place), the
//! request surely never takes effect and is answered with 11. A `read` gets
//! a read index: it is answered once the leader has heard from a majority
//! in a round of appends that started after the read arrived and has
//! applied everything committed before it. No clock lease is trusted.
//!
//! A request that reaches a follower is handed on to the leader it knows
//! with [`Responder::forward`]: the request keeps the client's `src` and
//! `msg_id`, so the leader answers the client directly (this is what a
//! client would do when redirected, and what Maelstrom's own Raft demo
//! does; the hop is client traffic, which partitions do not cut). A node
//! that knows no leader (a deposed leader does not know its successor)
//! hands it to another node at random. After three hops without reaching a
//! leader, the request is answered with 11 at once (definite: no node
//! appended it), so that no client waits for a timeout where a quick
//! refusal is possible.
//!
//! How elections are timed and appends batched, and what that costs in
//! messages and latency, is in the `raft` binary's documentation
//! (`src/bin/raft.rs`), which sets both.
//!
//! # Relays
//!
//! Maelstrom's `majorities-ring` partition leaves each pair of three nodes
//! one direction only, which stops any exchange of requests and replies.
//! Every Raft message says whether its sender hears the receiver
//! (`challenges::relay`); a node that is not heard sends a second copy of
//! each message through a node that hears it. This costs nothing while
//! links work both ways.
//!
//! The node ticks the Raft core every 5 ms (`Raft::next_wakeup` says when
//! a timer is due; 5 ms is finer than any of them). The `raft` binary
//! takes `--heartbeat-ms N`, `--election-ms N` and `--batch-ms N` over
//! [`timing`].

use std::collections::BTreeMap;
use std::time::Duration;

use crate::raft::{Event, Message, Raft, Timing};
use crate::registers::{Command, Registers};
use crate::relay::Links;
use glomers::prelude::*;

/// The node's timing unless told otherwise: the core's defaults with
/// 25 ms batches.
pub fn timing() -> Timing {
    Timing {
        batch: Duration::from_millis(25),
        ..Timing::default()
    }
}

/// How many times a request may be handed on before it is refused.
const MAX_HOPS: u8 = 3;

/// One replica, built at `init` (it needs the node ids).
#[maelstrom_node]
pub struct Replica {
    raft: Raft<Command>,
    /// Which peers hear this node, for routing around one-way partitions.
    links: Links,
    /// Node ids, by the Raft core's node numbers.
    nodes: Vec<String>,
    me: usize,
    registers: Registers,
    /// Requests whose entries this node appended as leader, by log index.
    proposals: BTreeMap<u64, Vec<Proposal>>,
    /// Reads waiting for their read index, by read id.
    reads: BTreeMap<u64, (Value, Responder<ReadOk>)>,
}

/// A `write` or `cas` waiting for its entry, appended in `term`.
struct Proposal {
    term: u64,
    reply: Responder,
}

#[maelstrom_node]
impl Replica {
    #[handle("read")]
    fn read(&mut self, ctx: &Ctx, key: Value, hops: Option<u8>, reply: Responder<ReadOk>) {
        match self.raft.read(ctx.now()) {
            Ok(id) => {
                self.reads.insert(id, (key, reply));
            }
            Err(_) => {
                let hops = next_hop(hops);
                self.hand_on(ctx, reply, hops, &ReplicaMsg::Read { key, hops });
            }
        }
        self.pump(ctx);
    }

    #[handle("write")]
    fn write(&mut self, ctx: &Ctx, key: Value, value: Value, hops: Option<u8>, reply: Responder) {
        let hops = next_hop(hops);
        let request = ReplicaMsg::Write {
            key: key.clone(),
            value: value.clone(),
            hops,
        };
        self.propose(ctx, Command::Write { key, value }, reply, (hops, request));
    }

    #[handle("cas")]
    fn cas(
        &mut self,
        ctx: &Ctx,
        key: Value,
        from: Value,
        to: Value,
        hops: Option<u8>,
        reply: Responder,
    ) {
        let hops = next_hop(hops);
        let request = ReplicaMsg::Cas {
            key: key.clone(),
            from: from.clone(),
            to: to.clone(),
            hops,
        };
        self.propose(ctx, Command::Cas { key, from, to }, reply, (hops, request));
    }

    /// Raft's own messages, from `origin` through a relay or else from
    /// `src`; `hears` says whether the sender hears this node directly.
    #[handle("raft", no_reply)]
    fn on_raft(
        &mut self,
        ctx: &Ctx,
        src: &Src,
        message: Message<Command>,
        hears: bool,
        origin: Option<String>,
    ) {
        let Some(src) = self.node(src) else {
            return glomers::log!("a raft message from {src}, who is not a node");
        };
        self.links.heard_from(src, ctx.now());
        let from = match &origin {
            Some(origin) => match self.node(origin) {
                Some(origin) => origin,
                None => {
                    return glomers::log!("a raft message relayed from {origin}, who is not a node")
                }
            },
            None => src,
        };
        self.links.told(from, hears);
        self.raft.receive(ctx.now(), from, message);
        self.pump(ctx);
    }

    /// A message to pass on to node `to`, which does not hear `src`.
    #[handle("relay", no_reply)]
    fn on_relay(
        &mut self,
        ctx: &Ctx,
        src: &Src,
        to: String,
        message: Message<Command>,
        hears: bool,
    ) {
        let Some(peer) = self.node(src) else {
            return glomers::log!("a relay request from {src}, who is not a node");
        };
        self.links.heard_from(peer, ctx.now());
        if self.node(&to).is_some() {
            let origin = Some(src.to_string());
            ctx.send(
                &to,
                &ReplicaMsg::Raft {
                    message,
                    hears,
                    origin,
                },
            );
        }
    }

    #[every(ms = 5)]
    fn tick(&mut self, ctx: &Ctx) {
        self.raft.tick(ctx.now());
        self.pump(ctx);
    }
}

impl Replica {
    /// A replica of the cluster `ctx` names, with `timing`.
    pub fn new(ctx: &Ctx, timing: Timing) -> Self {
        let nodes = ctx.node_ids().to_vec();
        let me = nodes.iter().position(|n| n == ctx.node_id()).unwrap_or(0);
        // A peer that sends nothing for one and a half heartbeats is taken
        // not to be heard (a leader or a voter sends at least once a
        // heartbeat to whoever it talks to).
        let window = timing.heartbeat * 3 / 2;
        Replica {
            raft: Raft::new(me, nodes.len(), timing, ctx.random_u64(), ctx.now()),
            links: Links::new(me, nodes.len(), window, ctx.random_u64()),
            nodes,
            me,
            registers: Registers::default(),
            proposals: BTreeMap::new(),
            reads: BTreeMap::new(),
        }
    }

    /// Appends `command` if this node leads, else hands the request on
    /// (with its hop count).
    fn propose(
        &mut self,
        ctx: &Ctx,
        command: Command,
        reply: Responder,
        (hops, request): (Option<u8>, ReplicaMsg),
    ) {
        match self.raft.propose(ctx.now(), command) {
            Ok((index, term)) => {
                let waiting = self.proposals.entry(index).or_default();
                waiting.push(Proposal { term, reply });
            }
            Err(_) => self.hand_on(ctx, reply, hops, &request),
        }
        self.pump(ctx);
    }

    /// Forwards a request this node cannot serve to the leader it knows
    /// (or, knowing none, to another node), unless it has been handed on
    /// too often already: then it is refused with 11.
    fn hand_on<T>(&self, ctx: &Ctx, reply: Responder<T>, hops: Option<u8>, request: &ReplicaMsg) {
        let others = self.nodes.len().saturating_sub(1);
        if hops.is_none_or(|h| h > MAX_HOPS) || others == 0 {
            return reply.error(Error::temporarily_unavailable(
                "no leader within reach; nothing was done",
            ));
        }
        let target = match self.raft.leader_hint() {
            Some(leader) if leader != self.me => leader,
            _ => (self.me + 1 + ctx.random_below(others as u64) as usize) % self.nodes.len(),
        };
        reply.forward(&self.nodes[target], request);
    }

    /// The number of node `id`, if it is a node.
    fn node(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n == id)
    }

    /// Sends what the Raft core wants sent (through a relay as well, to a
    /// peer that does not hear this node) and answers what it settled.
    fn pump(&mut self, ctx: &Ctx) {
        let now = ctx.now();
        for (to, message) in self.raft.take_messages() {
            let hears = self.links.hears(to, now);
            if let Some(relay) = self.links.relay_for(to) {
                let to = self.nodes[to].clone();
                let message = message.clone();
                ctx.send(
                    &self.nodes[relay],
                    &ReplicaMsg::Relay { to, message, hears },
                );
            }
            let origin = None;
            ctx.send(
                &self.nodes[to],
                &ReplicaMsg::Raft {
                    message,
                    hears,
                    origin,
                },
            );
        }
        for event in self.raft.take_events() {
            match event {
                Event::Apply {
                    index,
                    term,
                    command,
                } => {
                    let outcome = command.map(|c| self.registers.apply(&c));
                    for proposal in self.proposals.remove(&index).unwrap_or_default() {
                        match &outcome {
                            Some(result) if proposal.term == term => {
                                proposal.reply.result(result.clone());
                            }
                            _ => proposal.reply.error(Error::temporarily_unavailable(
                                "another leader's entry took its place in the log",
                            )),
                        }
                    }
                }
                Event::Read { id } => {
                    if let Some((key, reply)) = self.reads.remove(&id) {
                        reply.result(self.registers.read(&key).map(|value| ReadOk { value }));
                    }
                }
                Event::ReadFailed { id } => {
                    if let Some((_, reply)) = self.reads.remove(&id) {
                        reply.error(Error::temporarily_unavailable(
                            "this node stopped leading before the read was confirmed",
                        ));
                    }
                }
            }
        }
    }
}

/// The hop count of a request handed on once more (`None` when it has
/// gone too far already).
fn next_hop(hops: Option<u8>) -> Option<u8> {
    hops.unwrap_or(0).checked_add(1)
}

#[derive(Serialize)]
struct ReadOk {
    value: Value,
}
