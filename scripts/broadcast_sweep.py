#!/usr/bin/env python3
"""Sweeps the broadcast batching interval on the official 3d/3e run (25 nodes,
100 ms latency, 100 ops/s, 20 s) through the test bench, three runs per
interval, and writes the medians as a Markdown table (stdout), as JSON
(docs/broadcast-sweep.json) and as a plot (docs/broadcast-sweep.svg).

    cargo build --release -p challenges -p glomers-cli
    python3 scripts/broadcast_sweep.py [INTERVAL_MS ...] [--runs N]
    python3 scripts/broadcast_sweep.py --plot-only   # redraw the SVG from the JSON
"""
import json
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "target/release/glomers")
NODE = os.path.join(ROOT, "target/release/broadcast")
FLAGS = "-w broadcast --node-count 25 --time-limit 20 --rate 100 --latency 100".split()


def run(interval):
    command = [BENCH, "test", *FLAGS, "--bin", NODE, "--store", os.path.join(ROOT, "store"), "--", str(interval)]
    output = subprocess.run(command, capture_output=True, text=True).stdout
    store = re.search(r"^:store (.+)$", output, re.M).group(1)
    with open(os.path.join(store, "results.json")) as f:
        results = json.load(f)
    latencies = results["workload"]["stable-latencies"]
    return {
        "valid": results["valid?"] is True,
        "msgs_per_op": results["net"]["servers"]["msgs-per-op"],
        "median": latencies["0.5"],
        "max": latencies["1"],
    }


def svg(rows):
    """msgs-per-op (x, log scale) against median and max stable latency (y)."""
    import math
    width, height, pad = 640, 400, 60
    xs = [math.log10(r["msgs_per_op"]) for r in rows]
    x0, x1 = min(xs) - 0.1, max(xs) + 0.1
    y1 = max(r["max"] for r in rows) * 1.1
    px = lambda v: pad + (math.log10(v) - x0) / (x1 - x0) * (width - 2 * pad)
    py = lambda v: height - pad - v / y1 * (height - 2 * pad)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<line x1="{pad}" y1="{height-pad}" x2="{width-pad}" y2="{height-pad}" stroke="black"/>',
           f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height-pad}" stroke="black"/>',
           f'<text x="{width/2}" y="{height-15}" text-anchor="middle">servers msgs-per-op (log scale)</text>',
           f'<text x="15" y="{height/2}" transform="rotate(-90 15 {height/2})" text-anchor="middle">stable latency (ms)</text>',
           f'<text x="{width/2}" y="25" text-anchor="middle" font-size="14">broadcast, 25 nodes, 100 ms latency: batching interval sweep</text>']
    for tick in [0.5, 1, 2, 5, 10, 20]:
        if x0 <= math.log10(tick) <= x1:
            out.append(f'<text x="{px(tick)}" y="{height-pad+15}" text-anchor="middle">{tick}</text>')
    for tick in range(0, int(y1), 200):
        out.append(f'<text x="{pad-5}" y="{py(tick)+4}" text-anchor="end">{tick}</text>')
    for key, colour in (("median", "#1f77b4"), ("max", "#d62728")):
        points = sorted(rows, key=lambda r: r["msgs_per_op"])
        path = " ".join(f"{px(r['msgs_per_op']):.1f},{py(r[key]):.1f}" for r in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}"/>')
        for r in points:
            out.append(f'<circle cx="{px(r["msgs_per_op"]):.1f}" cy="{py(r[key]):.1f}" r="4" fill="{colour}"/>')
            if key == "max":
                out.append(f'<text x="{px(r["msgs_per_op"])+6:.1f}" y="{py(r[key])-8:.1f}">T = {r["interval"]} ms</text>')
        out.append(f'<text x="{width-pad-80}" y="{pad + (0 if key == "median" else 16)}" fill="{colour}">{key}</text>')
    out.append("</svg>")
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    if args == ["--plot-only"]:
        with open(os.path.join(ROOT, "docs/broadcast-sweep.json")) as f:
            rows = json.load(f)
        with open(os.path.join(ROOT, "docs/broadcast-sweep.svg"), "w") as f:
            f.write(svg(rows))
        return
    runs = 3
    if "--runs" in args:
        at = args.index("--runs")
        runs = int(args[at + 1])
        del args[at:at + 2]
    intervals = [int(a) for a in args] or [0, 75, 150, 300, 500]
    rows = []
    print("| interval (ms) | valid | servers msgs-per-op | stable latency median (ms) | max (ms) | runs (msgs-per-op / median / max) |")
    print("| ---: | --- | ---: | ---: | ---: | --- |")
    for interval in intervals:
        results = [run(interval) for _ in range(runs)]
        row = {
            "interval": interval,
            "valid": all(r["valid"] for r in results),
            "msgs_per_op": statistics.median(r["msgs_per_op"] for r in results),
            "median": statistics.median(r["median"] for r in results),
            "max": statistics.median(r["max"] for r in results),
            "runs": results,
        }
        rows.append(row)
        detail = "; ".join(f"{r['msgs_per_op']:.2f} / {r['median']} / {r['max']}" for r in results)
        print(f"| {interval} | {row['valid']} | {row['msgs_per_op']:.2f} | {row['median']} | {row['max']} | {detail} |", flush=True)
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    with open(os.path.join(ROOT, "docs/broadcast-sweep.json"), "w") as f:
        json.dump(rows, f, indent=1)
    with open(os.path.join(ROOT, "docs/broadcast-sweep.svg"), "w") as f:
        f.write(svg(rows))


if __name__ == "__main__":
    main()
