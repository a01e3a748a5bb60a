"""The ``ics:`` provider against the shared real-world corpus and small inline calendars."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paths
import pytest
from slotfinder_files import IcsProvider, read_ics

from slotfinder.errors import InputError
from slotfinder.model import Attendee, Availability, Span, Status
from slotfinder.providers import LocalProvider

# The shared corpus sits beside the repository (tests/conftest.py names the same folder).
ICS_CORPUS = paths.ICS_CORPUS
CORPUS_FILES = sorted(ICS_CORPUS.glob("*.ics")) if ICS_CORPUS.is_dir() else []
needs_corpus = pytest.mark.skipif(
    not CORPUS_FILES, reason=f"shared ics corpus not found at {ICS_CORPUS}"
)
EVERYTHING = Span(datetime(2000, 1, 1, tzinfo=UTC), datetime(2035, 1, 1, tzinfo=UTC))
BERLIN, CHICAGO, TOKYO = "Europe/Berlin", "America/Chicago", "Asia/Tokyo"


def _t(text: str, zone: str = "UTC") -> int:
    """Epoch seconds of a local wall time ``YYYY-MM-DD HH:MM`` in ``zone``."""
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())


def _rows(availability: Availability) -> set[tuple[int, int, Status]]:
    return {(b.span.start, b.span.end, b.status) for b in availability.busy.entries()}


CONFIG: dict[str, str] = {}
"""The provider settings the tests read with: roots are this test's folder and the corpus."""


@pytest.fixture(autouse=True)
def _roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONFIG, "roots", os.pathsep.join([str(tmp_path), str(ICS_CORPUS)]))


def _read(path: Path | str, zone: str = BERLIN, window: Span = EVERYTHING) -> Availability:
    [a] = IcsProvider().read([Attendee(id=f"ics:{path}")], window, zone, CONFIG)
    return a


def _corpus(name: str) -> Path:
    return ICS_CORPUS / name


def _variant(tmp_path: Path, name: str, *drop: str) -> Path:
    """A copy of a corpus file in ``tmp_path`` without lines matching the ``drop`` patterns."""
    text = _corpus(name).read_text(encoding="utf-8")
    for pattern in drop:
        text = re.sub(rf"(?m)^{pattern}\r?\n", "", text)
    out = tmp_path / name
    out.write_text(text, encoding="utf-8", newline="")
    return out


def _weekly(first: datetime, until: datetime, step: int = 7) -> Iterator[datetime]:
    while first <= until:
        yield first
        first += timedelta(days=step)


def test_provider_shape() -> None:
    """The provider is a LocalProvider named ``ics``."""
    assert isinstance(IcsProvider(), LocalProvider)
    assert IcsProvider().name == "ics"


@needs_corpus
@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("zone", ["Europe/Berlin", "Pacific/Kiritimati", "America/Adak"])
def test_every_corpus_file_reads(path: Path, zone: str) -> None:
    """Every corpus file reads as known availability, in any attendee zone, without crashing."""
    a = _read(path, zone)
    assert a.known, a.error
    assert bool((a.busy.ends > a.busy.starts).all())


@needs_corpus
def test_corpus_counts() -> None:
    """The number of blocking occurrences per file over 2000-2035 (open-ended repeats) is pinned."""
    counts = {p.name: len(_read(p).busy) for p in CORPUS_FILES}
    assert counts == {
        "Germany_Holidays.ics": 0,  # all TRANSP:TRANSPARENT
        "daylight_saving_time.ics": 5267,
        "discourse_no_dtend.ics": 3,  # the event without DTEND lasts 0 s
        "duration.ics": 2,  # likewise the third event
        "fablab_cottbus.ics": 231,
        "issue_163_deleted_modification.ics": 181,
        "issue_201_mixed_datetime_and_date.ics": 0,  # transparent
        "issue_223_thunderbird.ics": 5,
        "issue_28_rrule_with_UTC_endinginZ.ics": 0,  # transparent, Outlook BUSYSTATUS FREE
        "issue_48_dst.ics": 10357,
        "issue_4_rrule_until.ics": 12,
        "issue_61_time_zone_error.ics": 0,  # transparent
        "issue_62_moved_event_2.ics": 3,  # + 3 transparent all-day events
        "machbar_16_feb_2019.ics": 5267,
        "rdate2.ics": 594,
        "recurring_events_changed_duration.ics": 6,  # the instance moved to all-day is transparent
        "three_events_one_edited.ics": 3,
    }


