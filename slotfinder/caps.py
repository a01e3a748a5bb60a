"""Load caps as blocked time: each attendee's capped-out local days and weeks, found up front.

A cap (:class:`~slotfinder.model.LoadCaps`) says how many meetings, and how many busy hours, a
person takes per local day and per local ISO week (Monday to Monday, in their zone). Whether a
new meeting breaks a cap depends only on the day or week it falls in and on its duration, which
the request fixes, so every capped-out day and week becomes one blocked span before the engine
runs, and the engine's overlap rule does the rest. The exact rule (DESIGN.md "Load caps"):

* **Counted entries** are the ones that block the person: ``busy``, and ``tentative`` unless
  ``request.tentative == "free"``, and ``unanswered`` as the one its policy makes it (busy,
  tentative, or nothing), of positive length; ``oof`` and ``free`` entries are not meetings.
  Every entry the availability holds counts, inside its ``covered`` stretch or not.
* **Days and weeks** run from local midnight to the next (RFC 5545 rule, so a DST day is 23 or
  25 hours), weeks from Monday's midnight. An entry counts as one meeting in every day (week)
  it overlaps; busy time is the length of the union of the counted entries inside the day
  (week), so an entry crossing midnight splits its hours and overlapping entries count once.
* **The new meeting** counts as one meeting of the full request duration in every day (week)
  its slot overlaps: day ``D`` is *capped out* when ``meetings(D) + 1 > max_meetings_per_day``
  or ``busy(D) + duration > max_busy_hours_per_day``; weeks alike. A slot overlapping a
  capped-out day (week) of an attendee breaks that attendee's daily (weekly) cap.

Rooms have no caps; unknown attendees have no counted entries and get no caps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder import hours
from slotfinder.intervals import Int64Array, SpanArrays
from slotfinder.model import (
    DAY,
    Attendee,
    Availability,
    BusyTable,
    LoadCaps,
    MeetingRequest,
    Span,
    Status,
)

__all__ = [
    "CapBlocks",
    "cap_blocks",
    "counted",
    "limits",
    "person_blocks",
    "reach",
    "zone_blocks",
]

Owned = tuple[Int64Array, Int64Array, Int64Array]
"""Spans tagged with their owner's index: ``(owner, starts, ends)``."""

BoolArray = npt.NDArray[np.bool_]


@attrs.frozen(eq=False)
class CapBlocks:
    """Capped-out days and weeks as spans ``[start, end)`` owned by an attendee's index;
    ``weekly`` tells a week (``weekly_cap``) from a day (``daily_cap``)."""

    owner: Int64Array
    start: Int64Array
    end: Int64Array
    weekly: BoolArray

    @property
    def size(self) -> int:
        return int(self.owner.size)

    @classmethod
    def join(cls, parts: Sequence[CapBlocks]) -> CapBlocks:
        """The blocks of ``parts``, one after another."""
        if not parts:
            none = np.empty(0, dtype=np.int64)
            return cls(none, none, none, np.zeros(0, dtype=bool))
        columns = (f.name for f in attrs.fields(cls))
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in columns))


_UNSET = np.iinfo(np.int64).max // 4
"""A cap left unset: never reached."""


def limits(caps: Sequence[LoadCaps]) -> Int64Array:
    """One row per caps: meetings a day, busy seconds a day, meetings a week, busy seconds a
    week (:data:`_UNSET` where unset)."""
    rows = [
        [
            _UNSET if v is None else v
            for v in (c.meetings_per_day, c.busy_per_day, c.meetings_per_week, c.busy_per_week)
        ]
        for c in caps
    ]
    return np.array(rows, dtype=np.int64).reshape(-1, 4)


