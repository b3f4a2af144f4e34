#!/usr/bin/env python3
"""Which faults each challenge survives: runs every challenge in the
simulator with its official flags plus `--nemesis pause` and then
`--nemesis kill` (added to `partition` where the official run has it),
seeds 0..N, and counts the runs that were valid, and the runs whose
workload checker, stats and availability each passed.

    cargo build --release -p challenges -p glomers-cli && python3 scripts/fault_survey.py [--seeds 20]
"""

import argparse
import json
import subprocess
import sys

CHALLENGES = [
    "echo", "unique-ids", "broadcast", "broadcast-3d", "g-counter", "pn-counter",
    "g-set", "kafka", "txn", "raft", "list-append",
]


def run(challenge, seed, fault):
    """One seed, stored; the results of the run."""
    out = subprocess.run(
        ["target/release/glomers", "sim", challenge, "--seed", str(seed), "--", "--nemesis", fault],
        capture_output=True, text=True, timeout=600,
    ).stdout
    store = next(line.split()[1] for line in out.splitlines() if line.startswith(":store"))
    with open(f"{store}/results.json") as f:
        return json.load(f)


def passed(part):
    """Whether a checker's part of the results passed (unknown is not)."""
    return part.get("valid?", True) is True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    print("| challenge | fault | valid | workload checker | stats | availability |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for challenge in CHALLENGES:
        for fault in ["pause", "kill"]:
            counts = [0, 0, 0, 0]
            for seed in range(args.seeds):
                r = run(challenge, seed, fault)
                parts = [r, r["workload"], r["stats"], r["availability"]]
                for i, part in enumerate(parts):
                    counts[i] += passed(part)
            cells = " | ".join(f"{c}/{args.seeds}" for c in counts)
            print(f"| {challenge} | {fault} | {cells} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