@needs_corpus
def test_dst_aware_repeats_berlin() -> None:
    """A weekly 19:00 Berlin event stays at 19:00 local across the March 2019 DST change."""
    rows = _rows(_read(_corpus("daylight_saving_time.ics")))
    before = (_t("2019-03-27 19:00", BERLIN), _t("2019-03-27 21:00", BERLIN), Status.BUSY)
    after = (_t("2019-04-03 19:00", BERLIN), _t("2019-04-03 21:00", BERLIN), Status.BUSY)
    assert before in rows
    assert after in rows
    assert after[0] - before[0] == 7 * 86_400 - 3600  # one hour less in UTC
    # EXDATE removes the Thursday 2019-03-07 Montessori class, but not the week after.
    assert (_t("2019-03-07 08:30", BERLIN), _t("2019-03-07 14:30", BERLIN), Status.BUSY) not in rows
    assert (_t("2019-03-14 08:30", BERLIN), _t("2019-03-14 14:30", BERLIN), Status.BUSY) in rows


@needs_corpus
def test_dst_aware_repeats_chicago() -> None:
    """issue_48: a Chicago 08:15 repeat is 14:15Z before and 13:15Z after the 2021 change."""
    rows = _rows(_read(_corpus("issue_48_dst.ics")))
    fri = (_t("2021-03-12 14:15"), _t("2021-03-12 14:30"), Status.BUSY)
    mon = (_t("2021-03-15 13:15"), _t("2021-03-15 13:30"), Status.BUSY)
    assert fri in rows
    assert mon in rows
    # EXDATEs on Thanksgiving week remove the Thursday and Friday occurrences.
    assert (_t("2020-11-24 08:15", CHICAGO), _t("2020-11-24 08:30", CHICAGO), Status.BUSY) in rows
    for day in ("2020-11-26", "2020-11-27"):
        starts = {s for s, _, _ in rows}
        assert _t(f"{day} 08:15", CHICAGO) not in starts


@needs_corpus
def test_moved_instances() -> None:
    """Overridden instances move to their new times (Thunderbird, Google Calendar exports)."""
    london = "Europe/London"
    rows = _rows(_read(_corpus("issue_223_thunderbird.ics")))
    expected = {
        (
            _t(f"2025-04-{d} {h:02}:00", london),
            _t(f"2025-04-{d} {h + 1:02}:00", london),
            Status.BUSY,
        )
        for d, h in [(23, 9), (24, 11), (25, 9), (26, 9), (27, 9)]
    }
    assert rows == expected

    sydney = "Australia/Sydney"
    rows = _rows(_read(_corpus("issue_62_moved_event_2.ics")))
    assert rows == {
        (_t(f"2023-08-{d} 14:00", sydney), _t(f"2023-08-{d} 15:00", sydney), Status.BUSY)
        for d in ("08", "14", "22")
    }


@needs_corpus
def test_deleted_modification_and_local_all_day() -> None:
    """issue_163: the EXDATE'd 2024-08-19 instance is gone; all-day spans are local days."""
    for zone in (BERLIN, TOKYO):
        rows = _rows(_read(_corpus("issue_163_deleted_modification.ics"), zone))
        first = (_t("2024-07-29 00:00", zone), _t("2024-08-05 00:00", zone), Status.BUSY)
        assert first in rows
        assert not any(s == _t("2024-08-19 00:00", zone) for s, _, _ in rows)
        assert (_t("2024-09-09 00:00", zone), _t("2024-09-16 00:00", zone), Status.BUSY) in rows


@needs_corpus
def test_rdate_with_exdate() -> None:
    """rdate2: a daily RRULE plus an RDATE the EXDATE removes again: that day is free."""
    rows = _rows(_read(_corpus("rdate2.ics")))
    starts = {s for s, _, _ in rows}
    assert _t("2015-07-05 19:00") not in starts
    assert _t("2015-07-04 19:00") in starts
    assert _t("2015-07-06 19:00") in starts
    days = (date(2016, 3, 19) - date(2014, 8, 3)).days + 1  # UNTIL 2016-03-20T03:00Z
    assert len(rows) == days - 1


