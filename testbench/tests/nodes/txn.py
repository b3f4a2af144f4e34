#!/usr/bin/env python3
"""Transactions for txn-rw-register and txn-list-append, six ways (the
first argument):
  single         correct on one node: each transaction runs whole under
                 one lock;
  leader         correct on any number of nodes: the first node runs
                 transactions as `single` does, the others forward them to
                 it (under partitions their clients time out);
  replicate      correct for read-committed (rw-register) on any number of
                 nodes, and not serializable: each node runs transactions on
                 its own copy and sends their final writes, stamped with a
                 Lamport clock, to every peer until acknowledged; the
                 highest stamp wins; concurrent read-then-writes on two
                 nodes lose updates (G2-item);
  intermediate   known-bad: runs micro-operations one at a time with pauses
                 between, so others read a transaction's intermediate
                 writes (G1b);
  aborted        known-bad: applies writes as it goes, then aborts every
                 fourth writing transaction (txn-conflict) without undoing
                 them, so others read aborted writes (G1a);
  lose-append    known-bad: every tenth append to a key rebuilds the key's
                 list from a copy taken before the previous append, losing
                 that append after it was read."""
import sys
import threading
import time

from maelstrom import Node

mode = sys.argv[1] if len(sys.argv) > 1 else "single"
node = Node()
store = {}      # key -> value (rw-register) or list (list-append)
previous = {}   # key -> the list before its latest append (lose-append)
appends = {}    # key -> appends so far
writing_txns = 0


def apply(mop):
    f, key, value = mop
    if f == "r":
        current = store.get(key)
        return [f, key, list(current) if isinstance(current, list) else current]
    if f == "w":
        store[key] = value
    else:
        current = store.get(key, [])
        appends[key] = appends.get(key, 0) + 1
        if mode == "lose-append" and appends[key] % 10 == 0 and key in previous:
            current = previous[key]
        previous[key] = list(current)
        store[key] = current + [value]
    return mop


def run_slowly(msg):
    done = []
    for mop in msg["body"]["txn"]:
        time.sleep(0.002)
        with node.lock:
            done.append(apply(mop))
    node.reply(msg, {"type": "txn_ok", "txn": done})


clock = 0
stamps = {}     # key -> (clock, node) of the write `store` holds
unacked = {}    # peer -> {stamp: writes} not yet acknowledged


def apply_stamped(stamp, writes):
    for key, value in writes:
        if stamps.get(key, (0, "")) < stamp:
            stamps[key] = stamp
            store[key] = value


def replicate(msg):
    global clock
    done, writes = [], {}
    for f, key, value in msg["body"]["txn"]:
        if f == "r":
            done.append([f, key, writes.get(key, store.get(key))])
        else:
            writes[key] = value
            done.append([f, key, value])
    clock += 1
    stamp = (clock, node.id)
    apply_stamped(stamp, writes.items())
    for peer in node.peers:
        unacked.setdefault(peer, {})[stamp] = list(writes.items())
    node.reply(msg, {"type": "txn_ok", "txn": done})


@node.on("replicate")
def on_replicate(msg):
    global clock
    for stamp, writes in msg["body"]["batches"]:
        stamp = tuple(stamp)
        clock = max(clock, stamp[0])
        apply_stamped(stamp, writes)
    node.reply(msg, {"type": "replicate_ok", "stamps": [b[0] for b in msg["body"]["batches"]]})


@node.on("replicate_ok")
def on_replicate_ok(msg):
    for stamp in msg["body"]["stamps"]:
        unacked.get(msg["src"], {}).pop(tuple(stamp), None)


@node.every(0.02)
def resend():
    for peer, batches in unacked.items():
        if batches:
            body = {"type": "replicate", "batches": [[list(s), w] for s, w in sorted(batches.items())]}
            node.send(peer, dict(body, msg_id=0))


@node.on("txn")
def txn(msg):
    global writing_txns
    mops = msg["body"]["txn"]
    if mode == "leader" and node.id != node.ids[0]:
        node.forward(node.ids[0], msg)
        return
    if mode == "replicate":
        replicate(msg)
        return
    if mode == "intermediate":
        threading.Thread(target=run_slowly, args=(msg,), daemon=True).start()
        return
    done = [apply(mop) for mop in mops]
    if mode == "aborted" and any(m[0] != "r" for m in mops):
        writing_txns += 1
        if writing_txns % 4 == 0:
            node.reply(msg, {"type": "error", "code": 30, "text": "txn conflict"})
            return
    node.reply(msg, {"type": "txn_ok", "txn": done})


node.run()
