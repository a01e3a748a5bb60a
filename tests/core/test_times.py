"""slotfinder.times: the one time reader agrees with the standard library, odd forms by rule."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder import times
from slotfinder.errors import InputError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DST_ZONES = ("America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Sao_Paulo")


def _seconds(dt: datetime) -> int:
    """Whole epoch seconds of an aware datetime, truncated toward the past (exact, no float)."""
    return (dt - EPOCH) // timedelta(seconds=1)


@st.composite
def offset_texts(draw: st.DrawFn) -> str:
    """RFC 3339 texts with an offset, in every accepted spelling."""
    when = draw(st.datetimes(datetime(2, 1, 1), datetime(9998, 12, 31, 23, 59, 59)))
    sep = draw(st.sampled_from("Tt "))
    clock = f"{when:%H:%M}"
    if draw(st.booleans()):
        clock += f":{when:%S}"
        if draw(st.booleans()):
            digits = draw(st.integers(1, 6))
            clock += draw(st.sampled_from(".,")) + f"{when.microsecond:06d}"[:digits]
    minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    form = draw(st.sampled_from(["Z", "z", "colon", "plain", "hours"]))
    if form in "Zz":
        zone = form
    elif form == "colon":
        zone = f"{sign}{hh:02d}:{mm:02d}"
    elif form == "plain":
        zone = f"{sign}{hh:02d}{mm:02d}"
    else:
        zone = f"{sign}{hh:02d}"
    return f"{when.year:04d}-{when.month:02d}-{when.day:02d}{sep}{clock}{zone}"


@given(offset_texts())
def test_offset_texts_read_as_fromisoformat(text: str) -> None:
    """Every offset spelling gives fromisoformat's instant, fractions truncated."""
    reference = datetime.fromisoformat(text.replace("z", "Z"))
    assert times.instant(text) == _seconds(reference)


@functools.cache
def _transitions(zone: str) -> list[datetime]:
    """UTC instants (to the hour) where ``zone``'s UTC offset changes, 1990-2040."""
    tz = ZoneInfo(zone)
    out = []
    t = datetime(1990, 1, 1, tzinfo=UTC)
    step = timedelta(hours=1)
    before = t.astimezone(tz).utcoffset()
    while t.year < 2040:
        after = (t + step).astimezone(tz).utcoffset()
        if after != before:
            out.append(t + step)
        before, t = after, t + step
    return out


@st.composite
def wall_clocks(draw: st.DrawFn) -> tuple[str, datetime]:
    """A zone and a naive wall time within three hours of one of its DST changes."""
    zone = draw(st.sampled_from(DST_ZONES))
    change = draw(st.sampled_from(_transitions(zone)))
    near = change + timedelta(minutes=draw(st.integers(-180, 180)))
    offset = draw(st.sampled_from([change - timedelta(hours=1), change]))
    shift = offset.astimezone(ZoneInfo(zone)).utcoffset()
    assert shift is not None
    naive = (near + shift).replace(tzinfo=None)  # sometimes in a gap or a fold
    return zone, naive.replace(second=draw(st.integers(0, 59)))


@given(wall_clocks())
def test_wall_clocks_read_as_zoneinfo_fold_0(case: tuple[str, datetime]) -> None:
    """A wall time without an offset, near DST changes, is zoneinfo's fold=0 instant."""
    zone, wall = case
    reference = _seconds(wall.replace(tzinfo=ZoneInfo(zone), fold=0))
    assert times.instant(wall.isoformat(), "f", zone=zone) == reference
    days = (wall.date() - date(1970, 1, 1)).days
    clock = wall.hour * 3600 + wall.minute * 60 + wall.second
    assert times.local(days, clock, zone) == reference


@given(st.datetimes(datetime(1900, 1, 1), datetime(2100, 1, 1)), st.sampled_from(DST_ZONES))
def test_any_wall_clock_reads_as_zoneinfo(wall: datetime, zone: str) -> None:
    """Any wall time in a DST zone is zoneinfo's fold=0 instant, fraction truncated."""
    reference = _seconds(wall.replace(tzinfo=ZoneInfo(zone), fold=0))
    assert times.instant(wall.isoformat(), zone=zone) == reference


@given(st.dates(date(1, 1, 1), date(9999, 12, 31)))
def test_read_date_is_days_since_1970(day: date) -> None:
    """A YYYY-MM-DD date is its day number since 1970-01-01."""
    assert times.read_date(day.isoformat()) == (day - date(1970, 1, 1)).days


