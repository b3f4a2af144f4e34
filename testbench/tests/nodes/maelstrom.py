"""A minimal Maelstrom node library for the bench's reference and known-bad
nodes: JSON lines on stdin/stdout, handlers by type, periodic tasks."""

import json
import sys
import threading
import time


class Node:
    def __init__(self):
        self.id = None
        self.ids = []
        self.handlers = {}
        self.lock = threading.RLock()
        self.next_msg_id = 0
        self.timers = []
        self.callbacks = {}

    @property
    def peers(self):
        return [n for n in self.ids if n != self.id]

    def on(self, kind):
        def register(handler):
            self.handlers[kind] = handler
            return handler
        return register

    def every(self, seconds):
        def register(task):
            self.timers.append((seconds, task))
            return task
        return register

    def send(self, dest, body):
        with self.lock:
            sys.stdout.write(json.dumps({"src": self.id, "dest": dest, "body": body}) + "\n")
            sys.stdout.flush()

    def reply(self, request, body):
        body = dict(body)
        body["in_reply_to"] = request["body"]["msg_id"]
        self.send(request["src"], body)

    def rpc(self, dest, body, callback):
        """Sends `body` to `dest`; `callback(reply_body)` runs on the reply."""
        with self.lock:
            self.next_msg_id += 1
            body = dict(body, msg_id=self.next_msg_id)
            self.callbacks[self.next_msg_id] = callback
            self.send(dest, body)

    def forward(self, dest, request):
        """Sends `request`'s body to `dest` and relays its reply, whatever
        it is, to the original sender."""
        def relay(reply):
            reply = {k: v for k, v in reply.items() if k not in ("msg_id", "in_reply_to")}
            self.reply(request, reply)
        body = {k: v for k, v in request["body"].items() if k != "msg_id"}
        self.rpc(dest, body, relay)

    def _tick(self, seconds, task):
        while True:
            time.sleep(seconds)
            with self.lock:
                task()

    def run(self):
        for line in sys.stdin:
            message = json.loads(line)
            body = message["body"]
            with self.lock:
                if body["type"] == "init":
                    self.id = body["node_id"]
                    self.ids = body["node_ids"]
                    self.reply(message, {"type": "init_ok"})
                    for seconds, task in self.timers:
                        threading.Thread(target=self._tick, args=(seconds, task), daemon=True).start()
                elif body.get("in_reply_to") in self.callbacks:
                    self.callbacks.pop(body["in_reply_to"])(body)
                elif body["type"] in self.handlers:
                    self.handlers[body["type"]](message)
                elif "in_reply_to" not in body:
                    self.reply(message, {"type": "error", "code": 10, "text": "not supported"})
