"""Load caps as blocked time: each attendee's capped-out local days and weeks, found up front.

A cap (:class:`~slotfinder.model.LoadCaps`) says how many meetings, and how many busy hours, a
person takes per local day and per local ISO week (Monday to Monday, in their zone). Whether a
new meeting breaks a cap depends only on the day or week it falls in and on its duration, which
the request fixes, so every capped-out day and week becomes one blocked span before the engine
runs, and the engine's overlap rule does the rest. The exact rule (DESIGN.md "Load caps"):

* **Counted entries** are the ones that block the person: ``busy``, and ``tentative`` unless
  ``request.tentative == "free"``, of positive length; ``oof`` and ``free`` entries are not
  meetings. Every entry the availability holds counts, inside its ``covered`` stretch or not.
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
from slotfinder import intervals as iv
from slotfinder.intervals import Int64Array, SpanArrays
from slotfinder.model import (
    DAY,
    Attendee,
    Availability,
    LoadCaps,
    MeetingRequest,
    Span,
    Status,
)

__all__ = ["CapBlocks", "cap_blocks", "counted", "person_blocks", "reach"]

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


def _touching(bounds: Int64Array, s: Int64Array, e: Int64Array) -> Int64Array:
    """How many entries ``[s, e)`` overlap each stretch ``[bounds[i], bounds[i + 1])``."""
    m = bounds.size - 1
    first = np.maximum(np.searchsorted(bounds, s, side="right") - 1, 0)
    last = np.minimum(np.searchsorted(bounds, e, side="left") - 1, m - 1)
    keep = first <= last
    diff = np.bincount(first[keep], minlength=m + 1) - np.bincount(last[keep] + 1, minlength=m + 1)
    return np.cumsum(diff[:m]).astype(np.int64)


def _below(union: SpanArrays, t: Int64Array) -> Int64Array:
    """The length of ``union`` (normal form) before each instant ``t``."""
    a, b = union
    cum = np.concatenate(([0], np.cumsum(b - a))).astype(np.int64)
    j = np.searchsorted(a, t, side="right")  # spans starting at or before t
    over = np.where(j > 0, np.maximum(b[np.maximum(j - 1, 0)] - t, 0), 0) if a.size else 0
    return cum[j] - over


def person_blocks(
    caps: LoadCaps, zone: str, busy: SpanArrays, *, duration: int, lo: int, hi: int
) -> tuple[Int64Array, Int64Array, BoolArray]:
    """The capped-out days and weeks of one person (zone ``zone``, counted entries ``busy``)
    among the local days overlapping ``[lo, hi)``: starts, ends and which are weeks."""
    s, e = busy
    first, last = (int(x) // DAY for x in hours.to_wall(zone, [lo, hi - 1]))
    first -= (first + 3) % 7  # back to Monday (1970-01-01 was a Thursday)
    last += 1 + (-(last + 1 + 3)) % 7  # on to the next Monday, exclusive
    days = hours.from_wall(zone, np.arange(first, last + 1, dtype=np.int64) * DAY)
    weeks = days[::7]
    union = iv.normalize(s, e)
    out_s: list[Int64Array] = []
    out_e: list[Int64Array] = []
    out_w: list[BoolArray] = []
    for bounds, count_cap, busy_cap, weekly in (
        (days, caps.meetings_per_day, caps.busy_per_day, False),
        (weeks, caps.meetings_per_week, caps.busy_per_week, True),
    ):
        out = np.zeros(bounds.size - 1, dtype=bool)
        if count_cap is not None:
            out |= _touching(bounds, s, e) + 1 > count_cap
        if busy_cap is not None:
            out |= np.diff(_below(union, bounds)) + duration > busy_cap
        out &= bounds[1:] > bounds[:-1]  # a day skipped whole (Samoa, 2011) blocks nothing
        out_s.append(bounds[:-1][out])
        out_e.append(bounds[1:][out])
        out_w.append(np.full(int(out.sum()), weekly))
    return np.concatenate(out_s), np.concatenate(out_e), np.concatenate(out_w)


def counted(av: Availability, request: MeetingRequest) -> SpanArrays:
    """The entries of ``av`` that count as meetings under ``request`` (module docstring)."""
    statuses = (Status.BUSY,) if request.tentative == "free" else (Status.BUSY, Status.TENTATIVE)
    s, e = av.busy.with_status(*statuses)
    keep = e > s
    return s[keep], e[keep]


def cap_blocks(
    who: Sequence[Attendee],
    avs: Mapping[str, Availability],
    request: MeetingRequest,
    lo: int,
    hi: int,
) -> CapBlocks:
    """Every capped-out day and week of the attendees ``who`` (by index) that overlaps a local
    day touching ``[lo, hi)``; attendees without caps, or whose calendar is unknown, add none."""
    owners: list[Int64Array] = []
    starts: list[Int64Array] = []
    ends: list[Int64Array] = []
    weekly: list[BoolArray] = []
    for i, a in enumerate(who):
        av = avs.get(a.id)
        if a.caps is None or not a.caps.any or av is None or av.error is not None:
            continue
        s, e, w = person_blocks(
            a.caps,
            request.zone_of(a),
            counted(av, request),
            duration=request.duration,
            lo=lo,
            hi=hi,
        )
        owners.append(np.full(s.size, i, dtype=np.int64))
        starts.append(s)
        ends.append(e)
        weekly.append(w)
    if not owners:
        none = np.empty(0, dtype=np.int64)
        return CapBlocks(none, none, none, np.zeros(0, dtype=bool))
    return CapBlocks(
        np.concatenate(owners), np.concatenate(starts), np.concatenate(ends), np.concatenate(weekly)
    )


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
