"""Busy-file benchmark: ``load_busy_file`` against the script a user would write instead.

Run ``python benchmarks/busyfile.py [--quick] [--repeats R]``. Generates busy files of N
attendees with K entries each (a 90-day window, times on a 15-minute grid written in each
attendee's zone with its offset, as ``dump_busy_file`` writes them) into a temporary folder and
times, in this process and on the same file:

* ``json.loads``: decoding the file's bytes only, the floor for any JSON reader;
* ``script``: read the bytes, ``json.loads``, ``datetime.fromisoformat(...).timestamp()`` for
  every start and end, and one int64 numpy array of starts and one of ends per attendee; no
  checks at all;
* ``load_busy_file``: :func:`slotfinder.busyfile.load_busy_file` on the path, every rule checked.

Times are the best of several repeats with :func:`time.perf_counter`; the ratio column is
``load_busy_file`` over ``script``. Never asserts on time; it does check that both readers give
the same busy rows.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slotfinder.busyfile import load_busy_file

SIZES = ((100, 50), (1000, 100), (10000, 50))
QUICK_SIZES = ((10, 5), (100, 10))
ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
WINDOW_START = 1_795_000_000
DAYS = 90
STEP = 900


def generate(path: Path, people: int, entries: int, seed: int = 7) -> None:
    """Write a busy file of ``people`` attendees with ``entries`` busy entries each."""
    rng = random.Random(seed)
    steps = DAYS * 86_400 // STEP
    texts: dict[tuple[int, str], str] = {}

    def iso(t: int, zone: str) -> str:
        key = (t, zone)
        if key not in texts:
            texts[key] = datetime.fromtimestamp(t, ZoneInfo(zone)).isoformat()
        return texts[key]

    attendees = []
    for i in range(people):
        zone = ZONES[i % len(ZONES)]
        busy = []
        for _ in range(entries):
            start = WINDOW_START + rng.randrange(steps - 8) * STEP
            end = start + rng.randint(1, 8) * STEP
            busy.append({"start": iso(start, zone), "end": iso(end, zone)})
        attendees.append({"id": f"p{i}", "tz": zone, "busy": busy})
    doc = {
        "window": {
            "start": iso(WINDOW_START, "UTC"),
            "end": iso(WINDOW_START + DAYS * 86_400, "UTC"),
        },
        "tz": "UTC",
        "attendees": attendees,
    }
    path.write_text(json.dumps(doc), encoding="utf-8")


def script(path: Path) -> dict[str, tuple[Any, Any]]:
    """What a user writes without slotfinder: no checks, one datetime per time."""
    doc = json.loads(path.read_bytes())
    out = {}
    for person in doc["attendees"]:
        busy = person["busy"]
        starts = [datetime.fromisoformat(b["start"]).timestamp() for b in busy]
        ends = [datetime.fromisoformat(b["end"]).timestamp() for b in busy]
        out[person["id"]] = (np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64))
    return out


def best(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def same(path: Path) -> bool:
    """Both readers give every attendee the same starts and ends."""
    ref = script(path)
    bf = load_busy_file(path)
    return all(
        np.array_equal(a.busy.starts, ref[a.id][0]) and np.array_equal(a.busy.ends, ref[a.id][1])
        for a in bf.availabilities
    ) and len(bf.availabilities) == len(ref)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = QUICK_SIZES if args.quick else SIZES
    head = ["size", "entries", "MiB", "json.loads", "script", "load_busy_file", "ratio", "same"]
    print(" | ".join(head))
    with tempfile.TemporaryDirectory() as tmp:
        for people, entries in sizes:
            path = Path(tmp) / f"busy-{people}x{entries}.json"
            generate(path, people, entries)
            mib = path.stat().st_size / 2**20
            loads = best(lambda p=path: json.loads(p.read_bytes()), args.repeats)
            ref = best(lambda p=path: script(p), args.repeats)
            ours = best(lambda p=path: load_busy_file(p), args.repeats)
            row = [
                f"{people}x{entries}",
                str(people * entries),
                f"{mib:.1f}",
                f"{loads * 1000:.1f} ms",
                f"{ref * 1000:.1f} ms",
                f"{ours * 1000:.1f} ms",
                f"{ours / ref:.2f}x",
                "yes" if same(path) else "NO",
            ]
            print(" | ".join(row), flush=True)
    print(f"# best of {args.repeats}, python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
