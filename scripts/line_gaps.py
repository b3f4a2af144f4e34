#!/usr/bin/env python3
"""How far apart the lines one node prints in a burst enter the network,
in a run of the real Maelstrom (its network journal, `net-journal/*.fressian`
in a store folder) or of the bench (`messages.jsonl`): the gap between two
consecutive messages a node sent with nothing delivered to it in between,
under 3 ms. This is the window a client's request must hit to land between
two lines one handler wrote; in Maelstrom it is the time its thread reading
the node's output spends on each line (parse, validate, journal, send).

    python3 scripts/line_gaps.py ../shared/maelstrom-reference/raw-stores/txn-list-append
    python3 scripts/line_gaps.py store/txn-list-append/latest

For a Maelstrom store it also prints the service round trip (a request's
send to its reply's send, and the service's own share from receipt).

The Fressian reader below covers what Maelstrom's journal uses (structs,
keywords, strings, numbers, maps, lists, both caches); it is not a general
Fressian library.
"""

import glob
import json
import os
import statistics
import struct
import sys


class Fressian:
    """Reads the objects of one Fressian stream, in order."""

    def __init__(self, data):
        self.data, self.at = data, 0
        self.cache, self.structs = [], []

    def byte(self):
        self.at += 1
        return self.data[self.at - 1]

    def raw(self, n):
        self.at += n
        return self.data[self.at - n:self.at]

    def unsigned(self, n):
        return int.from_bytes(self.raw(n), "big")

    def int_of(self, code):
        """A packed integer whose first byte is `code`."""
        if code == 0xFF:
            return -1
        if code <= 0x3F:
            return code
        for low, high, base, extra in ((0x40, 0x5F, 0x50, 1), (0x60, 0x6F, 0x68, 2),
                                       (0x70, 0x73, 0x72, 3), (0x74, 0x77, 0x76, 4),
                                       (0x78, 0x7B, 0x7A, 5), (0x7C, 0x7F, 0x7E, 6)):
            if low <= code <= high:
                return ((code - base) << (8 * extra)) | self.unsigned(extra)
        if code == 0xF8:
            return struct.unpack(">q", self.raw(8))[0]
        raise ValueError(f"not an integer code: {code:#x}")

    def integer(self):
        return self.int_of(self.byte())

    def until_end(self):
        items = []
        while self.data[self.at] != 0xFD:
            items.append(self.read())
        self.at += 1
        return items

    def read(self):
        code = self.byte()
        if code == 0xFF or code <= 0x7F or code == 0xF8:
            return self.int_of(code)
        if 0x80 <= code < 0xA0:
            return self.cache[code - 0x80]
        if 0xA0 <= code < 0xB0:
            return self.fields(self.structs[code - 0xA0])
        if code == 0xCD:  # put in the cache: the slot is taken before the value is read
            slot = len(self.cache)
            self.cache.append(None)
            self.cache[slot] = self.read()
            return self.cache[slot]
        if code == 0xCC:
            return self.cache[self.integer()]
        if code in (0xCA, 0xC9):  # keyword, symbol
            namespace, name = self.read(), self.read()
            return ":" + (namespace + "/" if namespace else "") + name
        if 0xDA <= code < 0xE2:
            return self.raw(code - 0xDA).decode("utf-8", "replace")
        if code == 0xE3:
            return self.raw(self.integer()).decode("utf-8", "replace")
        if code == 0xE2:  # string chunks, the last one a plain string
            parts = [self.raw(self.integer()).decode("utf-8", "replace")]
            while self.data[self.at] == 0xE2:
                self.at += 1
                parts.append(self.raw(self.integer()).decode("utf-8", "replace"))
            parts.append(self.read())
            return "".join(parts)
        if 0xE4 <= code < 0xEC:
            return [self.read() for _ in range(code - 0xE4)]
        if code == 0xEC:
            return [self.read() for _ in range(self.integer())]
        if code in (0xED, 0xEE):
            return self.until_end()
        if code == 0xC0:
            items = self.read()
            return dict(zip(items[0::2], items[1::2]))
        if code == 0xC1:
            return self.read()
        if code == 0xEF:
            kind = (self.read(), self.integer())
            self.structs.append(kind)
            return self.fields(kind)
        if code == 0xF0:
            return self.fields((self.read(), self.integer()))
        simple = {0xF5: True, 0xF6: False, 0xF7: None, 0xFB: 0.0, 0xFC: 1.0}
        if code in simple:
            return simple[code]
        if code == 0xFA:
            return struct.unpack(">d", self.raw(8))[0]
        if code == 0xF9:
            return struct.unpack(">f", self.raw(4))[0]
        if 0xD0 <= code < 0xD8:
            return self.raw(code - 0xD0)
        if code == 0xD9:
            return self.raw(self.integer())
        if code == 0xFE:
            self.cache, self.structs = [], []
            return self.read()
        if code == 0xCF:
            raise EOFError
        raise ValueError(f"unknown code {code:#x} at byte {self.at - 1}")

    def fields(self, kind):
        tag, count = kind
        return tag, [self.read() for _ in range(count)]


