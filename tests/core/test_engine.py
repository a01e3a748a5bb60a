"""find_slots: one example per rule, and properties against the brute-force tests/reference."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
import pytest
import reference
from hypothesis import given, settings
from hypothesis import strategies as st

from slotfinder.engine import find_slots
from slotfinder.errors import InputError, SlotfinderError
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
        unanswered=draw(st.sampled_from(["busy", "tentative", "free"])),
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
    assert all(scores[s.start] == s.score for s in by_score.slots)
    if 2 < len(by_start.slots) < request.max_results:  # all known: offer fewer, spread
        k = len(by_start.slots) - 1
        fewer = find_slots(avs, attrs.evolve(request, order="score", max_results=k))
        offered = reference.spread(list(scores.items()), request.duration, request.zone, k)
        assert [(s.start, s.score) for s in fewer.slots] == offered


# --- examples ------------------------------------------------------------------------------

MON = int(datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")).timestamp())  # a Monday
NINE_TO_FIVE = WorkingHours.parse("UTC", {"mon-fri": "09:00-17:00"})


def at(hour: float, day: int = 0) -> int:
    """Epoch seconds of ``hour`` o'clock UTC on Monday + ``day``."""
    return MON + day * 86_400 + round(hour * 3600)


def busy(start: float, end: float, status: Status = Status.BUSY, day: int = 0) -> Busy:
    return Busy(span=Span(at(start, day), at(end, day)), status=status)


def req(*ids: str, **kw: object) -> MeetingRequest:
    """A one-day request (Monday, 09:00-17:00 UTC window), one hour, 15-minute grid."""
    optional = set(kw.pop("optional", ()))  # type: ignore[call-overload]
    kw.setdefault("window", Span(at(9), at(17)))
    kw.setdefault("duration", 3600)
    kw.setdefault("max_results", 1000)
    kw.setdefault("order", "start")
    return MeetingRequest(
        attendees=tuple(Attendee(id=i, optional=i in optional) for i in ids),
        **kw,  # type: ignore[arg-type]
    )


def starts(result: object) -> list[float]:
    """Slot starts as UTC hours of Monday."""
    return [(s.start - MON) / 3600 for s in result.slots]  # type: ignore[attr-defined]


def test_half_open_busy_end_allows_slot_at_that_time() -> None:
    """A meeting ending at 10:00 does not block a slot starting at 10:00."""
    result = find_slots([Availability.of("a", [busy(9, 10)])], req("a"))
    assert starts(result)[0] == 10.0
    assert result.periods == (Span(at(10), at(17)),)


def test_busy_start_blocks_slot_that_overlaps_it() -> None:
    """A meeting at 11:00 blocks an hour from 10:15 but not from 10:00."""
    result = find_slots([Availability.of("a", [busy(11, 17)])], req("a"))
    assert starts(result) == [9.0, 9.25, 9.5, 9.75, 10.0]


def test_zero_length_busy_blocks_nothing_even_with_buffers() -> None:
    """A zero-length busy entry blocks nothing, buffers or not."""
    request = req("a", buffer_before=900, buffer_after=900)
    result = find_slots([Availability.of("a", [busy(12, 12)])], request)
    assert len(result.slots) == 29
    assert result.periods == (Span(at(9), at(17)),)


def test_buffer_before_needs_gap_after_previous_meeting() -> None:
    """buffer_before: a meeting ending 10:00 pushes the next slot to 10:15."""
    result = find_slots([Availability.of("a", [busy(9, 10)])], req("a", buffer_before=900))
    assert starts(result)[0] == 10.25


def test_buffer_after_needs_gap_before_next_meeting() -> None:
    """buffer_after: before a meeting at 11:00, a 45-minute slot must end by 10:45."""
    request = req("a", buffer_after=900, duration=2700)
    result = find_slots([Availability.of("a", [busy(11, 17)])], request)
    assert starts(result) == [9.0, 9.25, 9.5, 9.75, 10.0]
    unbuffered = find_slots([Availability.of("a", [busy(11, 17)])], req("a", duration=2700))
    assert starts(unbuffered)[-1] == 10.25
    assert result.periods == (Span(at(9), at(10.75)),)


def test_min_notice_counts_from_now() -> None:
    """Slots start no earlier than now + min_notice."""
    request = req("a", min_notice=7200, now=at(9) + 60)
    result = find_slots([Availability.of("a")], request)
    assert starts(result)[0] == 11.25


