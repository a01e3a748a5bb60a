"""Recurring series: a start is offered when its occurrences pass as slots do, bar a few.

Semantics (DESIGN.md "Recurring series"; ``tests/reference.py`` restates them by brute force):

* **Starts.** The grid starts a plain search would try (in the window, after the notice) whose
  local date begins a series of ``request.repeat``: the rule, started that date, gives that
  date first (``BYDAY=TU,TH`` starts only on Tuesdays and Thursdays).
* **Occurrences.** Occurrence 0 is the start itself; occurrence ``k`` is the start's local
  wall-clock time on the rule's ``k``-th date, made an instant by the RFC 5545 rule of
  :func:`slotfinder.hours.from_wall`: a time skipped by a forward jump takes the offset before
  it (02:30 on the US spring day is 03:30 EDT), a repeated time is its first instant. With
  ``UNTIL``, occurrences whose local start is after it are dropped.
* **Passing.** Each occurrence passes or fails exactly as a slot starting there would (working
  hours, busy time and buffers, coverage, quorum, rooms), except that later occurrences need
  not be on the grid or in the window and ``min_notice`` concerns the first only. A start is
  offered when at most ``request.allow_conflicts`` of its occurrences fail.
* **Order.** Score order puts fewer failing occurrences first, then the first occurrence's
  score as a plain slot, spread over days as plain slots are; start order is chronological.
  The slot's lists, score and room are its first occurrence's.
* **Data.** Busy time must cover :func:`series_span`: the window to the end of the last
  occurrence any start can have; ``periods`` stay those of the window.

The pass check runs once over every distinct occurrence instant (starts a week apart share all
but one), and each start's occurrences are looked up in it: array work, no loop per start.
"""

from __future__ import annotations

import attrs
import numpy as np

from slotfinder import hours, recur
from slotfinder import intervals as iv
from slotfinder.caps import CapBlocks, cap_blocks
from slotfinder.engine.detail import scores_by_counts, suggestions
from slotfinder.engine.explain import ALTERNATIVES, explain
from slotfinder.engine.kernel import (
    BoolArray,
    FloatArray,
    Int64Array,
    People,
    gather,
    people,
    with_blocks,
)
from slotfinder.engine.needs import Need, needs
from slotfinder.engine.slots import _earliest, _unknowns, passing_starts, spread
from slotfinder.model import (
    DAY,
    Availability,
    Explanation,
    MeetingRequest,
    Occurrence,
    Reason,
    Span,
    Suggestion,
    SuggestionResult,
)

__all__ = ["find_series", "series_span"]


@attrs.frozen(eq=False)
class _Placed:
    """Series starts (sorted) and their occurrences: ``at[i, k]`` where ``valid[i, k]``."""

    starts: Int64Array
    at: Int64Array
    valid: BoolArray
    tried: int  # grid starts looked at, series or not


def _days(request: MeetingRequest) -> tuple[recur.Rule, int, int]:
    """The rule and the first and last local dates a start can have."""
    w, zone = request.window, request.zone
    first = recur.local_day(zone, w.start)
    return request.rule(), first, max(first, recur.local_day(zone, w.end - request.duration))


def series_span(request: MeetingRequest) -> Span:
    """The stretch whose busy time decides a series request: the window, and on to the end
    of the last occurrence any start in it can have (the window itself without ``repeat``)."""
    w = request.window
    if request.repeat is None:
        return w
    rule, first, last = _days(request)
    offsets, valid = recur.table(rule, first, last)
    if not valid.any():
        return w
    day = int((np.arange(first, last + 1)[:, None] + offsets)[valid].max())
    end = int(hours.from_wall(request.zone, [(day + 1) * DAY])[0]) + request.duration
    return Span(w.start, max(w.end, end))


