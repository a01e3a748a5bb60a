"""find_slots across DST transitions: local grids, working hours on transition days, odd offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import reference

from slotfinder.engine import find_slots
from slotfinder.model import Attendee, Availability, Busy, MeetingRequest, Span, WorkingHours

H = 3600
EVERY_DAY = "mon-sun"


def local(zone: str, day: date, hh: int, mm: int = 0, fold: int = 0) -> int:
    """Epoch seconds of a local wall-clock time (``fold=1``: the second of a repeated time)."""
    value = datetime.combine(day, time(hh, mm, fold=fold), tzinfo=ZoneInfo(zone))
    return int(value.timestamp())


def utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def wall(zone: str, t: int) -> str:
    return datetime.fromtimestamp(t, ZoneInfo(zone)).strftime("%H:%M%z")


def one(
    zone: str,
    window: Span,
    *,
    spec: dict[str, object] | None = None,
    granularity: int = H,
    duration: int = H,
    busy: tuple[Busy, ...] = (),
) -> tuple[MeetingRequest, list[Availability]]:
    """One attendee in ``zone`` (working hours ``spec`` if given), request in the same zone."""
    wh = None if spec is None else WorkingHours.parse(zone, spec)
    request = MeetingRequest(
        attendees=(Attendee(id="a", zone=zone, working_hours=wh),),
        window=window,
        duration=duration,
        granularity=granularity,
        max_results=1000,
        order="start",
        zone=zone,
    )
    return request, [Availability.of("a", busy)]


def check_reference(request: MeetingRequest, avs: list[Availability]) -> None:
    """The engine agrees with the brute-force reference on this request."""
    result = find_slots(avs, request)
    slots, periods = reference.find(avs, request)
    assert [s.start for s in result.slots] == [s.start for s in slots]
    assert [(p.start, p.end) for p in result.periods] == periods


def test_berlin_spring_forward_grid_skips_the_missing_hour() -> None:
    """On Berlin's spring day the hourly grid goes 00:00, 01:00, 03:00 local (02:00 never is)."""
    day = date(2026, 3, 29)
    zone = "Europe/Berlin"
    window = Span(local(zone, day, 0), local(zone, day, 5))
    request, avs = one(zone, window)
    result = find_slots(avs, request)
    walls = [wall(zone, s.start) for s in result.slots]
    assert walls == ["00:00+0100", "01:00+0100", "03:00+0200", "04:00+0200"]
    assert [s.end - s.start for s in result.slots] == [H] * 4
    check_reference(request, avs)


def test_berlin_working_day_on_spring_forward() -> None:
    """09:00-18:00 on the spring day is nine real hours, all in CEST, on the local grid."""
    day = date(2026, 3, 29)
    zone = "Europe/Berlin"
    window = Span(local(zone, day, 0), local(zone, day, 23, 59))
    request, avs = one(zone, window, spec={EVERY_DAY: "09:00-18:00"})
    result = find_slots(avs, request)
    assert result.periods == (Span(local(zone, day, 9), local(zone, day, 18)),)
    assert result.periods[0].seconds == 9 * H
    assert [wall(zone, s.start) for s in result.slots][::4] == [
        "09:00+0200",
        "13:00+0200",
        "17:00+0200",
    ]
    check_reference(request, avs)


def test_new_york_fall_back_repeats_grid_points() -> None:
    """On New York's autumn day 01:00 and 01:30 come twice, and both are on the grid."""
    day = date(2026, 11, 1)
    zone = "America/New_York"
    window = Span(local(zone, day, 0), local(zone, day, 3))
    request, avs = one(zone, window, granularity=1800, duration=1800)
    result = find_slots(avs, request)
    assert [wall(zone, s.start) for s in result.slots] == [
        "00:00-0400",
        "00:30-0400",
        "01:00-0400",
        "01:30-0400",
        "01:00-0500",
        "01:30-0500",
        "02:00-0500",
        "02:30-0500",
    ]
    assert result.periods == (window,)
    check_reference(request, avs)


def test_new_york_busy_in_the_repeated_hour() -> None:
    """A meeting in the second 01:00-02:00 blocks only that one, not the first."""
    day = date(2026, 11, 1)
    zone = "America/New_York"
    second = Span(local(zone, day, 1, fold=1), local(zone, day, 2))
    window = Span(local(zone, day, 0), local(zone, day, 3))
    request, avs = one(zone, window, busy=(Busy(span=second),))
    result = find_slots(avs, request)
    assert [wall(zone, s.start) for s in result.slots] == ["00:00-0400", "01:00-0400", "02:00-0500"]
    check_reference(request, avs)


def test_new_york_working_day_on_fall_back() -> None:
    """09:00-18:00 on the autumn day is nine hours in EST."""
    day = date(2026, 11, 1)
    zone = "America/New_York"
    window = Span(local(zone, day, 0), local(zone, day, 23))
    request, avs = one(zone, window, spec={EVERY_DAY: "09:00-18:00"})
    result = find_slots(avs, request)
    assert result.periods == (Span(local(zone, day, 9), local(zone, day, 18)),)
    assert (utc(result.slots[0].start), utc(result.slots[-1].start)) == ("14:00", "22:00")
    check_reference(request, avs)


