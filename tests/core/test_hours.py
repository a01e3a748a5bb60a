"""Working hours and local grids across DST, against zoneinfo and minute-by-minute references.

2026 transitions used below (checked with zoneinfo):
Europe/Berlin 03-29 02:00->03:00 and 10-25 03:00->02:00; America/New_York 03-08 02:00->03:00
and 11-01 02:00->01:00; Australia/Lord_Howe 04-05 02:00->01:30 and 10-04 02:00->02:30;
America/Santiago 04-04 24:00->23:00 and 09-06 00:00->01:00 (midnight skipped).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder import intervals as iv
from slotfinder.errors import InputError
from slotfinder.hours import from_wall, grid, to_wall, working_spans
from slotfinder.model import DAY, WorkingHours

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "America/Santiago",
    "UTC",
]


def at(zone: str, *ymdhm: int) -> int:
    """Epoch seconds of a local wall time (year, month, day[, hour, minute]), read by zoneinfo
    with fold=0 (the RFC 5545 rule)."""
    y, mo, d, h, mi = (*ymdhm, 0, 0)[:5]
    return int(datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone)).timestamp())


def day_bounds(zone: str, y: int, mo: int, d: int, days: int = 1) -> tuple[int, int]:
    """From local midnight of a date to local midnight ``days`` later."""
    end = date(y, mo, d) + timedelta(days=days)
    return at(zone, y, mo, d), at(zone, end.year, end.month, end.day)


def local(zone: str, spans: iv.SpanArrays) -> list[tuple[str, str]]:
    """Spans as local ISO strings with offsets, for readable expectations."""
    tz = ZoneInfo(zone)

    def fmt(t: int) -> str:
        return datetime.fromtimestamp(t, tz).isoformat(timespec="minutes")

    return [(fmt(s), fmt(e)) for s, e in zip(spans[0].tolist(), spans[1].tolist(), strict=True)]


def hours(zone: str, spec: dict[str, object]) -> WorkingHours:
    return WorkingHours.parse(zone, spec)


# working_spans: named DST cases ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "ymd"),
    [
        ("Europe/Berlin", (2026, 3, 29)),
        ("Europe/Berlin", (2026, 10, 25)),
        ("America/New_York", (2026, 3, 8)),
        ("America/New_York", (2026, 11, 1)),
        ("Australia/Lord_Howe", (2026, 4, 5)),
        ("Australia/Lord_Howe", (2026, 10, 4)),
        ("America/Santiago", (2026, 4, 4)),
        ("America/Santiago", (2026, 9, 6)),
    ],
)
def test_office_hours_stay_local_on_transition_days(zone: str, ymd: tuple[int, int, int]) -> None:
    """09:00-18:00 is 09:00-18:00 local on the days the clocks change."""
    wh = hours(zone, {"mon-sun": ["09:00-18:00"]})
    got = working_spans(wh, *day_bounds(zone, *ymd))
    assert got[0].tolist() == [at(zone, *ymd, 9)]
    assert got[1].tolist() == [at(zone, *ymd, 18)]


def test_range_inside_spring_gap_takes_offset_before_gap() -> None:
    """02:15-02:45 on the US spring day becomes 03:15-03:45 EDT (RFC 5545, not pendulum)."""
    zone = "America/New_York"
    wh = hours(zone, {"sun": ["02:15-02:45"]})
    got = working_spans(wh, *day_bounds(zone, 2026, 3, 8))
    assert local(zone, got) == [("2026-03-08T03:15-04:00", "2026-03-08T03:45-04:00")]


def test_range_equal_to_the_gap_is_empty() -> None:
    """Berlin 02:00-03:00 on the spring day converts to a zero-length range: empty that day."""
    zone = "Europe/Berlin"
    wh = hours(zone, {"mon-sun": ["02:00-03:00"]})
    got = working_spans(wh, *day_bounds(zone, 2026, 3, 28, days=3))
    assert local(zone, got) == [
        ("2026-03-28T02:00+01:00", "2026-03-28T03:00+01:00"),
        ("2026-03-30T02:00+02:00", "2026-03-30T03:00+02:00"),
    ]


def test_range_across_a_gap_is_shorter() -> None:
    """01:00-04:00 across New York's spring gap lasts two real hours."""
    zone = "America/New_York"
    got = working_spans(hours(zone, {"sun": ["01:00-04:00"]}), *day_bounds(zone, 2026, 3, 8))
    assert local(zone, got) == [("2026-03-08T01:00-05:00", "2026-03-08T04:00-04:00")]
    assert iv.total(got) == 2 * 3600


