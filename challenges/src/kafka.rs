//! Replicated append-only logs for the kafka challenge, with offsets that
//! need no coordination: whichever node a `send` reaches numbers the
//! message itself.
//!
//! # Offsets
//!
//! Node `i` of `N` numbers a key's messages only with offsets `i`,
//! `N + i`, `2N + i` ... (interleaved offset spaces: two nodes never pick
//! the same offset). Per key, each node keeps `next`, the lowest offset it
//! may still use, and raises it past everything it hears from the others,
//! like a Lamport clock; its next message on the key gets the first offset
//! of its own space at or above `next`. The offsets jumped over stay empty,
//! which the checker allows (it ranks offsets among those known to hold a
//! message).
//!
//! # The watermark: polls never skip
//!
//! Every node knows, per key and per node `j`, a bound `heard[j]`: `j`
//! announced that it numbers no more messages below it, and every message
//! `j` numbered below it is here (for itself, its own `next`). Below the
//! key's *watermark*, the lowest of these bounds, no node will ever add a
//! message, and this node already has every message there is. A poll is
//! served only below the watermark, so no message can later turn up between
//! two offsets a poll returned, or before the first one: no poll skip, no
//! lost write, and every node that serves a range serves the same messages
//! in it. The watermark only rises, so a client's successive polls never go
//! back. A message becomes visible once every node has heard of it and
//! raised its `next` past it, which the pushes tell: one push there and
//! one back.
//!
//! # Pushes, acknowledgements and repair
//!
//! Each node pushes to every peer, at most once per interval, one message
//! with a [`Run`] for every key whose `next` or committed offset the peer
//! has not confirmed: its own messages from the offset the peer confirmed
//! up to its `next`. Every push that carries runs is answered with
//! [`Ack`]s that ride on the receiver's next push (which, under load, it
//! sends anyway, with the `next` it raised). So a run always starts at or
//! below what the receiver has, and a lost push is repaired by the next,
//! which carries its content again; when nothing new comes, unconfirmed
//! runs are resent after a while ([`crate::push_window`]). A partition only
//! delays: runs wait, and the first push after it heals brings everything.
//! Committed offsets ride in the runs and merge by maximum, so a
//! `list_committed_offsets` after an `assign` finds them on any node.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::push_window::{Pacing, Pending, PushClock};

/// The highest offset a node ever uses (JSON numbers are exact up to here);
/// runs that go past it are refused.
pub const MAX_OFFSET: u64 = (1 << 53) - 1;

/// A node's news about one key, for one peer: the messages it numbered
/// in `from..next`, its `next` for the key, and its committed offset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub from: u64,
    pub next: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub msgs: Vec<(u64, Value)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<u64>,
}

/// A receiver's confirmation of runs of one key: how far it has the
/// sender's messages (its `heard` for the sender) and its committed offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub have: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<u64>,
}

/// What one node pushes to a peer: runs of the keys with news, and
/// acknowledgements of the runs it received.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Push {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runs: BTreeMap<String, Run>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub acks: BTreeMap<String, Ack>,
}

/// One key's log as this node knows it.
#[derive(Debug, Clone)]
struct Log {
    /// Messages by offset, every node's.
    msgs: BTreeMap<u64, Value>,
    /// Per node (by index): that node numbers nothing below this offset
    /// any more, and all it numbered below it is in `msgs`. This node's
    /// own entry is its `next`.
    heard: Vec<u64>,
    committed: Option<u64>,
}

impl Log {
    fn new(nodes: usize) -> Self {
        Log {
            msgs: BTreeMap::new(),
            heard: vec![0; nodes],
            committed: None,
        }
    }

    /// Below this offset the log is complete and final.
    fn watermark(&self) -> u64 {
        self.heard.iter().copied().min().unwrap_or(0)
    }
}

/// What a peer has confirmed of one key (`heard` for this node, and the
/// committed offset), or what the last push to it carried.
type Mark = (u64, Option<u64>);

