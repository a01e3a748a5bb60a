"""The grid the timeline and the HTML report draw: which days, which cells, what each cell shows.

Days are calendar days of the output zone (the request's). When the window spans at most
``max_days`` of them every day is drawn; otherwise the days of the best-ranked top slots (up
to ``max_days`` days, drawn in date order), or, with no slot at all, of the closest
alternatives, or else the first days of the window.

Within a day only the hours that matter are drawn: the whole hours around the working time
of the required attendees whose calendars were read, the suggested slots and the common free
periods, clipped to the window. Cells are equal stretches of real (elapsed) time from that
first hour, so on a DST day the hour labels simply skip or repeat.

A cell ``[a, b)`` of one person shows the strongest thing that touches it:

1. ``unknown`` - the calendar could not be read, or the cell is not wholly inside the stretch
   the data speaks for (``Availability.covered``);
2. ``busy`` - a ``busy`` or ``oof`` entry overlaps the cell for a positive time;
3. ``tentative`` - a ``tentative`` entry overlaps it;
4. ``outside`` - part of the cell lies outside the person's working hours;
5. ``capped`` - the cell touches a local day (week) on which a meeting of the request's
   length would break the person's load cap (:mod:`slotfinder.caps`);
6. ``free`` - otherwise: the whole cell is free working time.

So ``free`` is a promise about the whole cell, and any overlap at all is shown as blocking,
the same half-open rule the engine uses (a meeting ending at 10:00 does not touch the 10:00
cell). Rooms have no working hours unless configured. ``free`` entries block nothing, and an
``unanswered`` entry is drawn as the request's ``unanswered`` policy counts it (busy, tentative
or nothing: :func:`slotfinder.model.blocking_statuses`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder.caps import counted, person_blocks
from slotfinder.hours import from_wall, to_wall, working_spans
from slotfinder.intervals import (
    Int64Array,
    SpanArrays,
    contains_span,
    covering_index,
    empty,
    normalize,
)
from slotfinder.model import DAY, Span, Suggestion, SuggestionResult
from slotfinder.render._common import Person, meeting_periods, people, result_zone

BoolArray = npt.NDArray[np.bool_]

CELL_SIZES = (300, 600, 900, 1200, 1800, 3600, 7200, 10800)  # all divide a day


@attrs.frozen
class Day:
    """One drawn day: its cells ``[starts[i], ends[i])`` and, per person id, one state per cell."""

    label_date: str  # YYYY-MM-DD in the output zone
    midnight: int  # instant of local midnight (RFC 5545 rule)
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    states: dict[str, tuple[str, ...]]
    slots: tuple[int, ...]  # per cell: rank (1-based) of the best top slot touching it, else 0
    other_slot: tuple[bool, ...]  # per cell: a suggested slot beyond the top ones touches it
    common: tuple[bool, ...]  # per cell: a common free period touches it
    nobody_works: bool = False  # the day has no working time for anyone (no cells drawn)


@attrs.frozen
class Grid:
    zone: str
    cell: int
    people: tuple[Person, ...]
    days: tuple[Day, ...]
    top: tuple[Suggestion, ...]  # the slots marked by rank (the closest alternatives if none)
    alternatives: bool = False  # True when ``top`` holds alternatives, not slots
    window_days: int = 0  # local days the window touches (``days`` may be fewer)
    hours: tuple[int, int] | None = None  # aligned days: wall seconds after midnight drawn

    def shows(self, state: str) -> bool:
        """Does any drawn cell have ``state`` (the legends name ``capped`` only then)?"""
        return any(state in states for day in self.days for states in day.states.values())


def _overlaps(spans: SpanArrays, a: Int64Array, b: Int64Array) -> BoolArray:
    """Per cell ``[a, b)``: does a span of the normal-form ``spans`` overlap it?"""
    s, e = spans
    if s.size == 0:
        return np.zeros(a.shape, dtype=bool)
    i = np.searchsorted(e, a, side="right")  # first span ending after a
    ok = i < s.size
    return ok & (s[np.minimum(i, s.size - 1)] < b)


def _hits(spans: SpanArrays, start: int, end: int) -> bool:
    """Does a span of the normal-form ``spans`` overlap ``[start, end)``?"""
    a, b = np.array([start], dtype=np.int64), np.array([end], dtype=np.int64)
    return bool(_overlaps(spans, a, b)[0])


def cap_spans(result: SuggestionResult, person: Person, span: Span | None = None) -> SpanArrays:
    """The capped-out local days and weeks of ``person`` over ``span`` (default the request's
    window; none without a request, caps or a readable calendar; rooms have no caps)."""
    req, av, caps = result.request, person.availability, person.attendee.caps
    if req is None or av is None or not av.known or caps is None or person.kind == "room":
        return empty()
    w = span or req.window
    s, e, _ = person_blocks(
        caps, person.zone, counted(av, req), duration=req.duration, lo=w.start, hi=w.end
    )
    return normalize(s, e)


def classify(
    person: Person, a: Int64Array, b: Int64Array, capped: SpanArrays | None = None
) -> tuple[str, ...]:
    """The state of each cell ``[a[i], b[i])`` for ``person`` (rule in the module docstring);
    ``capped`` are their capped-out days and weeks (:func:`cap_spans`)."""
    n = a.size
    av = person.availability
    if av is None or not av.known:
        return ("unknown",) * n
    busy, tent = person.blocking()
    out = np.full(n, "free", dtype=object)
    wh = person.attendee.working_hours
    if wh is not None and n:
        work = working_spans(wh, int(a.min()), int(b.max()))
        out[covering_index(work, a, b) < 0] = "outside"  # no working span holds the cell
    if capped is not None:
        out[(out == "free") & _overlaps(capped, a, b)] = "capped"
    out[_overlaps(tent, a, b)] = "tentative"
    out[_overlaps(busy, a, b)] = "busy"
    if av.covered is not None:
        out[(a < av.covered.start) | (b > av.covered.end)] = "unknown"
    return tuple(str(x) for x in out)


def slot_state(result: SuggestionResult, slot: Suggestion, person: Person) -> str:
    """What ``slot`` means for ``person``: ``free``, ``tentative``, ``busy``, ``outside``,
    ``capped`` or ``unknown`` (``""`` when the slot does not mention them).

    The engine's ``unavailable`` joins three cases people must not confuse: an event (or a
    buffer around one), which is ``busy``, time outside their working hours, which is
    ``outside``, and a day or week at their load cap, which is ``capped``. An event wins,
    then working hours, as in the grid's cells.
    """
    pid = person.id
    if pid in slot.available:
        return "free"
    if pid in slot.tentative:
        return "tentative"
    if pid in slot.unknown:
        return "unknown"
    if pid not in slot.unavailable:
        return ""
    return _off(result, person, slot.start, slot.end) or "busy"


def _off(result: SuggestionResult, person: Person, start: int, end: int) -> str:
    """``busy`` (an event or its buffer), ``outside`` or ``capped`` for ``[start, end)``, in
    that order, or ``""`` when none holds."""
    req = result.request
    before, after = (req.buffer_before, req.buffer_after) if req is not None else (0, 0)
    if _hits(person.blocking()[0], start - before, end + after):
        return "busy"
    wh = person.attendee.working_hours
    if wh is not None and not contains_span(working_spans(wh, start, end), start, end):
        return "outside"
    if _hits(cap_spans(result, person, Span(start, end)), start, end):
        return "capped"
    return ""


def state_at(result: SuggestionResult, person: Person, start: int, end: int) -> str:
    """What ``[start, end)`` means for ``person`` from their own data, as :func:`slot_state`
    says it for a slot, for times no slot lists (a series' later occurrences)."""
    av = person.availability
    if av is None or not av.known:
        return "unknown"
    if off := _off(result, person, start, end):
        return off
    if _hits(person.blocking()[1], start, end):
        return "tentative"
    cov = av.covered
    if cov is not None and not cov.start <= start < end <= cov.end:
        return "unknown"
    return "free"


def _spans_of(items: Sequence[Suggestion | Span]) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in items]


