#!/usr/bin/env python3
"""Known-bad echo: appends to the payload."""
from maelstrom import Node

node = Node()


@node.on("echo")
def echo(msg):
    node.reply(msg, {"type": "echo_ok", "echo": str(msg["body"]["echo"]) + "!"})


node.run()
