"""Per-slot detail: who can come to each slot, and its score.

Every attendee (required and optional, in request order) is put in exactly one list per slot,
checked in this order: outside their working hours or overlapping a busy/oof entry (buffers
included) -> ``unavailable``; slot not inside their known data -> ``unknown``; overlapping a
tentative entry -> ``tentative``; else ``available``.

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
"""

from __future__ import annotations

import numpy as np

from slotfinder import intervals as iv
from slotfinder.engine.kernel import (
    FloatArray,
    Int64Array,
    People,
    blocked_runs,
    counts,
    locate,
    near,
)
from slotfinder.model import MeetingRequest, Suggestion

__all__ = ["scores_by_counts", "suggestions"]

AVAILABLE, TENTATIVE, UNAVAILABLE, UNKNOWN = 0, 1, 2, 3  # the order of Suggestion's lists
_HARD, _HARD_OR_TENTATIVE, _UNCOVERED, _OFF = 1, 2, 4, 8  # flags of _details


def _category_table() -> bytes:
    """Category from the flags of :func:`_details` (a ``bytes.translate`` table), checked in
    the module docstring's order."""
    table = bytearray(256)
    for flags in range(16):
        if flags & (_HARD | _OFF):
            table[flags] = UNAVAILABLE
        elif flags & _UNCOVERED:
            table[flags] = UNKNOWN
        elif flags & _HARD_OR_TENTATIVE:
            table[flags] = TENTATIVE
    return bytes(table)


_CATEGORY = _category_table()
_HALVES = bytes([2, 1, 0, 1]) + bytes(252)  # credit in halves, by category