def maelstrom_events(store):
    """(time ns, ':send' or ':recv', src, dest, body) of every journal event."""
    events = []
    for path in glob.glob(os.path.join(store, "net-journal", "*.fressian")):
        reader = Fressian(open(path, "rb").read())
        while reader.at < len(reader.data):
            try:
                _, (_, time, kind, (_, (_, src, dest, body))) = reader.read()
            except EOFError:
                break
            events.append((time, kind, src, dest, body))
    return sorted(events, key=lambda e: e[0])


def bench_events(store):
    """The same from the bench's `messages.jsonl`."""
    events = []
    for line in open(os.path.join(store, "messages.jsonl")):
        entry = json.loads(line)
        message = entry["message"]
        events.append((entry["sent"], ":send", message["src"], message["dest"], message["body"]))
        if entry["fate"] == "received":
            events.append((entry["at"], ":recv", message["src"], message["dest"], message["body"]))
    return sorted(events, key=lambda e: e[0])


def quantiles(values, points=(0.1, 0.5, 0.9)):
    values = sorted(values)
    return [values[int(p * (len(values) - 1))] for p in points]


def burst_gaps(events):
    """Gaps (µs) between a node's consecutive sends with no delivery to it between."""
    last_send, last_recv, gaps = {}, {}, []
    for time, kind, src, dest, _ in events:
        if kind == ":recv" and dest.startswith("n"):
            last_recv[dest] = time
        if kind == ":send" and src.startswith("n"):
            previous = last_send.get(src)
            if previous is not None and last_recv.get(src, -1) < previous and time - previous < 3_000_000:
                gaps.append((time - previous) / 1000)
            last_send[src] = time
    return gaps


SERVICES = ("lin-kv", "seq-kv", "lww-kv", "lin-tso")


def service_round_trips(events):
    """(request send → reply send, request receipt → reply send) in µs."""
    sent, received, trips, inside = {}, {}, [], []
    for time, kind, src, dest, body in events:
        get = lambda key: body.get(key, body.get(":" + key)) if isinstance(body, dict) else None
        if dest in SERVICES:
            (sent if kind == ":send" else received)[(src, get("msg_id"))] = time
        elif src in SERVICES and kind == ":send":
            key = (dest, get("in_reply_to"))
            if key in sent:
                trips.append((time - sent[key]) / 1000)
            if key in received:
                inside.append((time - received[key]) / 1000)
    return trips, inside


def main():
    store = sys.argv[1]
    maelstrom = os.path.isdir(os.path.join(store, "net-journal"))
    events = maelstrom_events(store) if maelstrom else bench_events(store)
    gaps = burst_gaps(events)
    if not gaps:
        sys.exit(f"{store}: no burst of lines to measure")
    q10, q50, q90 = quantiles(gaps)
    print(f"{store}: {len(gaps)} gaps between lines of one burst: mean {statistics.mean(gaps):.1f} µs, "
          f"q10 / median / q90 {q10:.1f} / {q50:.1f} / {q90:.1f} µs")
    trips, inside = service_round_trips(events)
    if trips:
        print(f"service round trips: {len(trips)}, median {quantiles(trips)[1]:.1f} µs "
              f"(the service's own part from receipt: median {quantiles(inside)[1]:.1f} µs)")


if __name__ == "__main__":
    main()
