"""A brute-force reference of the engine's slot semantics, sharing nothing with it but the model.

It tries every grid start of the window one by one: the grid is found by walking every minute
with ``zoneinfo`` (all current UTC offsets are whole minutes), working hours are built day by day
from ``datetime.combine`` (``fold=0``, the RFC 5545 rule) and every busy entry is checked directly
against every slot. Slow on purpose, obvious on purpose: the property tests compare
:func:`slotfinder.engine.find_slots` against it.

:func:`find_series` does the same for a recurring series, occurrence by occurrence.

The semantics it pins (see the engine's module docstring for the reasons):

* a required attendee passes a slot ``[s, e)`` when the slot is inside their working hours, no
  busy/oof entry (widened by the buffers) overlaps it, no tentative one does unless tentative
  counts as free, and the slot is inside the data's coverage (unless unknown time is flagged);
  an unanswered entry is a busy one, a tentative one or nothing, as ``request.unanswered`` says;
* a room passes when it was read, the slot is inside its working hours and coverage, and no
  blocking entry overlaps it (no buffers for rooms);
* load caps: an attendee with caps fails (and is ``unavailable`` for) a slot when some local day
  (ISO week) in their zone that the slot overlaps already holds so many counted entries that one
  more breaks ``max_meetings``, or so much busy time that the slot's full duration more breaks
  ``max_busy_hours`` (counted entries: busy, and tentative unless tentative counts as free,
  an unanswered one counted as the status its policy names);
  days are found with ``datetime.combine`` and ``zoneinfo``, entries checked one by one;
* a slot is offered when every group is met: at least ``required`` of each group's members pass
  it, and every required attendee no group names passes it (a quorum is one group of all the
  required attendees); a room passes (if rooms were asked for), it lies in the window and starts
  no earlier than the notice allows;
* periods are where, at each instant, every group has at least its count of members free.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotfinder.model import (
    Attendee,
    Availability,
    LoadCaps,
    MeetingRequest,
    Status,
    WorkingHours,
)

BLOCK_HARD = (Status.BUSY, Status.OOF)


def grid(zone: str, start: int, end: int, step: int) -> list[int]:
    """Every instant in ``[start, end)`` whose local wall-clock time is a multiple of ``step``."""
    tz = ZoneInfo(zone)
    first = -(-start // 60) * 60
    out = []
    for t in range(first, end, 60):
        local = datetime.fromtimestamp(t, tz)
        if (local.hour * 3600 + local.minute * 60 + local.second) % step == 0:
            out.append(t)
    return out


def working(wh: WorkingHours, start: int, end: int) -> list[tuple[int, int]]:
    """The working intervals of ``wh`` (one per rule and day) around ``[start, end)``."""
    tz = ZoneInfo(wh.zone)
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=2)
    last = datetime.fromtimestamp(end, tz).date() + timedelta(days=2)
    out = []
    day = first
    while day <= last:
        for weekday, s_min, e_min in wh.rules:
            if weekday != day.weekday():
                continue
            s = _instant(day, s_min, tz)
            e = _instant(day, e_min, tz)
            if e > s:
                out.append((s, e))
        day += timedelta(days=1)
    return out


def _instant(day: date, minute: int, tz: ZoneInfo) -> int:
    day = day + timedelta(days=minute // 1440)
    minute %= 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)  # fold=0
    return int(local.astimezone(UTC).timestamp())


def inside(intervals: Sequence[tuple[int, int]], s: int, e: int) -> bool:
    """True when ``[s, e)`` is covered by the union of ``intervals`` (touching ones join)."""
    p = s
    while p < e:
        nxt = max((b for a, b in intervals if a <= p < b), default=None)
        if nxt is None:
            return False
        p = nxt
    return True


def covers(intervals: Sequence[tuple[int, int]], t: int) -> bool:
    return any(a <= t < b for a, b in intervals)


@dataclass
class Person:
    """What the reference knows of one attendee or room."""

    id: str
    hours: list[tuple[int, int]] | None
    covered: tuple[int, int] | None  # None: nothing known
    hard: list[tuple[int, int]]
    tentative: list[tuple[int, int]]
    caps: LoadCaps | None = None
    zone: str = "UTC"
    meetings: list[tuple[int, int]] | None = None  # the entries caps count (unwidened)


def person(
    who: Attendee,
    avs: dict[str, Availability],
    request: MeetingRequest,
    before: int,
    after: int,
    *,
    span: tuple[int, int] | None = None,
) -> Person:
    """Collect one attendee's data, busy widened to ``[b0 - before, b1 + after)``, around the
    request's window (or ``span``, which ``covered=None`` then stands for)."""
    lo, hi = span or (request.window.start, request.window.end)
    hours = None if who.working_hours is None else working(who.working_hours, lo, hi)
    av = avs.get(who.id)
    if av is None or av.error is not None:
        return Person(who.id, hours, None, [], [])
    cov = (lo, hi) if av.covered is None else (av.covered.start, av.covered.end)
    hard, tent, meetings = [], [], []
    for entry in av.busy.entries():
        if entry.span.end <= entry.span.start:
            continue
        counts_as = entry.status
        if counts_as is Status.UNANSWERED:
            counts_as = Status(request.unanswered)
        if counts_as is Status.BUSY or (
            counts_as is Status.TENTATIVE and request.tentative == "busy"
        ):
            meetings.append((entry.span.start, entry.span.end))
        span = (entry.span.start - before, entry.span.end + after)
        if counts_as in BLOCK_HARD:
            hard.append(span)
        elif counts_as is Status.TENTATIVE:
            tent.append(span)
    return Person(who.id, hours, cov, hard, tent, who.caps, request.zone_of(who), meetings)


