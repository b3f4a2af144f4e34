#!/usr/bin/env python3
"""A correct echo node. Extra arguments are ignored (tests use them to tag
the processes they start). With `stderr`, it also logs every request on
stderr."""
import sys

from maelstrom import Node

node = Node()
log = "stderr" in sys.argv[1:]


@node.on("echo")
def echo(msg):
    if log:
        print("echo", msg["body"]["echo"], file=sys.stderr, flush=True)
    node.reply(msg, {"type": "echo_ok", "echo": msg["body"]["echo"]})


node.run()
