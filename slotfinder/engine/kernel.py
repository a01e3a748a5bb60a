"""The engine's shared kernel: people as arrays, and counting who is free at each slot start.

Both :mod:`~slotfinder.engine.slots` (finding slots) and :mod:`~slotfinder.engine.explain`
(saying why none fit) work on what this module builds. Everything runs on numpy arrays of epoch
seconds: every attendee's busy table is concatenated once, tagged with the attendee's index (its
*owner*), and processed in a handful of vectorised passes; nothing loops over busy entries.

* Each busy span blocks a run of consecutive slot starts, found by two lookups into the sorted
  starts; runs merged per person (:func:`blocked_runs`) feed difference arrays: counts of "how
  many people are free for the whole slot at each start" (quorum, score order, explanations)
  and who can come to each slot (:mod:`~slotfinder.engine.detail`). Cost grows with slots plus
  entries, never with their product.
* Working hours are computed once per distinct :class:`WorkingHours` (and cached by
  :func:`slotfinder.hours.working_spans`); people are grouped by them, never by person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder import hours
from slotfinder import intervals as iv
from slotfinder.intervals import Int64Array, SpanArrays
from slotfinder.model import (
    DAY,
    UNANSWERED_POLICIES,
    Attendee,
    Availability,
    Span,
    Status,
    UnansweredPolicy,
    WorkingHours,
    blocking_statuses,
)

__all__ = [
    "BoolArray",
    "FloatArray",
    "Int64Array",
    "Owned",
    "People",
    "Raw",
    "blocked",
    "blocked_runs",
    "counts",
    "counts_by",
    "distinct",
    "gather",
    "groups",
    "in_shrunk",
    "locate",
    "near",
    "people",
    "pick_rooms",
    "room_sets",
    "uncovered",
    "union",
    "with_blocks",
]

BoolArray: TypeAlias = npt.NDArray[np.bool_]
FloatArray: TypeAlias = npt.NDArray[np.float64]
ObjArray: TypeAlias = npt.NDArray[np.object_]
Owned: TypeAlias = tuple[Int64Array, Int64Array, Int64Array]
"""Spans tagged with their owner's index: ``(owner, starts, ends)``."""


def _lookup(statuses: tuple[Status, ...]) -> BoolArray:
    """A table indexed by status code: True for the codes of ``statuses``."""
    table = np.zeros(len(Status), dtype=bool)
    table[[s.code for s in statuses]] = True
    return table


_BLOCKS = {policy: tuple(map(_lookup, blocking_statuses(policy))) for policy in UNANSWERED_POLICIES}
"""Per unanswered policy: (codes blocking as busy, codes blocking as tentative) as tables."""


def _empty_i64() -> Int64Array:
    return np.empty(0, dtype=np.int64)


