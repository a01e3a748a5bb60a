"""The engine: from availabilities and a request to ranked slots, free periods and explanations.

:func:`find_slots` is pure and synchronous (it reads the clock only when ``min_notice`` is set
and the request has no ``now``). Everything runs on numpy arrays of epoch seconds: every
attendee's busy table is concatenated once, tagged with the attendee's index, and processed in a
handful of vectorised passes; nothing loops over busy entries, and per-attendee detail is worked
out only for the slots returned. How:

* with every required attendee needed, the periods are the intersection of the (few distinct)
  working-hours sets minus one union of everybody's blocking spans, found from two plain sorts;
* counts of "how many people are free for the whole slot at each grid start" (quorum, score
  order, explanations) merge each person's blocked starts ``[b0 - duration + 1, b1)`` in one
  sort keyed by ``owner * width + time`` and count them with difference arrays over the grid;
* working hours are computed once per distinct :class:`WorkingHours` (and cached by
  :func:`slotfinder.hours.working_spans`); people are grouped by them, never by person.

Availabilities are matched by id; when an id appears twice, the first one counts.

Semantics (DESIGN.md "Slot semantics"; ``tests/reference.py`` restates them by brute force):

* **Passing.** A required attendee *passes* a slot ``[s, s + duration)`` when the slot lies inside
  their working hours (``working_hours`` ``None``: no limit), overlaps none of their blocking
  entries, and lies inside the stretch their data covers (``Availability.covered``; ``None``
  means the window). Blocking entries are ``busy`` and ``oof``, and ``tentative`` unless
  ``request.tentative == "free"``; ``free`` entries and zero-length entries block nothing.
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
* **Slots** start on the request zone's wall-clock grid (:func:`slotfinder.hours.grid`), lie in
  the window and start no earlier than ``now + min_notice``. With rooms, a slot also needs a
  room that was read, is inside its working hours and coverage, and has no blocking entry
  overlapping the slot; ``room`` is the first such room in the order given.
* **Per slot** every attendee (required and optional, in request order) is put in exactly one
  list, checked in this order: outside their working hours or overlapping a busy/oof entry
  (buffers included) -> ``unavailable``; slot not inside their known data -> ``unknown``;
  overlapping a tentative entry -> ``tentative``; else ``available``.

Ranking (``order="score"``; ``order="start"`` is chronological). With ``R`` required and ``O``
optional attendees, credit ``c = 1`` for available, ``0.5`` for tentative or unknown and ``0``
for unavailable, ``u = 1 / (O + 1)`` (so one required attendee outweighs all optional ones
together) and a fairness term ``F`` in ``[0, 1]``::

    score = 100 * (sum(c, required) + u * sum(c, optional) + u / 4 * F) / (R + u * O + u / 4)

rounded to 2 decimals, in ``[0, 100]``. ``F = 1 - mean(distance)`` over the attendees whose
working hours contain the slot (``F = 1`` when none have working hours there), where an
attendee's distance is how far the slot's middle sits from the middle of the working span that
contains it, ``|mid(slot) - mid(span)| / ((len(span) - duration) / 2)`` capped at 1: 0 in the
middle of their working day, 1 at either edge. A working span is a maximal stretch of working
time, looked for from a day before the window to a day after it (so round-the-clock hours make
one long span). Ranking uses the rounded score; ties go to the earlier start. The fairness
weight is below half an optional attendee's credit, so it only orders slots that the same
people can attend.

When nothing fits, :class:`~slotfinder.model.Explanation` gives structured reasons (codes in
:class:`~slotfinder.model.Reason`), ``alternatives`` (up to five slots in the window that the
most required attendees can attend, missing ones listed in ``unavailable``/``unknown``/
``tentative``) and ``next_after_window``: the first slot starting at or after the window's end
and before ``window.end + 14 days``, or before the earliest ``covered.end`` of a required
attendee or room, if sooner. Availabilities with ``covered=None`` are assumed to speak for that
stretch too; data fetched for the window alone may be incomplete beyond it, so callers who know
better should set ``covered``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder import hours
from slotfinder import intervals as iv
from slotfinder.intervals import SpanArrays
from slotfinder.model import (
    DAY,
    Attendee,
    Availability,
    MeetingRequest,
    Span,
    Status,
    Suggestion,
    SuggestionResult,
    Unknown,
    WorkingHours,
)

__all__ = ["NEXT_SEARCH_DAYS", "find_slots"]

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
ObjArray = npt.NDArray[np.object_]

NEXT_SEARCH_DAYS = 14
"""How far past the window ``next_after_window`` looks when the data does not say."""

AVAILABLE, TENTATIVE, UNKNOWN, UNAVAILABLE = 0, 1, 2, 3
_CREDIT = np.array([1.0, 0.5, 0.5, 0.0])
_HARD = (Status.BUSY.code, Status.OOF.code)
_TENT = Status.TENTATIVE.code


def _empty_i64() -> Int64Array:
    return np.empty(0, dtype=np.int64)


def _whole(lo: int, hi: int) -> SpanArrays:
    """``[lo, hi)`` as a set (empty when ``hi <= lo``)."""
    if hi <= lo:
        return iv.empty()
    return np.array([lo], dtype=np.int64), np.array([hi], dtype=np.int64)


@attrs.frozen(eq=False)
class _Raw:
    """Attendees (or rooms) gathered once from the availabilities, independent of the window.

    ``wh`` indexes ``hours_keys`` (-1: no working-hours limit). ``cov_lo``/``cov_hi`` is the
    known stretch, ``cov_all`` marks ``covered=None`` (the whole window, whichever it is), and
    unknown people have ``known`` False and an entry in ``reasons``. Busy entries that can
    block (busy, oof, tentative; positive length) are concatenated, tagged with their owner's
    index and widened by the buffers.
    """

    ids: ObjArray
    required: BoolArray
    wh: Int64Array
    hours_keys: list[WorkingHours]
    known: BoolArray
    cov_all: BoolArray
    cov_lo: Int64Array
    cov_hi: Int64Array
    owner: Int64Array
    start: Int64Array
    end: Int64Array
    hard: BoolArray
    reasons: list[tuple[int, str]]


def _gather(who: Sequence[Attendee], avs: dict[str, Availability], before: int, after: int) -> _Raw:
    """Gather ``who`` into arrays; busy entries widened to ``[b0 - before, b1 + after)``.

    The only per-attendee Python loop of the engine: a few attribute reads each.
    """
    n = len(who)
    hours_of: dict[WorkingHours, int] = {}
    wh = [-1] * n
    known = [False] * n
    cov_all = [False] * n
    cov_lo = [0] * n
    cov_hi = [0] * n
    sizes = [0] * n
    starts: list[Int64Array] = []
    ends: list[Int64Array] = []
    codes: list[npt.NDArray[np.int8]] = []
    by_id: dict[int, int] = {}  # id() first: hashing a WorkingHours hashes all its rules
    reasons: list[tuple[int, str]] = []
    get = avs.get
    for i, a in enumerate(who):
        h = a.working_hours
        if h is not None:
            j = by_id.get(id(h))
            if j is None:
                j = by_id[id(h)] = hours_of.setdefault(h, len(hours_of))
            wh[i] = j
        av = get(a.id)
        if av is None:
            reasons.append((i, "no availability given"))
            continue
        if av.error is not None:
            reasons.append((i, av.error))
            continue
        known[i] = True
        cov = av.covered
        if cov is None:
            cov_all[i] = True
        else:
            cov_lo[i], cov_hi[i] = cov.start, cov.end
        table = av.busy
        size = table.starts.size
        if size:
            starts.append(table.starts)
            ends.append(table.ends)
            codes.append(table.status)
            sizes[i] = size
    if starts:
        s = np.concatenate(starts)
        e = np.concatenate(ends)
        c = np.concatenate(codes)
        owner = np.repeat(np.arange(n, dtype=np.int64), np.array(sizes, dtype=np.int64))
        hard = (c == _HARD[0]) | (c == _HARD[1])
        keep = (e > s) & (hard | (c == _TENT))
        if not keep.all():
            owner, hard, s, e = owner[keep], hard[keep], s[keep], e[keep]
        s = s - before
        e = e + after
    else:
        owner = s = e = _empty_i64()
        hard = np.zeros(0, dtype=bool)
    ids = np.empty(n, dtype=object)
    ids[:] = [a.id for a in who]
    required = np.array([not a.optional for a in who], dtype=bool)
    return _Raw(
        ids=ids,
        required=required,
        wh=np.array(wh, dtype=np.int64),
        hours_keys=list(hours_of),
        known=np.array(known, dtype=bool),
        cov_all=np.array(cov_all, dtype=bool),
        cov_lo=np.array(cov_lo, dtype=np.int64),
        cov_hi=np.array(cov_hi, dtype=np.int64),
        owner=owner,
        start=s,
        end=e,
        hard=hard,
        reasons=reasons,
    )


@attrs.frozen(eq=False)
class _People:
    """A :class:`_Raw` seen through one window: what the solver works on.

    ``hours`` are each working-hours group's spans over the window padded by a day each side
    (so fairness sees whole working days). ``cov_lo``/``cov_hi`` is the known stretch clipped
    to the window (empty for unknown people). Busy entries are clipped to the window.
    ``memo`` caches per-owner unions shared by several counts.
    """

    window: Span
    ids: ObjArray
    required: BoolArray
    wh: Int64Array
    hours: list[SpanArrays]
    known: BoolArray
    cov_lo: Int64Array
    cov_hi: Int64Array
    owner: Int64Array
    start: Int64Array
    end: Int64Array
    hard: BoolArray
    memo: dict[tuple[object, ...], tuple[Int64Array, Int64Array, Int64Array]] = attrs.field(
        factory=dict
    )

    @property
    def n(self) -> int:
        return int(self.ids.size)


def _people(raw: _Raw, window: Span) -> _People:
    """Restrict ``raw`` to ``window`` (numpy only)."""
    w0, w1 = window.start, window.end
    cov_lo = np.where(raw.cov_all, w0, np.clip(raw.cov_lo, w0, w1))
    cov_hi = np.where(raw.cov_all, w1, np.clip(raw.cov_hi, w0, w1))
    cov_hi = np.where(raw.known, np.maximum(cov_hi, cov_lo), cov_lo)
    near = (raw.start < w1) & (raw.end > w0)
    if near.all():
        owner, hard, s, e = raw.owner, raw.hard, raw.start, raw.end
    else:
        owner, hard, s, e = raw.owner[near], raw.hard[near], raw.start[near], raw.end[near]
    return _People(
        window=window,
        ids=raw.ids,
        required=raw.required,
        wh=raw.wh,
        hours=[hours.working_spans(h, w0 - DAY, w1 + DAY) for h in raw.hours_keys],
        known=raw.known,
        cov_lo=cov_lo,
        cov_hi=cov_hi,
        owner=owner,
        start=np.maximum(s, w0),
        end=np.minimum(e, w1),
        hard=hard,
    )


# --- vectorised building blocks ------------------------------------------------------------


def _per_owner_union(
    owner: Int64Array, s: Int64Array, e: Int64Array
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Merge each owner's spans (overlapping or touching), all owners in one sort.

    Each span is keyed ``owner * width + (t - t0)``, so sorting the start keys sorts by owner
    then start, and a running maximum of the end keys never leaks across owners. The owner
    is recovered from a key by integer division, so only the keys move.
    """
    if s.size == 0:
        return owner, s, e
    t0 = int(s.min())
    width = int(e.max()) - t0 + 1
    base = owner * width - t0
    ks = base + s
    ke = base + e
    if ks.size > 1 and bool(np.any(ks[1:] < ks[:-1])):  # parsers usually sort already
        # Stable sort: the keys come grouped by owner, runs that timsort/radix exploit (3x).
        order = np.argsort(ks, kind="stable")
        ks, ke = ks[order], ke[order]
    run = np.maximum.accumulate(ke)
    new = np.empty(ks.size, dtype=bool)
    new[0] = True
    np.greater(ks[1:], run[:-1], out=new[1:])
    first = np.flatnonzero(new)
    kf = ks[first]
    own = kf // width
    shift = own * width - t0
    return own, kf - shift, run[np.append(first[1:] - 1, ks.size - 1)] - shift


