"""The ``ics:`` provider: busy time from an iCalendar (RFC 5545) file on this machine.

``ics:path/to/calendar.ics`` names a file, relative to the current directory, read only as
:class:`slotfinder_files._cache.Access` allows (``roots``, ``max_bytes``). Parsing is
:mod:`icalendar`; expanding repeats is :mod:`recurring_ical_events` (RRULE, RDATE, EXDATE,
moved and deleted instances, DST-aware repeats); nothing of RFC 5545 is re-implemented here.
What this module decides is how a calendar entry blocks time:

* ``VEVENT``, first rule that applies: ``TRANSP:TRANSPARENT``, ``STATUS:CANCELLED``, Outlook's
  ``X-MICROSOFT-CDO-BUSYSTATUS:FREE`` and the owner's ``PARTSTAT`` ``DECLINED`` or
  ``DELEGATED`` block nothing; ``X-MICROSOFT-CDO-BUSYSTATUS:OOF`` is out of office; the owner's
  ``PARTSTAT=NEEDS-ACTION`` is unanswered; the owner's ``PARTSTAT=TENTATIVE``,
  ``X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE`` and ``STATUS:TENTATIVE`` are tentative; everything
  else is busy. A file does not say whose calendar it is, so ``PARTSTAT`` is read only when the
  id names the owner, ``ics:PATH#alice@example.com`` (the ``ATTENDEE`` whose ``mailto:`` address
  it is, any case; the fragment is after the last ``#``). An event without an end lasts zero
  seconds (RFC 5545) and so blocks nothing; ``DURATION`` is applied by the library.
* All-day events (``DATE`` values) block the attendee's *local* days: midnight to midnight in
  the attendee's zone (or the request's, when the attendee has none). An all-day event whose
  ``DTEND`` is not after its ``DTSTART`` (holiday feeds write ``DTEND`` = ``DTSTART``) is read
  as the one day it plainly means. A ``DATE`` start with a ``DATE-TIME`` end is taken as the
  library reads it (midnight in the end's zone).
* Floating times (no ``TZID``, no ``Z``) are read in the attendee's zone, as RFC 5545 says
  floating times are. A ``TZID`` that is neither defined in the file nor a known zone name
  reaches us as a floating time (icalendar's choice), so it too is read in the attendee's zone:
  the event still blocks time, at the place the attendee would most likely read it.
* ``VFREEBUSY`` periods: ``FBTYPE`` ``BUSY`` (the default) is busy, ``BUSY-TENTATIVE``
  tentative, ``BUSY-UNAVAILABLE`` out of office, ``FREE`` blocks nothing.

A file that cannot be read, parsed or expanded makes that attendee *unknown* with the reason,
never free: skipping a series we could not expand would silently show free time that is not.
Reasons name the file, the line (when known) and what was expected, never the file's content:
the id may point at a file that was never a calendar (``ics:.env``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from slotfinder.errors import InputError
from slotfinder.model import Attendee, Availability, BusyTable, Span, Status
from slotfinder.providers import ConfigKey, ProviderConfig
from slotfinder_files._cache import CONFIG_KEYS, Access, FileCache

__all__ = ["IcsProvider", "read_ics", "split_id"]

PREFIX = "ics:"
_MARGIN = timedelta(days=2)  # floating and all-day times can sit up to 26 h from UTC
_BUSY, _TENTATIVE, _OOF = Status.BUSY.code, Status.TENTATIVE.code, Status.OOF.code
_UNANSWERED = Status.UNANSWERED.code
_FBTYPE = {
    "BUSY": _BUSY,
    "BUSY-TENTATIVE": _TENTATIVE,
    "BUSY-UNAVAILABLE": _OOF,
    "FREE": None,
}


_CONTENT_LINE = re.compile(rb"[A-Za-z0-9-]+[;:]")


def _bad_line(data: bytes) -> int | None:
    """The number of the first line that is not ``NAME[;PARAMS]:VALUE``, if any."""
    for number, line in enumerate(data.splitlines(), 1):
        if line.strip() and not line[:1].isspace() and not _CONTENT_LINE.match(line):
            return number
    return None


def _parse_file(data: bytes) -> list[icalendar.Calendar]:
    """The calendars in a file; :class:`InputError` saying where, never quoting the file."""
    try:
        cals = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # icalendar's messages quote the line: only its number is reported
        line = _bad_line(data)
        where = f" (line {line}: expected NAME:VALUE)" if line is not None else ""
        raise InputError("calendar", None, f"not an iCalendar file{where}") from None
    out = [c for c in cals if getattr(c, "name", None) == "VCALENDAR"]
    if not out:
        raise InputError("calendar", None, "not an iCalendar file (no BEGIN:VCALENDAR)")
    return out


_CACHE: FileCache[list[icalendar.Calendar]] = FileCache(_parse_file)


def _epoch(value: date | datetime, zone: ZoneInfo) -> float:
    """Epoch seconds of an iCalendar value: dates are local midnights, floating is local."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), zone)  # fold=0: the RFC 5545 rule
    elif value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=zone)
    return value.timestamp()


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    return str(value).strip().upper() if value is not None else ""


def _partstat(event: Any, owner: str | None) -> str:
    """The owner's ``PARTSTAT`` on this event (``""``: no owner named, or not an attendee)."""
    if owner is None:
        return ""
    found = event.get("ATTENDEE")
    for attendee in found if isinstance(found, list) else [found] if found is not None else []:
        address = str(attendee).strip().lower().removeprefix("mailto:")
        if address == owner:
            return str(attendee.params.get("PARTSTAT", "NEEDS-ACTION")).upper()
    return ""