def _window(result: SuggestionResult) -> tuple[int, int] | None:
    if result.request is not None:
        return result.request.window.start, result.request.window.end
    pts = _spans_of([*result.slots, *result.periods])
    if result.explanation is not None:
        pts += _spans_of(result.explanation.alternatives)
    if not pts:
        return None
    return min(p[0] for p in pts), max(p[1] for p in pts)


def _midnight(zone: str, t: int) -> int:
    """Wall-clock midnight (as a wall time) of the local day holding instant ``t``."""
    w = int(to_wall(zone, [t])[0])
    return w - w % DAY


def _instant(zone: str, wall: int) -> int:
    return int(from_wall(zone, [wall])[0])


def _day_walls(zone: str, lo: int, hi: int) -> list[int]:
    """Wall midnights of every local day that overlaps ``[lo, hi)``."""
    first, last = _midnight(zone, lo), _midnight(zone, hi - 1)
    return list(range(first, last + DAY, DAY))


def _pick_days(
    result: SuggestionResult,
    zone: str,
    lo: int,
    hi: int,
    *,
    top: Sequence[Suggestion],
    max_days: int,
) -> list[int]:
    days = _day_walls(zone, lo, hi)
    if len(days) <= max_days:
        return days
    focus = list(top)
    if not focus and result.explanation is not None:
        focus = list(result.explanation.alternatives)
    wanted: list[int] = []
    for s in focus:  # best rank first
        day = _midnight(zone, max(s.start, lo))
        if s.start < hi and day not in wanted:
            wanted.append(day)
    return sorted(wanted[:max_days]) if wanted else days[:max_days]