def _unions(owner: Int64Array, s: Int64Array, e: Int64Array, t0: int, big: int) -> Owned:
    """Each owner's entries joined into their union (``s - t0`` and ``e - t0`` in
    ``[0, big)``): sorted by owner and start, a running maximum of the ends joins them."""
    if owner.size == 0:
        return owner, s, e
    order = np.lexsort((s, owner))
    o, s, e = owner[order], s[order], e[order]
    run = np.maximum.accumulate(o * big + (e - t0))
    new = np.empty(o.size, dtype=bool)
    new[:1] = True
    np.greater(o[1:] * big + (s[1:] - t0), run[:-1], out=new[1:])
    first = np.flatnonzero(new)
    last = np.append(first[1:] - 1, o.size - 1)
    return o[first], s[first], run[last] - o[first] * big + t0


def _load(
    bounds: Int64Array, n: int, entries: Owned, union: Owned, big: int
) -> tuple[Int64Array, Int64Array]:
    """Per owner (rows) and stretch ``[bounds[i], bounds[i + 1])`` (columns): how many entries
    overlap it, and how long the owner's union lies inside it. Entries lie in the bounds."""
    m, t0 = bounds.size - 1, int(bounds[0])
    owner, s, e = entries
    first = np.searchsorted(bounds, s, side="right") - 1
    last = np.searchsorted(bounds, e, side="left") - 1
    w = m + 1
    diff = np.bincount(owner * w + first, minlength=n * w)
    diff -= np.bincount(owner * w + last + 1, minlength=n * w)
    counts = np.cumsum(diff.reshape(n, w), axis=1)[:, :m]
    uo, us, ue = union
    q_owner = np.repeat(np.arange(n, dtype=np.int64), w)
    q_t = np.tile(bounds, n)
    key = uo * big + (us - t0)
    j = np.searchsorted(key, q_owner * big + (q_t - t0), side="right")  # spans up to t
    mine = np.searchsorted(key, q_owner * big, side="left")  # the owner's first span
    cum = np.concatenate(([0], np.cumsum(ue - us))).astype(np.int64)
    over = np.where(j > mine, np.maximum(ue[np.maximum(j - 1, 0)] - q_t, 0), 0) if key.size else 0
    below = (cum[j] - cum[mine] - over).reshape(n, w)  # union length before each bound
    return counts, np.diff(below, axis=1)


