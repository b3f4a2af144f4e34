#!/usr/bin/env python3
"""Kafka-style logs, five ways (the first argument):
  single      correct on one node: one log per key, offsets 0, 1, 2 ...;
  leader      correct on any number of nodes: the first node keeps the
              logs as `single` does, the others forward every request to
              it (under partitions their clients time out);
  per-node    known-bad: the same code run on several nodes, each keeping
              its own logs with no coordination, so two nodes give one
              offset to two messages;
  lose        known-bad: acknowledges every fifth send at a fresh offset
              without storing it;
  skip        known-bad: a poll leaves out the first message it should
              return whenever more than one is waiting."""
import sys

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "single"
node = Node()
logs = {}       # key -> list of [offset, msg]
next_offset = {}  # key -> offset
committed = {}  # key -> offset
sends = 0


def handler(kind):
    """Registers a request handler; in `leader` mode, nodes other than the
    first forward the request to it instead."""
    def register(handle):
        def dispatch(msg):
            if mode == "leader" and node.id != node.ids[0]:
                node.forward(node.ids[0], msg)
            else:
                handle(msg)
        node.on(kind)(dispatch)
        return handle
    return register


@handler("send")
def send(msg):
    global sends
    body = msg["body"]
    offset = next_offset.get(body["key"], 0)
    next_offset[body["key"]] = offset + 1
    sends += 1
    if not (mode == "lose" and sends % 5 == 0):
        logs.setdefault(body["key"], []).append([offset, body["msg"]])
    node.reply(msg, {"type": "send_ok", "offset": offset})


@handler("poll")
def poll(msg):
    out = {}
    for key, start in msg["body"]["offsets"].items():
        pairs = [p for p in logs.get(key, []) if p[0] >= start]
        if mode == "skip" and len(pairs) > 1:
            pairs = pairs[1:]
        if pairs:
            out[key] = pairs
    node.reply(msg, {"type": "poll_ok", "msgs": out})


@handler("commit_offsets")
def commit_offsets(msg):
    for key, offset in msg["body"]["offsets"].items():
        committed[key] = max(committed.get(key, -1), offset)
    node.reply(msg, {"type": "commit_offsets_ok"})


@handler("list_committed_offsets")
def list_committed_offsets(msg):
    offsets = {k: committed[k] for k in msg["body"]["keys"] if k in committed}
    node.reply(msg, {"type": "list_committed_offsets_ok", "offsets": offsets})


node.run()