def _place(request: MeetingRequest, earliest: int) -> _Placed:
    """Every series start and its occurrences (the module docstring's first two rules)."""
    w, d, zone = request.window, request.duration, request.zone
    c = hours.grid(zone, max(w.start, earliest), w.end - d + 1, request.granularity)
    rule, first, last = _days(request)
    offsets, valid = recur.table(rule, first, last)
    wall = hours.to_wall(zone, c)
    day = wall // DAY
    row = day - first
    walls = (day[:, None] + offsets[row]) * DAY + (wall - day * DAY)[:, None]
    ok = valid[row]
    if rule.until_wall is not None:
        ok &= walls <= rule.until_wall
    begins = ok[:, 0]
    at = hours.from_wall(zone, walls[begins]).reshape(-1, offsets.shape[1])
    at[:, 0] = c[begins]
    return _Placed(c[begins], at, ok[begins], int(c.size))


def _lookup(q: Int64Array, at: Int64Array) -> Int64Array:
    """Index of each of ``at`` in the sorted ``q``, -1 where absent."""
    i = np.minimum(np.searchsorted(q, at), max(q.size - 1, 0))
    hit = q[i] == at if q.size else np.zeros(at.shape, dtype=bool)
    return np.where(hit, i, -1)


def _blockers(
    p: People, rooms: People, request: MeetingRequest, t: Int64Array
) -> dict[int, tuple[str, ...]]:
    """Who blocks each failing occurrence start ``t`` (sorted, distinct): the required
    attendees whose list there does not pass (unavailable; unknown with ``unknown="exclude"``;
    tentative with ``tentative="busy"``), else the rooms."""
    required = {a.id for a in request.required}
    out: dict[int, tuple[str, ...]] = {}
    no_room = np.full(t.shape, -1, dtype=np.int64)
    for s in suggestions(p, rooms, t, no_room, request):
        lists = [s.unavailable]
        if request.unknown == "exclude":
            lists.append(s.unknown)
        if request.tentative == "busy":
            lists.append(s.tentative)
        off = {i for ids in lists for i in ids}
        who = tuple(i for i in p.ids.tolist() if i in off and i in required)
        out[s.start] = who or tuple(r.id for r in request.rooms)
    return out


def _series_slots(
    p: People,
    rooms: People,
    request: MeetingRequest,
    placed: _Placed,
    *,
    passes: BoolArray,
    room: Int64Array,
    picks: Int64Array,
    scores: FloatArray | None,
) -> tuple[Suggestion, ...]:
    """Suggestions for the starts ``picks`` (in that order), each with its occurrences."""
    d = request.duration
    failing = np.unique(placed.at[picks][placed.valid[picks] & ~passes[picks]])
    why = _blockers(p, rooms, request, failing) if failing.size else {}
    plain = suggestions(p, rooms, placed.starts[picks], room[picks, 0], request, scores=scores)
    names = [*rooms.ids.tolist(), None]  # room -1 picks None
    out = []
    for s, i in zip(plain, picks.tolist(), strict=True):
        occ = tuple(
            Occurrence(
                start=t,
                end=t + d,
                passes=ok,
                room=names[r],
                blocked_by=() if ok else why[t],
            )
            for t, ok, r, v in zip(
                placed.at[i].tolist(),
                passes[i].tolist(),
                room[i].tolist(),
                placed.valid[i].tolist(),
                strict=True,
            )
            if v
        )
        out.append(attrs.evolve(s, occurrences=occ))
    return tuple(out)