def _event_code(event: Any, owner: str | None = None) -> int | None:
    """How an event occurrence blocks time for ``owner`` (an address), ``None``: not at all."""
    status, cdo = _text(event, "STATUS"), _text(event, "X-MICROSOFT-CDO-BUSYSTATUS")
    reply = _partstat(event, owner)
    if (
        _text(event, "TRANSP") == "TRANSPARENT"
        or status == "CANCELLED"
        or cdo == "FREE"
        or reply in ("DECLINED", "DELEGATED")
    ):
        return None
    if cdo == "OOF":
        return _OOF
    if reply == "NEEDS-ACTION":
        return _UNANSWERED
    if reply == "TENTATIVE" or cdo == "TENTATIVE" or status == "TENTATIVE":
        return _TENTATIVE
    return _BUSY


def _event_rows(
    cal: icalendar.Calendar, lo: datetime, hi: datetime, zone: ZoneInfo, owner: str | None
) -> Iterator[tuple[float, float, int]]:
    for event in recurring_ical_events.of(cal).between(lo, hi):
        code = _event_code(event, owner)
        if code is None or "DTSTART" not in event:
            continue
        start = event["DTSTART"].dt
        end = event["DTEND"].dt if "DTEND" in event else start
        if not isinstance(start, datetime) and not isinstance(end, datetime) and end <= start:
            end = start + timedelta(days=1)  # DTEND = DTSTART on a date: the one day meant
        yield _epoch(start, zone), _epoch(end, zone), code


def _freebusy_rows(cal: icalendar.Calendar, zone: ZoneInfo) -> Iterator[tuple[float, float, int]]:
    for fb in cal.walk("VFREEBUSY"):
        props = fb.get("FREEBUSY")
        if props is None:
            continue
        for prop in props if isinstance(props, list) else [props]:
            fbtype = str(prop.params.get("FBTYPE", "BUSY")).upper()
            # Unknown (x-name) types count as busy: RFC 5545 says treat them as BUSY.
            code = _FBTYPE.get(fbtype, _BUSY)
            if code is None:
                continue
            start, end = prop.dt  # the end, or a duration
            if isinstance(end, timedelta):
                end = start + end
            yield _epoch(start, zone), _epoch(end, zone), code


def _rows_in(
    rows: Iterable[tuple[float, float, int]], window: Span
) -> Iterator[tuple[int, int, int]]:
    """Whole-second rows overlapping ``window`` that last at least a second."""
    for s, e, code in rows:
        start, end = math.floor(s), math.floor(e)
        if end > start and start < window.end and end > window.start:
            yield start, end, code


def read_ics(
    path: str | Path,
    window: Span,
    zone: str,
    access: Access | None = None,
    owner: str | None = None,
) -> BusyTable:
    """The busy time in an iCalendar file overlapping ``window``, for someone in ``zone``
    whose address is ``owner`` (``None``: unknown, so replies are not read).

    Entries are not clipped to the window. ``access`` limits which files may be read (default:
    any regular file outside /proc and /sys, up to 20 MiB). Raises :class:`InputError` saying
    why a file cannot be read, parsed or expanded, never quoting it. Parsed files are cached
    by path, modification time and size.
    """
    text = str(path)
    tz = ZoneInfo(zone)
    try:
        calendars = _CACHE.get(text, access or Access(roots=None))
    except InputError as exc:
        raise InputError("path", text, exc.problem) from None
    lo = datetime.fromtimestamp(window.start, UTC) - _MARGIN
    hi = datetime.fromtimestamp(window.end, UTC) + _MARGIN
    rows: list[tuple[float, float, int]] = []
    try:
        for cal in calendars:
            rows.extend(_event_rows(cal, lo, hi, tz, owner and owner.lower()))
            rows.extend(_freebusy_rows(cal, tz))
    except Exception as exc:  # the library's messages may quote the file: the kind only
        problem = f"cannot expand its events ({type(exc).__name__})"
        raise InputError("path", text, problem) from None
    return BusyTable.from_rows(_rows_in(rows, window))


def split_id(id: str) -> tuple[str, str | None]:
    """``ics:a/b.ics#me@x.org`` → ``("a/b.ics", "me@x.org")``; no fragment → ``(path, None)``."""
    rest = id.removeprefix(PREFIX)
    path, sep, owner = rest.rpartition("#")
    return (path, owner or None) if sep else (rest, None)


class IcsProvider:
    """``ics:PATH``: busy time from an iCalendar file (events and free/busy)."""

    name = "ics"
    description = "iCalendar (.ics) files on this machine: ics:path/to/calendar.ics"
    config_keys: tuple[ConfigKey, ...] = CONFIG_KEYS

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        """Availability per attendee; a file that cannot be read makes that attendee unknown."""
        try:
            access = Access.from_config(config, self.name)
        except InputError as exc:  # no folders to read from: everyone unknown, never free
            return [Availability.unknown(a.id, f"{exc.field}: {exc.problem}") for a in attendees]
        out: list[Availability] = []
        for attendee in attendees:
            path, owner = split_id(attendee.id)
            if not path:
                out.append(Availability.unknown(attendee.id, "expected ics:PATH, got no path"))
                continue
            try:
                busy = read_ics(path, window, attendee.zone or zone, access, owner)
            except InputError as exc:  # unknown with the reason, never free
                out.append(Availability.unknown(attendee.id, f"{path}: {exc.problem}"))
                continue
            except Exception as exc:  # anything odd: unknown too, named by its kind only
                reason = f"{path}: cannot read ({type(exc).__name__})"
                out.append(Availability.unknown(attendee.id, reason))
                continue
            out.append(Availability(id=attendee.id, busy=busy))
        return out