def _load(meetings: list[tuple[int, int]], lo: int, hi: int) -> tuple[int, int]:
    """How many entries overlap ``[lo, hi)``, and how long their union lies inside it."""
    count = sum(1 for a, b in meetings if a < hi and b > lo)
    return count, sum(b - a for a, b in _joined(meetings, lo, hi))


def capped(p: Person, s: int, e: int, duration: int) -> str | None:
    """``daily_cap``/``weekly_cap`` when a meeting of ``duration`` overlapping ``[s, e)``
    breaks a cap of ``p`` in a local day or week it overlaps, else ``None``."""
    caps = p.caps
    if caps is None or p.meetings is None:
        return None
    tz = ZoneInfo(p.zone)
    day = datetime.fromtimestamp(s, tz).date()
    last = datetime.fromtimestamp(e - 1, tz).date()
    while day <= last:
        monday = day - timedelta(days=day.weekday())
        for lo, hi, count_cap, busy_cap, code in (
            (day, day + timedelta(days=1), caps.meetings_per_day, caps.busy_per_day, "daily_cap"),
            (
                monday,
                monday + timedelta(days=7),
                caps.meetings_per_week,
                caps.busy_per_week,
                "weekly_cap",
            ),
        ):
            a, b = _instant(lo, 0, tz), _instant(hi, 0, tz)
            if b <= a or not (a < e and s < b):
                continue
            count, busy = _load(p.meetings, a, b)
            if count_cap is not None and count + 1 > count_cap:
                return code
            if busy_cap is not None and busy + duration > busy_cap:
                return code
        day += timedelta(days=1)
    return None


def _hits(spans: list[tuple[int, int]], s: int, e: int) -> bool:
    return any(a < e and s < b for a, b in spans)


def category(p: Person, s: int, e: int) -> str:
    """available, tentative, unavailable or unknown for the slot ``[s, e)``."""
    if p.hours is not None and not inside(p.hours, s, e):
        return "unavailable"
    if _hits(p.hard, s, e) or capped(p, s, e, e - s):
        return "unavailable"
    if p.covered is None or not (p.covered[0] <= s and e <= p.covered[1]):
        return "unknown"
    if _hits(p.tentative, s, e):
        return "tentative"
    return "available"


def passes(p: Person, s: int, e: int, request: MeetingRequest) -> bool:
    """Whether a required attendee lets the slot ``[s, e)`` pass."""
    if p.hours is not None and not inside(p.hours, s, e):
        return False
    if _hits(p.hard, s, e) or capped(p, s, e, request.duration):
        return False
    if request.tentative == "busy" and _hits(p.tentative, s, e):
        return False
    if request.unknown == "flag":
        return True
    return p.covered is not None and p.covered[0] <= s and e <= p.covered[1]


def room_passes(p: Person, s: int, e: int, request: MeetingRequest) -> bool:
    """Whether a room (read without buffers) is free for the whole slot."""
    if p.covered is None or not (p.covered[0] <= s and e <= p.covered[1]):
        return False
    if p.hours is not None and not inside(p.hours, s, e):
        return False
    if _hits(p.hard, s, e):
        return False
    return not (request.tentative == "busy" and _hits(p.tentative, s, e))


def free_at(p: Person, t: int, request: MeetingRequest) -> bool:
    """Whether a required attendee counts as free at the instant ``t`` (for periods)."""
    if p.hours is not None and not covers(p.hours, t):
        return False
    if covers(p.hard, t) or capped(p, t, t + 1, request.duration):
        return False
    if request.tentative == "busy" and covers(p.tentative, t):
        return False
    if request.unknown == "flag":
        return True
    return p.covered is not None and p.covered[0] <= t < p.covered[1]


DAY = 86_400
CREDIT = {"available": 1.0, "tentative": 0.5, "unknown": 0.5, "unavailable": 0.0}