def _blocked_starts(
    p: _People, mask: BoolArray, tentative_blocks: bool, d: int, use_cov: bool
) -> tuple[Int64Array, Int64Array, Int64Array]:
    """Per owner in ``mask``, the merged starts ``[b0 - d + 1, b1)`` their blocked time blocks.

    Blocked time is their blocking busy entries and, with ``use_cov``, the parts of the window
    their data does not cover (all of it for unknown people): unknown time then counts as busy
    per person, so people need not be grouped by coverage. Memoised on ``p``.
    """
    extra = _uncovered(p, mask) if use_cov else None
    if extra is not None and extra[0].size == 0:
        extra = None  # everything known: share the memo entry with use_cov=False
    key = (mask.tobytes(), tentative_blocks, d, extra is not None)
    hit = p.memo.get(key)
    if hit is None:
        sel = mask[p.owner] if tentative_blocks else mask[p.owner] & p.hard
        if sel.all():
            owner, s, e = p.owner, p.start, p.end
        else:
            owner, s, e = p.owner[sel], p.start[sel], p.end[sel]
        if extra is not None:
            uo, us, ue = extra
            owner, s, e = np.append(owner, uo), np.append(s, us), np.append(e, ue)
        hit = _per_owner_union(owner, s - d + 1, e)
        p.memo[key] = hit
    return hit