def test_tentative_blocks_by_default() -> None:
    """With tentative='busy' a tentative meeting blocks its time like a busy one."""
    result = find_slots([Availability.of("a", [busy(9, 16, Status.TENTATIVE)])], req("a"))
    assert starts(result) == [16.0]


def test_tentative_free_policy_offers_but_penalises() -> None:
    """With tentative='free' the slot passes, lists the attendee as tentative and scores lower."""
    avs = [Availability.of("a", [busy(9, 10, Status.TENTATIVE)]), Availability.of("b")]
    result = find_slots(avs, req("a", "b", tentative="free"))
    first, later = result.slots[0], result.slots[-1]
    assert (first.start, first.tentative, first.available) == (at(9), ("a",), ("b",))
    assert later.available == ("a", "b")
    assert first.score < later.score


def test_free_status_blocks_nothing() -> None:
    """Entries with status free never block."""
    result = find_slots([Availability.of("a", [busy(9, 17, Status.FREE)])], req("a"))
    assert len(result.slots) == 29


def test_unknown_excluded_means_no_slots_and_a_reason() -> None:
    """An unreadable required attendee is never free by default, and is reported."""
    avs = [Availability.of("a"), Availability.unknown("b", "token expired")]
    result = find_slots(avs, req("a", "b"))
    assert result.slots == ()
    assert [(u.id, u.reason) for u in result.unknown] == [("b", "token expired")]
    assert result.explanation is not None
    codes = {r.code: r.ids for r in result.explanation.reasons}
    assert codes["unknown_attendees"] == ("b",)


def test_unknown_flagged_passes_and_is_listed_on_every_slot() -> None:
    """With unknown='flag', slots are offered and each lists the unknown attendee."""
    result = find_slots([Availability.of("a")], req("a", "b", unknown="flag"))
    assert len(result.slots) == 29
    assert all(s.unknown == ("b",) and s.available == ("a",) for s in result.slots)
    assert [(u.id, u.reason) for u in result.unknown] == [("b", "no availability given")]


def test_covered_limits_what_is_known() -> None:
    """Outside Availability.covered an attendee is unknown: excluded, or flagged if asked."""
    avs = [Availability.of("a", covered=Span(at(0), at(12)))]
    assert starts(find_slots(avs, req("a")))[-1] == 11.0
    flagged = find_slots(avs, req("a", unknown="flag"))
    assert len(flagged.slots) == 29
    assert flagged.slots[-1].unknown == ("a",)
    assert flagged.slots[0].available == ("a",)


def test_quorum_offers_slots_and_lists_who_is_missing() -> None:
    """With quorum 2 of 3, a slot where one is busy passes and names them unavailable."""
    avs = [Availability.of("a"), Availability.of("b", [busy(9, 17)]), Availability.of("c")]
    result = find_slots(avs, req("a", "b", "c", quorum=2))
    assert len(result.slots) == 29
    assert result.slots[0].available == ("a", "c")
    assert result.slots[0].unavailable == ("b",)


def test_quorum_needs_the_same_people_for_the_whole_slot() -> None:
    """A period reached by different pairs over time does not make a slot for the pair quorum."""
    avs = [
        Availability.of("a", [busy(10, 17)]),
        Availability.of("b", [busy(9, 9.5), busy(10.5, 17)]),
        Availability.of("c", [busy(9, 10)]),
    ]
    result = find_slots(avs, req("a", "b", "c", quorum=2, window=Span(at(9), at(11))))
    assert result.periods == (Span(at(9.5), at(10.5)),)
    assert result.slots == ()


def test_optional_attendees_only_raise_the_score() -> None:
    """An optional attendee's busy time never blocks, but slots they can attend rank first."""
    avs = [Availability.of("a"), Availability.of("o", [busy(9, 15)])]
    result = find_slots(avs, req("a", "o", optional=["o"], order="score", max_results=3))
    assert [s.start for s in result.slots] == [at(15), at(15.25), at(15.5)] or all(
        s.available == ("a", "o") for s in result.slots
    )
    assert all(s.available == ("a", "o") for s in result.slots)
    by_start = find_slots(avs, req("a", "o", optional=["o"]))
    assert by_start.slots[0].unavailable == ("o",)
    assert by_start.slots[0].score < result.slots[0].score