@needs_corpus
def test_until_date_and_utc() -> None:
    """issue_4 (UNTIL as a date) ends 2019-10-17; three_events (UNTIL in UTC) includes the last."""
    london = "Europe/London"
    rows = _rows(_read(_corpus("issue_4_rrule_until.ics")))
    want = {
        (_t(d.strftime("%Y-%m-%d 14:00"), london), _t(d.strftime("%Y-%m-%d 15:00"), london))
        for d in _weekly(datetime(2019, 8, 1), datetime(2019, 10, 17))
    }
    assert {(s, e) for s, e, _ in rows} == want

    rows = _rows(_read(_corpus("three_events_one_edited.ics")))
    assert {s for s, _, _ in rows} == {_t(f"2019-03-{d} 04:00", BERLIN) for d in (18, 19, 20)}


@needs_corpus
def test_until_in_utc_with_all_day_moves(tmp_path: Path) -> None:
    """issue_28 made opaque: fortnightly all-day bins stop at the UTC UNTIL, moved days move."""
    path = _variant(
        tmp_path,
        "issue_28_rrule_with_UTC_endinginZ.ics",
        "TRANSP:TRANSPARENT",
        "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
    )
    london = "Europe/London"
    starts = {s for s, _, _ in _rows(_read(path, london))}
    blue = {
        _t(d.strftime("%Y-%m-%d 00:00"), london)
        for d in _weekly(datetime(2020, 4, 9), datetime(2020, 9, 10), 14)
    }
    assert blue <= starts
    assert _t("2020-09-24 00:00", london) not in starts  # after UNTIL=20200923T230000Z
    assert _t("2020-04-17 00:00", london) in starts  # moved from 2020-04-16
    assert _t("2020-04-16 00:00", london) not in starts


@needs_corpus
def test_no_dtend_and_duration() -> None:
    """No DTEND: zero length, blocks nothing; DURATION applies to dates and floating times."""
    rows = _rows(_read(_corpus("discourse_no_dtend.ics")))
    assert not any(s == _t("2019-01-17 18:00", BERLIN) + 25 for s, _, _ in rows)
    assert (
        _t("2019-02-28 15:00", BERLIN) + 14,
        _t("2019-02-28 18:30", BERLIN) + 14,
        Status.BUSY,
    ) in rows

    for zone in (BERLIN, TOKYO):
        rows = _rows(_read(_corpus("duration.ics"), zone))
        assert rows == {
            (_t("2018-01-10 00:00", zone), _t("2018-01-13 00:00", zone), Status.BUSY),
            (_t("2018-01-15 10:00", zone), _t("2018-01-15 13:00", zone), Status.BUSY),
        }


@needs_corpus
def test_mixed_date_and_datetime(tmp_path: Path) -> None:
    """issue_201 made opaque: a DATE start with a UTC end reads as UTC midnight to the end."""
    path = _variant(tmp_path, "issue_201_mixed_datetime_and_date.ics", "TRANSP:TRANSPARENT")
    rows = _rows(_read(path, TOKYO))
    assert rows == {(_t("2023-07-24 00:00"), _t("2023-08-17 00:00"), Status.BUSY)}


@needs_corpus
def test_holidays_with_dtend_equal_dtstart(tmp_path: Path) -> None:
    """Germany_Holidays made opaque: DTEND = DTSTART dates block the one local day meant."""
    path = _variant(tmp_path, "Germany_Holidays.ics", "TRANSP:TRANSPARENT")
    rows = _rows(_read(path, TOKYO))
    assert len(rows) == 34
    assert (_t("2019-01-01 00:00", TOKYO), _t("2019-01-02 00:00", TOKYO), Status.BUSY) in rows


@needs_corpus
def test_vtimezone_quirks_still_read(tmp_path: Path) -> None:
    """issue_61 (odd VTIMEZONE, Confluence) and issue_28 (Windows zone name) read fine."""
    path = _variant(tmp_path, "issue_61_time_zone_error.ics", "TRANSP:TRANSPARENT")
    rows = _rows(_read(path, TOKYO))
    assert rows == {(_t("2021-12-15 00:00", TOKYO), _t("2021-12-16 00:00", TOKYO), Status.BUSY)}


@needs_corpus
def test_window_filters_and_changed_duration() -> None:
    """Only occurrences overlapping the window come back; moved instances keep new lengths."""
    window = Span(_t("2019-03-08 00:00", BERLIN), _t("2019-03-10 00:00", BERLIN))
    rows = _rows(_read(_corpus("recurring_events_changed_duration.ics"), window=window))
    assert rows == {
        (_t("2019-03-08 01:00", BERLIN), _t("2019-03-08 03:00", BERLIN), Status.BUSY),
        (_t("2019-03-09 03:00", BERLIN), _t("2019-03-09 03:30", BERLIN), Status.BUSY),
    }


