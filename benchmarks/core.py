"""Core benchmark: common free time of N attendees with K busy spans each over 90 days.

Run ``python benchmarks/core.py [--quick] [--repeats R]``. Prints one table; never asserts on
time. All rows of a size are measured in this process on the same input:

* ``find_slots``: :func:`slotfinder.find_slots` (periods plus the first 20 slots, order
  "start"), when the engine is importable;
* ``intervals``: the same periods and first 20 slots computed directly with
  :mod:`slotfinder.intervals` and :mod:`slotfinder.hours` (one sweep over every attendee's
  busy and non-working time), the floor the engine can aim for;
* ``portion``: what a Python user would write today with the ``portion`` library: one
  ``P.closedopen`` per busy span, a union per attendee, complement inside the window,
  intersection with working hours and then across attendees. Its working hours are
  precomputed outside the timing (in its favour). Above ``--portion-cap`` busy spans it runs
  on the first attendees only and is scaled linearly, marked ``~`` (extrapolated);
* ``sort floor``: ``np.sort(np.concatenate([starts, ends]))`` of all busy endpoints as int64,
  a lower bound for anything that must order the endpoints.

Times are the best of several repeats with :func:`time.perf_counter`; working-hours caches
are warm after the first repeat, as they are in a long-running process.
"""

from __future__ import annotations

import argparse
import functools
import operator
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from slotfinder import intervals as iv
from slotfinder.hours import from_wall, grid, working_spans
from slotfinder.model import (
    DAY,
    Attendee,
    Availability,
    BusyTable,
    MeetingRequest,
    Span,
    Status,
    WorkingHours,
)

ZONES = ("Europe/Berlin", "Europe/London", "America/New_York")  # common time: 14-17 UTC
SPEC = {"mon-fri": ["09:00-18:00"]}
WINDOW_START = 1_798_675_200  # 2027-01-01T00:00:00Z; a 90-day window crossing DST in March
DAYS = 90
DURATION = 1800
GRANULARITY = 900
FIRST_SLOTS = 20
REQUEST_ZONE = "Europe/Berlin"
SIZES = ((10, 20), (100, 50), (1000, 100), (10000, 50))
QUICK_SIZES = ((10, 20), (100, 50))
BLOCKING = (Status.BUSY.code, Status.TENTATIVE.code, Status.OOF.code)
PROTECTED = (15 * 3600, 16 * 3600)  # a meeting-free hour, seconds after 00:00 UTC


@dataclass(frozen=True)
class Case:
    availabilities: tuple[Availability, ...]
    request: MeetingRequest
    hours: tuple[WorkingHours, ...]  # per attendee, same order


