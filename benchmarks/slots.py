"""Slots benchmark: what asking for more slots costs, in start and in score order.

Run ``python benchmarks/slots.py [--quick] [--repeats R] [--baseline REV]``. Prints two tables;
never asserts on time. Inputs come from :func:`core.make_case` (attendees in three zones,
Mon-Fri 09:00-18:00, busy spans of 15-120 min, a meeting-free hour every day).

* **slots requested**: N attendees x K busy spans over a year with a quorum of half of them,
  ``max_results`` 20, 1000 and all, in start and in score order. ``all/20`` is the time for
  every slot over the time for the first 20 (same order); ``score/start`` is score order over
  start order (same ``max_results``). Below it, what a caller then pays to read every slot's
  id lists (the engine builds them on first read) and to copy them once read.
* **score order at core sizes**: the sizes of ``benchmarks/core.py`` (90 days, everybody
  required, first 20 slots), start order against score order.

With ``--baseline REV`` the engine package as committed at ``REV`` (``slotfinder/engine`` read
with ``git show``) is loaded beside the working tree's under another name and timed in the same
process on the same inputs, so both columns see the same machine state; a note is printed when
its slots differ from the working tree's.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from core import SIZES, make_case  # noqa: E402 (needs the path above)

from slotfinder.engine import find_slots  # noqa: E402
from slotfinder.model import MAX_RESULTS  # noqa: E402

YEAR = 365
SLOT_SIZE = (1000, 100)
QUICK_SLOT_SIZE = (200, 50)
QUICK_CORE_SIZES = SIZES[:2]
MAXES = (20, 1000, MAX_RESULTS)
QUORUM = 0.5

FindSlots = Callable[..., Any]


def load_baseline(rev: str) -> FindSlots:
    """``find_slots`` of the engine package at git revision ``rev``, as package ``_base_engine``."""
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "slotfinder/engine/"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    pkg = Path(tempfile.mkdtemp(prefix="slotfinder-base-")) / "_base_engine"
    pkg.mkdir()
    for name in names:
        if not name.endswith(".py"):
            continue
        text = subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        (pkg / Path(name).name).write_text(text.replace("slotfinder.engine", "_base_engine"))
    spec = importlib.util.spec_from_file_location(
        "_base_engine", pkg / "__init__.py", submodule_search_locations=[str(pkg)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["_base_engine"] = module
    spec.loader.exec_module(module)
    fn: FindSlots = module.find_slots
    return fn


def best_of(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def _slots(result: Any) -> list[tuple[Any, ...]]:
    return [attrs.astuple(s) for s in result.slots]


def time_engines(
    engines: dict[str, FindSlots], case: Any, request: Any, repeats: int, notes: list[str]
) -> tuple[dict[str, float], Any]:
    """Best time of each engine on one request, the engines taking turns in each repeat (so a
    busy spell of the machine hits both); notes when an engine's slots differ from the first's.
    """
    times = dict.fromkeys(engines, float("inf"))
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for label, fn in engines.items():
            t0 = time.perf_counter()
            results[label] = fn(case.availabilities, request)
            times[label] = min(times[label], time.perf_counter() - t0)
    first = next(iter(results.values()))
    for label, result in results.items():
        if _slots(result) != _slots(first):
            what = f"{request.order}, max {request.max_results}"
            notes.append(f"  note: {label} slots differ ({what})")
    return times, first


def list_costs(fn: FindSlots, case: Any, request: Any, repeats: int) -> tuple[float, float]:
    """Best times to read every slot's four id lists from a fresh result (an engine may build
    them on first read) and to copy them once built: what listing everyone costs a caller."""

    def read(result: Any) -> list[tuple[Any, ...]]:
        return [
            ((*s.available,), (*s.tentative,), (*s.unavailable,), (*s.unknown,))
            for s in result.slots
        ]

    first = again = float("inf")
    for _ in range(repeats):
        result = fn(case.availabilities, request)
        t0 = time.perf_counter()
        read(result)
        t1 = time.perf_counter()
        read(result)
        first, again = min(first, t1 - t0), min(again, time.perf_counter() - t1)
    return first, again


def slots_table(engines: dict[str, FindSlots], n: int, k: int, repeats: int) -> None:
    case = make_case(n, k, days=YEAR)
    labels = list(engines)
    print(f"slots requested: {n} attendees x {k} busy, {YEAR} days, quorum {QUORUM}  (ms)")
    head = f"{'order':>6} {'max':>7} {'slots':>6} |" + "".join(
        f" {lab:>9} {'all/20':>7} {'sc/st':>6} |" for lab in labels
    )
    if len(labels) == 2:
        head += f" {labels[1] + '/' + labels[0]:>16}"
    print(head)
    print("-" * len(head))
    results: dict[tuple[str, int], tuple[dict[str, float], int]] = {}
    lists = (0.0, 0.0)
    notes: list[str] = []
    for order in ("start", "score"):
        for mx in MAXES:
            request = attrs.evolve(case.request, quorum=QUORUM, order=order, max_results=mx)
            reps = repeats if mx < MAX_RESULTS else max(2, repeats // 2)
            times, result = time_engines(engines, case, request, reps, notes)
            results[order, mx] = times, len(result.slots)
            if mx == MAX_RESULTS and order == "start":
                lists = list_costs(engines[labels[-1]], case, request, reps)
    for order in ("start", "score"):
        for mx in MAXES:
            times, count = results[order, mx]
            row = f"{order:>6} {'all' if mx == MAX_RESULTS else mx:>7} {count:>6} |"
            for lab in labels:
                t = times[lab]
                vs20 = t / results[order, MAXES[0]][0][lab]
                vs_start = t / results["start", mx][0][lab]
                row += f" {ms(t):>9} {vs20:>6.2f}x {vs_start:>5.2f}x |"
            if len(labels) == 2:
                row += f" {times[labels[1]] / times[labels[0]]:>15.2f}x"
            print(row)
    print(
        f"{labels[-1]}, start, all: reading every slot's id lists takes {ms(lists[0])} ms "
        f"on a fresh result, copying them once read {ms(lists[1])} ms"
    )
    print("\n".join(notes))


def core_table(
    engines: dict[str, FindSlots], sizes: tuple[tuple[int, int], ...], repeats: int
) -> None:
    labels = list(engines)
    print("score order at core sizes: 90 days, everybody required, first 20 slots  (ms)")
    head = f"{'N x K':>11} |" + "".join(
        f" {lab + ' start':>15} {lab + ' score':>15} {'sc/st':>6} |" for lab in labels
    )
    print(head)
    print("-" * len(head))
    notes: list[str] = []
    for n, k in sizes:
        case = make_case(n, k)
        reps = repeats if n * k <= 100_000 else max(2, repeats // 2)
        row = f"{f'{n}x{k}':>11} |"
        by_order = {}
        for order in ("start", "score"):
            request = attrs.evolve(case.request, order=order)
            by_order[order], _ = time_engines(engines, case, request, reps, notes)
        for lab in labels:
            st, sc = by_order["start"][lab], by_order["score"][lab]
            row += f" {ms(st):>15} {ms(sc):>15} {sc / st:>5.2f}x |"
        print(row, flush=True)
    print("\n".join(notes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline", metavar="REV", help="also time the engine at git REV")
    args = parser.parse_args(argv)
    engines: dict[str, FindSlots] = {}
    if args.baseline:
        engines["base"] = load_baseline(args.baseline)
    engines["now"] = find_slots
    n, k = QUICK_SLOT_SIZE if args.quick else SLOT_SIZE
    slots_table(engines, n, k, args.repeats)
    core_table(engines, QUICK_CORE_SIZES if args.quick else SIZES, args.repeats)
    print("all/20: against max 20 in the same order; sc/st: score order over start order.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
