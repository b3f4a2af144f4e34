#!/usr/bin/env python3
"""G-set, two ways (the first argument):
  gossip      correct: gossips the whole set to every peer periodically;
  forgetful   known-bad: keeps only its 20 newest elements, so elements
              that were read vanish later."""
import sys

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "gossip"
node = Node()
elements = []


def keep(new):
    for element in new:
        if element not in elements:
            elements.append(element)
    if mode == "forgetful":
        del elements[:-20]


@node.on("add")
def add(msg):
    keep([msg["body"]["element"]])
    node.reply(msg, {"type": "add_ok"})


@node.on("read")
def read(msg):
    node.reply(msg, {"type": "read_ok", "value": sorted(elements)})


@node.on("state")
def state(msg):
    keep(msg["body"]["elements"])


@node.every(0.1)
def share():
    for peer in node.peers:
        node.send(peer, {"type": "state", "elements": elements})


node.run()