def test_new_york_working_hours_inside_the_spring_gap_are_empty() -> None:
    """02:30-03:30 on the US spring day is empty (02:30 reads as 03:30 EDT); 02:00-04:00 is 1h."""
    day = date(2026, 3, 8)
    zone = "America/New_York"
    window = Span(local(zone, day, 0), local(zone, day, 12))
    request, avs = one(zone, window, spec={EVERY_DAY: "02:30-03:30"}, duration=900)
    assert find_slots(avs, request).periods == ()
    request, avs = one(zone, window, spec={EVERY_DAY: "02:00-04:00"}, duration=900)
    result = find_slots(avs, request)
    assert [(p.seconds, wall(zone, p.start)) for p in result.periods] == [(H, "03:00-0400")]
    check_reference(request, avs)


def test_lord_howe_half_hour_spring_forward() -> None:
    """Lord Howe skips 02:00-02:30: the hourly grid goes 01:00 (+10:30) then 03:00 (+11)."""
    day = date(2026, 10, 4)
    zone = "Australia/Lord_Howe"
    window = Span(local(zone, day, 0), local(zone, day, 5))
    request, avs = one(zone, window)
    result = find_slots(avs, request)
    assert [wall(zone, s.start) for s in result.slots] == [
        "00:00+1030",
        "01:00+1030",
        "03:00+1100",
        "04:00+1100",
    ]
    check_reference(request, avs)


def test_lord_howe_half_hour_fall_back() -> None:
    """Lord Howe repeats 01:30-02:00: on a 30-minute grid 01:30 comes twice."""
    day = date(2026, 4, 5)
    zone = "Australia/Lord_Howe"
    window = Span(local(zone, day, 1), local(zone, day, 3))
    request, avs = one(zone, window, granularity=1800, duration=1800)
    result = find_slots(avs, request)
    assert [wall(zone, s.start) for s in result.slots] == [
        "01:00+1100",
        "01:30+1100",
        "01:30+1030",
        "02:00+1030",
        "02:30+1030",
    ]
    check_reference(request, avs)


def test_lord_howe_working_day_on_transitions() -> None:
    """09:00-18:00 stays nine hours on both of Lord Howe's transition days."""
    zone = "Australia/Lord_Howe"
    for day in (date(2026, 4, 5), date(2026, 10, 4)):
        window = Span(local(zone, day, 0), local(zone, day, 23))
        request, avs = one(zone, window, spec={EVERY_DAY: "09:00-18:00"}, granularity=1800)
        result = find_slots(avs, request)
        assert result.periods == (Span(local(zone, day, 9), local(zone, day, 18)),)
        assert len(result.slots) == 17
        check_reference(request, avs)


def test_kathmandu_grid_is_quarter_past_in_utc() -> None:
    """Kathmandu's +05:45 puts its hourly grid at :15 past each UTC hour."""
    day = date(2026, 11, 23)
    zone = "Asia/Kathmandu"
    window = Span(local(zone, day, 0), local(zone, day, 23))
    request, avs = one(zone, window, spec={"mon-fri": "09:00-18:00"})
    result = find_slots(avs, request)
    assert {s.start % H for s in result.slots} == {15 * 60}
    assert (utc(result.slots[0].start), utc(result.slots[-1].start)) == ("03:15", "11:15")
    assert result.periods == (Span(local(zone, day, 9), local(zone, day, 18)),)
    check_reference(request, avs)


def test_berlin_and_new_york_overlap_grows_between_transitions() -> None:
    """Between the US and EU spring changes, Berlin and New York share 4 hours, not 3."""
    berlin = WorkingHours.parse("Europe/Berlin", {"mon-fri": "09:00-18:00"})
    new_york = WorkingHours.parse("America/New_York", {"mon-fri": "09:00-18:00"})
    attendees = (
        Attendee(id="ber", zone="Europe/Berlin", working_hours=berlin),
        Attendee(id="nyc", zone="America/New_York", working_hours=new_york),
    )
    avs = [Availability.of("ber"), Availability.of("nyc")]
    lengths = {}
    for day in (date(2026, 3, 6), date(2026, 3, 13), date(2026, 4, 3)):
        start = local("UTC", day, 0)
        request = MeetingRequest(
            attendees=attendees,
            window=Span(start, start + 24 * H),
            duration=H,
            zone="Europe/Berlin",
            max_results=100,
            order="start",
        )
        result = find_slots(avs, request)
        lengths[day.isoformat()] = [p.seconds // H for p in result.periods]
        check_reference(request, avs)
    assert lengths == {"2026-03-06": [3], "2026-03-13": [4], "2026-04-03": [3]}