CAL = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//slotfinder tests//EN\r
{body}END:VCALENDAR\r
"""


def _event(uid: str, *lines: str) -> str:
    return "".join(f"{x}\r\n" for x in ("BEGIN:VEVENT", f"UID:{uid}", *lines, "END:VEVENT"))


def _write(tmp_path: Path, body: str, name: str = "cal.ics") -> Path:
    path = tmp_path / name
    path.write_text(CAL.format(body=body), encoding="utf-8", newline="")
    return path


def test_status_transparency_and_outlook_busystatus(tmp_path: Path) -> None:
    """Cancelled and transparent events block nothing; tentative and OOF keep their status."""
    body = "".join(
        [
            _event("a", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z"),
            _event("b", "DTSTART:20260105T100000Z", "DTEND:20260105T110000Z", "STATUS:CANCELLED"),
            _event("c", "DTSTART:20260105T110000Z", "DTEND:20260105T120000Z", "TRANSP:TRANSPARENT"),
            _event("d", "DTSTART:20260105T120000Z", "DTEND:20260105T130000Z", "STATUS:TENTATIVE"),
            _event(
                "e",
                "DTSTART:20260105T130000Z",
                "DTEND:20260105T140000Z",
                "X-MICROSOFT-CDO-BUSYSTATUS:OOF",
            ),
            _event(
                "f",
                "DTSTART:20260105T140000Z",
                "DTEND:20260105T150000Z",
                "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
            ),
        ]
    )
    rows = _rows(_read(_write(tmp_path, body)))
    assert rows == {
        (_t("2026-01-05 09:00"), _t("2026-01-05 10:00"), Status.BUSY),
        (_t("2026-01-05 12:00"), _t("2026-01-05 13:00"), Status.TENTATIVE),
        (_t("2026-01-05 13:00"), _t("2026-01-05 14:00"), Status.OOF),
    }


def test_rdate_adds_and_cancelled_override_removes(tmp_path: Path) -> None:
    """RDATE adds an instance; an override with STATUS:CANCELLED removes its instance."""
    body = _event(
        "r",
        "DTSTART;TZID=Europe/Berlin:20260105T090000",
        "DTEND;TZID=Europe/Berlin:20260105T093000",
        "RRULE:FREQ=DAILY;COUNT=3",
        "RDATE;TZID=Europe/Berlin:20260110T150000",
    ) + _event(
        "r",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260106T090000",
        "DTSTART;TZID=Europe/Berlin:20260106T090000",
        "DTEND;TZID=Europe/Berlin:20260106T093000",
        "STATUS:CANCELLED",
    )
    starts = sorted(s for s, _, _ in _rows(_read(_write(tmp_path, body))))
    assert starts == [
        _t("2026-01-05 09:00", BERLIN),
        _t("2026-01-07 09:00", BERLIN),
        _t("2026-01-10 15:00", BERLIN),
    ]


def test_floating_and_unknown_tzid_read_in_attendee_zone(tmp_path: Path) -> None:
    """Floating times and a TZID nobody defines are read in the attendee's zone."""
    body = _event("f", "DTSTART:20260105T090000", "DTEND:20260105T100000") + _event(
        "g", "DTSTART;TZID=Mars/Olympus:20260106T090000", "DTEND;TZID=Mars/Olympus:20260106T100000"
    )
    path = _write(tmp_path, body)
    for zone in (BERLIN, TOKYO):
        assert _rows(_read(path, zone)) == {
            (_t("2026-01-05 09:00", zone), _t("2026-01-05 10:00", zone), Status.BUSY),
            (_t("2026-01-06 09:00", zone), _t("2026-01-06 10:00", zone), Status.BUSY),
        }


def test_attendee_zone_wins_over_request_zone(tmp_path: Path) -> None:
    """An all-day event is the attendee's local day when the attendee has a zone."""
    path = _write(tmp_path, _event("d", "DTSTART;VALUE=DATE:20260105"))
    [a] = IcsProvider().read([Attendee(id=f"ics:{path}", zone=TOKYO)], EVERYTHING, BERLIN, CONFIG)
    assert _rows(a) == {(_t("2026-01-05 00:00", TOKYO), _t("2026-01-06 00:00", TOKYO), Status.BUSY)}


