#!/usr/bin/env python3
"""An echo service that exercises how the network routes lines:
  forward     every node other than the first forwards client requests to
              the first with the client's own `src` (as Maelstrom's Raft
              demo forwards to its leader); the first answers the client;
  null-src    correct, but its first echo also writes a reply whose `src`
              is null (as Maelstrom's Ruby pn_counter demo does before init);
  extra-key   correct, but its first echo also writes a line with a
              top-level key Maelstrom's schema does not allow."""
import json
import sys

from maelstrom import Node

mode = sys.argv[1]
node = Node()
first = [True]


@node.on("echo")
def echo(msg):
    if mode == "forward" and node.id != node.ids[0]:
        # The message as delivered (with the network's top-level `id`), new
        # destination: src stays the client's, as Maelstrom's Raft demo does.
        forwarded = dict(msg)
        forwarded["dest"] = node.ids[0]
        node.send_raw(forwarded)
        return
    if first[0] and mode == "null-src":
        node.send_raw({"src": None, "dest": msg["src"], "body": {"type": "echo_ok", "in_reply_to": 0}})
    if first[0] and mode == "extra-key":
        node.send_raw({"src": node.id, "dest": msg["src"], "via": "n9", "body": {"type": "hello"}})
    first[0] = False
    node.reply(msg, {"type": "echo_ok", "echo": msg["body"]["echo"]})


def send_raw(message):
    with node.lock:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()


node.send_raw = send_raw
node.run()
