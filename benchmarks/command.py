"""Command benchmark: what a whole ``slotfinder slots`` run costs the user, against a script.

Run ``python benchmarks/command.py [--quick] [--repeats R]``. Prints two tables; never asserts
on time. For each size (N attendees x K busy entries each) a busy file is generated from
:func:`core.make_case` (three zones, Mon-Fri 09:00-18:00 working hours, 90 days, busy, tentative,
oof and free entries) and written by :func:`slotfinder.busyfile.dump_busy_file`. Then, taking
turns in each repeat so a busy spell of the machine hits both:

* **slotfinder**: the installed command as a process, ``slotfinder slots --busy FILE --duration
  30m --order start --max 20 --format json --output OUT`` (``--order start --max 20`` so it
  asks for what the reference computes; ``python -m slotfinder`` when no ``slotfinder`` script
  sits beside the interpreter);
* **reference**: ``python benchmarks/reference_script.py FILE OUT``, the script a user writes
  instead: bytes, ``json.loads``, ``datetime.fromisoformat(...).timestamp()`` per time, int64
  numpy arrays, a vectorised grid engine with working hours, ``json.dump`` of the 20 slots.
  Both outputs' slot starts are compared; ``same`` says whether they agree.

Wall time and peak memory of each process are taken by a small Python wrapper process
(``_WRAPPER``) that starts the command with ``os.posix_spawn``, waits for it with
``os.wait4`` (the rusage of that one child, not a max over all children as
``RUSAGE_CHILDREN`` would be) and reports ``perf_counter`` wall time and ``ru_maxrss``. The
wrapper exists because Linux folds the spawning process's peak RSS into the child's
``ru_maxrss`` at ``exec``: spawned from this (large) process the figure would be ours. From
the small wrapper the floor is the wrapper's own ~10 MiB, below any Python child's peak.

Where the time goes comes from a fresh process per repeat (``--phases``) that takes the
command's steps one by one, cold, as ``cmd_slots`` does: import, ``load_busy_file``, building
the request, ``find_slots`` and render, which is the command's own ``_emit``: the JSON rendered
and written to the output file (``render(result, "json")`` and a write, or the streaming
writer where the command streams). The reference script's import (numpy, zoneinfo), ``read``,
``engine`` and ``write`` are timed the same way. In the first table ``other`` is that phase
process's wall time (taken by the wrapper) minus read, engine and render: interpreter start,
imports, argument parsing and the request; ``total`` is the real command's wall time.
Times are the best of the repeats, memory the least peak; the start-up floors (``python -c
pass``, ``python -c "import numpy"``) are printed below the tables.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SIZES = ((100, 50), (1000, 100), (10000, 50), (10000, 200))
QUICK_SIZES = ((10, 20), (100, 50))
REFERENCE = HERE / "reference_script.py"
FLAGS = ("--duration", "30m", "--order", "start", "--max", "20", "--format", "json")

_WRAPPER = """\
import os, sys, time
out = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
t0 = time.perf_counter()
pid = os.posix_spawn(sys.argv[1], sys.argv[1:], os.environ, file_actions=out)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(wall, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def slotfinder_argv() -> list[str]:
    """The installed ``slotfinder`` script beside this interpreter, else ``python -m``."""
    script = Path(sys.executable).parent / "slotfinder"
    return [str(script)] if script.exists() else [sys.executable, "-m", "slotfinder"]


def run(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one process running ``argv``."""
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    fields = proc.stdout.split()
    if proc.returncode or len(fields) != 3 or fields[2] != "0":
        raise SystemExit(f"failed ({proc.stdout.strip()}): {' '.join(argv)}\n{proc.stderr}")
    return float(fields[0]), int(fields[1]) / 1024


# --- phases, in a fresh process (python benchmarks/command.py --phases WHICH BUSY OUT) -----


def phases_slotfinder(busy: str, out: str) -> dict[str, float]:
    """The steps of ``slotfinder slots`` (as ``cmd_slots`` takes them), each timed, cold."""
    clock = time.perf_counter
    t = [clock()]
    from slotfinder import cli
    from slotfinder.busyfile import load_busy_file
    from slotfinder.engine import find_slots
    from slotfinder.output import render  # noqa: F401 (what _emit imports, counted here)

    t.append(clock())
    args = cli.make_parser().parse_args(["slots", "--busy", busy, *FLAGS, "--output", out])
    bf = load_busy_file(Path(args.busy))
    t.append(clock())
    options = cli._options(args)
    request = cli._request(attendees=bf.attendees, window=bf.window, zone=bf.zone, **options)
    t.append(clock())
    result = find_slots(bf.availabilities, request)
    t.append(clock())
    with open(os.devnull, "w", encoding="utf-8") as quiet:  # "report written to ..."
        cli._emit(result, args, quiet, stats=False)
    t.append(clock())
    names = ("import", "read", "request", "engine", "render")
    return {name: t[i + 1] - t[i] for i, name in enumerate(names)}


def phases_reference(busy: str, out: str) -> dict[str, float]:
    """The reference script's import (numpy, zoneinfo) and three steps, each timed, cold."""
    clock = time.perf_counter
    t = [clock()]
    import reference_script as ref

    t.append(clock())
    w0, w1, zone, people, hours = ref.read(busy)
    t.append(clock())
    slots = ref.engine(w0, w1, people, hours)
    t.append(clock())
    ref.write(out, slots, zone)
    t.append(clock())
    names = ("import", "read", "engine", "write")
    return {name: t[i + 1] - t[i] for i, name in enumerate(names)}


def phases(which: str, busy: Path, out: Path, cwd: Path) -> dict[str, float]:
    """The steps' times in a fresh process, and ``whole``: that process's wall time."""
    report = cwd / f"phases-{which}.json"
    wall, _ = run(
        [sys.executable, __file__, "--phases", which, str(busy), str(out), str(report)], cwd
    )
    result: dict[str, float] = json.loads(report.read_bytes())
    result["whole"] = wall
    return result


# --- the tables -----------------------------------------------------------------------------


def generate(path: Path, n: int, k: int) -> None:
    """A busy file of ``n`` attendees x ``k`` entries, as ``dump_busy_file`` writes it."""
    from core import make_case

    from slotfinder.busyfile import dump_busy_file

    case = make_case(n, k)
    r = case.request
    dump_busy_file(r.window, r.zone, r.attendees, case.availabilities, path)


def slot_starts(path: Path) -> list[int]:
    doc = json.loads(path.read_bytes())
    return [int(datetime.fromisoformat(s["start"]).timestamp()) for s in doc["slots"]]


def best(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: min(row[key] for row in rows) for key in rows[0]}


def floor(argv: list[str], cwd: Path, repeats: int) -> tuple[float, float]:
    runs = [run(argv, cwd) for _ in range(repeats)]
    return min(w for w, _ in runs), min(m for _, m in runs)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f}"


def measure(n: int, k: int, repeats: int, tmp: Path) -> tuple[str, str, str]:
    """The size's row of the main table, of the phase table, and a note ('' when same)."""
    busy = tmp / f"busy-{n}x{k}.json"
    generate(busy, n, k)
    mib = busy.stat().st_size / 2**20
    ours_out, ref_out = tmp / "slotfinder.json", tmp / "reference.json"
    ours_argv = [*slotfinder_argv(), "slots", "--busy", str(busy), *FLAGS, "--output"]
    ref_argv = [sys.executable, str(REFERENCE), str(busy)]
    whole: dict[str, list[tuple[float, float]]] = {"ours": [], "ref": []}
    ours_ph: list[dict[str, float]] = []
    ref_ph: list[dict[str, float]] = []
    for _ in range(repeats):
        whole["ours"].append(run([*ours_argv, str(ours_out)], tmp))
        whole["ref"].append(run([*ref_argv, str(ref_out)], tmp))
        ours_ph.append(phases("slotfinder", busy, tmp / "phases-ours.json", tmp))
        ref_ph.append(phases("reference", busy, tmp / "phases-ref.json", tmp))
    ours_t, ref_t = (min(w for w, _ in whole[x]) for x in ("ours", "ref"))
    ours_m, ref_m = (min(m for _, m in whole[x]) for x in ("ours", "ref"))
    p, r = best(ours_ph), best(ref_ph)
    other = p["whole"] - p["read"] - p["engine"] - p["render"]
    ours_slots, ref_slots = slot_starts(ours_out), slot_starts(ref_out)
    same = ours_slots == ref_slots and len(ours_slots) == 20
    note = "" if same else f"  note: {n}x{k}: slots differ ({ours_slots[:3]}, {ref_slots[:3]})"
    size = f"{n}x{k}"
    main_row = (
        f"{size:>9} {mib:>5.0f} | {ms(p['read']):>6} {ms(p['engine']):>6} {ms(p['render']):>6}"
        f" {ms(other):>6} {ms(ours_t):>6} | {ms(ref_t):>6} | {ours_t / ref_t:>5.2f}x |"
        f" {ours_m:>6.0f} {ref_m:>6.0f} {ours_m / ref_m:>5.2f}x | {'yes' if same else 'NO':>4}"
    )
    phase_row = (
        f"{size:>9} | {ms(p['import']):>6} {ms(p['read']):>6} {ms(p['request']):>7}"
        f" {ms(p['engine']):>6} {ms(p['render']):>6} |"
        f" {ms(r['import']):>6} {ms(r['read']):>6} {ms(r['engine']):>6} {ms(r['write']):>6} |"
        f" {p['read'] / r['read']:>5.2f}x {p['engine'] / r['engine']:>6.1f}x"
    )
    return main_row, phase_row, note


def table(title: list[str], head: str, rows: list[str]) -> None:
    """Print a titled table and a blank line after it."""
    print("\n".join([*title, head, "-" * len(head), *rows, ""]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--phases", nargs=4, metavar=("WHICH", "BUSY", "OUT", "REPORT"), help="internal"
    )
    args = parser.parse_args(argv)
    if args.phases:
        which, busy, out, report = args.phases
        fn: Callable[[str, str], dict[str, Any]] = (
            phases_slotfinder if which == "slotfinder" else phases_reference
        )
        Path(report).write_text(json.dumps(fn(busy, out)), encoding="utf-8")
        return 0

    # An installed slotfinder has its bytecode compiled at install time, as numpy's is; an
    # editable checkout run with PYTHONDONTWRITEBYTECODE would compile every module on every
    # start and time the compiler, not the command.
    for folder in ("slotfinder", "plugins"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    sizes = QUICK_SIZES if args.quick else SIZES
    main_rows, phase_rows, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="slotfinder-command-") as name:
        tmp = Path(name)
        for n, k in sizes:
            main_row, phase_row, note = measure(n, k, args.repeats, tmp)
            print(f"  {n}x{k} done", file=sys.stderr, flush=True)
            main_rows.append(main_row)
            phase_rows.append(phase_row)
            notes += [note] if note else []
        bare = floor([sys.executable, "-c", "pass"], tmp, args.repeats)
        numpy = floor([sys.executable, "-c", "import numpy"], tmp, args.repeats)

    table(
        [
            "whole command: slotfinder slots ... --format json against the reference script",
            "(ms; peak RSS MiB; read, engine, render and other from the phase run, where",
            " other = that process's wall time - read - engine - render)",
        ],
        f"{'N x K':>9} {'MiB':>5} | {'read':>6} {'engine':>6} {'render':>6} {'other':>6}"
        f" {'total':>6} | {'ref':>6} | {'ratio':>6} | {'RSS':>6} {'refRSS':>6} {'ratio':>6}"
        f" | same",
        main_rows,
    )
    table(
        ["phases, each step timed cold in a fresh process (ms): slotfinder | reference | ratio"],
        f"{'N x K':>9} | {'import':>6} {'read':>6} {'request':>7} {'engine':>6} {'render':>6}"
        f" | {'import':>6} {'read':>6} {'engine':>6} {'write':>6} | {'read':>6}"
        f" {'engine':>7}",
        phase_rows,
    )
    print(f"start-up floor: python -c pass {ms(bare[0])} ms, {bare[1]:.0f} MiB;")
    print(f"                python -c 'import numpy' {ms(numpy[0])} ms, {numpy[1]:.0f} MiB")
    print(f"command: {' '.join(Path(a).name for a in slotfinder_argv())} slots {' '.join(FLAGS)}")
    print(f"# best of {args.repeats}, python {sys.version.split()[0]}")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