@attrs.frozen(eq=False)
class Raw:
    """Attendees (or rooms) gathered once from the availabilities, independent of the window.

    ``wh`` indexes ``hours_keys`` (-1: no working-hours limit). ``cov_lo``/``cov_hi`` is the
    known stretch, ``cov_all`` marks ``covered=None`` (the whole window, whichever it is), and
    unknown people have ``known`` False and an entry in ``reasons``. Busy entries that can
    block (busy, oof, tentative, and unanswered as the policy counts it; positive length) are
    concatenated, tagged with their owner's index and widened by the buffers.
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


def gather(
    who: Sequence[Attendee],
    avs: dict[str, Availability],
    before: int,
    after: int,
    unanswered: UnansweredPolicy = "tentative",
) -> Raw:
    """Gather ``who`` into arrays; busy entries widened to ``[b0 - before, b1 + after)``.

    ``unanswered`` entries become hard (``"busy"``), tentative (``"tentative"``) or nothing.

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
        hard_codes, soft_codes = _BLOCKS[unanswered]
        hard = hard_codes[c]
        keep = (e > s) & (hard | soft_codes[c])
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
    return Raw(
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


def with_blocks(raw: Raw, owner: Int64Array, start: Int64Array, end: Int64Array) -> Raw:
    """``raw`` with more blocking spans (load caps' capped-out days), taken as they are: no
    buffers, whatever the tentative policy."""
    if owner.size == 0:
        return raw
    return attrs.evolve(
        raw,
        owner=np.concatenate([raw.owner, owner]),
        start=np.concatenate([raw.start, start]),
        end=np.concatenate([raw.end, end]),
        hard=np.concatenate([raw.hard, np.ones(owner.size, dtype=bool)]),
    )


@attrs.frozen(eq=False)
class People:
    """A :class:`Raw` seen through one window: what the solver works on.

    ``hours`` are each working-hours group's spans over the window padded by a day each side
    (so fairness sees whole working days). ``cov_lo``/``cov_hi`` is the known stretch clipped
    to the window (empty for unknown people). Busy entries are clipped to the window.
    ``memo`` keeps the entries sorted by owner once some count needed them so.
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
    memo: dict[str, tuple[Int64Array, Int64Array, Int64Array, BoolArray]] = attrs.field(
        factory=dict
    )

    @property
    def n(self) -> int:
        return int(self.ids.size)


def people(raw: Raw, window: Span) -> People:
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
    return People(
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


# --- blocked time --------------------------------------------------------------------------


def uncovered(p: People, mask: BoolArray) -> Owned:
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


def blocked(p: People, mask: BoolArray, tentative_blocks: bool, extra: Owned | None) -> Owned:
    """The blocking busy entries of the people in ``mask``, plus the ``extra`` owned spans."""
    sel = mask[p.owner] if tentative_blocks else mask[p.owner] & p.hard
    if sel.all():
        owner, s, e = p.owner, p.start, p.end
    else:
        owner, s, e = p.owner[sel], p.start[sel], p.end[sel]
    if extra is not None and extra[0].size:
        uo, us, ue = extra
        owner, s, e = np.append(owner, uo), np.append(s, us), np.append(e, ue)
    return owner, s, e


def _by_owner(p: People) -> tuple[Int64Array, Int64Array, Int64Array, BoolArray]:
    """``p``'s entries sorted by owner, then start: one stable sort, kept in ``p.memo``.

    Parsers usually hand each attendee's entries over sorted, and then nothing moves.
    """
    hit = p.memo.get("by_owner")
    if hit is None:
        owner, s, e, hard = p.owner, p.start, p.end, p.hard
        if s.size > 1:
            t0 = int(s.min())
            key = owner * (int(s.max()) - t0 + 1) + (s - t0)
            if bool(np.any(key[1:] < key[:-1])):
                order = np.argsort(key, kind="stable")
                owner, s, e, hard = owner[order], s[order], e[order], hard[order]
        hit = p.memo["by_owner"] = (owner, s, e, hard)
    return hit


def near(p: People, q: Int64Array, d: int) -> People:
    """``p`` with only the entries meeting some slot ``[q, q + d)`` (``q`` sorted, strictly
    increasing), so later passes over a few slots stay small; ``p`` itself for many slots."""
    owner, s, e, hard = p.memo.get("by_owner", (p.owner, p.start, p.end, p.hard))
    if 8 * q.size >= s.size > 0:
        return p
    if q.size == 0:
        meets = np.zeros(s.shape, dtype=bool)
    else:
        meets = (e > q[0]) & (s - d < q[-1])  # two comparisons narrow the lookups below
        idx = np.flatnonzero(meets)
        meets[idx] = locate(q, s[idx] - d + 1) < locate(q, e[idx])
    if meets.all():
        return p
    sub = owner[meets], s[meets], e[meets], hard[meets]
    memo = {"by_owner": sub} if "by_owner" in p.memo else {}  # still sorted
    return attrs.evolve(p, owner=sub[0], start=sub[1], end=sub[2], hard=sub[3], memo=memo)


def blocked_runs(
    p: People,
    q: Int64Array,
    d: int,
    *,
    mask: BoolArray,
    tentative_blocks: bool,
    use_cov: bool,
) -> Owned:
    """Per person in ``mask``, the disjoint runs ``[lo, hi)`` of indices into ``q`` whose slots
    ``[q, q + d)`` meet their blocked time; ``q`` sorted, strictly increasing.

    Blocked time is their blocking busy entries and, with ``use_cov``, whatever their data does
    not cover (everything for unknown people), so unknown time counts as busy per person. A span
    ``[b0, b1)`` meets the slots starting in ``[b0 - d + 1, b1)``, a run found by two lookups
    into ``q``. The runs are merged per owner in index space: entries sorted by owner and start
    give runs sorted by owner and ``lo``, so a running maximum merges them without sorting
    again. Only entries meeting some slot count, so a few slots cost little.
    """
    m1 = q.size + 1
    few = 8 * q.size < p.start.size
    a = b = _empty_i64()
    if use_cov:
        a = locate(q, p.cov_lo)  # first slot starting inside the known stretch
        b = np.maximum(locate(q, p.cov_hi - d + 1), a)  # first slot ending past it
        use_cov = bool(np.any(a[mask] > 0) or np.any(b[mask] < q.size))  # else all known

    def runs(owner: Int64Array, s: Int64Array, e: Int64Array, hard: BoolArray) -> Owned:
        sel = mask[owner] if tentative_blocks else mask[owner] & hard
        if few and q.size:
            sel &= (e > q[0]) & (s - d < q[-1])  # meets some slot
        if not sel.all():
            owner, s, e = owner[sel], s[sel], e[sel]
        own, lo, hi = owner, locate(q, s - d + 1), locate(q, e)
        if use_cov:
            lo = np.minimum(np.maximum(lo, a[own]), b[own])
            hi = np.minimum(np.maximum(hi, a[own]), b[own])
        keep = lo < hi
        return own[keep], lo[keep], hi[keep]

    # Few slots: sort only the entries meeting them, if need be. Many: sort every entry once.
    entries = p.memo.get("by_owner", (p.owner, p.start, p.end, p.hard)) if few else _by_owner(p)
    own, lo, hi = runs(*entries)
    key = own * m1 + lo
    if key.size > 1 and bool(np.any(key[1:] < key[:-1])):
        order = np.argsort(key, kind="stable")
        own, lo, hi, key = own[order], lo[order], hi[order], key[order]
    if key.size:
        base = own * m1
        run = np.maximum.accumulate(base + hi)
        new = np.empty(key.size, dtype=bool)
        new[0] = True
        np.greater(key[1:], run[:-1], out=new[1:])
        first = np.flatnonzero(new)
        own, lo = own[first], lo[first]
        hi = run[np.append(first[1:] - 1, key.size - 1)] - own * m1
    if use_cov:
        idx = np.flatnonzero(mask)
        a, b = a[idx], b[idx]
        before, after = a > 0, b < q.size
        own = np.concatenate([own, idx[before], idx[after]])
        lo = np.concatenate([lo, np.zeros(int(before.sum()), dtype=np.int64), b[after]])
        hi = np.concatenate([hi, a[before], np.full(int(after.sum()), q.size, dtype=np.int64)])
    return own, lo, hi


def union(s: Int64Array, e: Int64Array) -> SpanArrays:
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


# --- counting over a grid of slot starts ---------------------------------------------------


def locate(q: Int64Array, x: Int64Array) -> Int64Array:
    """``np.searchsorted(q, x)`` for a sorted, strictly increasing ``q`` (a slot grid).

    Buckets as wide as the smallest gap of ``q`` hold at most one point each, so one lookup
    table and one comparison replace a binary search per needle; the table is used while it
    has no more buckets than there are slots and needles together (plus a few thousand).
    """
    if q.size < 2:
        return np.searchsorted(q, x)
    w = int(np.min(np.diff(q)))
    q0 = int(q[0])
    nb = (int(q[-1]) - q0) // w + 1
    if w <= 0 or nb > 4 * q.size + x.size + 4096:
        return np.searchsorted(q, x)
    lut = np.searchsorted(q, q0 + np.arange(nb + 1, dtype=np.int64) * w)
    i = lut[np.clip((x - q0) // w, 0, nb)]
    return i + ((i < q.size) & (x > q[np.minimum(i, q.size - 1)]))


def distinct(x: Int64Array) -> Int64Array:
    """The distinct values of ``x``, sorted: ``np.unique`` without its import of ``numpy.ma``
    (tens of milliseconds on the first call, more than a small search costs)."""
    s = np.sort(x)
    if s.size < 2:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def in_shrunk(base: SpanArrays, q: Int64Array, d: int) -> BoolArray:
    """For each start ``q``: is ``[q, q + d)`` inside one span of ``base``?"""
    a, b = base
    if a.size == 0:
        return np.zeros(q.shape, dtype=bool)
    i = np.searchsorted(a, q, side="right") - 1
    return (i >= 0) & (q + d <= b[np.maximum(i, 0)])


def groups(p: People, mask: BoolArray) -> tuple[list[SpanArrays], Int64Array]:
    """Each working-hours group's working time inside the window, and each masked person's
    group (people without working hours form one more group: the whole window)."""
    w0, w1 = p.window.start, p.window.end
    group = np.full(p.n, -1, dtype=np.int64)
    if not mask.any():
        return [], group
    used = distinct(p.wh[mask])
    group[mask] = np.searchsorted(used, p.wh[mask])
    bases = [iv.whole(w0, w1) if g < 0 else iv.clip(p.hours[g], w0, w1) for g in used.tolist()]
    return bases, group


def counts(
    p: People,
    q: Int64Array,
    d: int,
    *,
    mask: BoolArray,
    use_cov: bool,
    tentative_blocks: bool,
) -> Int64Array:
    """How many of the people in ``mask`` have ``[q, q + d)`` wholly free, for each start ``q``.

    ``q`` must be sorted, strictly increasing; see :func:`counts_by`.
    """
    label = np.where(mask, 0, -1).astype(np.int64)
    tb = tentative_blocks
    rows = counts_by(p, q, d, label=label, n=1, use_cov=use_cov, tentative_blocks=tb)
    out: Int64Array = rows[0]
    return out


def counts_by(
    p: People,
    q: Int64Array,
    d: int,
    *,
    label: Int64Array,
    n: int,
    use_cov: bool,
    tentative_blocks: bool,
) -> npt.NDArray[np.int64]:
    """Row ``j``: how many of the people labelled ``j`` (``label`` -1: nobody's) have
    ``[q, q + d)`` wholly free, for each start ``q`` (sorted, strictly increasing).

    Free means inside their base set and clear of their blocked time: each of the
    :func:`blocked_runs` blocks one person at a run of consecutive queries, counted with one
    difference array per label and working-hours group, all in one pass.
    """
    mask = label >= 0
    bases, group = groups(p, mask)
    out = np.zeros((n, q.size), dtype=np.int64)
    if not bases or q.size == 0:
        return out
    own, lo, hi = blocked_runs(
        p, q, d, mask=mask, tentative_blocks=tentative_blocks, use_cov=use_cov
    )
    m = q.size + 1
    cells = len(bases) * n
    key = group * n + label  # one cell per working-hours group and label
    sizes = np.bincount(key[mask], minlength=cells)
    at = key[own] * m
    diff = np.bincount(at + lo, minlength=cells * m) - np.bincount(at + hi, minlength=cells * m)
    free = sizes[:, None] - np.cumsum(diff.reshape(cells, m)[:, :-1], axis=1)
    for g, base in enumerate(bases):
        if base[0].size:
            out += np.where(in_shrunk(base, q, d), free[g * n : (g + 1) * n], 0)
    return out


# --- rooms ---------------------------------------------------------------------------------


def room_sets(r: People, tentative_blocks: bool) -> list[SpanArrays]:
    """Each room's free time: window ∩ working hours ∩ covered − blocking (no buffers)."""
    out = []
    w = r.window
    for i in range(r.n):
        if not r.known[i] or r.cov_hi[i] <= r.cov_lo[i]:
            out.append(iv.empty())
            continue
        base = iv.whole(int(r.cov_lo[i]), int(r.cov_hi[i]))
        if r.wh[i] >= 0:
            base = iv.intersect(base, iv.clip(r.hours[int(r.wh[i])], w.start, w.end))
        _, s, e = blocked(r, np.arange(r.n) == i, tentative_blocks, None)
        out.append(iv.difference(base, union(s, e)))
    return out


def pick_rooms(rooms: list[SpanArrays], q: Int64Array, d: int) -> Int64Array:
    """Index of the first room free for ``[q, q + d)``, -1 when none is."""
    pick = np.full(q.shape, -1, dtype=np.int64)
    for i, free_time in enumerate(rooms):
        free = (pick < 0) & in_shrunk(free_time, q, d)
        pick[free] = i
    return pick