def _hull(
    persons: Sequence[Person],
    extra: Sequence[tuple[int, int]],
    lo: int,
    hi: int,
) -> tuple[int, int] | None:
    """First and last instant of working time or ``extra`` spans inside ``[lo, hi)``.

    Only required attendees whose calendar was read count: an optional attendee in a far zone
    or an unreadable calendar without working hours would otherwise stretch every day to 24 h.
    """
    firsts: list[int] = []
    lasts: list[int] = []
    for p in persons:
        if p.kind != "required" or p.availability is None or not p.availability.known:
            continue
        wh = p.attendee.working_hours
        if wh is None:
            return lo, hi
        s, e = working_spans(wh, lo, hi)
        if s.size:
            firsts.append(int(s[0]))
            lasts.append(int(e[-1]))
    for s0, e0 in extra:
        s1, e1 = max(s0, lo), min(e0, hi)
        if s1 < e1:
            firsts.append(s1)
            lasts.append(e1)
    if not firsts:
        return None
    return min(firsts), max(lasts)


def _round_to_hours(zone: str, a: int, b: int, lo: int, hi: int) -> tuple[int, int]:
    wa = int(to_wall(zone, [a])[0])
    wb = int(to_wall(zone, [b])[0])
    a2 = _instant(zone, wa - wa % 3600)
    b2 = _instant(zone, wb + (-wb) % 3600)
    return max(a2, lo), min(max(b2, b), hi)


def choose_cell(seconds: int, max_cells: int, min_cell: int = CELL_SIZES[0]) -> int:
    """The smallest cell size (from :data:`CELL_SIZES`, at least ``min_cell``) that draws
    ``seconds`` in ``max_cells`` cells."""
    for c in CELL_SIZES:
        if c >= min_cell and math.ceil(seconds / c) <= max_cells:
            return c
    return CELL_SIZES[-1]