def make_case(n: int, k: int, seed: int = 0, days: int = DAYS) -> Case:
    """N attendees with K busy spans each over ``days`` days: 15-120 min on 15-min local
    boundaries, 08:00-18:00, none touching the meeting-free hour 15:00-16:00 UTC."""
    rng = np.random.default_rng(seed)
    ws, we = WINDOW_START, WINDOW_START + days * DAY
    avail: list[Availability] = []
    attendees: list[Attendee] = []
    hours: list[WorkingHours] = []
    for i in range(n):
        zone = ZONES[i % len(ZONES)]
        day = rng.integers(0, days, k)
        local_start = (ws // DAY + day) * DAY + rng.integers(8 * 4, 18 * 4, k) * 900
        starts = from_wall(zone, local_start)
        lengths = rng.integers(1, 9, k) * 900
        # A company-wide meeting-free hour (15:00-16:00 UTC, inside everyone's working day)
        # keeps common free time at every size, so the large rows time finding slots, not an
        # explanation of why there are none. Meetings that would touch it start after it.
        day0 = starts - starts % DAY
        hit = (starts < day0 + PROTECTED[1]) & (starts + lengths > day0 + PROTECTED[0])
        starts = np.where(hit, day0 + PROTECTED[1], starts)
        ends = starts + lengths
        status = rng.choice(np.array([0, 1, 2, 2, 2, 3], dtype=np.int8), k)
        avail.append(
            Availability(id=f"p{i}", busy=BusyTable(starts=starts, ends=ends, status=status))
        )
        wh = WorkingHours.parse(zone, SPEC)
        hours.append(wh)
        attendees.append(Attendee(id=f"p{i}", zone=zone, working_hours=wh))
    request = MeetingRequest(
        attendees=tuple(attendees),
        window=Span(ws, we),
        duration=DURATION,
        granularity=GRANULARITY,
        max_results=FIRST_SLOTS,
        order="start",
        zone=REQUEST_ZONE,
        now=ws,
    )
    return Case(tuple(avail), request, tuple(hours))


def run_intervals(case: Case) -> tuple[iv.SpanArrays, Any]:
    """Common free periods and the first slots, straight from the interval algebra."""
    ws, we = case.request.window.start, case.request.window.end
    starts = np.concatenate([a.busy.starts for a in case.availabilities])
    ends = np.concatenate([a.busy.ends for a in case.availabilities])
    status = np.concatenate([a.busy.status for a in case.availabilities])
    blocking = np.isin(status, BLOCKING)
    pieces_s, pieces_e = [starts[blocking]], [ends[blocking]]
    for wh in dict.fromkeys(case.hours):  # distinct working hours, first-seen order
        off_s, off_e = iv.complement(working_spans(wh, ws, we), ws, we)
        pieces_s.append(off_s)
        pieces_e.append(off_e)
    blocked = iv.normalize(np.concatenate(pieces_s), np.concatenate(pieces_e))
    periods = iv.complement(blocked, ws, we)
    g = grid(REQUEST_ZONE, ws, we - DURATION + 1, GRANULARITY)
    fits = iv.covering_index(periods, g, g + DURATION) >= 0
    return periods, g[fits][:FIRST_SLOTS]


def portion_setup(case: Case) -> Callable[[], Any]:
    """The portion pipeline, with each attendee's working hours precomputed as portion sets."""
    import portion as P

    ws, we = case.request.window.start, case.request.window.end
    window = P.closedopen(ws, we)
    wh_p: dict[WorkingHours, Any] = {}
    for wh in dict.fromkeys(case.hours):
        s, e = working_spans(wh, ws, we)
        wh_p[wh] = P.Interval(
            *[P.closedopen(a, b) for a, b in zip(s.tolist(), e.tolist(), strict=True)]
        )
    rows = [
        (wh_p[wh], a.busy.starts.tolist(), a.busy.ends.tolist(), a.busy.status.tolist())
        for wh, a in zip(case.hours, case.availabilities, strict=True)
    ]

    def run() -> Any:
        frees = []
        for hours_p, starts, ends, status in rows:
            busy = P.Interval(
                *[
                    P.closedopen(s, e)
                    for s, e, c in zip(starts, ends, status, strict=True)
                    if c in BLOCKING and e > s
                ]
            )
            frees.append(window & hours_p & ~busy)
        common = functools.reduce(operator.and_, frees)
        slots = []
        for piece in common:  # first slots on the grid, as a portion user would walk them
            t = piece.lower + (-piece.lower) % GRANULARITY  # UTC grid; Berlin is whole hours
            while t + DURATION <= piece.upper and len(slots) < FIRST_SLOTS:
                slots.append(t)
                t += GRANULARITY
        return common, slots

    return run


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def fmt(seconds: float | None, mark: str = "") -> str:
    if seconds is None:
        return "-"
    if seconds < 1e-3:
        return f"{mark}{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{mark}{seconds * 1e3:.1f} ms"
    return f"{mark}{seconds:.2f} s"


def ratio(a: float | None, b: float | None, mark: str = "") -> str:
    return "-" if a is None or b is None else f"{mark}{a / b:.1f}x"


def measure(n: int, k: int, repeats: int, portion_cap: int, find_slots: Any) -> str:
    """Time every pipeline on one seeded input and return the table row (notes above it)."""
    case = make_case(n, k)
    notes: list[str] = []
    if n * k > 100_000:
        repeats = max(2, repeats // 2)

    starts = np.concatenate([a.busy.starts for a in case.availabilities])
    ends = np.concatenate([a.busy.ends for a in case.availabilities])
    t_floor, _ = best_of(lambda: np.sort(np.concatenate([starts, ends])), repeats)

    t_iv, (periods, slots) = best_of(lambda: run_intervals(case), repeats)
    ours = list(zip(periods[0].tolist(), periods[1].tolist(), strict=True))

    t_fs = None
    if find_slots is not None:
        t_fs, result = best_of(lambda: find_slots(case.availabilities, case.request), repeats)
        if [(p.start, p.end) for p in result.periods] != ours:
            notes.append(
                f"  note: find_slots periods differ from the intervals pipeline at {n}x{k}"
            )
        if [s.start for s in result.slots] != slots.tolist():
            notes.append(f"  note: find_slots slots differ from the intervals pipeline at {n}x{k}")

    mark = ""
    if n * k <= portion_cap:
        t_p, (common, _) = best_of(portion_setup(case), 1 if n * k > 10_000 else repeats)
        if [(i.lower, i.upper) for i in common if not i.empty] != ours:
            notes.append(f"  note: portion periods differ from ours at {n}x{k}")
    else:
        sub_n = max(1, portion_cap // k)
        sub = Case(case.availabilities[:sub_n], case.request, case.hours[:sub_n])
        t_sub, _ = best_of(portion_setup(sub), 1)
        t_p, mark = t_sub * n / sub_n, "~"

    ours_t = t_fs if t_fs is not None else t_iv
    row = (
        f"{f'{n}x{k}':>11} {fmt(t_fs):>11} {fmt(t_iv):>11} {fmt(t_p, mark):>11}"
        f" {fmt(t_floor):>11} {ratio(t_p, ours_t, mark):>13} {ratio(ours_t, t_floor):>11}"
        f" {periods[0].size:>8} {slots.size:>6}"
    )
    return "\n".join([*notes, row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--portion-cap",
        type=int,
        default=100_000,
        help="busy spans above which portion runs on a subset and is extrapolated",
    )
    args = parser.parse_args(argv)

    try:
        from slotfinder import find_slots
    except ImportError:
        try:
            from slotfinder.engine import find_slots
        except ImportError:
            find_slots = None

    sizes = QUICK_SIZES if args.quick else SIZES
    head = (
        f"{'N x K':>11} {'find_slots':>11} {'intervals':>11} {'portion':>11} {'sort floor':>11}"
        f" {'portion/ours':>13} {'ours/floor':>11} {'periods':>8} {'slots':>6}"
    )
    print(head)
    print("-" * len(head))
    for n, k in sizes:
        print(measure(n, k, args.repeats, args.portion_cap, find_slots), flush=True)
    print()
    print("ours = find_slots when importable, else the intervals pipeline;")
    print("~ = portion run on the first attendees only and scaled linearly (extrapolated).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