def test_all_day_on_a_midnight_dst_gap(tmp_path: Path) -> None:
    """A local day starting in a DST gap at midnight starts at the instant the gap ends."""
    # America/Santiago skipped 2026-09-06 00:00-01:00 (clocks went from -04 to -03).
    zone = "America/Santiago"
    path = _write(tmp_path, _event("d", "DTSTART;VALUE=DATE:20260906"))
    [(start, end, _)] = _rows(_read(path, zone))
    tz = ZoneInfo(zone)
    assert start == int(datetime(2026, 9, 6, tzinfo=tz).timestamp())  # fold=0, RFC 5545
    assert end == int(datetime(2026, 9, 7, tzinfo=tz).timestamp())


def test_vfreebusy(tmp_path: Path) -> None:
    """VFREEBUSY periods map FBTYPE to busy, tentative, oof; FREE is ignored."""
    body = (
        "BEGIN:VFREEBUSY\r\nUID:fb\r\n"
        "DTSTART:20260105T000000Z\r\nDTEND:20260110T000000Z\r\n"
        "FREEBUSY:20260105T090000Z/PT1H\r\n"
        "FREEBUSY;FBTYPE=BUSY-TENTATIVE:20260105T110000Z/PT30M,20260105T130000Z/20260105T140000Z\r\n"
        "FREEBUSY;FBTYPE=BUSY-UNAVAILABLE:20260106T000000Z/P1D\r\n"
        "FREEBUSY;FBTYPE=FREE:20260107T090000Z/PT1H\r\n"
        "END:VFREEBUSY\r\n"
    )
    assert _rows(_read(_write(tmp_path, body))) == {
        (_t("2026-01-05 09:00"), _t("2026-01-05 10:00"), Status.BUSY),
        (_t("2026-01-05 11:00"), _t("2026-01-05 11:30"), Status.TENTATIVE),
        (_t("2026-01-05 13:00"), _t("2026-01-05 14:00"), Status.TENTATIVE),
        (_t("2026-01-06 00:00"), _t("2026-01-07 00:00"), Status.OOF),
    }


def test_unreadable_files_are_unknown_never_free(tmp_path: Path) -> None:
    """Missing, garbage, empty and unexpandable files give unknown with a reason naming the path."""
    garbage = tmp_path / "garbage.ics"
    garbage.write_text("this is not a calendar\n")
    empty = tmp_path / "empty.ics"
    empty.write_text("")
    bad_rule = _write(
        tmp_path,
        _event("x", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z", "RRULE:FREQ=SOMETIMES"),
        "bad_rule.ics",
    )
    attendees = [
        Attendee(id=f"ics:{tmp_path / 'missing.ics'}"),
        Attendee(id=f"ics:{garbage}"),
        Attendee(id=f"ics:{empty}"),
        Attendee(id=f"ics:{bad_rule}"),
        Attendee(id=f"ics:{tmp_path}"),
        Attendee(id="ics:"),
    ]
    out = IcsProvider().read(attendees, EVERYTHING, "UTC", CONFIG)
    assert [a.id for a in out] == [a.id for a in attendees]
    for a in out:
        assert not a.known
        assert a.error
        assert len(a.busy) == 0
    assert "missing.ics" in (out[0].error or "")
    assert "garbage.ics" in (out[1].error or "")


def test_relative_paths_and_cache_by_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are relative to the current directory; editing the file is seen on the next read."""
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, _event("a", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z"))
    assert len(_read("cal.ics").busy) == 1
    first = _read("cal.ics").busy
    assert _read("cal.ics").busy == first
    body = _event("a", "DTSTART:20260105T090000Z", "DTEND:20260105T100000Z") + _event(
        "b", "DTSTART:20260106T090000Z", "DTEND:20260106T100000Z"
    )
    path.write_text(CAL.format(body=body), encoding="utf-8", newline="")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert len(_read("cal.ics").busy) == 2


def test_read_ics_raises_for_callers_that_want_errors(tmp_path: Path) -> None:
    """The function under the provider raises instead of hiding the failure."""
    with pytest.raises(InputError, match=r"nope\.ics"):
        read_ics(tmp_path / "nope.ics", EVERYTHING, "UTC")
