"""Load caps: examples of each rule, and properties against the brute-force tests/reference."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st

from slotfinder.engine import find_slots
from slotfinder.errors import InputError
from slotfinder.model import (
    Attendee,
    Availability,
    Busy,
    LoadCaps,
    MeetingRequest,
    Span,
    Status,
    WorkingHours,
)

H = 3600
M = 60
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC"]
# Window starts a few days before DST changes of the zones above (and one quiet week).
ANCHORS = [
    int(datetime(2026, 3, 26, tzinfo=ZoneInfo("UTC")).timestamp()),  # EU forward 29 Mar
    int(datetime(2026, 10, 22, tzinfo=ZoneInfo("UTC")).timestamp()),  # EU back 25 Oct
    int(datetime(2026, 3, 5, tzinfo=ZoneInfo("UTC")).timestamp()),  # US forward 8 Mar
    int(datetime(2026, 10, 29, tzinfo=ZoneInfo("UTC")).timestamp()),  # US back 1 Nov
    int(datetime(2026, 4, 2, tzinfo=ZoneInfo("UTC")).timestamp()),  # Lord Howe back 5 Apr
    int(datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")).timestamp()),
]


def local(zone: str, day: date, hh: int, mm: int = 0) -> int:
    return int(datetime.combine(day, time(hh, mm), tzinfo=ZoneInfo(zone)).timestamp())


# --- strategies ----------------------------------------------------------------------------


@st.composite
def caps(draw: st.DrawFn) -> LoadCaps | None:
    if not draw(st.integers(0, 3)):
        return None
    return LoadCaps(
        meetings_per_day=draw(st.one_of(st.none(), st.integers(0, 4))),
        busy_per_day=draw(st.one_of(st.none(), st.sampled_from([0, H, 3 * H, 6 * H, 23 * H]))),
        meetings_per_week=draw(st.one_of(st.none(), st.integers(0, 10))),
        busy_per_week=draw(st.one_of(st.none(), st.sampled_from([2 * H, 10 * H, 30 * H]))),
    )


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Availability], MeetingRequest]:
    anchor = draw(st.sampled_from(ANCHORS))
    w0 = anchor + draw(st.integers(0, 48)) * H
    w1 = w0 + draw(st.integers(6, 24 * 5)) * H
    attendees, avs = [], []
    for i in range(draw(st.integers(1, 3))):
        zone = draw(st.sampled_from(ZONES))
        wh = None
        if draw(st.booleans()):
            wh = WorkingHours.parse(zone, {"mon-sat": draw(st.sampled_from(["08:00-18:00"]))})
        attendees.append(
            Attendee(
                id=f"p{i}",
                optional=i > 0 and draw(st.booleans()),
                zone=zone,
                working_hours=wh,
                caps=draw(caps()),
            )
        )
        if draw(st.integers(0, 5)) == 0:
            avs.append(Availability.unknown(f"p{i}", "boom"))
            continue
        entries = []
        for _ in range(draw(st.integers(0, 8))):  # from a week before the window on
            s = draw(st.integers(w0 - 7 * 24 * H, w1 + 24 * H)) // (15 * M) * (15 * M)
            length = draw(st.sampled_from([0, 30 * M, H, 2 * H, 5 * H, 26 * H]))
            status = draw(st.sampled_from(list(Status)))
            entries.append(Busy(span=Span(s, s + length), status=status))
        avs.append(Availability.of(f"p{i}", entries))
    request = MeetingRequest(
        attendees=tuple(attendees),
        window=Span(w0, w1),
        duration=min(draw(st.sampled_from([30 * M, H, 2 * H, 25 * H])), w1 - w0),
        granularity=draw(st.sampled_from([1800, 3600])),
        buffer_before=draw(st.sampled_from([0, 15 * M])),
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
def test_capped_slots_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Slots, per-attendee lists and scores under caps equal the brute-force reference, DST
    days of 23 and 25 hours included."""
    avs, request = case
    result = find_slots(avs, request)
    ref_slots, _ = reference.find(avs, request)
    got = [(s.start, s.available, s.tentative, s.unavailable, s.unknown) for s in result.slots]
    want = [(r.start, r.available, r.tentative, r.unavailable, r.unknown) for r in ref_slots]
    assert got == want
    for s, r in zip(result.slots, ref_slots, strict=True):
        assert s.score == pytest.approx(reference.score(request, r), abs=0.006)


@given(scenario())
def test_capped_periods_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Common free periods leave out required attendees' capped-out days, as the reference."""
    avs, request = case
    _, ref_periods = reference.find(avs, request)
    assert [(p.start, p.end) for p in find_slots(avs, request).periods] == ref_periods