def _explain(
    p: People,
    rooms: People,
    plain: tuple[People, People, People],
    request: MeetingRequest,
    placed: _Placed,
    *,
    passes: BoolArray,
    room: Int64Array,
    earliest: int,
    why: dict[str, str],
    ns: list[Need],
    caps: CapBlocks,
) -> Explanation:
    """Why no series fits: the starts with the fewest failing occurrences, naming who blocks
    each; that no start begins a series; or, with no start at all, the plain reasons."""
    fails = (placed.valid & ~passes).sum(axis=1)
    if placed.starts.size:
        limit = min(request.max_results, ALTERNATIVES)
        picks = np.lexsort((placed.starts, fails))[:limit]
        alternatives = _series_slots(
            p, rooms, request, placed, passes=passes, room=room, picks=picks, scores=None
        )
        blockers = dict.fromkeys(i for o in alternatives[0].conflicts for i in o.blocked_by)
        reason = Reason(
            "series_conflicts",
            f"every start has at least {int(fails.min())} occurrences that do not fit; "
            f"{request.allow_conflicts} allowed (allow_conflicts)",
            tuple(blockers),
        )
        return Explanation(reasons=(reason,), alternatives=alternatives)
    if placed.tried:
        reason = Reason(
            "series_never_starts",
            f"no start in the window begins a series of {request.repeat}: "
            "from each of its dates the rule's first date is a later one",
        )
        return Explanation(reasons=(reason,))
    at_window, window_rooms, uncapped = plain
    return explain(
        at_window,
        window_rooms,
        request,
        earliest=earliest,
        needs=ns,
        next_after_window=None,
        why=why,
        plain=uncapped,
        caps=caps,
    )


def find_series(avs_given: tuple[Availability, ...], request: MeetingRequest) -> SuggestionResult:
    """The series of the module docstring, ``avs_given`` already checked."""
    avs: dict[str, Availability] = {}
    for av in avs_given:
        avs.setdefault(av.id, av)
    earliest = _earliest(request)
    w = request.window
    span = series_span(request)
    policy = request.unanswered
    own = gather(request.attendees, avs, request.buffer_after, request.buffer_before, policy)
    caps = cap_blocks(request.attendees, avs, request, span.start, span.end)
    raw = with_blocks(own, caps.owner, caps.start, caps.end)
    raw_rooms = gather(request.rooms, avs, 0, 0, policy)
    p, rooms = people(raw, span), people(raw_rooms, span)
    ns = needs(raw.ids, raw.required, request)
    placed = _place(request, earliest)
    solved = passing_starts(p, rooms, request, np.unique(placed.at[placed.valid]), ns)
    where = _lookup(solved.starts, placed.at)
    passes = placed.valid & (where >= 0)
    room = np.append(solved.rooms, -1)[where]  # where -1 (fails) picks the -1 appended
    fails = (placed.valid & ~passes).sum(axis=1)
    chosen = np.flatnonzero(fails <= request.allow_conflicts)
    scores = None
    if request.order == "start" or chosen.size <= 1:
        picks = chosen[: request.max_results]
    else:
        q = placed.starts[chosen]
        sc = scores_by_counts(p, q, request)
        key = sc - 1000.0 * fails[chosen]  # scores lie in [0, 100]: fewer failures first
        ranked = np.lexsort((q, -key))
        if q.size > request.max_results:
            ranked = spread(q, key, ranked, request)
        picks, scores = chosen[ranked], sc[ranked]
    unknown = _unknowns((raw, raw_rooms), span)
    slots: tuple[Suggestion, ...] = ()
    explanation = None
    if picks.size:
        slots = _series_slots(
            p, rooms, request, placed, passes=passes, room=room, picks=picks, scores=scores
        )
    else:
        at_window = people(raw, w)
        plain = (at_window, people(raw_rooms, w), people(own, w) if caps.size else at_window)
        why = {u.id: u.reason for u in unknown}
        explanation = _explain(
            p,
            rooms,
            plain,
            request,
            placed,
            passes=passes,
            room=room,
            earliest=earliest,
            why=why,
            ns=ns,
            caps=caps,
        )
    periods = iv.clip(solved.periods, w.start, w.end)
    return SuggestionResult(
        slots=slots,
        periods=tuple(Span(int(a), int(b)) for a, b in zip(*periods, strict=True)),
        unknown=unknown,
        explanation=explanation,
        request=request,
        availabilities=avs_given,
    )
