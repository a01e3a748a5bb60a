"""A terminal timeline: one row per attendee and room, one block per day (``--format timeline``).

Which days and hours are drawn, and what each cell shows, is decided in
:mod:`slotfinder.render._grid`, so the timeline and the HTML report always agree; cells are 5
minutes to 3 hours, so a row fits the width.

Under the people, ``free for all`` marks the cells touching a common free period, and
``slots`` the cells touching a suggested slot: the digit is the slot's rank (1-9, best rank
wins), ``+`` a lower-ranked slot. When nothing fits, the closest alternatives are marked the
same way on an ``alternatives`` row. Each line fits in ``width`` (at most 100) columns; with
``color`` the cells also get ANSI colours (ask for it only when the stream is a TTY).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

from slotfinder.hours import to_wall
from slotfinder.model import DAY, SuggestionResult
from slotfinder.render._common import (
    clamp_width,
    common_label,
    duration_text,
    fit,
    group_items,
    local,
    people,
    repeated_hour,
    span_text,
    text_width,
    wrap,
)
from slotfinder.render._grid import Day, Grid, build_grid
from slotfinder.render._series import series_lines

__all__ = ["ASCII", "UNICODE", "render_timeline"]

UNICODE = {
    "free": "·",
    "busy": "█",
    "tentative": "▒",
    "unknown": "?",
    "outside": "-",
    "capped": "x",
    "common": "=",
    "other": "+",
}
ASCII = {**UNICODE, "free": ".", "busy": "#", "tentative": "~"}

_ANSI = {
    "free": "\x1b[32m",  # green
    "busy": "\x1b[31m",  # red
    "tentative": "\x1b[33m",  # yellow
    "unknown": "\x1b[35m",  # magenta
    "outside": "\x1b[2m",  # dim
    "capped": "\x1b[2;31m",  # dim red
    "common": "\x1b[32m",
    "slot": "\x1b[1;36m",  # bold cyan
}
_RESET = "\x1b[0m"
_LEGEND = (
    ("busy", "busy"),
    ("tentative", "tentative"),
    ("free", "free"),
    ("outside", "outside working hours"),
    ("unknown", "unknown"),
    ("common", "free for all"),
)
_MIN_LABEL, _MAX_LABEL = 12, 24
_NO_SLOT = "No slot fits the request; the closest alternatives are marked."


def _paint(cells: Sequence[tuple[str, str]], color: bool) -> str:
    """Join ``(char, colour key)`` pairs, one escape per run of the same colour."""
    if not color:
        return "".join(ch for ch, _ in cells)
    out: list[str] = []
    for code, run in groupby(cells, key=lambda cell: _ANSI.get(cell[1], "")):
        text = "".join(ch for ch, _ in run)
        out.append(f"{code}{text}{_RESET}" if code else text)
    return "".join(out)


def _axis(day: Day, zone: str, cell: int) -> str:
    """Hour labels (``09``) above the cells that start on a labelled hour."""
    walls = to_wall(zone, list(day.starts))
    per_hour = 3600 / cell
    every = next(k for k in (1, 2, 3, 4, 6, 12, 24) if k * per_hour >= 3)
    axis = [" "] * len(day.starts)
    free_from = 0
    for i, w in enumerate(walls.tolist()):
        sec = w % DAY
        if sec % 3600 or (sec // 3600) % every or i < free_from or i + 2 > len(axis):
            continue
        axis[i : i + 2] = f"{sec // 3600:02d}"
        free_from = i + 3
    return "".join(axis)


def _day_block(
    grid: Grid,
    day: Day,
    *,
    lw: int,
    width: int,
    chars: dict[str, str],
    color: bool,
    common: str,
) -> list[str]:
    zone = grid.zone
    title = [local(day.midnight, zone, "%a %Y-%m-%d"), zone]
    if day.nobody_works:
        return wrap([*title, "nobody works this day"], width, indent="  ", sep=" · ")
    first, last = day.starts[0], day.ends[-1]
    end = local(last, zone)
    end = "24:00" if end == "00:00" else end
    title += [f"{local(first, zone)}–{end}", f"one cell = {duration_text(grid.cell)}"]
    twice = repeated_hour(first, last, zone)
    title += [twice] if twice else []
    lines = wrap(title, width, indent="  ", sep=" · ")
    lines.append(" " * (lw + 2) + _axis(day, zone, grid.cell))
    for p in grid.people:
        row = [(chars[s], s) for s in day.states[p.id]]
        lines.append(f"{p.fit_label(lw)} │{_paint(row, color)}│")
    cells = [(chars["common"] if c else " ", "common") for c in day.common]
    lines.append(f"{fit(common, lw, pad=True)} │{_paint(cells, color)}│")
    marks: list[tuple[str, str]] = []
    for rank, other in zip(day.slots, day.other_slot, strict=True):
        ch = str(rank) if 0 < rank < 10 else ("*" if rank else (chars["other"] if other else " "))
        marks.append((ch, "slot"))
    label = "alternatives" if grid.alternatives else "slots"
    lines.append(f"{fit(label, lw, pad=True)} │{_paint(marks, color)}│")
    return lines


def _legend(grid: Grid, chars: dict[str, str], width: int, common: str) -> list[str]:
    items = [f"{chars[k]} {common if k == 'common' else text}" for k, text in _LEGEND]
    if grid.shows("capped"):
        items.insert(4, f"{chars['capped']} at their meeting cap (day or week)")
    what = "alternative" if grid.alternatives else "slot"
    items.append(f"1-9 {what} rank")
    if not grid.alternatives:
        items.append(f"{chars['other']} other slots")
    return wrap(items, width, first="legend: ", indent=" " * 8, sep="  ")


def render_timeline(
    result: SuggestionResult,
    *,
    zone: str | None = None,
    width: int = 100,
    color: bool = False,
    max_days: int = 3,
    top: int = 9,
    ascii: bool = False,
) -> str:
    """The timeline as text; every line at most ``width`` (<= 100) columns, escapes excluded.

    ``max_days`` caps the days drawn, ``top`` how many slots get a rank digit, ``color`` adds
    ANSI colours, ``ascii`` uses ``. # ~`` instead of ``· █ ▒``.
    """
    width = clamp_width(width)
    chars = ASCII if ascii else UNICODE
    label_w = max((text_width(p.label) for p in people(result)), default=0)
    lw = min(max(label_w, _MIN_LABEL), _MAX_LABEL)
    grid = build_grid(result, max_cells=width - lw - 3, max_days=max_days, top=min(top, 9))
    if grid is None:
        return "Nothing to draw: the result has no request and no times.\n"
    lines: list[str] = []
    if grid.top:
        head = "Closest alternatives:" if grid.alternatives else "Top slots:"
        items = [f"{i} {span_text(s.start, s.end, grid.zone)}" for i, s in enumerate(grid.top, 1)]
        if grid.alternatives:
            lines += wrap(_NO_SLOT.split(" "), width)
        lines += wrap(items, width, first=head + " ", indent="  ", sep=" · ")
        for i, s in enumerate(grid.top, 1):
            for item in group_items(result, s):
                lines += wrap(item.split(" "), width, first=f"  {i} ", indent="      ")
            lines += series_lines(result, s, grid.zone, width, lead=f"  {i} ", indent=6, cross=4)
    elif not result.slots:
        lines.append("No slot fits the request.")
    if len(grid.days) < grid.window_days:
        which = "the days with the " + ("alternatives" if grid.alternatives else "top slots")
        if not grid.top:
            which = "the first days of the window"
        note = f"(showing {len(grid.days)} of {grid.window_days} days: {which})"
        lines += wrap(note.split(" "), width)
    common = common_label(result)
    for day in grid.days:
        block = _day_block(grid, day, lw=lw, width=width, chars=chars, color=color, common=common)
        lines += ["", *block]
    lines.append("")
    lines += _legend(grid, chars, width, common)
    zones = [f"{p.attendee.label} {p.zone}" for p in grid.people if p.kind != "room"]
    lines += wrap(zones, width, first="zones: ", indent=" " * 7, sep=" · ")
    return "\n".join(line.rstrip() for line in lines) + "\n"
