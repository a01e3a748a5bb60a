"""The planner: full coverage, every limit respected, and the fewest calls (against brute force)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder.errors import InputError
from slotfinder.model import DAY, Span
from slotfinder.plan import chunks, min_calls, plan_calls
from slotfinder.providers import Call, Endpoint, Kind, Limits, Target

T0 = 1_790_000_000
Case = tuple[list[Target], Span, Limits]

FEISHU = Limits(
    endpoints=(
        Endpoint(name="batch", kind="user", max_ids=10, max_span=14 * DAY),
        Endpoint(name="list", kind="user", max_ids=1, max_span=90 * DAY),
        Endpoint(name="list_room", kind="room", max_ids=1, max_span=90 * DAY),
    )
)
DINGTALK = Limits(
    endpoints=(
        Endpoint(name="schedule", kind="user", max_ids=20, max_span=90 * DAY),
        Endpoint(name="rooms", kind="room", max_ids=5, max_span=90 * DAY),
    )
)


def _targets(users: int, rooms: int = 0) -> list[Target]:
    return [Target(id=f"u{i}") for i in range(users)] + [
        Target(id=f"r{i}", kind="room") for i in range(rooms)
    ]


def brute_force_min(n: int, endpoints: Sequence[Endpoint], window: Span) -> float:
    """Fewest calls for ``n`` ids, trying every count of groups per endpoint.

    ``g`` groups on an endpoint hold between ``g * min_ids`` and ``g * max_ids`` ids, so a mix
    of counts is feasible when ``n`` lies between the sums. No optimum uses more than
    ``ceil(n / max_ids)`` groups of one endpoint (one group could be dropped), which bounds
    the search.
    """
    if n == 0:
        return 0
    length = window.seconds
    best: float = math.inf
    ranges = [range(math.ceil(n / e.max_ids) + 1) for e in endpoints]
    for counts in itertools.product(*ranges):
        low = sum(g * e.min_ids for g, e in zip(counts, endpoints, strict=True))
        high = sum(g * e.max_ids for g, e in zip(counts, endpoints, strict=True))
        if low <= n <= high:
            cost = sum(
                g * math.ceil(length / e.max_span) for g, e in zip(counts, endpoints, strict=True)
            )
            best = min(best, cost)
    return best


def check_plan(calls: list[Call], targets: Sequence[Target], window: Span, limits: Limits) -> None:
    """Assert coverage and limits: each (id, instant) of the window asked exactly once."""
    by_name = {(e.name, e.kind): e for e in limits.endpoints}
    asked: dict[tuple[Kind, str], list[Span]] = {}
    for call in calls:
        endpoint = by_name[(call.endpoint, call.kind)]
        assert endpoint.min_ids <= len(call.ids) <= endpoint.max_ids, call
        assert len(set(call.ids)) == len(call.ids), call
        assert 0 < call.span.seconds <= endpoint.max_span, call
        assert window.start <= call.span.start
        assert call.span.end <= window.end
        for ident in call.ids:
            asked.setdefault((call.kind, ident), []).append(call.span)
    wanted = {(t.kind, t.id) for t in targets}
    assert set(asked) == wanted
    for key, spans in asked.items():
        spans.sort()
        # Contiguous, non-overlapping pieces from the window's start to its end.
        assert spans[0].start == window.start, key
        assert spans[-1].end == window.end, key
        for a, b in itertools.pairwise(spans):
            assert a.end == b.start, key


@st.composite
def endpoints_of(draw: st.DrawFn, kind: Kind, min_size: int) -> list[Endpoint]:
    count = draw(st.integers(min_size, 3))
    out = []
    for i in range(count):
        max_ids = draw(st.integers(1, 25))
        # Mostly 1 (every real API so far), sometimes more: the planner must split unevenly.
        min_ids = draw(st.one_of(st.just(1), st.integers(1, max_ids)))
        out.append(
            Endpoint(
                name=f"{kind}{i}",
                kind=kind,
                max_ids=max_ids,
                max_span=draw(st.integers(3600, 100 * DAY)),
                min_ids=min_ids,
            )
        )
    return out


@st.composite
def cases(draw: st.DrawFn) -> Case:
    users = draw(endpoints_of("user", 1))
    rooms = draw(endpoints_of("room", 0))
    limits = Limits(endpoints=tuple(draw(st.permutations(users + rooms))))
    start = T0 + draw(st.integers(0, 365 * DAY))
    window = Span(start, start + draw(st.integers(1, 200 * DAY)))
    n_rooms = draw(st.integers(0, 12)) if rooms else 0
    targets = _targets(draw(st.integers(0, 40)), n_rooms)
    # Duplicates are asked about once.
    targets += draw(st.lists(st.sampled_from(targets), max_size=3)) if targets else []
    return targets, window, limits


@given(cases())
def test_plan_covers_respects_limits_and_is_minimal(case: Case) -> None:
    """Every (id, instant) is asked once, within every limit, in the fewest calls possible."""
    targets, window, limits = case
    best = {
        kind: brute_force_min(
            len({t.id for t in targets if t.kind == kind}),
            [e for e in limits.endpoints if e.kind == kind],
            window,
        )
        for kind in ("user", "room")
        if any(e.kind == kind for e in limits.endpoints)
    }
    if any(math.isinf(b) for b in best.values()):
        # No mix of group sizes fits (e.g. 2 ids, every endpoint wants at least 3).
        with pytest.raises(InputError, match="no endpoint can serve"):
            plan_calls(targets, window, limits)
        return
    calls = plan_calls(targets, window, limits)
    check_plan(calls, targets, window, limits)
    for kind in ("user", "room"):
        n = len({t.id for t in targets if t.kind == kind})
        endpoints = [e for e in limits.endpoints if e.kind == kind]
        got = sum(1 for c in calls if c.kind == kind)
        if endpoints:
            assert got == best[kind]
            assert min_calls(n, kind, window, limits) == got


@given(cases())
def test_plan_is_deterministic(case: Case) -> None:
    """The same input gives the same calls in the same order."""
    targets, window, limits = case

    def outcome() -> list[Call] | str:
        try:
            return plan_calls(targets, window, limits)
        except InputError as exc:
            return str(exc)

    assert outcome() == outcome()


@given(
    users=st.integers(0, 60),
    rooms=st.integers(0, 20),
    days=st.integers(1, 200),
    limits=st.sampled_from([FEISHU, DINGTALK]),
)
def test_real_endpoint_mixes(users: int, rooms: int, days: int, limits: Limits) -> None:
    """Feishu-like (batch 10/14 d + list 1/90 d) and DingTalk-like mixes plan minimally."""
    window = Span(T0, T0 + days * DAY)
    targets = _targets(users, rooms)
    calls = plan_calls(targets, window, limits)
    check_plan(calls, targets, window, limits)
    want = sum(
        brute_force_min(n, [e for e in limits.endpoints if e.kind == kind], window)
        for kind, n in (("user", users), ("room", rooms))
    )
    assert len(calls) == want


@pytest.mark.parametrize(
    ("limits", "users", "rooms", "days", "expected"),
    [
        pytest.param(FEISHU, 15, 0, 90, {"batch": 7, "list": 5}, id="feishu-15x90-is-12"),
        pytest.param(FEISHU, 1, 0, 60, {"list": 1}, id="feishu-1x60-is-1-list"),
        pytest.param(FEISHU, 10, 0, 14, {"batch": 1}, id="feishu-10x14-is-1-batch"),
        pytest.param(FEISHU, 20, 2, 30, {"batch": 6, "list_room": 2}, id="feishu-20x30"),
        pytest.param(DINGTALK, 45, 7, 90, {"schedule": 3, "rooms": 2}, id="dingtalk-45+7x90"),
        pytest.param(DINGTALK, 20, 0, 180, {"schedule": 2}, id="dingtalk-20x180"),
    ],
)
def test_examples(
    limits: Limits, users: int, rooms: int, days: int, expected: dict[str, int]
) -> None:
    """Worked examples: 15 users x 90 days on Feishu is 12 calls; 1 user x 60 days is 1 list."""
    window = Span(T0, T0 + days * DAY)
    calls = plan_calls(_targets(users, rooms), window, limits)
    counts: dict[str, int] = {}
    for c in calls:
        counts[c.endpoint] = counts.get(c.endpoint, 0) + 1
    assert counts == expected


def test_zones_travel_with_the_ids() -> None:
    """Each call carries the zones of exactly its ids (for all-day items)."""
    targets = [Target(id="a", zone="Asia/Tokyo"), Target(id="b", zone="Europe/Berlin")]
    [call] = plan_calls(targets, Span(T0, T0 + DAY), DINGTALK)
    assert call.zone_of("a") == "Asia/Tokyo"
    assert call.zone_of("b") == "Europe/Berlin"
    assert call.subset(("b",)).zones == (("b", "Europe/Berlin"),)


def test_kind_without_endpoint_is_refused() -> None:
    """Rooms on a provider without a room endpoint are an InputError naming the kind."""
    limits = Limits(endpoints=(FEISHU.endpoints[0],))
    with pytest.raises(InputError, match="cannot look up rooms"):
        plan_calls(_targets(1, 1), Span(T0, T0 + DAY), limits)


@given(st.integers(1, 400 * DAY), st.integers(1, 1000), st.integers(0, 100 * DAY))
def test_chunks_are_minimal_and_contiguous(length: int, parts: int, extra: int) -> None:
    """``chunks`` splits into ceil(length / max_span) touching pieces within the limit."""
    max_span = max(1, length // parts) + extra  # at most ~1000 pieces
    window = Span(T0, T0 + length)
    pieces = chunks(window, max_span)
    assert len(pieces) == math.ceil(length / max_span)
    assert pieces[0].start == window.start
    assert pieces[-1].end == window.end
    assert all(0 < p.seconds <= max_span for p in pieces)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))


def test_min_ids_above_one_can_split_unevenly() -> None:
    """With min_ids 3 and max_ids 5, seven ids fit in two calls (3 + 4)."""
    limits = Limits(
        endpoints=(Endpoint(name="a", kind="user", max_ids=5, max_span=DAY, min_ids=3),)
    )
    calls = plan_calls(_targets(7), Span(T0, T0 + DAY), limits)
    check_plan(calls, _targets(7), Span(T0, T0 + DAY), limits)
    assert len(calls) == 2