def _joined(intervals: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Maximal stretches of the union of ``intervals`` (touching ones join), cut to ``[lo, hi)``."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return [(max(a, lo), min(b, hi)) for a, b in out if min(b, hi) > max(a, lo)]


def score(request: MeetingRequest, slot: RefSlot) -> float:
    """The engine's documented score of ``slot`` (unrounded), attendee by attendee."""
    w, d = request.window, request.duration
    cat = {}
    for name in _CATS:
        for i in getattr(slot, name):
            cat[i] = name
    req = [a for a in request.attendees if not a.optional]
    opt = [a for a in request.attendees if a.optional]
    u = 1.0 / (len(opt) + 1)
    dists = []
    for a in request.attendees:
        if a.working_hours is None:
            continue
        spans = _joined(working(a.working_hours, w.start, w.end), w.start - DAY, w.end + DAY)
        for s0, s1 in spans:
            if s0 <= slot.start and slot.end <= s1:
                half = max((s1 - s0 - d) / 2.0, 1.0)
                dists.append(min(abs((slot.start + slot.end) / 2.0 - (s0 + s1) / 2.0) / half, 1.0))
    fair = 1.0 - sum(dists) / len(dists) if dists else 1.0
    points = (
        sum(CREDIT[cat[a.id]] for a in req) + u * sum(CREDIT[cat[a.id]] for a in opt) + u / 4 * fair
    )
    return 100.0 * points / (len(req) + u * len(opt) + u / 4)


@dataclass
class RefSlot:
    start: int
    end: int
    available: tuple[str, ...]
    tentative: tuple[str, ...]
    unavailable: tuple[str, ...]
    unknown: tuple[str, ...]
    room: str | None


def find(
    availabilities: Sequence[Availability], request: MeetingRequest, now: int = 0
) -> tuple[list[RefSlot], list[tuple[int, int]]]:
    """All slots in start order, and the common free periods, by brute force."""
    avs: dict[str, Availability] = {}
    for av in availabilities:
        avs.setdefault(av.id, av)
    bb, ba = request.buffer_before, request.buffer_after
    people = [person(a, avs, request, ba, bb) for a in request.attendees]
    required = [p for p, a in zip(people, request.attendees, strict=True) if not a.optional]
    rooms = [person(r, avs, request, 0, 0) for r in request.rooms]
    by_id = {p.id: p for p in required}
    teams = _teams(request)
    w = request.window
    earliest = now + request.min_notice if request.min_notice > 0 else w.start

    slots = []
    for s in grid(request.zone, w.start, w.end, request.granularity):
        e = s + request.duration
        if e > w.end or s < earliest:
            continue
        if any(sum(passes(by_id[i], s, e, request) for i in ids) < k for ids, k in teams):
            continue
        room = None
        if rooms:
            room = next((r.id for r in rooms if room_passes(r, s, e, request)), None)
            if room is None:
                continue
        cats = {p.id: category(p, s, e) for p in people}
        slots.append(
            RefSlot(
                s,
                e,
                *(tuple(i for i, c in cats.items() if c == name) for name in _CATS),
                room=room,
            )
        )

    points = {w.start, w.end}
    for p in required:
        for spans in (p.hours or [], p.hard, p.tentative, [p.covered] if p.covered else []):
            for a, b in spans:
                points.update(x for x in (a, b) if w.start < x < w.end)
        if p.caps is not None:  # a capped-out day or week starts and ends at local midnight
            tz = ZoneInfo(p.zone)
            day = datetime.fromtimestamp(w.start, tz).date()
            while (t := _instant(day, 0, tz)) < w.end:
                points.update([t] if w.start < t else [])
                day += timedelta(days=1)
    cuts = sorted(points)
    periods: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(cuts):
        if all(sum(free_at(by_id[i], a, request) for i in ids) >= k for ids, k in teams):
            if periods and periods[-1][1] == a:
                periods[-1] = (periods[-1][0], b)
            else:
                periods.append((a, b))
    return slots, periods


_CATS = ("available", "tentative", "unavailable", "unknown")


def _teams(request: MeetingRequest) -> list[tuple[list[str], int]]:
    """Each group as (member ids, how many needed), the ungrouped required ones needing all."""
    required = [a.id for a in request.attendees if not a.optional]
    if request.quorum is not None:
        return [(required, request.quorum_count())]
    named = [m for g in request.groups for m in g.members]
    rest = [i for i in required if i not in named]
    out = [(rest, len(rest))]
    for g in request.groups:
        out.append((list(g.members), len(g.members) if g.required == "all" else int(g.required)))
    return out


def spread(
    scored: Sequence[tuple[int, float]], duration: int, zone: str, k: int
) -> list[tuple[int, float]]:
    """Score order's ``k`` offered slots, by the documented rule, the plain way: runs of equal
    scores from the best down; within one, first slots on a local day holding none offered,
    then slots overlapping none offered, then the rest; each run's picks by start."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)

    def day(t: int) -> object:
        return datetime.fromtimestamp(t, tz).date()

    out: list[tuple[int, float]] = []
    for score in sorted({s for _, s in scored}, reverse=True):
        group = sorted(t for t, s in scored if s == score)
        got: list[int] = []
        for rule in ("day", "apart", "any"):
            for t in group:
                chosen = [c for c, _ in out] + got
                if len(chosen) == k or t in got:
                    continue
                if rule != "any" and any(abs(t - c) < duration for c in chosen):
                    continue
                if rule == "day" and day(t) in {day(c) for c in chosen}:
                    continue
                got.append(t)
        out += [(t, score) for t in sorted(got)]
    return out[:k]


# --- recurring series ------------------------------------------------------------------------


@dataclass
class RefSeries:
    """A series start: its first occurrence's room, and each occurrence as ``(start, passes,
    blocked_by)``."""

    start: int
    room: str | None
    occurrences: list[tuple[int, bool, tuple[str, ...]]]


def _floating_rule(text: str, zone: str) -> str:
    """``text`` with a UTC ``UNTIL=...Z`` rewritten as the zone's local time, and a date
    ``UNTIL`` as the end of that day, so it can bound a rule started at a local time."""
    parts = []
    for part in text.upper().removeprefix("RRULE:").split(";"):
        key, _, value = part.partition("=")
        if key == "UNTIL" and value.endswith("Z"):
            t = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            value = t.astimezone(ZoneInfo(zone)).strftime("%Y%m%dT%H%M%S")
        elif key == "UNTIL" and len(value) == 8:
            value += "T235959"
        parts.append(f"{key}={value}")
    return ";".join(parts)


def occurrences(request: MeetingRequest, s: int) -> list[int] | None:
    """The occurrence starts of a series beginning at ``s``, or ``None`` when the rule started
    at ``s``'s local date and time does not give that time first."""
    from dateutil.rrule import rrulestr

    assert request.repeat is not None
    tz = ZoneInfo(request.zone)
    first = datetime.fromtimestamp(s, tz).replace(tzinfo=None)
    rule = rrulestr(_floating_rule(request.repeat, request.zone), dtstart=first)
    dates = list(rule)
    if not dates or dates[0] != first:
        return None
    later = [int(d.replace(tzinfo=tz).timestamp()) for d in dates[1:]]  # fold=0
    return [s, *later]


