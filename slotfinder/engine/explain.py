"""Why no slot fits, and what comes closest.

Only called by :func:`~slotfinder.engine.find_slots` when it found nothing. Every check counts
slot starts on the request's grid, vectorised over all attendees (no per-attendee loops), so the
explanation costs about as much as the search itself. The reasons, in the order reported:

``window_too_short``
    No grid start leaves ``duration`` before the window ends, or some required attendees' working
    hours inside the window never hold the meeting (they are named).
``hours_never_overlap``
    Each attendee's working hours hold the meeting, but not together (with a quorum: not for
    enough of them). Names the first pair of working-hours groups that never overlap, or every
    required attendee with working hours when only a larger set fails.
``busy_whole_window``
    Named required attendees whose own free time (working hours minus busy, buffers included)
    holds no slot in the window at all.
``daily_cap`` / ``weekly_cap``
    Named required attendees whose load cap (:mod:`slotfinder.caps`) rules out a grid start
    inside their working hours that their own calendar leaves free.
``unknown_attendees``
    Required attendees that could not be read, counted as busy (``unknown="exclude"``), leave
    fewer known attendees than the quorum needs.
``quorum_unreachable``
    With a quorum: at no slot are enough required attendees free together.
``group_unreachable``
    With groups: at no slot are enough members of the named group free together (one reason
    per such group, its members as ids, the most ever free together in the message).
``groups_never_together``
    With groups: each is met at some slot, but never all of them (and everyone outside them)
    at once. Names the first group never met together with those before it, and the one of
    those it never meets when a single one explains it (both groups' members as ids).
``no_room_free``
    The attendees have common time, but the named rooms were read and none is free then (a
    room outside its working hours at every such time counts as busy, read or not).
``rooms_unknown``
    The attendees have common time, but the named rooms are inside their working hours then
    and could not be read there (no data, or data covering only part of the window): they may
    be free, so they are not called busy. The message gives each room's reason.
``min_notice``
    Slots fit, but every one starts before ``now + min_notice``.
``no_common_time``
    None of the above: everyone has free time, just never at the same time.

Alternatives are the grid slots in the window (after the notice) that the most required
attendees can attend, then those with a free room, then the earliest: at most
:data:`ALTERNATIVES`, each listing who is missing under ``unavailable``, ``unknown`` or
``tentative``. The room is the first free one, or ``None`` when no room is free then.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from slotfinder import hours
from slotfinder import intervals as iv
from slotfinder.caps import CapBlocks
from slotfinder.engine.detail import suggestions
from slotfinder.engine.kernel import (
    BoolArray,
    Int64Array,
    People,
    blocked_runs,
    counts,
    groups,
    in_shrunk,
    pick_rooms,
    room_sets,
)
from slotfinder.engine.needs import IntMatrix, Need, passing
from slotfinder.model import Explanation, MeetingRequest, Reason, Suggestion

__all__ = ["ALTERNATIVES", "explain"]

ALTERNATIVES = 5
"""At most this many alternatives (fewer when ``max_results`` is smaller)."""


def _dur(seconds: int) -> str:
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return text or "0s"


def _ids(p: People, mask: BoolArray) -> tuple[str, ...]:
    return tuple(str(x) for x in p.ids[mask].tolist())


def _hours_reasons(p: People, request: MeetingRequest, q: Int64Array, k: int) -> list[Reason]:
    """``window_too_short`` for attendees whose hours never hold the meeting, else the
    ``hours_never_overlap`` check across attendees."""
    w, d = request.window, request.duration
    req = p.required
    fits = [in_shrunk(iv.clip(h, w.start, w.end), q, d) for h in p.hours]
    ok = np.array([f.any() for f in fits] + [True])
    lonely = req & ~ok[p.wh]
    if lonely.any():
        return [
            Reason(
                "window_too_short",
                f"working hours inside the window never hold {_dur(d)} on the "
                f"{_dur(request.granularity)} grid",
                _ids(p, lonely),
            )
        ]
    used = sorted({int(g) for g in p.wh[req] if g >= 0})
    count = np.full(q.shape, int((req & (p.wh < 0)).sum()), dtype=np.int64)
    for g in used:
        count += fits[g] * int((req & (p.wh == g)).sum())
    if count.max(initial=0) >= k:
        return []
    named = req & (p.wh >= 0)
    if k == int(req.sum()):
        pair = next(
            (
                (a, b)
                for i, a in enumerate(used)
                for b in used[i + 1 :]
                if not (fits[a] & fits[b]).any()
            ),
            None,
        )
        if pair is not None:
            named = req & np.isin(p.wh, pair)
    return [
        Reason(
            "hours_never_overlap",
            f"these attendees' working hours never share {_dur(d)} inside the window",
            _ids(p, named),
        )
    ]


def _busy_whole(p: People, request: MeetingRequest, q: Int64Array) -> list[Reason]:
    """Required attendees with no grid start free in their own calendar."""
    d = request.duration
    req = p.required & p.known
    bases, group = groups(p, req)
    tb = request.tentative == "busy"
    blocked = np.zeros(p.n, dtype=np.int64)
    possible = np.zeros(p.n, dtype=np.int64)
    for g, base in enumerate(bases):
        starts = q[in_shrunk(base, q, d)]
        members = group == g
        possible[members] = starts.size
        own, lo, hi = blocked_runs(  # busy alone
            p, starts, d, mask=p.required & members, tentative_blocks=tb, use_cov=False
        )
        blocked += np.bincount(own, weights=hi - lo, minlength=p.n).astype(np.int64)
    full = req & (possible > 0) & (blocked >= possible)
    if not full.any():
        return []
    return [
        Reason(
            "busy_whole_window",
            f"busy for the whole window: no free {_dur(d)} inside working hours",
            _ids(p, full),
        )
    ]


def _cap_reasons(
    p: People, plain: People, caps: CapBlocks, request: MeetingRequest, q: Int64Array
) -> list[Reason]:
    """``daily_cap`` and ``weekly_cap``: required attendees whose capped-out days (weeks)
    overlap a grid start inside their working hours that their calendar leaves free."""
    d, tb = request.duration, request.tentative == "busy"
    req = p.required & p.known
    bases, group = groups(plain, req)
    out = []
    for weekly, code, what in ((False, "daily_cap", "day"), (True, "weekly_cap", "week")):
        kind = caps.weekly == weekly
        hit = np.zeros(p.n, dtype=bool)
        for g, base in enumerate(bases):
            starts = q[in_shrunk(base, q, d)]
            members = req & (group == g)
            own, lo, hi = blocked_runs(
                plain, starts, d, mask=members, tentative_blocks=tb, use_cov=False
            )
            for i in np.flatnonzero(members & np.isin(np.arange(p.n), caps.owner[kind])).tolist():
                busy = np.zeros(starts.size + 1, dtype=np.int64)  # their runs of busy starts
                np.add.at(busy, lo[own == i], 1)
                np.add.at(busy, hi[own == i], -1)
                t = starts[np.cumsum(busy[:-1]) == 0]
                mine = kind & (caps.owner == i)
                s, e = caps.start[mine], caps.end[mine]  # sorted, disjoint
                j = np.searchsorted(e, t, side="right")  # the first capped span ending after t
                hit[i] = bool((s[np.minimum(j, s.size - 1)] < t + d)[j < s.size].any())
        if hit.any():
            out.append(
                Reason(
                    code,
                    f"their meetings-per-{what} or busy-hours-per-{what} cap rules out times "
                    "they are otherwise free",
                    _ids(p, hit),
                )
            )
    return out


def _room_reasons(
    rooms: People, request: MeetingRequest, q: Int64Array, why: Mapping[str, str]
) -> list[Reason]:
    """``no_room_free`` for the rooms read and busy at every start ``q``, ``rooms_unknown`` for
    those inside their working hours at some ``q`` where their data says nothing.

    An unreadable room may well be free: calling it busy would send people hunting for another
    room when the fix is to read this one (``why`` gives each room's reason, by id).
    """
    w, d = rooms.window, request.duration
    unread = np.zeros(rooms.n, dtype=bool)
    for i in range(rooms.n):
        g = int(rooms.wh[i])
        base = iv.whole(w.start, w.end) if g < 0 else iv.clip(rooms.hours[g], w.start, w.end)
        read = (q >= rooms.cov_lo[i]) & (q + d <= rooms.cov_hi[i])
        unread[i] = bool((in_shrunk(base, q, d) & ~read).any())
    out = []
    if (~unread).any():
        out.append(
            Reason(
                "no_room_free",
                "no requested room is free when the attendees are",
                _ids(rooms, ~unread),
            )
        )
    if unread.any():
        labels = {r.id: r.label for r in request.rooms}
        named = "; ".join(
            f"{labels.get(i, i)} ({why.get(i, 'no calendar data for these times')})"
            for i in _ids(rooms, unread)
        )
        out.append(
            Reason(
                "rooms_unknown",
                f"could not be read, so they may be free when the attendees are: {named}",
                _ids(rooms, unread),
            )
        )
    return out


def _group_reasons(p: People, needs: list[Need], got: IntMatrix) -> list[Reason]:
    """``group_unreachable`` for each named group never met at one slot."""
    out = []
    for n, c in zip(needs, got, strict=True):
        best = int(c.max(initial=0))
        if n.name is not None and best < n.k:
            out.append(
                Reason(
                    "group_unreachable",
                    f"group {n.name!r}: at most {best} of its {int(n.mask.sum())} members are "
                    f"free together; it needs {n.k}",
                    _ids(p, n.mask),
                )
            )
    return out


def _together_reasons(p: People, needs: list[Need], got: IntMatrix) -> list[Reason]:
    """``groups_never_together``: every group is met somewhere, but never all at once. Names
    the first group (in request order) that is never met while the needs before it are, and
    the earlier one it never meets, when a single one explains it."""
    met = got >= np.array([n.k for n in needs], dtype=np.int64)[:, None]
    if any(n.name is not None and not m.any() for n, m in zip(needs, met, strict=True)):
        return []  # group_unreachable says it
    acc = met[0]
    for i in range(1, len(needs)):
        if (acc & met[i]).any():
            acc = acc & met[i]
            continue
        j = next((j for j in range(i) if not (met[j] & met[i]).any()), None)
        if j is None:
            others, mask = "the needs before it", np.logical_or.reduce([n.mask for n in needs])
        else:
            others, mask = _need_name(needs[j]), needs[i].mask | needs[j].mask
        return [
            Reason(
                "groups_never_together",
                f"{_need_name(needs[i])} is never met at the same time as {others}",
                _ids(p, mask),
            )
        ]
    return []


def _need_name(n: Need) -> str:
    if n.name is None:
        return "the required attendees outside the groups"
    return f"group {n.name!r} ({n.k} of {int(n.mask.sum())})"


def explain(
    p: People,
    rooms: People,
    request: MeetingRequest,
    *,
    earliest: int,
    needs: list[Need],
    next_after_window: Suggestion | None,
    why: Mapping[str, str],
    plain: People | None = None,
    caps: CapBlocks | None = None,
) -> Explanation:
    """Reasons and alternatives for an empty result; ``next_after_window`` is passed through.

    ``why`` gives the reason each unknown attendee or room could not be read, by id. ``p``
    holds the load caps' blocked days; ``plain`` is the same people without them (their own
    calendars, for ``busy_whole_window``) and ``caps`` the capped-out days and weeks.
    """
    w, d = request.window, request.duration
    k = sum(n.k for n in needs)  # required attendees a slot needs, whoever they are
    q = hours.grid(request.zone, w.start, w.end - d + 1, request.granularity)
    reasons: list[Reason] = []
    alternatives: tuple[Suggestion, ...] = ()
    if q.size == 0:
        reasons.append(
            Reason(
                "window_too_short",
                f"no start on the {_dur(request.granularity)} grid leaves {_dur(d)} "
                "before the window ends",
            )
        )
    else:
        reasons += _hours_reasons(p, request, q, k)
        reasons += _busy_whole(plain or p, request, q)
        if caps is not None and caps.size:
            reasons += _cap_reasons(p, plain or p, caps, request, q)
        req = p.required
        unknown = req & ~p.known
        if request.unknown == "exclude" and unknown.any() and int((req & p.known).sum()) < k:
            reasons.append(
                Reason(
                    "unknown_attendees",
                    "could not be read and count as busy (unknown='exclude'); "
                    "unknown='flag' plans around them",
                    _ids(p, unknown),
                )
            )
        tb = request.tentative == "busy"
        use_cov = request.unknown == "exclude"
        count = counts(p, q, d, mask=req, use_cov=use_cov, tentative_blocks=tb)
        best = int(count.max(initial=0))
        if request.quorum is not None and best < k:
            reasons.append(
                Reason(
                    "quorum_unreachable",
                    f"at most {best} required attendees are free together; the quorum is {k}",
                )
            )
        fits, got = passing(p, q, d, needs, use_cov=use_cov, tentative_blocks=tb)
        reasons += _group_reasons(p, needs, got)
        if not fits.any() and any(n.name is not None for n in needs):
            reasons += _together_reasons(p, needs, got)
        after = q >= earliest
        room = np.full(q.shape, -1, dtype=np.int64)
        if rooms.n:
            room = pick_rooms(room_sets(rooms, tb), q, d)
            # Judge rooms where the notice allows, unless the notice rules out everything.
            where = fits & after if (fits & after).any() else fits
            if where.any() and not (where & (room >= 0)).any():
                reasons += _room_reasons(rooms, request, q[where], why)
            fits &= room >= 0
        if fits.any() and not (fits & after).any():
            reasons.append(
                Reason(
                    "min_notice",
                    f"every fitting slot starts within the {_dur(request.min_notice)} notice",
                )
            )
        if not reasons:
            reasons.append(
                Reason(
                    "no_common_time",
                    f"the required attendees are never free for {_dur(d)} at the same time",
                )
            )
        limit = min(request.max_results, ALTERNATIVES)
        later = after & (count > 0)
        if later.any():
            idx = np.flatnonzero(later)
            order = np.lexsort((q[idx], room[idx] < 0, -count[idx]))[:limit]
            pick = idx[order]
            alternatives = tuple(suggestions(p, rooms, q[pick], room[pick], request))
    return Explanation(
        reasons=tuple(reasons),
        alternatives=alternatives,
        next_after_window=next_after_window,
    )
