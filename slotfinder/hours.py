"""Local wall-clock time in an IANA zone, as integer epoch seconds: working hours and grids.

A *wall* time here is local wall-clock time written as if it were UTC epoch seconds
(``days since 1970-01-01 * 86400 + seconds since local midnight``), so local arithmetic is
plain integer arithmetic. Converting between instants and wall times uses a table of the
zone's UTC-offset changes around the window (found once per zone and stretch of days with
:mod:`zoneinfo`, then cached), after which every conversion is a vectorised binary search.

Wall to instant follows RFC 5545, which is also :mod:`zoneinfo` with ``fold=0``: a wall time
skipped by a forward jump is read with the offset in force before the jump (02:30 on the US
spring day is 03:30 EDT), and a repeated wall time is its first occurrence. pendulum's
defaults differ; they are not used here.

Limit: offset changes are found by sampling the zone every hour, so two changes less than an
hour apart that cancel out would be missed; no zone in the tz database does that in the
calendar years a meeting is planned for.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from slotfinder.errors import InputError
from slotfinder.intervals import Int64Array, SpanArrays, clip, empty, normalize
from slotfinder.model import DAY, WorkingHours

__all__ = ["from_wall", "grid", "to_wall", "working_spans"]

_SAMPLE = 3600  # seconds between offset probes
_PAD_DAYS = 3  # offsets never reach a day, and rules end at most two days after their midnight


def _offset_at(zone: ZoneInfo, t: int) -> int:
    off = datetime.fromtimestamp(t, zone).utcoffset()
    assert off is not None  # a ZoneInfo always has an offset
    return int(off.total_seconds())


@lru_cache(maxsize=512)
def _offset_table(zone: str, first_day: int, last_day: int) -> tuple[Int64Array, Int64Array]:
    """Offset changes of ``zone`` between two UTC day numbers.

    Returns ``(changes, offsets)``: the instants at which the UTC offset changes, sorted, and
    the offsets, one more than the changes: ``offsets[i]`` holds before ``changes[i]`` and
    after ``changes[i - 1]``.
    """
    tz = ZoneInfo(zone)
    changes: list[int] = []
    offsets = [_offset_at(tz, first_day * DAY)]
    t_prev, o_prev = first_day * DAY, offsets[0]
    for t in range(first_day * DAY + _SAMPLE, (last_day + 1) * DAY + 1, _SAMPLE):
        o = _offset_at(tz, t)
        if o != o_prev:  # the change is the first second of (t_prev, t] off the old offset
            moved = bisect.bisect(
                range(t_prev, t + 1), False, key=lambda u: _offset_at(tz, u) != o_prev
            )
            changes.append(t_prev + moved)
            offsets.append(o)
        t_prev, o_prev = t, o
    out_c = np.array(changes, dtype=np.int64)
    out_o = np.array(offsets, dtype=np.int64)
    out_c.setflags(write=False)
    out_o.setflags(write=False)
    return out_c, out_o


def _table(zone: str, lo: int, hi: int) -> tuple[Int64Array, Int64Array]:
    """The offset table covering instants ``[lo, hi]`` with a margin, on whole-day keys."""
    try:
        return _offset_table(zone, lo // DAY - _PAD_DAYS, hi // DAY + _PAD_DAYS)
    except (KeyError, ValueError, OverflowError, OSError) as exc:  # unknown zone, year 10000
        raise InputError("tz", zone, f"cannot convert times in [{lo}, {hi}]: {exc}") from exc


def to_wall(zone: str, instants: Any) -> Int64Array:
    """Local wall-clock time in ``zone`` of each instant (see the module docstring)."""
    t = np.ascontiguousarray(instants, dtype=np.int64)
    if t.size == 0:
        return t.copy()
    changes, offsets = _table(zone, int(t.min()), int(t.max()))
    return t + offsets[np.searchsorted(changes, t, side="right")]


def from_wall(zone: str, walls: Any) -> Int64Array:
    """The instant of each local wall-clock time in ``zone``, by the RFC 5545 rule.

    A wall time inside a forward gap or a backward fold takes the offset in force before the
    change: after a change at instant ``T`` from offset ``a`` to ``b``, that offset applies to
    wall times below ``T + max(a, b)``.
    """
    w = np.ascontiguousarray(walls, dtype=np.int64)
    if w.size == 0:
        return w.copy()
    changes, offsets = _table(zone, int(w.min()) - DAY, int(w.max()) + DAY)
    wall_edges = changes + np.maximum(offsets[:-1], offsets[1:])
    return w - offsets[np.searchsorted(wall_edges, w, side="right")]


@lru_cache(maxsize=4096)
def _working_spans(wh: WorkingHours, start: int, end: int) -> SpanArrays:
    if end <= start or not wh.rules:
        return empty()
    rules = np.array(wh.rules, dtype=np.int64).reshape(-1, 3)
    days = np.arange(start // DAY - 2, end // DAY + 2, dtype=np.int64)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
    day_i, rule_i = np.nonzero(weekday[:, None] == rules[None, :, 0])
    midnight = days[day_i] * DAY
    s = from_wall(wh.zone, midnight + rules[rule_i, 1] * 60)
    e = from_wall(wh.zone, midnight + rules[rule_i, 2] * 60)
    s, e = clip(normalize(s, e), start, end)
    s.setflags(write=False)
    e.setflags(write=False)
    return s, e


def working_spans(wh: WorkingHours, start: int, end: int) -> SpanArrays:
    """The working time of ``wh`` inside ``[start, end)``, in normal form.

    Each rule's local range is converted to instants by the RFC 5545 rule; a range whose end
    is not after its start once converted is empty that day. Touching pieces are joined, so
    ``00:00-24:00`` every day is one span. Cached per ``(wh, start, end)``; the arrays
    returned are fresh copies.
    """
    s, e = _working_spans(wh, start, end)
    return s.copy(), e.copy()


def grid(zone: str, start: int, end: int, step: int) -> Int64Array:
    """Every instant in ``[start, end)`` whose local time of day in ``zone`` is a multiple of
    ``step`` seconds (``step`` must divide a day).

    Computed per stretch of constant UTC offset, so it stays on the local grid across DST:
    New York's spring day goes 01:45 EST then 03:00 EDT, and on the autumn day both 01:15 EDT
    and 01:15 EST are on the grid.
    """
    if step <= 0 or DAY % step:
        raise InputError("granularity", step, "must be positive and divide a day (86400 s)")
    if end <= start:
        return np.empty(0, dtype=np.int64)
    changes, offsets = _table(zone, start, end)
    inside = changes[(changes > start) & (changes < end)]
    edges = np.concatenate(([start], inside, [end])).astype(np.int64)
    offs = offsets[np.searchsorted(changes, edges[:-1], side="right")]
    firsts = edges[:-1] + (-(edges[:-1] + offs)) % step
    pieces = [
        np.arange(f, hi, step, dtype=np.int64)
        for f, hi in zip(firsts.tolist(), edges[1:].tolist(), strict=True)
    ]
    return np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