def find_series(
    availabilities: Sequence[Availability], request: MeetingRequest, now: int = 0
) -> list[RefSeries]:
    """Every offered series start in start order, by brute force: each grid start of the
    window, each of its occurrences, each attendee."""
    avs: dict[str, Availability] = {}
    for av in availabilities:
        avs.setdefault(av.id, av)
    w, d = request.window, request.duration
    earliest = now + request.min_notice if request.min_notice > 0 else w.start
    starts = [s for s in grid(request.zone, w.start, w.end, request.granularity) if s + d <= w.end]
    series = {s: occurrences(request, s) for s in starts if s >= earliest}
    ends = [o + d for occ in series.values() if occ for o in occ]
    span = (w.start, max([w.end, *ends]))
    bb, ba = request.buffer_before, request.buffer_after
    people = [person(a, avs, request, ba, bb, span=span) for a in request.attendees]
    required = [p for p, a in zip(people, request.attendees, strict=True) if not a.optional]
    rooms = [person(r, avs, request, 0, 0, span=span) for r in request.rooms]
    by_id = {p.id: p for p in required}
    teams = _teams(request)
    blocking = {"unavailable"}
    if request.unknown == "exclude":
        blocking.add("unknown")
    if request.tentative == "busy":
        blocking.add("tentative")

    out = []
    for s, occ in series.items():
        if occ is None:
            continue
        got: list[tuple[int, bool, tuple[str, ...]]] = []
        first_room = None
        for i, o in enumerate(occ):
            e = o + d
            ok = all(sum(passes(by_id[i], o, e, request) for i in ids) >= k for ids, k in teams)
            room = None
            if ok and rooms:
                room = next((r.id for r in rooms if room_passes(r, o, e, request)), None)
                ok = room is not None
            if i == 0:
                first_room = room
            who: tuple[str, ...] = ()
            if not ok:
                who = tuple(p.id for p in required if category(p, o, e) in blocking)
                who = who or tuple(r.id for r in request.rooms)
            got.append((o, ok, who))
        if sum(not ok for _, ok, _ in got) <= request.allow_conflicts:
            out.append(RefSeries(s, first_room, got))
    return out