@given(st.integers(-1_400_000_000, 10**10), st.sampled_from(("UTC", *DST_ZONES)))
def test_format_round_trips(epoch: int, zone: str) -> None:
    """format_in and format_utc texts read back to the same instant (from 1925: before,
    local mean time offsets have seconds, which RFC 3339 cannot write)."""
    assert times.instant(times.format_in(epoch, zone)) == epoch
    assert times.instant(times.format_utc(epoch)) == epoch


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"),
        ("2026-06-30T23:59:60+08:00", "2026-07-01T00:00:00+08:00"),
        ("2026-11-23T24:00Z", "2026-11-24T00:00:00Z"),
        ("2026-12-31T24:00:00+01:00", "2027-01-01T00:00:00+01:00"),
        ("2026-11-23T10:00:00.999999Z", "2026-11-23T10:00:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59Z"),
        ("2026-11-23T10:00:00,5+08:00", "2026-11-23T10:00:00+08:00"),
        ("2026-11-23 10:00+0800", "2026-11-23T10:00:00+08:00"),
        ("2026-11-23t10:00:00+08", "2026-11-23T10:00:00+08:00"),
    ],
)
def test_odd_forms_by_rule(text: str, same_as: str) -> None:
    """Leap seconds are the next minute, 24:00 the next midnight, fractions truncate."""
    assert times.instant(text) == times.instant(same_as)


def test_24_00_in_a_zone_is_the_next_local_midnight() -> None:
    """``24:00`` without an offset is the next day's midnight in the zone."""
    got = times.instant("2026-03-28T24:00", zone="Europe/Berlin")
    assert got == _seconds(datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin")))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-02-30T10:00:00Z", "no such date"),
        ("2026-13-01T10:00:00Z", "no such date"),
        ("2026-11-23T25:00:00Z", "no such time of day"),
        ("2026-11-23T24:01:00Z", "no such time of day"),
        ("2026-11-23T24:00:00.5Z", "no such time of day"),
        ("2026-11-23T10:60:00Z", "no such time of day"),
        ("2026-11-23T10:00:61Z", "no such time of day"),
        ("2026-11-23T10:00:00+24:00", "no such UTC offset"),
        ("2026-11-23T10:00:00+08:60", "no such UTC offset"),
        ("2026-11-23T10:00:00", "no UTC offset"),
        ("2026-11-23", "RFC 3339"),
        ("20261123T100000+0800", "RFC 3339"),
        ("2026-11-23T10:00:00+08:00 ", "RFC 3339"),
        ("２０２６-11-23T10:00:00Z", "RFC 3339"),
        ("", "RFC 3339"),
    ],
)
def test_impossible_texts_are_refused_naming_the_field(text: str, problem: str) -> None:
    """Impossible dates, times and offsets, and offset-less text without a zone, are refused."""
    with pytest.raises(InputError) as info:
        times.instant(text, "attendees[1].busy[3].end")
    assert info.value.field == "attendees[1].busy[3].end"
    assert info.value.value == text
    assert problem in info.value.problem


def test_same_text_under_two_fields_names_each() -> None:
    """A refused text is named under the field of each call, though reads are cached."""
    for field in ("a.start", "b.end"):
        with pytest.raises(InputError) as info:
            times.instant("2026-11-23T25:00Z", field)
        assert info.value.field == field


@pytest.mark.parametrize("value", [None, 1_795_000_000, b"2026-11-23T10:00:00Z", ["x"]])
def test_non_text_is_refused(value: object) -> None:
    """Only text is read: numbers, bytes and lists are InputErrors naming the field."""
    with pytest.raises(InputError) as info:
        times.instant(value, "when")
    assert info.value.field == "when"


def test_unknown_zone_is_refused() -> None:
    """A zone that is not an IANA name is an InputError naming tz."""
    with pytest.raises(InputError) as info:
        times.instant("2026-11-23T10:00", zone="Mars/Olympus")
    assert info.value.field == "tz"


@pytest.mark.parametrize("text", ["2026-02-29", "2026-1-01", "26-01-01", "2026-01-01T00:00"])
def test_bad_dates_are_refused(text: str) -> None:
    """read_date takes only a real YYYY-MM-DD date."""
    with pytest.raises(InputError) as info:
        times.read_date(text, "holiday")
    assert info.value.field == "holiday"


def test_midnight_on_a_midnight_gap() -> None:
    """Sao Paulo skipped 00:00 on 2018-11-04: midnight is read with the offset before (01:00)."""
    days = (date(2018, 11, 4) - date(1970, 1, 1)).days
    reference = datetime(2018, 11, 4, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert times.midnight(days, "America/Sao_Paulo") == _seconds(reference)
    assert times.format_in(times.midnight(days, "America/Sao_Paulo"), "America/Sao_Paulo") == (
        "2018-11-04T01:00:00-02:00"
    )