# --- examples ------------------------------------------------------------------------------

BERLIN = "Europe/Berlin"
MON = date(2026, 11, 23)
WORK = WorkingHours.parse(BERLIN, {"mon-fri": "09:00-17:00"})


def on(day: int, hh: int, mm: int = 0) -> int:
    return local(BERLIN, MON + timedelta(days=day), hh, mm)


def meeting(day: int, h0: int, h1: int, status: Status = Status.BUSY) -> Busy:
    return Busy(span=Span(on(day, h0), on(day, h1)), status=status)


def run(
    limits: LoadCaps,
    entries: list[Busy],
    *,
    days: int = 2,
    duration: int = H,
    optional: bool = False,
) -> tuple[MeetingRequest, list[Availability]]:
    a = Attendee(id="a", working_hours=WORK, caps=limits, optional=optional)
    b = Attendee(id="b", working_hours=WORK)
    request = MeetingRequest(
        attendees=(a, b) if optional else (a,),
        window=Span(on(0, 0), on(days, 0)),
        duration=duration,
        zone=BERLIN,
        max_results=1000,
        order="start",
    )
    return request, [Availability.of("a", entries), Availability.of("b")]


def days_offered(request: MeetingRequest, avs: list[Availability]) -> set[int]:
    return {(s.start - on(0, 0)) // (24 * H) for s in find_slots(avs, request).slots}


def test_meeting_cap_closes_the_day_that_is_full() -> None:
    """Two meetings on Monday and a cap of two a day: no slot Monday, Tuesday untouched."""
    request, avs = run(LoadCaps(meetings_per_day=2), [meeting(0, 9, 10), meeting(0, 11, 12)])
    assert days_offered(request, avs) == {1}
    request, avs = run(LoadCaps(meetings_per_day=3), [meeting(0, 9, 10), meeting(0, 11, 12)])
    assert days_offered(request, avs) == {0, 1}


def test_hour_cap_depends_on_the_meeting_length() -> None:
    """Six busy hours under a 7-hour cap leave room for one hour, not for ninety minutes."""
    entries = [meeting(0, 9, 15)]
    request, avs = run(LoadCaps(busy_per_day=7 * H), entries, duration=H)
    assert find_slots(avs, request).slots[0].start == on(0, 15)
    request, avs = run(LoadCaps(busy_per_day=7 * H), entries, duration=90 * M)
    assert days_offered(request, avs) == {1}


def test_overlapping_entries_count_their_union_but_each_meeting() -> None:
    """Two overlapping meetings are two meetings, but their busy time is the union."""
    entries = [meeting(0, 9, 12), meeting(0, 10, 13)]
    request, avs = run(LoadCaps(busy_per_day=5 * H), entries)
    assert 0 in days_offered(request, avs)  # 4 h + 1 h = 5 h: allowed
    request, avs = run(LoadCaps(meetings_per_day=2), entries)
    assert days_offered(request, avs) == {1}


def test_entry_across_midnight_counts_in_both_days_hours_split() -> None:
    """22:00-02:00 is a meeting on both days, two hours each."""
    night = Busy(span=Span(on(0, 22), on(1, 2)))
    request, avs = run(LoadCaps(meetings_per_day=1), [night], days=3)
    assert days_offered(request, avs) == {2}
    request, avs = run(LoadCaps(busy_per_day=3 * H), [night], days=3)
    assert days_offered(request, avs) == {0, 1, 2}
    request, avs = run(LoadCaps(busy_per_day=3 * H - 1), [night], days=3)
    assert days_offered(request, avs) == {2}


def test_oof_and_free_are_not_meetings_tentative_follows_the_policy() -> None:
    """oof and free entries never count; tentative counts unless tentative is free."""
    entries = [meeting(0, 9, 10, Status.OOF), meeting(0, 10, 11, Status.FREE)]
    request, avs = run(LoadCaps(meetings_per_day=1), entries)
    assert days_offered(request, avs) == {0, 1}
    entries = [meeting(0, 9, 10, Status.TENTATIVE)]
    request, avs = run(LoadCaps(meetings_per_day=1), entries)
    assert days_offered(request, avs) == {1}
    assert days_offered(attrs.evolve(request, tentative="free"), avs) == {0, 1}


def test_weekly_cap_counts_the_whole_week_beyond_the_window() -> None:
    """Meetings earlier in the ISO week (before the window) count toward the weekly cap."""
    entries = [meeting(0, 9, 10), meeting(1, 9, 10)]
    a = Attendee(id="a", working_hours=WORK, caps=LoadCaps(meetings_per_week=2))
    request = MeetingRequest(
        attendees=(a,), window=Span(on(2, 0), on(8, 0)), duration=H, zone=BERLIN, max_results=500
    )
    slots = find_slots([Availability.of("a", entries)], request).slots
    assert {(s.start - on(0, 0)) // (24 * H) for s in slots} == {7}  # next Monday only


def test_optional_attendee_over_cap_lowers_the_score() -> None:
    """An optional attendee at their cap is unavailable; the slot is still offered."""
    request, avs = run(LoadCaps(meetings_per_day=0), [], optional=True)
    slot = find_slots(avs, request).slots[0]
    assert slot.unavailable == ("a",)
    free_a = attrs.evolve(request.attendees[0], caps=None)
    uncapped = find_slots(avs, attrs.evolve(request, attendees=(free_a, request.attendees[1])))
    assert uncapped.slots[0].start == slot.start
    assert uncapped.slots[0].score > slot.score


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [("America/New_York", date(2026, 11, 1), 25), ("Europe/Berlin", date(2026, 3, 29), 23)],
)
def test_capped_day_is_the_whole_local_day_across_dst(zone: str, day: date, hours: int) -> None:
    """A capped-out DST day is blocked from its local midnight to the next: 25 or 23 hours."""
    before, after = day - timedelta(days=1), day + timedelta(days=1)
    a = Attendee(id="a", zone=zone, caps=LoadCaps(meetings_per_day=1))
    late = Busy(span=Span(local(zone, day, 23, 30), local(zone, day, 23, 45)))
    window = Span(local(zone, before, 0), local(zone, day + timedelta(days=2), 0))
    request = MeetingRequest(attendees=(a,), window=window, duration=H, zone=zone)
    result = find_slots([Availability.of("a", [late])], request)
    assert result.periods == (
        Span(window.start, local(zone, day, 0)),
        Span(local(zone, after, 0), window.end),
    )
    assert local(zone, after, 0) - local(zone, day, 0) == hours * H


def test_explanation_names_the_capped_attendee() -> None:
    """With nothing offered, daily_cap names who is at their cap; weekly_cap likewise."""
    request, avs = run(LoadCaps(meetings_per_day=1), [meeting(0, 9, 10)], days=1)
    result = find_slots(avs, request)
    assert not result.slots
    assert result.explanation is not None
    assert [(r.code, r.ids) for r in result.explanation.reasons] == [("daily_cap", ("a",))]
    request, avs = run(LoadCaps(busy_per_week=H), [meeting(0, 9, 10)], days=1)
    reasons = find_slots(avs, request).explanation.reasons  # type: ignore[union-attr]
    assert [(r.code, r.ids) for r in reasons] == [("weekly_cap", ("a",))]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"max_meetings_per_day": -1}, "x.max_meetings_per_day"),
        ({"max_meetings_per_day": 1.5}, "x.max_meetings_per_day"),
        ({"max_meetings_per_week": True}, "x.max_meetings_per_week"),
        ({"max_busy_hours_per_day": float("nan")}, "x.max_busy_hours_per_day"),
        ({"max_busy_hours_per_day": "4h"}, "x.max_busy_hours_per_day"),
        ({"max_busy_hours_per_week": 169}, "x.max_busy_hours_per_week"),
    ],
)
def test_bad_caps_are_refused_naming_the_key(spec: dict[str, object], field: str) -> None:
    """Each bad cap value is an InputError naming the key and the value."""
    with pytest.raises(InputError) as info:
        LoadCaps.parse(spec, "x")
    assert info.value.field == field


def test_busy_hours_per_day_above_a_day_is_refused() -> None:
    """A daily busy-hours cap above 24 hours is refused with the limit."""
    with pytest.raises(InputError, match="max_busy_hours_per_day=25: at most 24 hours"):
        LoadCaps.parse({"max_busy_hours_per_day": 25})
    with pytest.raises(InputError, match="busy_per_day"):
        LoadCaps(busy_per_day=86_401)
    with pytest.raises(InputError, match="meetings_per_day"):
        LoadCaps(meetings_per_day=-1)


def test_caps_parse_and_back() -> None:
    """Hours become seconds and come back as numbers; unset caps stay out."""
    c = LoadCaps.parse({"max_meetings_per_day": 4, "max_busy_hours_per_week": 12.5})
    assert c == LoadCaps(meetings_per_day=4, busy_per_week=45_000)
    assert c.to_spec() == {"max_meetings_per_day": 4, "max_busy_hours_per_week": 12.5}
    assert LoadCaps(meetings_per_day=1).over(LoadCaps(meetings_per_day=3, busy_per_day=H)) == (
        LoadCaps(meetings_per_day=1, busy_per_day=H)
    )
    assert LoadCaps.parse({}) is None