/// One peer: what it confirmed, what it was sent, what it is owed.
#[derive(Debug, Default)]
struct Peer {
    index: usize,
    confirmed: BTreeMap<String, Mark>,
    sent: BTreeMap<String, Mark>,
    /// Keys whose runs from this peer have not been acknowledged yet.
    owed: BTreeSet<String>,
}

/// This node's logs and replication state.
#[derive(Debug)]
pub struct Logs {
    me: usize,
    nodes: usize,
    logs: BTreeMap<String, Log>,
    peers: BTreeMap<String, Peer>,
    clock: PushClock,
}

impl Logs {
    /// The logs of node `me` in a cluster of `nodes` (the same list, in the
    /// same order, on every node), pushing as `pacing` says.
    pub fn new(me: &str, nodes: &[String], pacing: Pacing) -> Self {
        let nodes: Vec<&String> = if nodes.iter().any(|n| n == me) {
            nodes.iter().collect()
        } else {
            Vec::new() // not in the cluster: a cluster of its own
        };
        let peers = nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| **n != me)
            .map(|(index, n)| {
                let peer = Peer {
                    index,
                    ..Peer::default()
                };
                ((*n).clone(), peer)
            })
            .collect();
        Logs {
            me: nodes.iter().position(|n| *n == me).unwrap_or(0),
            nodes: nodes.len().max(1),
            logs: BTreeMap::new(),
            peers,
            clock: PushClock::new(pacing),
        }
    }

    fn log(&mut self, key: &str) -> &mut Log {
        let nodes = self.nodes;
        self.logs
            .entry(key.to_owned())
            .or_insert_with(|| Log::new(nodes))
    }

    /// Appends `msg` to `key` at the first offset of this node's space at
    /// or above its `next`, and returns the offset; `Err` (nothing
    /// appended) when the offsets are used up.
    pub fn append(&mut self, key: &str, msg: Value) -> Result<u64, String> {
        let (me, nodes) = (self.me as u64, self.nodes as u64);
        let log = self.log(key);
        let next = log.heard[me as usize];
        let offset = next
            .checked_add((me + nodes - next % nodes) % nodes)
            .filter(|o| *o <= MAX_OFFSET)
            .ok_or_else(|| format!("key {key} has no offsets left"))?;
        log.msgs.insert(offset, msg);
        log.heard[me as usize] = offset + 1;
        Ok(offset)
    }

    /// Each key's messages from the offset asked for up to its watermark;
    /// keys with nothing there are left out.
    pub fn poll(&self, offsets: &BTreeMap<String, u64>) -> BTreeMap<String, Vec<(u64, Value)>> {
        let mut out = BTreeMap::new();
        for (key, &from) in offsets {
            let Some(log) = self.logs.get(key) else {
                continue;
            };
            let end = log.watermark();
            if from >= end {
                continue;
            }
            let msgs: Vec<(u64, Value)> = log
                .msgs
                .range(from..end)
                .map(|(o, m)| (*o, m.clone()))
                .collect();
            if !msgs.is_empty() {
                out.insert(key.clone(), msgs);
            }
        }
        out
    }

    /// The key's watermark: polls see its messages below this offset.
    pub fn watermark(&self, key: &str) -> u64 {
        self.logs.get(key).map_or(0, Log::watermark)
    }

    /// Raises the committed offsets to those given (never lowers them).
    pub fn commit(&mut self, offsets: &BTreeMap<String, u64>) {
        for (key, &offset) in offsets {
            let log = self.log(key);
            log.committed = log.committed.max(Some(offset));
        }
    }

    /// The committed offsets of `keys` that are known.
    pub fn committed(&self, keys: &[String]) -> BTreeMap<String, u64> {
        keys.iter()
            .filter_map(|key| Some((key.clone(), self.logs.get(key)?.committed?)))
            .collect()
    }

    /// The pushes due at `now`, one per peer at most.
    pub fn pushes(&mut self, now: Duration) -> Vec<(String, Push)> {
        let me = self.me;
        let mut out = Vec::new();
        for (name, peer) in &mut self.peers {
            // Keys with news the peer has not confirmed: (key, mine, fresh).
            let mut news = Vec::new();
            for (key, log) in &self.logs {
                let mine = (log.heard[me], log.committed);
                let confirmed = peer.confirmed.get(key).copied().unwrap_or_default();
                if beyond(mine, confirmed) {
                    let sent = peer.sent.get(key).copied().unwrap_or_default();
                    news.push((key, mine, beyond(mine, sent)));
                }
            }
            let pending = if news.iter().any(|(_, _, fresh)| *fresh) {
                Pending::Fresh
            } else if !peer.owed.is_empty() {
                Pending::Ack
            } else if !news.is_empty() {
                Pending::Unconfirmed
            } else {
                Pending::Nothing
            };
            if !self.clock.due(name, now, pending) {
                continue;
            }
            let mut push = Push::default();
            for (key, mine, _) in news {
                let log = &self.logs[key];
                let (from, confirmed_commit) = peer.confirmed.get(key).copied().unwrap_or_default();
                let msgs = log
                    .msgs
                    .range(from..mine.0)
                    .filter(|(o, _)| *o % self.nodes as u64 == me as u64)
                    .map(|(o, m)| (*o, m.clone()))
                    .collect();
                let committed = mine.1.filter(|_| mine.1 > confirmed_commit);
                let run = Run {
                    from,
                    next: mine.0,
                    msgs,
                    committed,
                };
                push.runs.insert(key.clone(), run);
                peer.sent.insert(key.clone(), mine);
            }
            for key in std::mem::take(&mut peer.owed) {
                if let Some(log) = self.logs.get(&key) {
                    let ack = Ack {
                        have: log.heard[peer.index],
                        committed: log.committed,
                    };
                    push.acks.insert(key, ack);
                }
            }
            out.push((name.clone(), push));
        }
        out
    }

    /// Takes a push from `peer`: its messages and `next`s (raising this
    /// node's own `next` past them) and its acknowledgements. Pushes from
    /// unknown nodes and runs that do not fit are ignored.
    pub fn receive(&mut self, peer: &str, push: Push) {
        let (me, nodes) = (self.me, self.nodes);
        let Some(index) = self.peers.get(peer).map(|p| p.index) else {
            return;
        };
        for (key, run) in push.runs {
            if run.from > run.next || run.next > MAX_OFFSET {
                continue;
            }
            let log = self
                .logs
                .entry(key.clone())
                .or_insert_with(|| Log::new(nodes));
            log.committed = log.committed.max(run.committed);
            // Honest runs start at or below what this node has (they start
            // where it confirmed); any other would leave a hole.
            if run.from <= log.heard[index] {
                for (offset, msg) in run.msgs {
                    let theirs = offset % nodes as u64 == index as u64;
                    if theirs && (run.from..run.next).contains(&offset) {
                        log.msgs.entry(offset).or_insert(msg);
                    }
                }
                log.heard[index] = log.heard[index].max(run.next);
                log.heard[me] = log.heard[me].max(run.next);
            }
            if let Some(p) = self.peers.get_mut(peer) {
                p.owed.insert(key);
            }
        }
        let Some(p) = self.peers.get_mut(peer) else {
            return;
        };
        for (key, ack) in push.acks {
            let Some(log) = self.logs.get(&key) else {
                continue;
            };
            // Never more than this node announced (or a forged ack would
            // stop its resends).
            let have = ack.have.min(log.heard[me]);
            let committed = ack.committed.min(log.committed);
            let confirmed = p.confirmed.entry(key).or_default();
            *confirmed = (confirmed.0.max(have), confirmed.1.max(committed));
        }
    }
}

/// Whether `a` has news over `b`: a higher `next` or committed offset.
fn beyond(a: Mark, b: Mark) -> bool {
    a.0 > b.0 || a.1 > b.1
}

#[cfg(test)]
mod tests;
