#!/usr/bin/env python3
"""Known-bad unique-ids: a per-node counter, so nodes hand out the same ids."""
from maelstrom import Node

node = Node()
count = 0


@node.on("generate")
def generate(msg):
    global count
    count += 1
    node.reply(msg, {"type": "generate_ok", "id": count})


node.run()
