#!/usr/bin/env python3
"""Counter for g-counter and pn-counter, two ways (the first argument):
  crdt        correct: each node keeps its own totals of increments and
              decrements and gossips both vectors; reads sum them;
  local       known-bad: counts only the adds it received itself."""
import sys

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "crdt"
node = Node()
up = {}    # node -> total of its positive deltas
down = {}  # node -> total of its negative deltas (as a positive number)


@node.on("add")
def add(msg):
    delta = msg["body"]["delta"]
    side = up if delta >= 0 else down
    side[node.id] = side.get(node.id, 0) + abs(delta)
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    if mode == "crdt":
        total = sum(up.values()) - sum(down.values())
    else:
        total = up.get(node.id, 0) - down.get(node.id, 0)
    node.reply(msg, {"type": "read_ok", "value": total})


@node.on("state")
def state(msg):
    for mine, theirs in ((up, msg["body"]["up"]), (down, msg["body"]["down"])):
        for who, total in theirs.items():
            mine[who] = max(mine.get(who, 0), total)


@node.every(0.1)
def share():
    if mode == "crdt":
        for peer in node.peers:
            node.send(peer, {"type": "state", "up": up, "down": down})


node.run()
