"""The script a user writes instead of ``slotfinder slots`` (``benchmarks/command.py``).

``python benchmarks/reference_script.py BUSY.json OUT.json``: the first 20 slots of 30
minutes, in start order, on the 15-minute grid, where every attendee is inside their working
hours and no busy, tentative or oof entry overlaps. No checks; UTC grid (right for zones
whose offsets are whole quarter hours); working hours as ``dump_busy_file`` writes them (one
key per day name, ``HH:MM-HH:MM`` before 24:00); optional attendees are ignored.
"""

import json
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

DURATION, STEP, WANT = 1800, 900, 20
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


Person = tuple[str, np.ndarray, np.ndarray]  # id, starts, ends of blocking entries


def read(path: str) -> tuple[int, int, str, list[Person], set[tuple[str, str]]]:
    doc = json.loads(Path(path).read_bytes())
    people: list[Person] = []
    hours: set[tuple[str, str]] = set()
    for p in doc["attendees"]:
        if p.get("optional"):
            continue
        busy = [b for b in p["busy"] if b.get("status", "busy") != "free"]
        starts = np.array([ts(b["start"]) for b in busy], dtype=np.int64)
        people.append((p["id"], starts, np.array([ts(b["end"]) for b in busy], dtype=np.int64)))
        if p.get("working_hours"):
            hours.add((p.get("tz", doc["tz"]), json.dumps(p["working_hours"])))
    w = doc["window"]
    return ts(w["start"]), ts(w["end"]), doc["tz"], people, hours


def marks(grid: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many of the index ranges [lo, hi) cover each grid point."""
    n = grid.size + 1
    return np.cumsum(np.bincount(lo, minlength=n) - np.bincount(hi, minlength=n))[:-1]


def engine(w0: int, w1: int, people: list[Person], hours: set[tuple[str, str]]) -> np.ndarray:
    grid = np.arange(-(-w0 // STEP) * STEP, w1 - DURATION + 1, STEP, dtype=np.int64)
    s = np.concatenate([p[1] for p in people])
    e = np.concatenate([p[2] for p in people])
    s, e = s[e > s], e[e > s]  # a slot [t, t + 30m) is blocked when s - 30m < t < e
    ok = marks(grid, np.searchsorted(grid, s - DURATION, "right"), np.searchsorted(grid, e)) == 0
    for zone, spec in hours:
        tz, rules = ZoneInfo(zone), json.loads(spec)
        ws: list[float] = []
        we: list[float] = []
        day = datetime.fromtimestamp(w0, tz).date() - timedelta(days=1)
        while datetime.combine(day, time(), tz).timestamp() < w1:
            for r in rules.get(DAYS[day.weekday()], []):
                begin, end = (
                    datetime.combine(day, time.fromisoformat(x), tz) for x in r.split("-")
                )
                ws.append(begin.timestamp())
                we.append(end.timestamp())
            day += timedelta(days=1)
        first, last = np.array(ws, dtype=np.int64), np.array(we, dtype=np.int64) - DURATION
        fits = last >= first  # a slot [t, t + 30m) is inside when first <= t <= last
        lo, hi = np.searchsorted(grid, first[fits]), np.searchsorted(grid, last[fits], "right")
        ok &= marks(grid, lo, hi) > 0
    first20: np.ndarray = grid[ok][:WANT]
    return first20


def write(path: str, slots: np.ndarray, zone: str) -> None:
    tz = ZoneInfo(zone)
    out = [
        {
            "start": datetime.fromtimestamp(t, tz).isoformat(),
            "end": datetime.fromtimestamp(t + DURATION, tz).isoformat(),
        }
        for t in slots.tolist()
    ]
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"slots": out}, fh, indent=2)


if __name__ == "__main__":
    w0, w1, zone, people, hours = read(sys.argv[1])
    write(sys.argv[2], engine(w0, w1, people, hours), zone)