def _details(p: People, q: Int64Array, d: int) -> bytes:
    """Category of each person for each slot ``[q, q + d)``: a row of ``p.n`` bytes per slot;
    ``q`` sorted, strictly increasing.

    Two kinds of blocked time (busy; busy or tentative) become per-person runs of slots
    (:func:`~slotfinder.engine.kernel.blocked_runs`), disjoint within a kind, and the slots
    outside a person's known stretch one run each side of it; one flag bit per kind, flipped
    at a run's first slot and again after its last, gives each person's flags at each slot as
    a running XOR down the slots, taken on 64-bit words: eight people at a time, no carries.
    """
    n, m = p.n, q.size
    p = near(p, q, d)
    everyone = np.ones(n, dtype=bool)
    w = -(-n // 8) * 8  # columns padded to whole words
    flags = np.zeros((m + 1, w), dtype=np.uint8)
    flat = flags.reshape(-1)
    for bit, tentative_blocks in ((_HARD, False), (_HARD_OR_TENTATIVE, True)):
        own, lo, hi = blocked_runs(
            p, q, d, mask=everyone, tentative_blocks=tentative_blocks, use_cov=False
        )
        flat[lo * w + own] ^= bit  # one run per person starts at a slot: no repeats
        flat[hi * w + own] ^= bit
    inside = locate(q, p.cov_lo)  # the first slot starting inside the known stretch
    past = np.maximum(locate(q, p.cov_hi - d + 1), inside)  # the first ending past it
    for edge in (0, inside, past, m):  # runs [0, inside) and [past, m)
        flat[edge * w + np.arange(n)] ^= _UNCOVERED
    at = np.bitwise_xor.accumulate(flags[:m].view(np.uint64), axis=0).view(np.uint8)[:, :n]
    off = np.zeros((m, len(p.hours) + 1), dtype=np.uint8)  # wh == -1 picks the last: no limit
    for g, h in enumerate(p.hours):
        off[:, g] = np.where(iv.covering_index(h, q, q + d) >= 0, 0, _OFF)
    if off.any():
        at |= np.take(off, p.wh, axis=1)  # row-major, like at (off[:, p.wh] is not)
    return at.tobytes().translate(_CATEGORY)


def _fairness(p: People, q: Int64Array, d: int) -> FloatArray:
    """``F`` of the module docstring for each slot start."""
    num = np.zeros(q.size)
    den = np.zeros(q.size)
    weights = np.bincount(p.wh[p.wh >= 0], minlength=len(p.hours))
    for g, (hs, he) in enumerate(p.hours):
        if hs.size == 0:
            continue
        idx = iv.covering_index((hs, he), q, q + d)
        ok = idx >= 0
        safe = np.maximum(idx, 0)
        half = np.maximum((he[safe] - hs[safe] - d) / 2.0, 1.0)
        mid_span = (hs[safe] + he[safe]) / 2.0
        dist = np.minimum(np.abs(q + d / 2.0 - mid_span) / half, 1.0)
        num += np.where(ok, weights[g] * dist, 0.0)
        den += np.where(ok, weights[g], 0)
    return np.where(den > 0, 1.0 - num / np.maximum(den, 1.0), 1.0)


def _score(
    p: People, req_credit: FloatArray, opt_credit: FloatArray, fair: FloatArray
) -> FloatArray:
    """The ranking formula of the module docstring."""
    r, o = int(p.required.sum()), int((~p.required).sum())
    u = 1.0 / (o + 1)
    points = req_credit + u * opt_credit + u / 4 * fair
    return np.round(100.0 * points / (r + u * o + u / 4), 2)


def scores_by_counts(
    p: People, q: Int64Array, request: MeetingRequest, *, available: Int64Array | None = None
) -> FloatArray:
    """Scores of many slot starts from category counts, never per person per slot.

    ``available``, when given, is how many required attendees are available at each start
    (known from solving the slots).
    """
    d = request.duration
    p = near(p, q, d)
    credit = []
    for mask, known in ((p.required, available), (~p.required, None)):
        if not mask.any():
            credit.append(np.zeros(q.size))
            continue
        x1 = known
        if x1 is None:
            x1 = counts(p, q, d, mask=mask, use_cov=True, tentative_blocks=True)
        x3 = x1  # x1 <= x3 <= everyone in mask: no count needed when x1 is everyone
        if not bool(np.all(x1 == int(mask.sum()))):
            x3 = counts(p, q, d, mask=mask, use_cov=False, tentative_blocks=False)
        # available = x1; tentative + unknown = x3 - x1 (each earns half credit)
        credit.append(x1 + 0.5 * (x3 - x1))
    return _score(p, credit[0], credit[1], _fairness(p, q, d))


def suggestions(
    p: People,
    rooms: People,
    q: Int64Array,
    room: Int64Array,
    request: MeetingRequest,
    *,
    scores: FloatArray | None = None,
) -> list[Suggestion]:
    """Full :class:`Suggestion` objects for the slot starts ``q``, in the order given.

    ``scores``, when given, are the starts' scores (score order has them already). Each keeps
    its row of categories and builds its id lists when first read
    (:meth:`Suggestion.from_row`): listing everyone for every slot is most of the cost of
    many slots, and callers usually read a few.
    """
    if q.size == 0:
        return []
    d, n = request.duration, p.n
    order = np.argsort(q, kind="stable")
    qs = q[order]
    rows = _details(p, qs, d)  # in start order
    if scores is None:
        halves = np.frombuffer(rows.translate(_HALVES), dtype=np.uint8).reshape(q.size, n)
        total = halves.sum(axis=1, dtype=np.int64)
        opt = halves[:, ~p.required].sum(axis=1, dtype=np.int64)
        scores = np.empty(q.size)
        scores[order] = _score(p, (total - opt) / 2.0, opt / 2.0, _fairness(p, qs, d))
    names = [None, *rooms.ids.tolist()]
    make, ids = Suggestion.from_row, p.ids
    return [
        make(start=t, end=t + d, score=s, room=names[r], ids=ids, row=rows[i * n : i * n + n])
        for t, s, r, i in zip(
            q.tolist(), scores.tolist(), (room + 1).tolist(), order.argsort().tolist(), strict=True
        )
    ]
