#!/usr/bin/env python3
"""Answers init; its first echo request floods stdout with what the first argument names:
  garbage N       N lines that are not JSON;
  nowhere N       N messages to a node that does not exist;
  endless MB      one line of MB megabytes with no newline, then sleeps.
Every flood is followed by a correct echo service, so the run goes on."""
import json
import sys

from maelstrom import Node

mode, amount = sys.argv[1], int(sys.argv[2])
node = Node()


def flood():
    out = sys.stdout
    with node.lock:
        if mode == "garbage":
            for i in range(amount):
                out.write("garbage line %d %s\n" % (i, "x" * 200))
        elif mode == "nowhere":
            for i in range(amount):
                out.write(json.dumps({"src": node.id, "dest": "n99", "body": {"type": "gossip", "i": i}}) + "\n")
        elif mode == "endless":
            chunk = "{" * (1 << 20)
            for _ in range(amount):
                out.write(chunk)
        out.flush()


flooded = False


@node.on("echo")
def echo(msg):
    # The first request floods before its reply, so that the bench reads
    # the whole flood before the operation ends.
    global flooded
    if not flooded:
        flooded = True
        flood()
    node.reply(msg, {"type": "echo_ok", "echo": msg["body"]["echo"]})


node.run()