def test_range_across_a_fold_is_longer_and_starts_at_first_occurrence() -> None:
    """01:00-03:00 across New York's autumn fold starts at 01:00 EDT and lasts three hours."""
    zone = "America/New_York"
    got = working_spans(hours(zone, {"sun": ["01:00-03:00"]}), *day_bounds(zone, 2026, 11, 1))
    assert local(zone, got) == [("2026-11-01T01:00-04:00", "2026-11-01T03:00-05:00")]
    assert iv.total(got) == 3 * 3600


def test_range_inside_a_fold_uses_first_occurrences() -> None:
    """Berlin 02:15-02:45 on the autumn day is the first (CEST) occurrence only."""
    zone = "Europe/Berlin"
    got = working_spans(hours(zone, {"sun": ["02:15-02:45"]}), *day_bounds(zone, 2026, 10, 25))
    assert local(zone, got) == [("2026-10-25T02:15+02:00", "2026-10-25T02:45+02:00")]


def test_lord_howe_half_hour_shift() -> None:
    """Lord Howe's 30-minute gap: 02:10 reads as 02:40 (+11:00), so 02:10-03:00 lasts 20 min."""
    zone = "Australia/Lord_Howe"
    got = working_spans(hours(zone, {"sun": ["02:10-03:00"]}), *day_bounds(zone, 2026, 10, 4))
    assert local(zone, got) == [("2026-10-04T02:40+11:00", "2026-10-04T03:00+11:00")]


@pytest.mark.parametrize(
    ("zone", "utc_start"), [("Asia/Kathmandu", "03:15"), ("Asia/Kolkata", "03:30")]
)
def test_fractional_offsets(zone: str, utc_start: str) -> None:
    """+05:45 and +05:30 zones put 09:00 local at 03:15 and 03:30 UTC."""
    got = working_spans(hours(zone, {"mon-fri": ["09:00-18:00"]}), *day_bounds(zone, 2026, 6, 1))
    start = datetime.fromtimestamp(int(got[0][0]), UTC)
    assert start.strftime("%H:%M") == utc_start
    assert iv.total(got) == 9 * 3600


def test_santiago_skipped_midnight() -> None:
    """Santiago's skipped midnight: Saturday to 24:00 and Sunday from 00:00 join at 01:00 -03."""
    zone = "America/Santiago"
    wh = hours(zone, {"sat": ["20:00-24:00"], "sun": ["00:00-03:00"]})
    got = working_spans(wh, *day_bounds(zone, 2026, 9, 5, days=2))
    assert local(zone, got) == [("2026-09-05T20:00-04:00", "2026-09-06T03:00-03:00")]
    assert iv.total(got) == 6 * 3600


def test_santiago_sunday_first_hour_is_empty() -> None:
    """A range exactly covering Santiago's skipped hour is empty that day."""
    zone = "America/Santiago"
    got = working_spans(hours(zone, {"sun": ["00:00-01:00"]}), *day_bounds(zone, 2026, 9, 6))
    assert got[0].size == 0


def test_past_midnight_range_across_fold() -> None:
    """A 22:00-06:00 night shift over Berlin's autumn fold lasts nine hours."""
    zone = "Europe/Berlin"
    got = working_spans(hours(zone, {"sat": ["22:00-06:00"]}), *day_bounds(zone, 2026, 10, 24, 2))
    assert local(zone, got) == [("2026-10-24T22:00+02:00", "2026-10-25T06:00+01:00")]
    assert iv.total(got) == 9 * 3600


def test_whole_days_join_into_one_span() -> None:
    """00:00-24:00 every day is one span through every midnight, DST days included."""
    zone = "Europe/Berlin"
    start, end = day_bounds(zone, 2026, 3, 20, days=20)
    got = working_spans(hours(zone, {"mon-sun": ["00:00-24:00"]}), start, end)
    assert got[0].tolist() == [start]
    assert got[1].tolist() == [end]


def test_weekdays_to_24_00_join_into_one_week_span() -> None:
    """mon-fri 00:00-24:00 gives one span from Monday 00:00 to Saturday 00:00."""
    zone = "Asia/Kolkata"
    start, end = day_bounds(zone, 2026, 6, 1, days=7)  # a Monday
    got = working_spans(hours(zone, {"mon-fri": ["00:00-24:00"]}), start, end)
    assert local(zone, got) == [("2026-06-01T00:00+05:30", "2026-06-06T00:00+05:30")]


