"""The planner: which calls cover a set of ids over a window with the fewest calls.

An endpoint takes at most ``max_ids`` ids and ``max_span`` seconds per call, so asking about
``m`` ids over the window through endpoint ``e`` costs ``ceil(window / e.max_span)`` calls per
group of up to ``e.max_ids`` ids. With several endpoints for the same kind of id (Feishu's
``freebusy/batch``: 10 users, 14 days; ``freebusy/list``: 1 user, 90 days) the cheapest mix is
not obvious — one user over 60 days is 1 ``list`` call but 5 ``batch`` calls — so the planner
solves it exactly: an unbounded-knapsack dynamic programme over the number of ids, O(n x
endpoints), which is nothing next to one HTTP round trip.

Pure and deterministic: the same input gives the same calls in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from slotfinder.errors import InputError
from slotfinder.model import Span
from slotfinder.providers import Call, Endpoint, Kind, Limits, Target

__all__ = ["chunks", "min_calls", "plan_calls"]


def chunks(window: Span, max_span: int) -> list[Span]:
    """Split ``window`` into consecutive pieces of at most ``max_span`` seconds.

    Pieces are as long as allowed from the start, so the count is the minimum,
    ``ceil(window / max_span)``; the seams are where events may come back twice.
    """
    if max_span <= 0:
        raise InputError("max_span", max_span, "must be positive")
    return [
        Span(start, min(window.end, start + max_span))
        for start in range(window.start, window.end, max_span)
    ]


def _groups(n: int, endpoints: Sequence[Endpoint], window: Span) -> list[tuple[Endpoint, int]]:
    """Optimal list of (endpoint, group size) covering ``n`` ids, by dynamic programming."""
    length = max(1, window.seconds)
    costs = [math.ceil(length / e.max_span) for e in endpoints]
    best = [0] + [math.inf] * n
    choice: list[tuple[int, int]] = [(-1, 0)] * (n + 1)
    for m in range(1, n + 1):
        for i, e in enumerate(endpoints):
            top = min(m, e.max_ids)
            # With min_ids 1 a full group is never worse; otherwise a smaller one may be needed
            # to leave a remainder the endpoint accepts (7 ids, 3-5 a call: 3 + 4).
            sizes = (top,) if e.min_ids <= 1 else range(top, e.min_ids - 1, -1)
            for size in sizes:
                cost = costs[i] + best[m - size]
                # Ties keep the earlier endpoint and the larger group.
                if cost < best[m]:
                    best[m] = cost
                    choice[m] = (i, size)
    if n and math.isinf(best[n]):
        raise InputError("ids", n, "no endpoint can serve this many ids")
    out: list[tuple[Endpoint, int]] = []
    m = n
    while m > 0:
        i, size = choice[m]
        out.append((endpoints[i], size))
        m -= size
    # Large groups first: full batches, then the remainder.
    out.sort(key=lambda g: (-g[1], endpoints.index(g[0])))
    return out


def min_calls(n: int, kind: Kind, window: Span, limits: Limits) -> int:
    """The fewest calls that cover ``n`` ids of ``kind`` over ``window``."""
    endpoints = [e for e in limits.endpoints if e.kind == kind]
    length = max(1, window.seconds)
    return sum(math.ceil(length / e.max_span) for e, _ in _groups(n, endpoints, window))


def plan_calls(targets: Sequence[Target], window: Span, limits: Limits) -> list[Call]:
    """The fewest calls covering every target over ``window`` within every endpoint limit.

    Duplicate targets are asked about once. Raises :class:`InputError` when a kind of id has
    no endpoint (e.g. rooms on a provider without a room API).
    """
    calls: list[Call] = []
    by_kind: dict[Kind, list[str]] = {}
    zone = {t.id: t.zone for t in targets}
    for kind, i in dict.fromkeys((t.kind, t.id) for t in targets):
        by_kind.setdefault(kind, []).append(i)
    for kind, ids in by_kind.items():
        endpoints = [e for e in limits.endpoints if e.kind == kind]
        if not endpoints:
            raise InputError(f"{kind}s", ids[:3], f"this provider cannot look up {kind}s")
        pos = 0
        for endpoint, size in _groups(len(ids), endpoints, window):
            group = tuple(ids[pos : pos + size])
            pos += size
            zones = tuple((i, zone[i]) for i in group)
            calls.extend(
                Call(endpoint=endpoint.name, ids=group, span=piece, kind=kind, zones=zones)
                for piece in chunks(window, endpoint.max_span)
            )
    return calls