def zone_blocks(
    zone: str, caps: Int64Array, entries: Owned, *, duration: int, lo: int, hi: int
) -> CapBlocks:
    """The capped-out days and weeks, among the local days of ``zone`` overlapping
    ``[lo, hi)``, of people sharing that zone: ``caps`` holds their :func:`limits` rows and
    ``entries`` their counted entries, owned by row."""
    n = caps.shape[0]
    first, last = (int(x) // DAY for x in hours.to_wall(zone, [lo, hi - 1]))
    first -= (first + 3) % 7  # back to Monday (1970-01-01 was a Thursday)
    last += 1 + (-(last + 1 + 3)) % 7  # on to the next Monday, exclusive
    days = hours.from_wall(zone, np.arange(first, last + 1, dtype=np.int64) * DAY)
    t0, t1 = int(days[0]), int(days[-1])
    owner, s, e = entries
    s, e = np.clip(s, t0, t1), np.clip(e, t0, t1)
    keep = e > s
    cut = (owner[keep], s[keep], e[keep])
    big = t1 - t0 + 1
    union = _unions(*cut, t0, big)
    out: list[CapBlocks] = []
    for bounds, col, weekly in ((days, 0, False), (days[::7], 2, True)):
        if bool(np.all(caps[:, col : col + 2] == _UNSET)):
            continue
        counts, busy = _load(bounds, n, cut, union, big)
        over = (counts + 1 > caps[:, col, None]) | (busy + duration > caps[:, col + 1, None])
        over &= (bounds[1:] > bounds[:-1])[None, :]  # a day skipped whole (Samoa, 2011)
        o, i = np.nonzero(over)
        out.append(CapBlocks(o.astype(np.int64), bounds[i], bounds[i + 1], np.full(o.size, weekly)))
    return CapBlocks.join(out)


def person_blocks(
    caps: LoadCaps, zone: str, busy: SpanArrays, *, duration: int, lo: int, hi: int
) -> tuple[Int64Array, Int64Array, BoolArray]:
    """The capped-out days and weeks of one person (zone ``zone``, counted entries ``busy``)
    among the local days overlapping ``[lo, hi)``: starts, ends and which are weeks."""
    owner = np.zeros(busy[0].size, dtype=np.int64)
    b = zone_blocks(zone, limits([caps]), (owner, *busy), duration=duration, lo=lo, hi=hi)
    return b.start, b.end, b.weekly


def _counting(status: npt.NDArray[np.int8], request: MeetingRequest) -> BoolArray:
    """Which status codes count as meetings under ``request`` (module docstring)."""
    out: BoolArray = np.equal(status, Status.BUSY.code)
    if request.tentative == "busy":
        out |= np.equal(status, Status.TENTATIVE.code)
    if request.unanswered == "busy" or (
        request.unanswered == "tentative" and request.tentative == "busy"
    ):
        out |= np.equal(status, Status.UNANSWERED.code)
    return out


def counted(av: Availability, request: MeetingRequest) -> SpanArrays:
    """The entries of ``av`` that count as meetings under ``request`` (module docstring)."""
    t = av.busy
    keep = _counting(t.status, request) & (t.ends > t.starts)
    return t.starts[keep], t.ends[keep]


def cap_blocks(
    who: Sequence[Attendee],
    avs: Mapping[str, Availability],
    request: MeetingRequest,
    lo: int,
    hi: int,
) -> CapBlocks:
    """Every capped-out day and week of the attendees ``who`` (by index) that overlaps a local
    day touching ``[lo, hi)``; attendees without caps, or whose calendar is unknown, add none.

    People sharing a zone share its days, so each zone is one vectorised pass."""
    by_zone: dict[str, list[tuple[int, LoadCaps, BusyTable]]] = {}
    for i, a in enumerate(who):
        av = avs.get(a.id)
        if a.caps is None or not a.caps.any or av is None or av.error is not None:
            continue
        by_zone.setdefault(request.zone_of(a), []).append((i, a.caps, av.busy))
    parts: list[CapBlocks] = []
    for zone, people in by_zone.items():
        index = np.array([i for i, _, _ in people], dtype=np.int64)
        sizes = [len(t) for _, _, t in people]
        owner = np.repeat(np.arange(len(people), dtype=np.int64), sizes)
        s = np.concatenate([t.starts for _, _, t in people]).astype(np.int64)
        e = np.concatenate([t.ends for _, _, t in people]).astype(np.int64)
        status = np.concatenate([t.status for _, _, t in people])
        keep = _counting(status, request) & (e > s)
        entries = (owner[keep], s[keep], e[keep])
        caps = limits([c for _, c, _ in people])
        b = zone_blocks(zone, caps, entries, duration=request.duration, lo=lo, hi=hi)
        parts.append(attrs.evolve(b, owner=index[b.owner]))
    return CapBlocks.join(parts)


def reach(request: MeetingRequest, window: Span) -> Span:
    """``window`` widened to every capped attendee's whole local days touching it, and whole
    ISO weeks when they have a weekly cap: the stretch their caps count meetings over, so a
    fetch for it sees every meeting that counts."""
    lo, hi = window.start, window.end
    for a in request.attendees:
        caps = a.caps
        if caps is None or not caps.any:
            continue
        zone = request.zone_of(a)
        first, last = (int(x) // DAY for x in hours.to_wall(zone, [window.start, window.end - 1]))
        if caps.meetings_per_week is not None or caps.busy_per_week is not None:
            first -= (first + 3) % 7  # Monday
            last += 6 - (last + 3) % 7  # Sunday
        s, e = (int(x) for x in hours.from_wall(zone, [first * DAY, (last + 1) * DAY]))
        lo, hi = min(lo, s), max(hi, e)
    return Span(lo, hi)
