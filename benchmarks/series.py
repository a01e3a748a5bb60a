"""Series benchmark: a weekly series (COUNT=12) against the plain engine on the same data.

Run ``python benchmarks/series.py [--quick] [--repeats R]``. Prints one table; never asserts
on time. Data is ``benchmarks/core.py``'s (N attendees, K busy spans each over 90 days, a
company-wide free hour every weekday). Each row times, on that one input:

* ``plain``: :func:`slotfinder.find_slots` over the whole 90 days, as ``core.py`` does;
* ``series``: the same attendees with ``repeat="FREQ=WEEKLY;COUNT=12"``, starts in the first
  13 days so the series span (77 days of weeks plus the last meeting) lies in the 90 days:
  every occurrence of every start is checked. In start order and in score order (which
  scores the passing starts and spreads them), and with ``allow_conflicts=2``.

``ratio`` is series / plain. Times are the best of several repeats with
:func:`time.perf_counter`; working-hours caches are warm after the first repeat.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from core import DAYS, best_of, fmt, make_case

from slotfinder import find_slots
from slotfinder.model import DAY, Span

RULE = "FREQ=WEEKLY;COUNT=12"
START_DAYS = 13
SIZES = ((100, 50), (1000, 100))
QUICK_SIZES = ((10, 20), (100, 50))


def measure(n: int, k: int, repeats: int) -> list[str]:
    case = make_case(n, k)
    plain_req = case.request
    t_plain, plain = best_of(lambda: find_slots(case.availabilities, plain_req), repeats)
    w = plain_req.window
    rows = []
    for label, fields in (
        ("start", {"order": "start"}),
        ("score", {"order": "score"}),
        ("score, 2 allowed", {"order": "score", "allow_conflicts": 2}),
    ):
        req = attrs.evolve(
            plain_req, window=Span(w.start, w.start + START_DAYS * DAY), repeat=RULE, **fields
        )
        t, result = best_of(lambda req=req: find_slots(case.availabilities, req), repeats)
        conflicts = sum(len(s.conflicts) for s in result.slots)
        rows.append(
            f"{f'{n}x{k}':>10} {label:<17} {fmt(t_plain):>10} {fmt(t):>10} {t / t_plain:>6.2f}x"
            f" {len(plain.slots):>6} {len(result.slots):>7} {conflicts:>10}"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    head = (
        f"{'N x K':>10} {'series order':<17} {'plain':>10} {'series':>10} {'ratio':>7}"
        f" {'plain#':>6} {'series#':>7} {'conflicts':>10}"
    )
    print(head)
    print("-" * len(head))
    for n, k in QUICK_SIZES if args.quick else SIZES:
        for row in measure(n, k, args.repeats):
            print(row, flush=True)
    print()
    print(f"plain = find_slots over {DAYS} days; series = {RULE},")
    print(f"starts in the first {START_DAYS} days; ratio = series / plain.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