def test_working_spans_clipped_to_window() -> None:
    """Only the part inside [start, end) is returned, and an empty window gives nothing."""
    zone = "UTC"
    wh = hours(zone, {"mon-sun": ["09:00-18:00"]})
    s0 = at(zone, 2026, 6, 1, 12)
    got = working_spans(wh, s0, s0 + 3600)
    assert (got[0].tolist(), got[1].tolist()) == ([s0], [s0 + 3600])
    assert working_spans(wh, s0, s0)[0].size == 0


def test_working_spans_returns_fresh_arrays() -> None:
    """Changing a returned array does not poison the cache."""
    wh = hours("UTC", {"mon-sun": ["09:00-18:00"]})
    a = working_spans(wh, 0, 7 * DAY)
    a[0][:] = 0
    b = working_spans(wh, 0, 7 * DAY)
    assert b[0][0] == 9 * 3600


# grid: named cases ----------------------------------------------------------------------------


def test_grid_new_york_spring() -> None:
    """On the US spring day the 15-minute grid goes 01:45 EST then 03:00 EDT."""
    zone = "America/New_York"
    g = grid(zone, at(zone, 2026, 3, 8, 1, 30), at(zone, 2026, 3, 8, 3, 31), 900)
    assert local(zone, (g, g)) == [
        (t, t)
        for t in (
            "2026-03-08T01:30-05:00",
            "2026-03-08T01:45-05:00",
            "2026-03-08T03:00-04:00",
            "2026-03-08T03:15-04:00",
            "2026-03-08T03:30-04:00",
        )
    ]


def test_grid_new_york_autumn_has_both_01_15s() -> None:
    """On the US autumn day 01:15 EDT and 01:15 EST are both on the grid."""
    zone = "America/New_York"
    g = grid(zone, at(zone, 2026, 11, 1, 1), at(zone, 2026, 11, 1, 2), 900)
    got = [s for s, _ in local(zone, (g, g))]
    assert "2026-11-01T01:15-04:00" in got
    assert "2026-11-01T01:15-05:00" in got
    assert len(got) == 8


def test_grid_lord_howe_and_kathmandu() -> None:
    """Hour grids follow the local clock in +10:30/+11 and +05:45 zones."""
    lh = "Australia/Lord_Howe"
    g = grid(lh, *day_bounds(lh, 2026, 10, 4), 3600)
    assert len(g) == 23  # 02:00-02:30 is skipped: 02:00 itself is gone, 02:30 is off-grid
    assert all(datetime.fromtimestamp(t, ZoneInfo(lh)).minute == 0 for t in g.tolist())
    kt = "Asia/Kathmandu"
    g = grid(kt, *day_bounds(kt, 2026, 6, 1), 3600)
    assert len(g) == 24
    assert datetime.fromtimestamp(int(g[0]), UTC).strftime("%H:%M") == "18:15"


def test_grid_santiago_skipped_midnight() -> None:
    """When Santiago skips midnight, the day's first hourly grid point is 01:00 -03."""
    zone = "America/Santiago"
    g = grid(zone, at(zone, 2026, 9, 5, 22), at(zone, 2026, 9, 6, 3), 3600)
    assert [s for s, _ in local(zone, (g, g))] == [
        "2026-09-05T22:00-04:00",
        "2026-09-05T23:00-04:00",
        "2026-09-06T01:00-03:00",
        "2026-09-06T02:00-03:00",
    ]


def test_grid_refuses_step_not_dividing_a_day() -> None:
    """A step that does not divide 86400 has no daily grid and is refused."""
    with pytest.raises(InputError, match="divide a day"):
        grid("UTC", 0, DAY, 7 * 60)


# properties against brute force ---------------------------------------------------------------


@cache
def _transitions(zone: str) -> tuple[int, ...]:
    """Offset changes in 2025-2027, found by walking half-hours with zoneinfo."""
    tz = ZoneInfo(zone)
    out = []
    first = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp())
    prev = datetime.fromtimestamp(first, tz).utcoffset()
    for t in range(first, int(datetime(2028, 1, 1, tzinfo=UTC).timestamp()), 1800):
        off = datetime.fromtimestamp(t, tz).utcoffset()
        if off != prev:
            out.append(t)
        prev = off
    return tuple(out)