def test_score_order_spreads_equal_slots_over_days() -> None:
    """A free week in score order offers one slot a day, not five shifts of one good time;
    asked for more, it follows the documented rule (tests/reference.py spread)."""
    avs = [Availability.of("a"), Availability.of("b")]
    week = Span(MON, MON + 5 * 86_400)
    request = MeetingRequest(
        attendees=[Attendee("a", working_hours=NINE_TO_FIVE), Attendee("b")],
        window=week, duration=1800, zone="UTC", order="score", max_results=5,
    )  # fmt: skip
    result = find_slots(avs, request)
    assert sorted((s.start - MON) // 86_400 for s in result.slots) == [0, 1, 2, 3, 4]
    scores = {
        s.start: s.score
        for s in find_slots(avs, attrs.evolve(request, order="start", max_results=500)).slots
    }
    more = find_slots(avs, attrs.evolve(request, max_results=7))
    offered = reference.spread(list(scores.items()), 1800, "UTC", 7)
    assert [(s.start, s.score) for s in more.slots] == offered


def test_required_outweighs_all_optional() -> None:
    """A slot with every required attendee beats one missing a required one but with optionals."""
    avs = [
        Availability.of("a"),
        Availability.of("b", [busy(9, 10)]),
        Availability.of("o1", [busy(10, 17)]),
        Availability.of("o2", [busy(10, 17)]),
    ]
    request = req("a", "b", "o1", "o2", optional=["o1", "o2"], quorum=1, order="score")
    result = find_slots(avs, request)
    assert result.slots[0].available == ("a", "b")


def test_fairness_prefers_the_middle_of_working_days() -> None:
    """Among slots everyone can attend, the one nearest mid-working-day ranks first."""
    attendees = (Attendee(id="a", working_hours=NINE_TO_FIVE),)
    request = MeetingRequest(
        attendees=attendees, window=Span(at(0), at(24)), duration=3600, max_results=3
    )
    result = find_slots([Availability.of("a")], request)
    assert result.slots[0].start == at(12.5)
    assert result.slots[0].score == 100.0
    assert result.slots[1].score < 100.0


def test_rooms_pick_first_free_room_in_order() -> None:
    """A slot names the first requested room free for the whole slot."""
    avs = [
        Availability.of("a"),
        Availability.of("r1", [busy(9, 10)]),
        Availability.of("r2"),
    ]
    request = req("a", rooms=(Attendee(id="r1"), Attendee(id="r2")))
    result = find_slots(avs, request)
    assert [(s.start, s.room) for s in result.slots[:2]] == [(at(9), "r2"), (at(9.25), "r2")]
    assert result.slots[4].room == "r1"


def test_rooms_get_no_buffers() -> None:
    """Attendee buffers do not apply to rooms."""
    avs = [Availability.of("a"), Availability.of("r1", [busy(9, 10)])]
    request = req("a", rooms=(Attendee(id="r1"),), buffer_before=1800)
    assert starts(find_slots(avs, request))[0] == 10.0


def test_unknown_room_is_never_free() -> None:
    """A room that could not be read is never booked and is reported unknown."""
    avs = [Availability.of("a"), Availability.unknown("r1", "403")]
    result = find_slots(avs, req("a", rooms=(Attendee(id="r1"),)))
    assert result.slots == ()
    assert [u.id for u in result.unknown] == ["r1"]


def test_periods_join_through_midnight() -> None:
    """Working hours 00:00-24:00 every day give one period through midnight."""
    wh = WorkingHours.parse("Europe/Berlin", {"mon-sun": "00:00-24:00"})
    request = MeetingRequest(
        attendees=(Attendee(id="a", working_hours=wh),),
        window=Span(at(0), at(0, day=3)),
        duration=3600,
    )
    assert find_slots([Availability.of("a")], request).periods == (Span(at(0), at(0, day=3)),)


def test_ranking_is_deterministic() -> None:
    """The same input gives the same result, whatever the order of availabilities."""
    avs = [
        Availability.of("a", [busy(10, 11), busy(13, 14, Status.TENTATIVE)]),
        Availability.of("b", [busy(15, 16)]),
        Availability.of("c", [busy(9, 9.5)]),
    ]
    request = req("a", "b", "c", optional=["c"], tentative="free", order="score")
    first = find_slots(avs, request)
    assert find_slots(list(reversed(avs)), request).slots == first.slots
    keys = [(-s.score, s.start) for s in first.slots]
    assert keys == sorted(keys)


def test_max_results_cuts_the_list() -> None:
    """max_results bounds how many slots come back, in either order."""
    for order in ("start", "score"):
        result = find_slots([Availability.of("a")], req("a", max_results=3, order=order))
        assert len(result.slots) == 3


# --- explanations --------------------------------------------------------------------------


def codes(result: object) -> dict[str, tuple[str, ...]]:
    explanation = result.explanation  # type: ignore[attr-defined]
    assert explanation is not None
    return {r.code: r.ids for r in explanation.reasons}


def test_explain_window_too_short_for_the_grid() -> None:
    """A window that holds the duration but no grid start that fits is window_too_short."""
    request = req("a", window=Span(at(9) + 60, at(10) + 120), duration=3600)
    assert "window_too_short" in codes(find_slots([Availability.of("a")], request))


def test_explain_window_too_short_for_working_hours() -> None:
    """Working hours too short for the meeting name the attendee under window_too_short."""
    wh = WorkingHours.parse("UTC", {"mon-fri": "09:00-09:30"})
    request = MeetingRequest(
        attendees=(Attendee(id="a", working_hours=wh), Attendee(id="b")),
        window=Span(at(0), at(24)),
        duration=3600,
    )
    assert codes(find_slots([Availability.of("a"), Availability.of("b")], request)) == {
        "window_too_short": ("a",)
    }


def test_explain_hours_never_overlap_names_the_pair() -> None:
    """Attendees whose working hours never meet are named under hours_never_overlap."""
    berlin = WorkingHours.parse("Europe/Berlin", {"mon-fri": "09:00-12:00"})
    new_york = WorkingHours.parse("America/New_York", {"mon-fri": "09:00-12:00"})
    request = MeetingRequest(
        attendees=(
            Attendee(id="ber", working_hours=berlin),
            Attendee(id="free"),
            Attendee(id="nyc", working_hours=new_york),
        ),
        window=Span(at(0), at(0, day=2)),
        duration=3600,
    )
    avs = [Availability.of(i) for i in ("ber", "free", "nyc")]
    result = find_slots(avs, request)
    assert result.periods == ()
    assert codes(result) == {"hours_never_overlap": ("ber", "nyc")}


def test_explain_busy_whole_window_names_the_busy_one() -> None:
    """An attendee busy through the whole window is named under busy_whole_window."""
    avs = [Availability.of("a"), Availability.of("b", [busy(8, 18)])]
    assert codes(find_slots(avs, req("a", "b"))) == {"busy_whole_window": ("b",)}


def test_explain_no_common_time_with_alternatives() -> None:
    """Everyone has time but never together: no_common_time, and alternatives name the missing."""
    avs = [
        Availability.of("a", [busy(9, 13)]),
        Availability.of("b", [busy(13, 17)]),
        Availability.of("c"),
    ]
    result = find_slots(avs, req("a", "b", "c", max_results=2))
    assert codes(result) == {"no_common_time": ()}
    assert result.explanation is not None
    alts = result.explanation.alternatives
    assert [(s.start, s.available, s.unavailable) for s in alts] == [
        (at(9), ("b", "c"), ("a",)),
        (at(9.25), ("b", "c"), ("a",)),
    ]


def test_explain_quorum_unreachable() -> None:
    """A quorum that is never met at once is quorum_unreachable."""
    avs = [
        Availability.of("a", [busy(9, 13)]),
        Availability.of("b", [busy(13, 17)]),
        Availability.of("c", [busy(9, 17)]),
    ]
    assert "quorum_unreachable" in codes(find_slots(avs, req("a", "b", "c", quorum=2)))


def test_explain_no_room_free() -> None:
    """Attendees free but every room busy gives no_room_free naming the rooms."""
    avs = [Availability.of("a"), Availability.of("r1", [busy(9, 17)])]
    result = find_slots(avs, req("a", rooms=(Attendee(id="r1"),)))
    assert codes(result) == {"no_room_free": ("r1",)}
    assert result.explanation is not None
    assert result.explanation.alternatives[0].room is None


def test_explain_busy_rooms_and_unreadable_rooms_apart() -> None:
    """Rooms read and busy stay under no_room_free; unreadable ones go under rooms_unknown,
    whose message names each with its reason (an unreadable room may be free)."""
    avs = [
        Availability.of("a"),
        Availability.of("r1", [busy(9, 17)]),
        Availability.unknown("r2", "HTTP 403"),
    ]
    rooms = (Attendee(id="r1"), Attendee(id="r2", name="Room 2"), Attendee(id="r3"))
    result = find_slots(avs, req("a", rooms=rooms))
    assert codes(result) == {"no_room_free": ("r1",), "rooms_unknown": ("r2", "r3")}
    assert result.explanation is not None
    message = next(r.message for r in result.explanation.reasons if r.code == "rooms_unknown")
    assert "Room 2 (HTTP 403)" in message
    assert "r3 (no availability given)" in message


def test_explain_room_data_not_covering_the_common_time_is_unknown() -> None:
    """A room read for the morning only is unknown in the afternoon, not busy there."""
    avs = [
        Availability.of("a", [busy(9, 13)]),
        Availability.of("r1", [busy(9, 13)], covered=Span(at(9), at(13))),
    ]
    result = find_slots(avs, req("a", rooms=(Attendee(id="r1"),)))
    assert codes(result) == {"rooms_unknown": ("r1",)}


def test_explain_unreadable_room_closed_when_attendees_are_free_is_not_unknown() -> None:
    """An unreadable room whose working hours never hold the common time could not be free
    anyway: it is under no_room_free, not rooms_unknown."""
    mornings = WorkingHours.parse("UTC", {"mon-sun": "09:00-12:00"})
    avs = [Availability.of("a", [busy(9, 12)]), Availability.unknown("r1", "timeout")]
    result = find_slots(avs, req("a", rooms=(Attendee(id="r1", working_hours=mornings),)))
    assert codes(result) == {"no_room_free": ("r1",)}


@pytest.mark.parametrize(
    ("availabilities", "request_", "field"),
    [
        ([Availability.of("a")], None, "request"),
        ([Availability.of("a")], {"attendees": ["a"]}, "request"),
        (Availability.of("a"), req("a"), "availabilities"),
        ("a", req("a"), "availabilities"),
        ({"a": Availability.of("a")}, req("a"), "availabilities"),
        ([Availability.of("a"), ("b", [])], req("a"), "availabilities[1]"),
    ],
)
def test_find_slots_refuses_arguments_it_cannot_use(
    availabilities: object, request_: object, field: str
) -> None:
    """A wrong argument is an InputError naming it, not an AttributeError from inside."""
    with pytest.raises(InputError) as info:
        find_slots(availabilities, request_)  # type: ignore[arg-type]
    assert info.value.field == field
    assert isinstance(info.value, SlotfinderError)


def test_find_slots_reads_a_generator_of_availabilities_once() -> None:
    """Availabilities given as a generator are used for the slots and kept in the result."""
    avs = [Availability.of("a", [busy(9, 16)])]
    result = find_slots((av for av in avs), req("a"))
    assert [s.start for s in result.slots] == [at(16)]
    assert result.availabilities == tuple(avs)


def test_explain_min_notice() -> None:
    """Slots that all start within the notice period give min_notice."""
    avs = [Availability.of("a", [busy(11, 17)])]
    result = find_slots(avs, req("a", min_notice=7200, now=at(9)))
    assert codes(result) == {"min_notice": ()}


def test_next_after_window_found_within_horizon() -> None:
    """When the window is full, the first slot after it is offered."""
    avs = [Availability.of("a", [busy(9, 24), busy(0, 10, day=1)])]
    result = find_slots(avs, req("a"))
    assert result.explanation is not None
    nxt = result.explanation.next_after_window
    assert nxt is not None
    assert (nxt.start, nxt.available) == (at(10, day=1), ("a",))


def test_next_after_window_respects_coverage() -> None:
    """No next slot is offered beyond what the data covers."""
    avs = [Availability.of("a", [busy(9, 17)], covered=Span(at(0), at(17)))]
    result = find_slots(avs, req("a"))
    assert result.explanation is not None
    assert result.explanation.next_after_window is None


@given(scenario())
def test_explanation_exactly_when_empty(case: tuple[list[Availability], MeetingRequest]) -> None:
    """An empty result carries reasons, alternatives that fall short, and a later next slot."""
    avs, request = case
    result = find_slots(avs, request)
    if result.slots:
        assert result.explanation is None
        return
    explanation = result.explanation
    assert explanation is not None
    assert explanation.reasons
    known = {
        "window_too_short",
        "hours_never_overlap",
        "busy_whole_window",
        "quorum_unreachable",
        "unknown_attendees",
        "no_room_free",
        "rooms_unknown",
        "min_notice",
        "no_common_time",
    }
    assert {r.code for r in explanation.reasons} <= known
    w = request.window
    for alt in explanation.alternatives:
        assert w.start <= alt.start
        assert alt.end <= w.end
        assert alt.start >= (request.now or 0) + request.min_notice or request.min_notice == 0
    nxt = explanation.next_after_window
    if nxt is not None:
        assert nxt.start >= w.end
        assert nxt.end - nxt.start == request.duration


def test_quorum_passes_without_an_unknown_attendee() -> None:
    """With a quorum, an excluded unknown attendee need not come; the slot lists them unknown."""
    avs = [Availability.of("a"), Availability.of("b")]
    result = find_slots(avs, req("a", "b", "c", quorum=2))
    assert len(result.slots) == 29
    assert result.slots[0].unknown == ("c",)
    assert result.slots[0].available == ("a", "b")


def test_optional_tentative_is_listed_as_tentative() -> None:
    """An optional attendee with a tentative entry is listed under tentative, never blocking."""
    avs = [Availability.of("a"), Availability.of("o", [busy(9, 10, Status.TENTATIVE)])]
    result = find_slots(avs, req("a", "o", optional=["o"]))
    assert result.slots[0].tentative == ("o",)
    assert result.slots[0].available == ("a",)


def test_oof_blocks_like_busy() -> None:
    """Out-of-office entries block as busy ones do, and mark the attendee unavailable."""
    avs = [Availability.of("a"), Availability.of("o", [busy(9, 12, Status.OOF)])]
    result = find_slots(avs, req("a", "o", optional=["o"]))
    assert result.slots[0].unavailable == ("o",)
    assert starts(find_slots(avs, req("a", "o")))[0] == 12.0


def test_partial_coverage_is_reported_unknown() -> None:
    """An availability covering only part of the window is listed in result.unknown."""
    avs = [Availability.of("a", covered=Span(at(0), at(12)))]
    result = find_slots(avs, req("a"))
    assert [u.id for u in result.unknown] == ["a"]
    assert "covers only" in result.unknown[0].reason


@given(scenario(), st.randoms(use_true_random=False))
def test_input_order_does_not_matter(
    case: tuple[list[Availability], MeetingRequest], rnd: object
) -> None:
    """Shuffling availabilities and each busy table's rows leaves the result unchanged."""
    import random

    import numpy as np

    from slotfinder.model import BusyTable

    assert isinstance(rnd, random.Random)
    avs, request = case
    shuffled = []
    for av in avs:
        idx = list(range(len(av.busy)))
        rnd.shuffle(idx)
        table = BusyTable(
            starts=av.busy.starts[np.array(idx, dtype=np.int64)],
            ends=av.busy.ends[np.array(idx, dtype=np.int64)],
            status=av.busy.status[np.array(idx, dtype=np.int64)],
        )
        shuffled.append(Availability(id=av.id, busy=table, error=av.error, covered=av.covered))
    rnd.shuffle(shuffled)
    a, b = find_slots(avs, request), find_slots(shuffled, request)
    assert (a.slots, a.periods, a.unknown, a.explanation) == (
        b.slots,
        b.periods,
        b.unknown,
        b.explanation,
    )


@settings(max_examples=40)
@given(scenario())
def test_next_after_window_matches_reference(
    case: tuple[list[Availability], MeetingRequest],
) -> None:
    """next_after_window is the reference's first slot in the stretch after the window."""
    import attrs

    from slotfinder.engine import NEXT_SEARCH_DAYS

    avs, request = case
    result = find_slots(avs, request)
    if result.slots:
        return
    assert result.explanation is not None
    w = request.window
    horizon = w.end + NEXT_SEARCH_DAYS * 86_400
    for a in (*request.required, *request.rooms):
        av = next((x for x in avs if x.id == a.id), None)
        if av is not None and av.error is None and av.covered is not None:
            horizon = min(horizon, av.covered.end)
    got = result.explanation.next_after_window
    if horizon - w.end < request.duration:
        assert got is None
        return
    later = attrs.evolve(request, window=Span(w.end, horizon))
    slots, _ = reference.find(avs, later, now=request.now or 0)
    want = slots[0] if slots else None
    if want is None:
        assert got is None
    else:
        assert got is not None
        assert (got.start, got.available, got.unavailable, got.unknown, got.room) == (
            want.start,
            want.available,
            want.unavailable,
            want.unknown,
            want.room,
        )


@st.composite
def crowd(draw: st.DrawFn) -> tuple[list[Availability], MeetingRequest]:
    """5-12 attendees sharing two working-hours sets, so groups have several members."""
    anchor = draw(st.sampled_from(ANCHORS))
    w0 = anchor + draw(st.integers(0, 96)) * 15 * M
    w1 = w0 + draw(st.integers(6, 36)) * H
    pool = [draw(working_hours()), draw(working_hours())]
    attendees, avs = [], []
    for i in range(draw(st.integers(5, 12))):
        aid = f"p{i}"
        attendees.append(
            Attendee(
                id=aid,
                optional=i > 0 and draw(st.booleans()),
                working_hours=draw(st.sampled_from(pool)),
            )
        )
        kind = draw(st.sampled_from(["ok", "ok", "ok", "ok", "error", "covered"]))
        if kind == "error":
            avs.append(Availability.unknown(aid, "boom"))
        elif kind == "covered":
            c0 = draw(st.integers(w0 - H, w1))
            avs.append(Availability.of(aid, draw(busy_list(w0, w1)), covered=Span(c0, w1 + H)))
        else:
            avs.append(Availability.of(aid, draw(busy_list(w0, w1))))
    n_req = sum(not a.optional for a in attendees)
    request = MeetingRequest(
        attendees=tuple(attendees),
        window=Span(w0, w1),
        duration=draw(st.sampled_from([15 * M, 30 * M, H])),
        granularity=draw(st.sampled_from([900, 1800])),
        buffer_before=draw(st.sampled_from([0, 10 * M])),
        buffer_after=draw(st.sampled_from([0, 5 * M])),
        quorum=draw(st.one_of(st.none(), st.integers(1, n_req), st.floats(0.3, 1.0))),
        tentative=draw(st.sampled_from(["busy", "free"])),
        unanswered=draw(st.sampled_from(["busy", "tentative", "free"])),
        unknown=draw(st.sampled_from(["exclude", "flag"])),
        max_results=10_000,
        order="start",
        zone=draw(st.sampled_from(ZONES)),
    )
    return avs, request


@settings(max_examples=40)
@given(crowd())
def test_crowd_matches_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """With many attendees per working-hours group, slots and periods equal the reference."""
    avs, request = case
    result = find_slots(avs, request)
    ref_slots, ref_periods = reference.find(avs, request)
    got = [(s.start, s.available, s.tentative, s.unavailable, s.unknown) for s in result.slots]
    want = [(r.start, r.available, r.tentative, r.unavailable, r.unknown) for r in ref_slots]
    assert got == want
    assert [(p.start, p.end) for p in result.periods] == ref_periods


def many_slots_case() -> tuple[list[Availability], MeetingRequest]:
    """40 attendees in three working-hours sets over two weeks across the EU fall-back: every
    status, buffers, partial coverage, an unreadable attendee and optional ones."""
    import numpy as np

    rng = np.random.default_rng(7)
    w0 = int(datetime(2026, 10, 19, tzinfo=ZoneInfo("UTC")).timestamp())
    w1 = w0 + 14 * 24 * H
    pool = [
        WorkingHours.parse("Europe/Berlin", {"mon-fri": ["08:00-12:00", "12:30-18:00"]}),
        WorkingHours.parse("Europe/London", {"mon-fri": "09:00-18:00"}),
        WorkingHours.parse("UTC", {"mon-sun": "00:00-24:00"}),
    ]
    attendees, avs = [], []
    for i in range(40):
        aid = f"p{i}"
        attendees.append(Attendee(id=aid, optional=i % 7 == 3, working_hours=pool[i % 3]))
        if i == 5:
            avs.append(Availability.unknown(aid, "boom"))
            continue
        k = 30
        starts = w0 + rng.integers(0, 14 * 96, k) * 15 * M + rng.integers(0, 2, k) * 7 * M
        ends = starts + rng.integers(0, 9, k) * 15 * M  # some zero-length
        codes = rng.choice([Status.BUSY, Status.TENTATIVE, Status.FREE, Status.OOF], k)
        busy = [Busy(Span(int(a), int(b)), c) for a, b, c in zip(starts, ends, codes, strict=True)]
        covered = Span(w0 + 2 * 24 * H, w1 - 24 * H) if i % 11 == 4 else None
        avs.append(Availability.of(aid, busy, covered=covered))
    request = MeetingRequest(
        attendees=tuple(attendees),
        window=Span(w0, w1),
        duration=30 * M,
        granularity=900,
        buffer_before=5 * M,
        quorum=0.5,
        tentative="free",
        unknown="flag",
        max_results=10_000,
        order="start",
        zone="Europe/Berlin",
    )
    return avs, request


def test_many_slots_detail_matches_reference() -> None:
    """Hundreds of slots: every slot's lists equal the reference and its score the formula."""
    import attrs

    avs, request = many_slots_case()
    result = find_slots(avs, request)
    ref_slots, _ = reference.find(avs, request)
    assert len(ref_slots) > 400
    got = [(s.start, s.available, s.tentative, s.unavailable, s.unknown) for s in result.slots]
    want = [(r.start, r.available, r.tentative, r.unavailable, r.unknown) for r in ref_slots]
    assert got == want
    for s, r in zip(result.slots, ref_slots, strict=True):
        assert abs(s.score - reference.score(request, r)) <= 0.005 + 1e-9
    by_score = find_slots(avs, attrs.evolve(request, order="score"))
    scores = {s.start: s.score for s in result.slots}
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    assert [(s.start, s.score) for s in by_score.slots] == ranked
    # A few slots take the engine's other road (only the entries near them are looked at).
    few = find_slots(avs, attrs.evolve(request, max_results=7))
    assert [(s.start, s.available, s.tentative, s.unavailable, s.unknown) for s in few.slots] == (
        want[:7]
    )
    few = find_slots(avs, attrs.evolve(request, order="score", max_results=7))
    offered = reference.spread(list(scores.items()), request.duration, request.zone, 7)
    assert [(s.start, s.score) for s in few.slots] == offered


def test_explain_min_notice_not_rooms_when_rooms_free_early() -> None:
    """Rooms free only before the notice ends: the reason is min_notice, not no_room_free."""
    avs = [
        Availability.of("a", [busy(11, 17)]),
        Availability.of("r1", [busy(11, 17)]),
    ]
    request = req("a", rooms=(Attendee(id="r1"),), min_notice=7200, now=at(9))
    assert codes(find_slots(avs, request)) == {"min_notice": ()}


def test_explain_hours_never_overlap_with_a_quorum() -> None:
    """With a quorum, attendees whose hours can never reach it together are all named."""
    zones = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
    attendees = tuple(
        Attendee(id=z, working_hours=WorkingHours.parse(z, {"mon-fri": "09:00-11:00"}))
        for z in zones
    )
    request = MeetingRequest(
        attendees=attendees, window=Span(at(0), at(0, day=2)), duration=3600, quorum=2
    )
    result = find_slots([Availability.of(z) for z in zones], request)
    assert codes(result) == {"hours_never_overlap": zones, "quorum_unreachable": ()}


def test_engine_import_stays_light() -> None:
    """Importing the engine and the interval algebra loads no HTTP client, plugins or pendulum."""
    code = (
        "import sys, slotfinder.engine, slotfinder.intervals\n"
        "print(sorted(m for m in ('aiohttp', 'pendulum', 'pluggy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_search_does_not_load_numpy_ma() -> None:
    """A first search, quorum and working hours included, never imports numpy.ma (np.unique
    does, at tens of milliseconds: more than a small search costs)."""
    code = (
        "import sys\n"
        "from slotfinder.engine import find_slots\n"
        "from slotfinder.model import Attendee, Availability, MeetingRequest, Span, WorkingHours\n"
        "wh = WorkingHours.parse('UTC', {'mon-fri': '09:00-17:00'})\n"
        "people = [Attendee(id='a', working_hours=wh), Attendee(id='b'), Attendee(id='c')]\n"
        "w = Span(1_800_000_000, 1_800_000_000 + 7 * 86_400)\n"
        "request = MeetingRequest(attendees=people, window=w, duration=3600, quorum=2)\n"
        "find_slots([Availability.of('a'), Availability.of('b')], request)\n"
        "print('numpy.ma' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
