#!/usr/bin/env python3
"""lin-kv, two ways (the first argument):
  proxy         correct: forwards every operation to Maelstrom's lin-kv
                service and relays its answer;
  local-reads   known-bad: forwards writes and compare-and-sets, but answers
                reads from a local copy that only its own writes update."""
import sys

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "proxy"
node = Node()
local = {}


def forward(msg, remember=None):
    def relay(reply):
        reply = {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")}
        if reply["type"] != "error" and remember:
            remember()
        node.reply(msg, reply)
    body = {k: v for k, v in msg["body"].items() if k != "msg_id"}
    node.rpc("lin-kv", body, relay)


@node.on("read")
def read(msg):
    key = str(msg["body"]["key"])
    if mode == "local-reads" and key in local:
        node.reply(msg, {"type": "read_ok", "value": local[key]})
    else:
        forward(msg, None)


@node.on("write")
def write(msg):
    body = msg["body"]
    forward(msg, lambda: local.__setitem__(str(body["key"]), body["value"]))


@node.on("cas")
def cas(msg):
    body = msg["body"]
    forward(msg, lambda: local.__setitem__(str(body["key"]), body["to"]))


node.run()
