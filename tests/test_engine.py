"""find_slots: one example per rule, and properties against the brute-force tests/reference."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st

from slotfinder.engine import find_slots
from slotfinder.model import (
    Attendee,
    Availability,
    Busy,
    MeetingRequest,
    Span,
    Status,
    WorkingHours,
)

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Shanghai",
    "UTC",
]
# Window starts chosen near DST transitions of the zones above (and one quiet week).
ANCHORS = [
    int(datetime(2026, 3, 28, tzinfo=ZoneInfo("UTC")).timestamp()),  # EU spring forward 29 Mar
    int(datetime(2026, 10, 24, tzinfo=ZoneInfo("UTC")).timestamp()),  # EU fall back 25 Oct
    int(datetime(2026, 3, 7, tzinfo=ZoneInfo("UTC")).timestamp()),  # US spring forward 8 Mar
    int(datetime(2026, 10, 31, tzinfo=ZoneInfo("UTC")).timestamp()),  # US fall back 1 Nov
    int(datetime(2026, 4, 4, tzinfo=ZoneInfo("UTC")).timestamp()),  # Lord Howe back 5 Apr
    int(datetime(2026, 10, 3, tzinfo=ZoneInfo("UTC")).timestamp()),  # Lord Howe fwd 4 Oct
    int(datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")).timestamp()),
]
H = 3600
M = 60


# --- strategies ----------------------------------------------------------------------------


@st.composite
def working_hours(draw: st.DrawFn) -> WorkingHours | None:
    if draw(st.booleans()):
        return None
    zone = draw(st.sampled_from(ZONES))
    rules = []
    for day in draw(st.sets(st.integers(0, 6), min_size=1, max_size=7)):
        start = draw(st.integers(0, 47)) * 30
        length = draw(st.integers(1, 48)) * 30
        rules.append((day, start, min(start + length, start + 1440)))
    return WorkingHours(zone=zone, rules=tuple(rules))


@st.composite
def busy_list(draw: st.DrawFn, lo: int, hi: int) -> list[Busy]:
    out = []
    for _ in range(draw(st.integers(0, 6))):
        s = draw(st.integers(lo - 2 * H, hi + H))
        length = draw(st.sampled_from([0, 5 * M, 15 * M, 30 * M, H, 2 * H, 5 * H])) + draw(
            st.sampled_from([0, 0, 1, 7 * M])
        )
        status = draw(st.sampled_from(list(Status)))
        out.append(Busy(span=Span(s, s + length), status=status))
    return out


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Availability], MeetingRequest]:
    anchor = draw(st.sampled_from(ANCHORS))
    w0 = anchor + draw(st.integers(0, 24 * 4)) * 15 * M + draw(st.sampled_from([0, 0, 7 * M]))
    w1 = w0 + draw(st.integers(4, 60)) * H
    n = draw(st.integers(2, 4))
    attendees = []
    avs = []
    for i in range(n):
        aid = f"p{i}"
        attendees.append(
            Attendee(
                id=aid,
                optional=i > 0 and draw(st.booleans()),
                working_hours=draw(working_hours()),
            )
        )
        kind = draw(st.sampled_from(["ok", "ok", "ok", "error", "missing", "covered"]))
        if kind == "error":
            avs.append(Availability.unknown(aid, "boom"))
        elif kind == "ok":
            avs.append(Availability.of(aid, draw(busy_list(w0, w1))))
        elif kind == "covered":
            c0 = draw(st.integers(w0 - H, w1))
            c1 = draw(st.integers(c0, w1 + H))
            avs.append(Availability.of(aid, draw(busy_list(w0, w1)), covered=Span(c0, c1)))
    rooms = []
    for j in range(draw(st.integers(0, 2))):
        rid = f"room{j}"
        rooms.append(Attendee(id=rid, working_hours=draw(working_hours())))
        if draw(st.integers(0, 4)):
            avs.append(Availability.of(rid, draw(busy_list(w0, w1))))
    n_req = sum(not a.optional for a in attendees)
    quorum = draw(st.one_of(st.none(), st.integers(1, n_req)))
    duration = draw(st.sampled_from([15 * M, 30 * M, H, 90 * M, 3 * H]))
    duration = min(duration, w1 - w0)
    request = MeetingRequest(
        attendees=tuple(attendees),
        rooms=tuple(rooms),
        window=Span(w0, w1),
        duration=duration,
        granularity=draw(st.sampled_from([300, 900, 1800, 3600])),
        buffer_before=draw(st.sampled_from([0, 0, 5 * M, 15 * M])),
        buffer_after=draw(st.sampled_from([0, 0, 10 * M, 30 * M])),
        min_notice=draw(st.sampled_from([0, 0, 2 * H])),
        now=w0 + draw(st.integers(-H, 10 * H)),
        quorum=quorum,
        tentative=draw(st.sampled_from(["busy", "free"])),
        unknown=draw(st.sampled_from(["exclude", "flag"])),
        max_results=10_000,
        order="start",
        zone=draw(st.sampled_from(ZONES)),
    )
    return avs, request


# --- properties ----------------------------------------------------------------------------


@given(scenario())
def test_slots_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Chronological slots, their rooms and per-attendee lists equal the brute-force reference."""
    avs, request = case
    result = find_slots(avs, request)
    ref_slots, _ = reference.find(avs, request, now=request.now or 0)
    got = [
        (s.start, s.end, s.available, s.tentative, s.unavailable, s.unknown, s.room)
        for s in result.slots
    ]
    want = [
        (r.start, r.end, r.available, r.tentative, r.unavailable, r.unknown, r.room)
        for r in ref_slots
    ]
    assert got == want


@given(scenario())
def test_periods_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Common free periods equal the reference's, segment by segment."""
    avs, request = case
    result = find_slots(avs, request)
    _, ref_periods = reference.find(avs, request, now=request.now or 0)
    assert [(p.start, p.end) for p in result.periods] == ref_periods


@given(scenario())
def test_scores_bounded_and_ranked(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Scores lie in [0, 100]; score order is by score then start and holds the same slots."""
    avs, request = case
    by_start = find_slots(avs, request)
    import attrs

    by_score = find_slots(avs, attrs.evolve(request, order="score"))
    assert sorted(s.start for s in by_score.slots) == [s.start for s in by_start.slots]
    keys = [(-s.score, s.start) for s in by_score.slots]
    assert keys == sorted(keys)
    assert all(0.0 <= s.score <= 100.0 for s in by_score.slots)
    scores = {s.start: s.score for s in by_start.slots}
    assert all(scores[s.start] == pytest.approx(s.score) for s in by_score.slots)