@st.composite
def windows(draw: st.DrawFn) -> tuple[str, int, int]:
    """A zone and a window of up to four days; for zones with DST, most windows hold a change."""
    zone = draw(st.sampled_from(ZONES))
    changes = _transitions(zone)
    quarter = 900
    if changes and draw(st.integers(0, 3)):
        change = draw(st.sampled_from(changes))
        start = change - draw(st.integers(0, 2 * 24 * 4)) * quarter
        end = change + draw(st.integers(1, 2 * 24 * 4)) * quarter
    else:
        start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
        start += draw(st.integers(0, 365 * 24 * 4)) * quarter
        end = start + draw(st.integers(1, 4 * 24 * 4)) * quarter
    shift = draw(st.sampled_from([0, 0, 60]))  # windows off the quarter-hour grid too
    return zone, start + shift, end + shift


@st.composite
def rules(draw: st.DrawFn) -> list[tuple[int, int, int]]:
    """Up to five ranges, each on one weekday or on every day (so DST days get hit), starting
    half the time in the small hours where the clocks change."""
    out: list[tuple[int, int, int]] = []
    for _ in range(draw(st.integers(0, 5))):
        days = draw(st.one_of(st.just(list(range(7))), st.integers(0, 6).map(lambda d: [d])))
        near_change = st.sampled_from([*range(0, 4 * 60, 15), *range(22 * 60, 24 * 60, 15)])
        start = draw(st.one_of(near_change, near_change, st.integers(0, 95).map(lambda q: q * 15)))
        length = draw(st.integers(1, 96)) * 15
        out.extend((d, start, start + length) for d in days)
    return out


def reference_working_spans(
    zone: str, rule_list: list[tuple[int, int, int]], start: int, end: int
) -> set[int]:
    """Covered epoch minutes: each day's range endpoints converted by zoneinfo (fold=0), then
    every minute between them walked one by one."""
    tz = ZoneInfo(zone)
    covered: set[int] = set()
    first = datetime.fromtimestamp(start, tz).date() - timedelta(days=2)
    last = datetime.fromtimestamp(end, tz).date()
    d = first
    while d <= last:
        midnight = datetime(d.year, d.month, d.day, tzinfo=tz)
        for weekday, s_min, e_min in rule_list:
            if d.weekday() != weekday:
                continue
            s = int((midnight + timedelta(minutes=s_min)).timestamp())
            e = int((midnight + timedelta(minutes=e_min)).timestamp())
            covered.update(m for m in range(s // 60, e // 60) if start <= m * 60 < end)
        d += timedelta(days=1)
    return covered


@given(windows(), rules())
def test_working_spans_match_minute_walk(
    w: tuple[str, int, int], rule_list: list[tuple[int, int, int]]
) -> None:
    """working_spans covers exactly the minutes the zoneinfo reference covers."""
    zone, start, end = w
    # Aware datetime + timedelta is wall-clock arithmetic in Python, and .timestamp() reads the
    # result with fold=0: the RFC 5545 rule. Rules are minute-aligned, windows minute-aligned.
    got = working_spans(WorkingHours(zone=zone, rules=tuple(rule_list)), start, end)
    assert got[0].size == 0 or (np.all(got[1] > got[0]) and np.all(got[0][1:] > got[1][:-1]))
    minutes = {
        m for s, e in zip(*(x.tolist() for x in got), strict=True) for m in range(s // 60, e // 60)
    }
    assert minutes == reference_working_spans(zone, rule_list, start, end)


@given(windows(), st.sampled_from([60, 300, 900, 1800, 3600, 7200, 86400]))
def test_grid_matches_minute_walk(w: tuple[str, int, int], step: int) -> None:
    """grid holds exactly the minutes whose zoneinfo local time of day is a multiple of step."""
    zone, start, end = w
    tz = ZoneInfo(zone)
    want = []
    for t in range(start, end, 60):
        lt = datetime.fromtimestamp(t, tz)
        if (lt.hour * 3600 + lt.minute * 60 + lt.second) % step == 0:
            want.append(t)
    assert grid(zone, start, end, step).tolist() == want


@given(windows())
def test_wall_conversions_match_zoneinfo(w: tuple[str, int, int]) -> None:
    """to_wall and from_wall agree with zoneinfo on every quarter hour, gaps and folds included."""
    zone, start, end = w
    tz = ZoneInfo(zone)
    instants = np.arange(start, end, 900, dtype=np.int64)
    walls = to_wall(zone, instants)
    for t, wall in zip(instants.tolist(), walls.tolist(), strict=True):
        lt = datetime.fromtimestamp(t, tz)
        assert wall == int(lt.replace(tzinfo=UTC).timestamp())
        naive = datetime.fromtimestamp(wall, UTC).replace(tzinfo=tz)  # fold=0
        assert int(from_wall(zone, [wall])[0]) == int(naive.timestamp())
