#!/usr/bin/env python3
"""Stress checks of the test bench's reliability (README, "Reliability").

Needs the release build: `cargo build --release -p challenges -p glomers-cli`.

  1. 25 bench runs started at the same instant get 25 store directories.
  2. SIGINT to a 10-node run: exit status 130, a readable store, no process
     left behind.
  3. Teardown: 1000 echo nodes, and 10 wrapper nodes that ignore end of
     input (their shell sleeps on), stop in about a second.
  4. Floods: a node printing 200 MB of garbage lines, one printing 200,000
     messages to a node that does not exist, and one printing a 200 MB line
     without a newline; the bench's peak memory and results.json size stay
     bounded.

Each check prints one line of numbers; the script exits 1 if one fails.
"""

import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "target/release/glomers")
ECHO = os.path.join(ROOT, "target/release/echo")
NODES = os.path.join(ROOT, "testbench/tests/nodes")
failed = False


def check(ok, text):
    global failed
    print(("ok   " if ok else "FAIL ") + text, flush=True)
    failed |= not ok


def tagged(tag):
    """Pids of live processes with `tag` among their arguments."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                zombie = f.read().rsplit(") ", 1)[1].startswith("Z")
        except OSError:
            continue
        if tag.encode() in args and not zombie:
            found.append(int(pid))
    return found


def tag():
    return "%d.%06d" % (900 + random.randrange(99), random.randrange(1_000_000))


def simultaneous_runs():
    store = tempfile.mkdtemp(prefix="stress-store-")
    barrier = threading.Barrier(25)
    codes = []

    def one():
        barrier.wait()
        cmd = [BENCH, "test", "-w", "echo", "--bin", ECHO, "--node-count", "1",
               "--time-limit", "1", "--rate", "10", "--store", store]
        codes.append(subprocess.run(cmd, capture_output=True).returncode)

    threads = [threading.Thread(target=one) for _ in range(25)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runs = [d for d in os.listdir(os.path.join(store, "echo")) if d != "latest"]
    complete = sum(os.path.exists(os.path.join(store, "echo", d, "results.json")) for d in runs)
    check(len(runs) == 25 and complete == 25 and codes.count(0) == 25,
          f"25 simultaneous runs: {len(runs)} store directories, {complete} with results.json, "
          f"{codes.count(0)} valid")


def interrupted_run():
    store = tempfile.mkdtemp(prefix="stress-store-")
    t = tag()
    cmd = [BENCH, "test", "-w", "echo", "--bin", os.path.join(NODES, "linger.sh"),
           "--node-count", "10", "--time-limit", "60", "--rate", "50", "--store", store,
           "--", "exec", t]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(4)
    before = len(tagged(t)) - 1  # the bench itself carries the tag
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    took = time.monotonic() - sent
    time.sleep(0.2)
    left = tagged(t)
    run = os.path.realpath(os.path.join(store, "latest"))
    with open(os.path.join(run, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(run, "history.jsonl")) as f:
        ops = sum(1 for _ in f)
    check(child.returncode == 130 and not left and results.get("interrupted") == "SIGINT",
          f"SIGINT to a 10-node run: {before} node processes before, {len(left)} after; "
          f"exit {child.returncode} after {took:.2f} s; results.json says interrupted "
          f"{results.get('interrupted')}, history has {ops} entries")


def teardown(label, cmd, expect_max):
    store = tempfile.mkdtemp(prefix="stress-store-")
    cmd = cmd[:2] + ["--store", store] + cmd[2:]  # before any `--`
    out = subprocess.run(cmd, capture_output=True, text=True)
    run = os.path.realpath(os.path.join(store, "latest"))
    try:
        with open(os.path.join(run, "results.json")) as f:
            results = json.load(f)
    except OSError:
        check(False, f"{label}: no results ({out.stderr[-500:]})")
        return
    secs = results["bench"]["teardown-seconds"]
    check(secs <= expect_max, f"{label}: teardown {secs:.2f} s (valid? {results['valid?']})")


def flood(label, mode, amount):
    store = tempfile.mkdtemp(prefix="stress-store-")
    cmd = ["/usr/bin/time", "-f", "%M", BENCH, "test", "-w", "echo",
           "--bin", os.path.join(NODES, "flood.py"), "--node-count", "1", "--time-limit", "3",
           "--rate", "10", "--store", store, "--", mode, str(amount)]
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - start
    peak_kb = int(out.stderr.strip().splitlines()[-1])
    run = os.path.realpath(os.path.join(store, "latest"))
    size = os.path.getsize(os.path.join(run, "results.json"))
    with open(os.path.join(run, "results.json")) as f:
        nodes = json.load(f)["nodes"]
    check(peak_kb < 100_000 and size < 100_000 and len(out.stdout) < 100_000,
          f"{label}: bench peak RSS {peak_kb / 1024:.1f} MB, results.json {size / 1024:.1f} KB, "
          f"printed {len(out.stdout) / 1024:.1f} KB, errors counted {nodes['error-counts']}, "
          f"{took:.1f} s")


def main():
    for path in (BENCH, ECHO):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: cargo build --release -p challenges -p glomers-cli")
    simultaneous_runs()
    interrupted_run()
    teardown("1000 echo nodes", [BENCH, "test", "-w", "echo", "--bin", ECHO,
                                 "--node-count", "1000", "--time-limit", "2", "--rate", "100"], 3.0)
    teardown("10 nodes that ignore end of input",
             [BENCH, "test", "-w", "echo", "--bin", os.path.join(NODES, "linger.sh"),
              "--node-count", "10", "--time-limit", "2", "--rate", "20", "--", "wait", tag()], 3.0)
    # 200 MB of 214-byte lines, 200,000 messages to nobody, a 200 MB line.
    flood("200 MB of garbage lines", "garbage", 1_000_000)
    flood("200,000 messages to a node that does not exist", "nowhere", 200_000)
    flood("a 200 MB line without a newline", "endless", 200)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