def build_grid(
    result: SuggestionResult,
    *,
    max_cells: int,
    max_days: int,
    top: int,
    zone: str | None = None,
    min_cell: int = CELL_SIZES[0],
    align: bool = False,
) -> Grid | None:
    """Lay out the days and cells to draw, and classify every cell; ``None`` if nothing to draw.

    ``top`` is how many of the ranked slots get their own marker (their rank); the rest of the
    suggested slots are marked as "other". Cells are at least ``min_cell`` seconds. With
    ``align`` every day covers the same wall-clock hours (the union of each day's), so days
    drawn one under the other line up; :attr:`Grid.hours` says which.
    """
    zone = result_zone(result, zone)
    persons = tuple(people(result))
    win = _window(result)
    if win is None or not persons:
        return None
    lo, hi = win
    top_slots = tuple(result.slots[:top])
    alternatives = False
    if not result.slots and result.explanation is not None:
        top_slots = tuple(result.explanation.alternatives[:top])
        alternatives = bool(top_slots)
    periods = meeting_periods(result)
    extra = _spans_of([*result.slots, *top_slots, *periods])
    drawn: dict[int, tuple[int, int] | None] = {}  # wall midnight: the instants drawn that day
    for wall in _pick_days(result, zone, lo, hi, top=top_slots, max_days=max_days):
        d0, d1 = max(_instant(zone, wall), lo), min(_instant(zone, wall + DAY), hi)
        h = _hull(persons, extra, d0, d1)
        drawn[wall] = None if h is None else _round_to_hours(zone, h[0], h[1], d0, d1)
    hours = _aligned(zone, drawn) if align else None
    if hours is not None:
        drawn = {w: None if r is None else _clip(zone, w, hours, lo, hi) for w, r in drawn.items()}
    longest = max((r[1] - r[0] for r in drawn.values() if r is not None), default=0)
    cell = choose_cell(longest, max_cells, min_cell) if longest else CELL_SIZES[-1]
    caps = {p.id: cap_spans(result, p) for p in persons}
    days = tuple(
        _draw_day(
            zone, persons, result, w, r, top_slots=top_slots, cell=cell, periods=periods, caps=caps
        )
        for w, r in drawn.items()
    )
    return Grid(
        zone=zone,
        cell=cell,
        people=persons,
        days=days,
        top=top_slots,
        alternatives=alternatives,
        window_days=len(_day_walls(zone, lo, hi)),
        hours=hours,
    )


def _aligned(zone: str, drawn: dict[int, tuple[int, int] | None]) -> tuple[int, int] | None:
    """The wall-clock seconds after midnight every drawn day should cover: the union."""
    spans = []
    for wall, r in drawn.items():
        if r is not None:
            wa, wb = (int(x) for x in to_wall(zone, list(r)))
            spans.append((wa - wall, min(wb - wall, DAY)))
    if not spans:
        return None
    return min(s for s, _ in spans), max(e for _, e in spans)


def _clip(zone: str, wall: int, hours: tuple[int, int], lo: int, hi: int) -> tuple[int, int]:
    """The instants of ``hours`` on the day of ``wall``, inside the window ``[lo, hi)``."""
    a = max(_instant(zone, wall + hours[0]), lo)
    b = min(_instant(zone, wall + hours[1]), hi)
    return a, max(a, b)


def _draw_day(
    zone: str,
    persons: Sequence[Person],
    result: SuggestionResult,
    wall: int,
    span: tuple[int, int] | None,
    *,
    top_slots: Sequence[Suggestion],
    cell: int,
    periods: Sequence[Span],
    caps: dict[str, SpanArrays],
) -> Day:
    """Day ``wall`` (a wall midnight) drawn over the instants ``span``; None: nobody works."""
    date = str(np.datetime64(wall // DAY, "D"))  # YYYY-MM-DD
    midnight = _instant(zone, wall)
    if span is None or span[0] >= span[1]:
        return Day(date, midnight, (), (), {}, (), (), (), nobody_works=True)
    a0, b0 = span
    n = math.ceil((b0 - a0) / cell)
    a = a0 + np.arange(n, dtype=np.int64) * cell
    b = np.minimum(a + cell, b0)
    states = {p.id: classify(p, a, b, caps.get(p.id)) for p in persons}
    ranks = np.zeros(n, dtype=np.int64)
    for rank in range(len(top_slots), 0, -1):  # best rank drawn last, so it wins
        s = top_slots[rank - 1]
        ranks[(a < s.end) & (b > s.start)] = rank
    others = np.zeros(n, dtype=bool)
    for s in result.slots[len(top_slots) :]:
        others |= (a < s.end) & (b > s.start)
    common = np.zeros(n, dtype=bool)
    for p in periods:
        common |= (a < p.end) & (b > p.start)
    return Day(
        label_date=date,
        midnight=midnight,
        starts=tuple(int(x) for x in a),
        ends=tuple(int(x) for x in b),
        states=states,
        slots=tuple(int(x) for x in ranks),
        other_slot=tuple(bool(x) for x in others),
        common=tuple(bool(x) for x in common),
    )