def _uncovered(p: _People, mask: BoolArray) -> tuple[Int64Array, Int64Array, Int64Array]:
    """The parts of the window outside each masked person's known stretch, as owned spans."""
    w0, w1 = p.window.start, p.window.end
    idx = np.arange(p.n, dtype=np.int64)
    before = mask & (p.cov_lo > w0)
    after = mask & (p.cov_hi < w1) & (p.cov_hi > p.cov_lo)
    nothing = mask & (p.cov_hi <= p.cov_lo)
    owner = np.concatenate([idx[before], idx[after], idx[nothing]])
    s = np.concatenate(
        [np.full(int(before.sum()), w0), p.cov_hi[after], np.full(int(nothing.sum()), w0)]
    )
    e = np.concatenate(
        [p.cov_lo[before], np.full(int(after.sum()), w1), np.full(int(nothing.sum()), w1)]
    )
    return owner, s.astype(np.int64), e.astype(np.int64)


def _locate(q: Int64Array, x: Int64Array) -> Int64Array:
    """``np.searchsorted(q, x)`` for a sorted, strictly increasing ``q`` (a slot grid).

    Buckets as wide as the smallest gap of ``q`` hold at most one point each, so one lookup
    table and one comparison replace a binary search per needle (10x on 10^6 needles).
    """
    if q.size < 2:
        return np.searchsorted(q, x)
    w = int(np.min(np.diff(q)))
    q0 = int(q[0])
    nb = (int(q[-1]) - q0) // w + 1
    if w <= 0 or nb > 4 * q.size + 4096:
        return np.searchsorted(q, x)
    lut = np.searchsorted(q, q0 + np.arange(nb + 1, dtype=np.int64) * w)
    i = lut[np.clip((x - q0) // w, 0, nb)]
    return i + ((i < q.size) & (x > q[np.minimum(i, q.size - 1)]))


def _in_shrunk(base: SpanArrays, q: Int64Array, d: int) -> BoolArray:
    """For each start ``q``: is ``[q, q + d)`` inside one span of ``base``?"""
    a, b = base
    if a.size == 0:
        return np.zeros(q.shape, dtype=bool)
    i = np.searchsorted(a, q, side="right") - 1
    return (i >= 0) & (q + d <= b[np.maximum(i, 0)])


def _groups(p: _People, mask: BoolArray) -> tuple[list[SpanArrays], Int64Array]:
    """Each working-hours group's working time inside the window, and each masked person's
    group (people without working hours form one more group: the whole window)."""
    w0, w1 = p.window.start, p.window.end
    group = np.full(p.n, -1, dtype=np.int64)
    if not mask.any():
        return [], group
    used = np.unique(p.wh[mask])
    group[mask] = np.searchsorted(used, p.wh[mask])
    bases = [_whole(w0, w1) if g < 0 else iv.clip(p.hours[g], w0, w1) for g in used.tolist()]
    return bases, group


def _counts(
    p: _People,
    q: Int64Array,
    d: int,
    *,
    mask: BoolArray,
    use_cov: bool,
    tentative_blocks: bool,
) -> Int64Array:
    """How many of the people in ``mask`` have ``[q, q + d)`` wholly free, for each start ``q``.

    ``q`` must be sorted. Free means inside their base set and overlapping none of their
    blocking entries. A busy span ``[b0, b1)`` overlaps ``[q, q + d)`` exactly for ``q`` in
    ``[b0 - d + 1, b1)``; once those are merged per owner, each merged span blocks one person
    at a run of consecutive queries, counted with a difference array (a binary search of each
    span into ``q``, no sort of the spans).
    """
    bases, group = _groups(p, mask)
    out = np.zeros(q.shape, dtype=np.int64)
    if not bases or q.size == 0:
        return out
    own, s, e = _blocked_starts(p, mask, tentative_blocks, d, use_cov)
    span_group = group[own]
    sizes = np.bincount(group[mask], minlength=len(bases))
    lo = _locate(q, s)  # first query the span blocks
    hi = _locate(q, e)  # first query past it
    m = q.size + 1
    for g, base in enumerate(bases):
        if base[0].size == 0:
            continue
        mine = span_group == g if len(bases) > 1 else slice(None)
        diff = np.bincount(lo[mine], minlength=m) - np.bincount(hi[mine], minlength=m)
        blocked = np.cumsum(diff[:-1])
        out += np.where(_in_shrunk(base, q, d), sizes[g] - blocked, 0)
    return out


def _blocking(p: _People, mask: BoolArray, tentative_blocks: bool) -> SpanArrays:
    """Union of the blocking busy spans of the people in ``mask``."""
    sel = mask[p.owner] & (p.hard | tentative_blocks)
    return _union(p.start[sel], p.end[sel])


def _union(s: Int64Array, e: Int64Array) -> SpanArrays:
    """Normal form of positive-length spans, from their starts and ends sorted *separately*.

    With ``S`` and ``E`` sorted independently, the union has a gap after ``E[j]`` exactly when
    ``E[j] < S[j + 1]`` (before that point ``j + 1`` spans started and ``j + 1`` ended), so two
    plain sorts and one comparison suffice: cheaper than a sweep over packed endpoint keys.
    """
    if s.size == 0:
        return iv.empty()
    starts, ends = np.sort(s), np.sort(e)
    gap = starts[1:] > ends[:-1]
    return starts[np.append(True, gap)], ends[np.append(gap, True)]


# --- the solver ----------------------------------------------------------------------------


@attrs.frozen
class _Solved:
    """Passing slot starts (chronological) with their room index, and the periods."""

    starts: Int64Array
    rooms: Int64Array
    periods: SpanArrays


def _periods(p: _People, request: MeetingRequest, k: int) -> SpanArrays:
    """Where at least ``k`` required attendees are free at each instant of ``p.window``."""
    w = p.window
    use_cov = request.unknown == "exclude"
    tb = request.tentative == "busy"
    mask = p.required
    bases, _ = _groups(p, mask)
    if k == int(mask.sum()):
        common = iv.intersect_all(bases, w.start, w.end)
        sel = mask[p.owner] & (p.hard | tb)
        s, e = p.start[sel], p.end[sel]
        if use_cov:
            _, us, ue = _uncovered(p, mask)
            s, e = np.append(s, us), np.append(e, ue)
        return iv.difference(common, _union(s, e))
    _, bs, be = _blocked_starts(p, mask, tb, 1, use_cov)  # d = 1: the blocked time itself
    pts = np.unique(np.concatenate([[w.start, w.end], bs, be, *(x for b in bases for x in b)]))
    pts = pts[(pts >= w.start) & (pts <= w.end)]
    c = _counts(p, pts[:-1], 1, mask=mask, use_cov=use_cov, tentative_blocks=tb)
    good = c >= k
    return iv.normalize(pts[:-1][good], pts[1:][good])


def _room_sets(r: _People, request: MeetingRequest) -> list[SpanArrays]:
    """Each room's free time: window ∩ working hours ∩ covered − blocking (no buffers)."""
    out = []
    w = r.window
    tb = request.tentative == "busy"
    for i in range(r.n):
        if not r.known[i] or r.cov_hi[i] <= r.cov_lo[i]:
            out.append(iv.empty())
            continue
        base = _whole(int(r.cov_lo[i]), int(r.cov_hi[i]))
        if r.wh[i] >= 0:
            base = iv.intersect(base, iv.clip(r.hours[int(r.wh[i])], w.start, w.end))
        mine = r.owner == i
        busy = _blocking(r, np.arange(r.n) == i, tb) if mine.any() else iv.empty()
        out.append(iv.difference(base, busy))
    return out


def _pick_rooms(room_sets: list[SpanArrays], q: Int64Array, d: int) -> Int64Array:
    """Index of the first room free for ``[q, q + d)``, -1 when none is."""
    pick = np.full(q.shape, -1, dtype=np.int64)
    for i, rs in enumerate(room_sets):
        free = (pick < 0) & _in_shrunk(rs, q, d)
        pick[free] = i
    return pick


def _solve(p: _People, rooms: _People, request: MeetingRequest, earliest: int, k: int) -> _Solved:
    """Periods, and every passing slot start with its room, inside ``p.window``."""
    w = p.window
    d = request.duration
    periods = _periods(p, request, k)
    q = hours.grid(request.zone, max(w.start, earliest), w.end - d + 1, request.granularity)
    q = q[_in_shrunk(periods, q, d)]
    if k < int(p.required.sum()) and q.size:
        c = _counts(
            p,
            q,
            d,
            mask=p.required,
            use_cov=request.unknown == "exclude",
            tentative_blocks=request.tentative == "busy",
        )
        q = q[c >= k]
    room = np.full(q.shape, -1, dtype=np.int64)
    if rooms.n and q.size:
        room = _pick_rooms(_room_sets(rooms, request), q, d)
        q, room = q[room >= 0], room[room >= 0]
    return _Solved(q, room, periods)


# --- per-slot detail and scores ------------------------------------------------------------


def _details(p: _People, q: Int64Array, d: int) -> npt.NDArray[np.int8]:
    """Category of each person (rows) for each slot ``[q, q + d)`` (columns)."""
    n, m = p.n, q.size
    qe = q + d
    rows = [(iv.covering_index(h, q, qe) >= 0) for h in p.hours]
    rows.append(np.ones(m, dtype=bool))  # wh == -1 picks this row: no limit
    in_wh = np.stack(rows)[p.wh]
    hard_hit = np.zeros((n, m), dtype=bool)
    tent_hit = np.zeros((n, m), dtype=bool)
    if m and p.start.size:
        near = (p.start < qe.max()) & (p.end > q.min())
        own, bs, be, hard = p.owner[near], p.start[near], p.end[near], p.hard[near]
        for j in range(m):
            hit = (bs < qe[j]) & (be > q[j])
            hard_hit[own[hit & hard], j] = True
            tent_hit[own[hit & ~hard], j] = True
    in_cov = (p.cov_lo[:, None] <= q[None, :]) & (qe[None, :] <= p.cov_hi[:, None])
    cat = np.full((n, m), AVAILABLE, dtype=np.int8)
    cat[tent_hit] = TENTATIVE
    cat[~in_cov] = UNKNOWN
    cat[~in_wh | hard_hit] = UNAVAILABLE
    return cat


def _fairness(p: _People, q: Int64Array, d: int) -> FloatArray:
    """``F`` of the module docstring for each slot start."""
    num = np.zeros(q.size)
    den = np.zeros(q.size)
    weights = np.bincount(p.wh[p.wh >= 0], minlength=len(p.hours))
    for g, (hs, he) in enumerate(p.hours):
        idx = iv.covering_index((hs, he), q, q + d)
        ok = idx >= 0
        safe = np.maximum(idx, 0)
        if hs.size == 0:
            continue
        half = np.maximum((he[safe] - hs[safe] - d) / 2.0, 1.0)
        mid_span = (hs[safe] + he[safe]) / 2.0
        dist = np.minimum(np.abs(q + d / 2.0 - mid_span) / half, 1.0)
        num += np.where(ok, weights[g] * dist, 0.0)
        den += np.where(ok, weights[g], 0)
    return np.where(den > 0, 1.0 - num / np.maximum(den, 1.0), 1.0)


def _score(
    req_credit: FloatArray, opt_credit: FloatArray, fair: FloatArray, r: int, o: int
) -> FloatArray:
    u = 1.0 / (o + 1)
    points = req_credit + u * opt_credit + u / 4 * fair
    return np.round(100.0 * points / (r + u * o + u / 4), 2)


def _scores_by_counts(p: _People, q: Int64Array, request: MeetingRequest) -> FloatArray:
    """Scores of many slot starts from category counts, never per person per slot."""
    d = request.duration
    credit = []
    for mask in (p.required, ~p.required):
        if not mask.any():
            credit.append(np.zeros(q.size))
            continue
        x1 = _counts(p, q, d, mask=mask, use_cov=True, tentative_blocks=True)
        x3 = _counts(p, q, d, mask=mask, use_cov=False, tentative_blocks=False)
        # available = x1; tentative + unknown = x3 - x1 (each earns half credit)
        credit.append(x1 + 0.5 * (x3 - x1))
    r, o = int(p.required.sum()), int((~p.required).sum())
    return _score(credit[0], credit[1], _fairness(p, q, d), r, o)


def _suggestions(
    p: _People,
    rooms: _People,
    q: Int64Array,
    room: Int64Array,
    request: MeetingRequest,
) -> list[Suggestion]:
    """Full :class:`Suggestion` objects for the slot starts ``q`` (a few, already chosen)."""
    d = request.duration
    cat = _details(p, q, d)
    credit = _CREDIT[cat]
    r, o = int(p.required.sum()), int((~p.required).sum())
    scores = _score(
        credit[p.required].sum(axis=0),
        credit[~p.required].sum(axis=0),
        _fairness(p, q, d),
        r,
        o,
    )
    out = []
    for j in range(q.size):
        col = cat[:, j]
        lists = [
            tuple(p.ids[col == c].tolist()) for c in (AVAILABLE, TENTATIVE, UNAVAILABLE, UNKNOWN)
        ]
        out.append(
            Suggestion(
                start=int(q[j]),
                end=int(q[j]) + d,
                score=float(scores[j]),
                available=lists[0],
                tentative=lists[1],
                unavailable=lists[2],
                unknown=lists[3],
                room=str(rooms.ids[room[j]]) if room[j] >= 0 else None,
            )
        )
    return out


# --- public entry --------------------------------------------------------------------------


def _now(request: MeetingRequest) -> int:
    if request.now is not None:
        return request.now
    return int(time.time()) if request.min_notice > 0 else request.window.start


def _earliest(request: MeetingRequest, now: int) -> int:
    return now + request.min_notice if request.min_notice > 0 else request.window.start


def _index(availabilities: Iterable[Availability]) -> dict[str, Availability]:
    avs: dict[str, Availability] = {}
    for av in availabilities:
        avs.setdefault(av.id, av)
    return avs


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _unknowns(raws: Sequence[_Raw], window: Span) -> tuple[Unknown, ...]:
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


def _order(p: _People, solved: _Solved, request: MeetingRequest) -> tuple[Int64Array, Int64Array]:
    """The starts and rooms to return, in the requested order, cut to ``max_results``."""
    q, room = solved.starts, solved.rooms
    if request.order == "start" or q.size <= 1:
        return q[: request.max_results], room[: request.max_results]
    scores = _scores_by_counts(p, q, request)
    best = np.lexsort((q, -scores))[: request.max_results]
    return q[best], room[best]


def find_slots(availabilities: Sequence[Availability], request: MeetingRequest) -> SuggestionResult:
    """Slots, common free periods, unknown attendees and (when nothing fits) an explanation.

    See the module docstring for the exact semantics and the ranking formula.
    """
    avs = _index(availabilities)
    now = _now(request)
    earliest = _earliest(request, now)
    w = request.window
    raw = _gather(request.attendees, avs, request.buffer_after, request.buffer_before)
    raw_rooms = _gather(request.rooms, avs, 0, 0)
    p, rooms = _people(raw, w), _people(raw_rooms, w)
    k = request.quorum_count()
    solved = _solve(p, rooms, request, earliest, k)
    q, room = _order(p, solved, request)
    slots = tuple(_suggestions(p, rooms, q, room, request))
    explanation = None
    if not slots:
        # explain imports this module's building blocks, so it is imported here, not at the top.
        from slotfinder.explain import explain

        explanation = explain(
            p,
            rooms,
            request,
            raw=(raw, raw_rooms),
            availabilities=avs,
            earliest=earliest,
            k=k,
        )
    return SuggestionResult(
        slots=slots,
        periods=tuple(Span(int(a), int(b)) for a, b in zip(*solved.periods, strict=True)),
        unknown=_unknowns((raw, raw_rooms), w),
        explanation=explanation,
        request=request,
        availabilities=tuple(availabilities),
    )
