"""Groups benchmark: the plain engine against the same data with attendee groups.

Run ``python benchmarks/groups.py [--quick] [--repeats R]``. Prints one table; never asserts
on time. Each size uses :func:`core.make_case` (N attendees, K busy spans each over 90 days)
and times :func:`slotfinder.find_slots` on it three ways, in this process:

* ``plain``: everyone required (the core benchmark's request);
* ``quorum``: one group of everyone needing 90% of them (the old quorum);
* ``groups``: a tenth of the attendees in one group needing all, five groups of a tenth each
  needing 80% of their members, the rest ungrouped (so needed);

each for order "start" (periods and the first 20 slots) and order "score" (every passing slot
scored). The ratio columns are groups / plain on the same data and order.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core import best_of, fmt, make_case

from slotfinder.engine import find_slots
from slotfinder.groups import Group
from slotfinder.model import MeetingRequest

SIZES = ((100, 50), (1000, 100))
QUICK_SIZES = ((100, 50),)


def grouped(request: MeetingRequest) -> MeetingRequest:
    """The groups row's request: see the module docstring."""
    ids = [a.id for a in request.attendees]
    tenth = max(1, len(ids) // 10)
    groups = [Group("team", tuple(ids[:tenth]))]
    for g in range(1, 6):
        members = tuple(ids[g * tenth : (g + 1) * tenth])
        groups.append(Group(f"pool{g}", members, max(1, len(members) * 8 // 10)))
    return attrs.evolve(request, groups=tuple(groups))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the smallest size only")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(
        f"{'N x K':>11} {'order':>6} {'plain':>10} {'quorum':>10} {'groups':>10} "
        f"{'groups/plain':>13} {'slots p/q/g':>14}"
    )
    for n, k in QUICK_SIZES if args.quick else SIZES:
        case = make_case(n, k)
        for order in ("start", "score"):
            plain = attrs.evolve(case.request, order=order)
            rows = (plain, attrs.evolve(plain, quorum=0.9), grouped(plain))
            times, counts = [], []
            for request in rows:
                run = functools.partial(find_slots, case.availabilities, request)
                t, result = best_of(run, args.repeats)
                times.append(t)
                counts.append(len(result.slots))
            print(
                f"{f'{n}x{k}':>11} {order:>6} {fmt(times[0]):>10} {fmt(times[1]):>10} "
                f"{fmt(times[2]):>10} {times[2] / times[0]:>12.2f}x "
                f"{'/'.join(map(str, counts)):>14}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
