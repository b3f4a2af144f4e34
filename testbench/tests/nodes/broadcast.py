#!/usr/bin/env python3
"""Broadcast, three ways (the first argument):
  retry       correct: gossips every new value to every peer and resends
              until acknowledged, so partitions only delay it;
  once        known-bad: gossips each value once, with no retry (loses
              values sent across a partition);
  no-gossip   known-bad: keeps values where they arrive."""
import sys

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "retry"
node = Node()
seen = set()
unacked = {}  # peer -> set of values not yet acknowledged


def learn(values):
    new = set(values) - seen
    seen.update(new)
    if new and mode != "no-gossip":
        for peer in node.peers:
            if mode == "retry":
                unacked.setdefault(peer, set()).update(new)
            else:
                node.send(peer, {"type": "gossip", "values": sorted(new)})


@node.on("topology")
def topology(msg):
    node.reply(msg, {"type": "topology_ok"})


@node.on("broadcast")
def broadcast(msg):
    learn([msg["body"]["message"]])
    node.reply(msg, {"type": "broadcast_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "messages": sorted(seen)})


@node.on("gossip")
def gossip(msg):
    learn(msg["body"]["values"])
    if mode == "retry":
        node.send(msg["src"], {"type": "gossip_ack", "values": msg["body"]["values"]})


@node.on("gossip_ack")
def gossip_ack(msg):
    unacked.get(msg["src"], set()).difference_update(msg["body"]["values"])


@node.every(0.1)
def resend():
    for peer, values in unacked.items():
        if values:
            node.send(peer, {"type": "gossip", "values": sorted(values)})


node.run()
