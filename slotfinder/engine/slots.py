"""Finding slots: from availabilities and a request to common free periods and ranked slots.

:func:`find_slots` is pure and synchronous (it reads the clock only when ``min_notice`` is set
and the request has no ``now``). With every required attendee needed, the periods are the
intersection of the (few distinct) working-hours sets minus one union of everybody's blocking
spans, found from two plain sorts; with a quorum or groups they come from counts over the
endpoints. Per attendee detail is worked out only for the slots returned
(:mod:`~slotfinder.engine.detail`).

Availabilities are matched by id; when an id appears twice, the first one counts.

Semantics (DESIGN.md "Slot semantics"; ``tests/reference.py`` restates them by brute force):

* **Passing.** A required attendee *passes* a slot ``[s, s + duration)`` when the slot lies inside
  their working hours (``working_hours`` ``None``: no limit), overlaps none of their blocking
  entries, and lies inside the stretch their data covers (``Availability.covered``; ``None``
  means the window). Blocking entries are ``busy`` and ``oof``, and ``tentative`` unless
  ``request.tentative == "free"``; ``free`` entries and zero-length entries block nothing. An
  ``unanswered`` entry counts as ``request.unanswered`` says: as ``busy``, as ``tentative``
  (the default) or as ``free`` (for rooms too).
* **Buffers.** A slot needs ``buffer_before`` seconds clear of busy time before it and
  ``buffer_after`` after it, so a busy entry ``[b0, b1)`` blocks exactly the slots overlapping
  ``[b0 - buffer_after, b1 + buffer_before)``. Buffers apply to busy entries only: a slot may
  start right at the start of working hours or of the window. Rooms get no buffers (as Graph).
* **Unknown.** An attendee with no availability, or with ``error`` set, is unknown everywhere; one
  with ``covered`` is unknown outside it. With ``request.unknown == "exclude"`` unknown time is
  never free; with ``"flag"`` it passes (working hours and known busy time still count) and the
  slot lists the attendee under ``unknown``. Fully unknown attendees and rooms, and attendees
  whose data covers only part of the window, are listed in ``result.unknown``.
* **Quorum.** A slot is offered when at least ``quorum_count()`` required attendees each pass the
  *whole* slot (with every attendee required this is "the slot lies inside one common free
  period"). ``periods`` are the stretches where at least that many required attendees are free
  at each instant, joined when touching: with a quorum a period may hold a slot that no single
  quorum of attendees can attend throughout, and such a slot is not offered.
* **Groups** (:mod:`~slotfinder.engine.needs`) generalise the quorum: a slot is offered when
  every group has at least its count of members each passing the whole slot and every
  required attendee outside the groups passes it (a quorum is one group of everyone);
  ``periods`` are where, at each instant, every group has its count free.
* **Slots** start on the request zone's wall-clock grid (:func:`slotfinder.hours.grid`), lie in
  the window and start no earlier than ``now + min_notice``. With rooms, a slot also needs a
  room that was read, is inside its working hours and coverage, and has no blocking entry
  overlapping the slot; ``room`` is the first such room in the order given.
* **Load caps** (:mod:`slotfinder.caps`): an attendee's capped-out local days and weeks are
  blocking time like a busy entry (no buffers, whatever the tentative policy), so a slot
  breaking a required attendee's cap is not offered and an optional one's lowers the score.
* **Per slot** lists and the **score**: :mod:`~slotfinder.engine.detail`.
* **Score order** offers the best slots spread over days and hours (:func:`spread`): when more
  slots pass than ``max_results``, the best of each local day comes first, then slots
  overlapping none already offered, then the rest; the offered slots come in score order.

When nothing fits, :func:`~slotfinder.engine.explain.explain` gives the reasons and alternatives,
and ``next_after_window`` is the first slot starting at or after the window's end and before
``window.end + 14 days``, or before the earliest ``covered.end`` of a required attendee or room,
if sooner. Availabilities with ``covered=None`` are assumed to speak for that stretch too; data
fetched for the window alone may be incomplete beyond it, so callers who know better should set
``covered``.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import attrs
import numpy as np

from slotfinder import hours
from slotfinder import intervals as iv
from slotfinder.caps import cap_blocks
from slotfinder.engine.detail import scores_by_counts, suggestions
from slotfinder.engine.kernel import (
    FloatArray,
    Int64Array,
    People,
    Raw,
    blocked,
    counts_by,
    distinct,
    gather,
    groups,
    in_shrunk,
    people,
    pick_rooms,
    room_sets,
    uncovered,
    union,
    with_blocks,
)
from slotfinder.engine.needs import Need, all_mask, labels, needs, passing
from slotfinder.errors import InputError
from slotfinder.intervals import SpanArrays
from slotfinder.model import (
    DAY,
    Availability,
    MeetingRequest,
    Span,
    Suggestion,
    SuggestionResult,
    Unknown,
    as_availabilities,
)

__all__ = ["NEXT_SEARCH_DAYS", "find_slots"]

NEXT_SEARCH_DAYS = 14
"""How far past the window ``next_after_window`` looks when the data does not say."""


@attrs.frozen
class _Solved:
    """Passing slot starts (chronological) with their room index, and the periods.

    ``available`` counts the required attendees available at each start when solving already
    told (tentative and unknown time busy: the quorum check counted exactly that, and without
    a quorum every one of them is); score order reuses it.
    """

    starts: Int64Array
    rooms: Int64Array
    periods: SpanArrays
    available: Int64Array | None = None


def _periods(p: People, request: MeetingRequest, ns: list[Need]) -> SpanArrays:
    """Where every need is met at each instant of ``p.window``: everyone who must be free is,
    and each other need has at least ``k`` of its people free."""
    w = p.window
    use_cov = request.unknown == "exclude"
    tb = request.tentative == "busy"
    mask = all_mask(ns)
    out: SpanArrays | None = None
    if mask.any() or all(n.everyone for n in ns):
        bases, _ = groups(p, mask)
        common = iv.intersect_all(bases, w.start, w.end)
        _, s, e = blocked(p, mask, tb, uncovered(p, mask) if use_cov else None)
        out = iv.difference(common, union(s, e))
    some = [n for n in ns if not n.everyone]
    if some:
        label = labels(some)
        mask = label >= 0
        bases, _ = groups(p, mask)
        _, bs, be = blocked(p, mask, tb, uncovered(p, mask) if use_cov else None)
        pts = distinct(np.concatenate([[w.start, w.end], bs, be, *(x for b in bases for x in b)]))
        pts = pts[(pts >= w.start) & (pts <= w.end)]
        c = counts_by(
            p, pts[:-1], 1, label=label, n=len(some), use_cov=use_cov, tentative_blocks=tb
        )
        good = np.all(c >= np.array([n.k for n in some], dtype=np.int64)[:, None], axis=0)
        met = iv.normalize(pts[:-1][good], pts[1:][good])
        out = met if out is None else iv.intersect(out, met)
    assert out is not None  # the first branch runs when every need is everyone's
    return out


def _solve(
    p: People, rooms: People, request: MeetingRequest, earliest: int, ns: list[Need]
) -> _Solved:
    """Periods, and every passing slot start with its room, inside ``p.window``."""
    w, d = p.window, request.duration
    q = hours.grid(request.zone, max(w.start, earliest), w.end - d + 1, request.granularity)
    return passing_starts(p, rooms, request, q, ns)


def passing_starts(
    p: People, rooms: People, request: MeetingRequest, q: Int64Array, ns: list[Need]
) -> _Solved:
    """Periods, and those of the starts ``q`` (sorted, strictly increasing, each slot inside
    ``p.window``) that pass, with their rooms."""
    d = request.duration
    tb = request.tentative == "busy"
    periods = _periods(p, request, ns)
    q = q[in_shrunk(periods, q, d)]
    use_cov = request.unknown == "exclude"
    # Inside a period, everyone who must be free is; the other needs are counted per slot.
    some = [n for n in ns if not n.everyone]
    available = np.full(q.size, int(all_mask(ns).sum()), dtype=np.int64)
    if some and q.size:
        ok, got = passing(p, q, d, some, use_cov=use_cov, tentative_blocks=tb)
        q, available = q[ok], available[ok] + got[:, ok].sum(axis=0)
    room = np.full(q.shape, -1, dtype=np.int64)
    if rooms.n and q.size:
        room = pick_rooms(room_sets(rooms, tb), q, d)
        ok = room >= 0
        q, room, available = q[ok], room[ok], available[ok]
    return _Solved(q, room, periods, available if use_cov and tb else None)


def _order(
    p: People, solved: _Solved, request: MeetingRequest
) -> tuple[Int64Array, Int64Array, FloatArray | None]:
    """The starts and rooms to return, in the requested order, cut to ``max_results``, and
    their scores when the order needed them."""
    q, room = solved.starts, solved.rooms
    if request.order == "start" or q.size <= 1:
        return q[: request.max_results], room[: request.max_results], None
    scores = scores_by_counts(p, q, request, available=solved.available)
    ranked = np.lexsort((q, -scores))
    if q.size > request.max_results:
        ranked = spread(q, scores, ranked, request)
    return q[ranked], room[ranked], scores[ranked]


def spread(
    starts: Int64Array, scores: FloatArray, ranked: Int64Array, request: MeetingRequest
) -> Int64Array:
    """The ``max_results`` slots score order offers: never a lower score before a higher one,
    and among equal scores, spread over days and hours.

    Five 15-minute shifts of one good slot are one choice, not five (Graph and Calendly show
    distinct times). Within each run of equal scores, taken by start, three passes: first
    slots on a local day (request zone) holding none offered yet, then slots overlapping none
    offered, then the rest. The offered slots come in score order, then start.
    """
    want, d = request.max_results, request.duration
    days = hours.to_wall(request.zone, starts) // DAY
    order = ranked.tolist()
    taken: list[int] = []
    seen_days: set[int] = set()
    picked: list[int] = []  # starts offered so far, sorted, for overlap checks

    def overlaps(t: int) -> bool:
        i = bisect.bisect_left(picked, t - d + 1)
        return i < len(picked) and picked[i] < t + d

    first = 0
    while first < len(order) and len(taken) < want:
        last = first
        while last < len(order) and scores[order[last]] == scores[order[first]]:
            last += 1
        group = order[first:last]
        left = set(group)
        before = len(taken)
        for rule in ("day", "apart", "any"):
            for j in group:
                if len(taken) == want:
                    break
                t, day = int(starts[j]), int(days[j])
                if j not in left or (rule != "any" and overlaps(t)):
                    continue
                if rule == "day" and day in seen_days:
                    continue
                left.discard(j)
                taken.append(j)
                seen_days.add(day)
                bisect.insort(picked, t)
        taken[before:] = sorted(taken[before:], key=lambda j: int(starts[j]))
        first = last
    return np.asarray(taken, dtype=np.int64)


def _next_after(
    raw: Raw, raw_rooms: Raw, request: MeetingRequest, earliest: int, ns: list[Need]
) -> Suggestion | None:
    """The first slot starting in ``[window.end, horizon)`` (see the module docstring)."""
    w = request.window
    horizon = w.end + NEXT_SEARCH_DAYS * DAY
    for r, mask in ((raw, raw.required), (raw_rooms, np.ones(raw_rooms.ids.size, dtype=bool))):
        said = mask & r.known & ~r.cov_all
        if said.any():
            horizon = min(horizon, int(r.cov_hi[said].min()))
    if horizon - w.end < request.duration:
        return None
    # The request itself is not rebuilt (that would re-validate every attendee): the solver
    # reads the window from the people it is given.
    later = Span(w.end, horizon)
    p, rooms = people(raw, later), people(raw_rooms, later)
    solved = _solve(p, rooms, request, earliest, ns)
    if solved.starts.size == 0:
        return None
    return suggestions(p, rooms, solved.starts[:1], solved.rooms[:1], request)[0]


def _earliest(request: MeetingRequest) -> int:
    """The earliest slot start ``min_notice`` allows (the clock is read only if needed)."""
    if request.min_notice == 0:
        return request.window.start
    now = request.now if request.now is not None else int(time.time())
    return now + request.min_notice


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _unknowns(raws: Sequence[Raw], window: Span) -> tuple[Unknown, ...]:
    """Unreadable attendees and rooms, and those whose data covers only part of the window."""
    out: list[Unknown] = []
    for raw in raws:
        why = dict(raw.reasons)
        partial = raw.known & ~raw.cov_all
        partial &= (raw.cov_lo > window.start) | (raw.cov_hi < window.end)
        for i in np.flatnonzero(partial).tolist():
            lo, hi = _iso(int(raw.cov_lo[i])), _iso(int(raw.cov_hi[i]))
            why[i] = f"calendar data covers only {lo} to {hi}"
        out.extend(Unknown(str(raw.ids[i]), why[i]) for i in sorted(why))
    return tuple(out)


def find_slots(availabilities: Iterable[Availability], request: MeetingRequest) -> SuggestionResult:
    """Slots, common free periods, unknown attendees and (when nothing fits) an explanation.

    See the module docstring for the exact semantics; a series (``request.repeat``) is found
    by :func:`slotfinder.engine.find_slots`, which the package exports. Arguments of
    the wrong type are refused with :class:`~slotfinder.errors.InputError` naming them, rather
    than failing somewhere deep in the engine with an error that names nothing the caller
    wrote; ``availabilities`` is read once, so any iterable of :class:`Availability` (a
    generator too) works.
    """
    if not isinstance(request, MeetingRequest):
        raise InputError("request", request, "expected a MeetingRequest")
    avs_given = as_availabilities(availabilities)
    avs: dict[str, Availability] = {}
    for av in avs_given:
        avs.setdefault(av.id, av)
    earliest = _earliest(request)
    w = request.window
    policy = request.unanswered
    plain = gather(request.attendees, avs, request.buffer_after, request.buffer_before, policy)
    caps = cap_blocks(request.attendees, avs, request, w.start, w.end + NEXT_SEARCH_DAYS * DAY)
    raw = with_blocks(plain, caps.owner, caps.start, caps.end)
    raw_rooms = gather(request.rooms, avs, 0, 0, policy)
    p, rooms = people(raw, w), people(raw_rooms, w)
    ns = needs(raw.ids, raw.required, request)
    solved = _solve(p, rooms, request, earliest, ns)
    q, room, scores = _order(p, solved, request)
    slots = tuple(suggestions(p, rooms, q, room, request, scores=scores))
    unknown = _unknowns((raw, raw_rooms), w)
    explanation = None
    if not slots:
        later = _next_after(raw, raw_rooms, request, earliest, ns)
        why = {u.id: u.reason for u in unknown}
        from slotfinder.engine.explain import explain  # only when nothing fits

        explanation = explain(
            p,
            rooms,
            request,
            earliest=earliest,
            needs=ns,
            next_after_window=later,
            why=why,
            plain=people(plain, w) if caps.size else p,
            caps=caps,
        )
    return SuggestionResult(
        slots=slots,
        periods=tuple(Span(int(a), int(b)) for a, b in zip(*solved.periods, strict=True)),
        unknown=unknown,
        explanation=explanation,
        request=request,
        availabilities=avs_given,
    )
