"""Recurrence rules (RFC 5545 RRULE) read once, and the local dates of a series' occurrences.

A series repeats a meeting at the same local wall-clock time on the dates its rule gives, so
the dates depend only on the first meeting's local date: :func:`table` expands the rule once
per local date (with :mod:`dateutil.rrule`) and the engine places every start's occurrences
from it with array arithmetic. Dates are *wall days*: days since 1970-01-01 of the local date.

Rules finer than a day (``FREQ=HOURLY`` and below, ``BYHOUR``, ``BYMINUTE``, ``BYSECOND``)
would move the time of day, and endless rules would need endless calendars: both are refused.
``UNTIL`` may be a date (through the end of that local day), a local date-time, or a UTC
date-time ending in ``Z`` (read on the request zone's wall clock); it bounds each occurrence's
local start time.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder.errors import InputError

if TYPE_CHECKING:
    from dateutil.rrule import rrule

__all__ = ["MAX_SPAN_DAYS", "Rule", "local_day", "parse", "table"]

MAX_SPAN_DAYS = 365
"""The last occurrence starts at most this many days after the first (a year of calendars)."""

_DAY = 86400
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # a leap year's
_EPOCH = datetime(1970, 1, 1)
_FINE = ("SECONDLY", "MINUTELY", "HOURLY")
_PARTS = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
}  # fmt: skip


@attrs.frozen
class Rule:
    """A checked rule: as given (``source``), its text for dateutil (upper case, without
    ``UNTIL``), the latest local start ``UNTIL`` allows, as a wall time (see
    :mod:`slotfinder.hours`), or ``None``, and ``COUNT`` or ``None``."""

    source: str
    text: str
    until_wall: int | None
    count: int | None


def _refuse(value: str, why: str) -> InputError:
    return InputError("repeat", value, why)


def _until_wall(value: str, raw: str, zone: str) -> int:
    """``UNTIL``'s value as the latest local wall time a start may have."""
    try:
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            return int((day - _EPOCH).total_seconds()) + _DAY - 1
        if value.endswith("Z"):
            t = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            local = t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        else:
            local = datetime.strptime(value, "%Y%m%dT%H%M%S")
    except ValueError as exc:
        raise _refuse(raw, f"UNTIL={value} is not YYYYMMDD, YYYYMMDDTHHMMSS or ...Z") from exc
    return int((local - _EPOCH).total_seconds())


def _numbers(value: str, key: str, text: str, lo: int, hi: int) -> list[int]:
    """The comma list of ``key``, each a non-zero whole number with ``lo <= |n| <= hi``."""
    try:
        out = [int(x) for x in text.split(",")]
    except ValueError as exc:
        raise _refuse(value, f"{key}={text} is not a list of whole numbers") from exc
    if not all(lo <= abs(n) <= hi for n in out):
        raise _refuse(value, f"{key}={text}: each must be {lo} to {hi} (or negative)")
    return out


def _check_by(value: str, parts: dict[str, str]) -> None:
    """Refuse numbers out of range and month-day lists no month has, naming why (dateutil
    would only find no date)."""
    for key, hi in (("BYYEARDAY", 366), ("BYWEEKNO", 53), ("BYSETPOS", 366)):
        if key in parts:
            _numbers(value, key, parts[key], 1, hi)
    months = _numbers(value, "BYMONTH", parts.get("BYMONTH", "1"), 1, 12)
    if any(m < 0 for m in months):
        raise _refuse(value, "BYMONTH must be 1 to 12")
    if "BYMONTHDAY" in parts:
        days = _numbers(value, "BYMONTHDAY", parts["BYMONTHDAY"], 1, 31)
        if "BYMONTH" in parts and not any(
            abs(d) <= _MONTH_DAYS[m - 1] for m in months for d in days
        ):
            raise _refuse(value, "no month in BYMONTH has a day in BYMONTHDAY")


def parse(value: object, zone: str) -> Rule:
    """Check an RRULE value (``FREQ=WEEKLY;COUNT=8``, an optional ``RRULE:`` prefix).

    Raises :class:`InputError` naming ``repeat``, the value and why it cannot be used.
    """
    if not isinstance(value, str) or not value.strip():
        raise _refuse(str(value), "expected an RFC 5545 RRULE such as FREQ=WEEKLY;COUNT=8")
    text = value.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for item in text.split(";"):
        key, eq, val = item.partition("=")
        if not eq or not val:
            raise _refuse(value, f"{item!r} is not NAME=VALUE")
        if key not in _PARTS:
            raise _refuse(value, f"unknown rule part {key}")
        if key in parts:
            raise _refuse(value, f"{key} given twice")
        parts[key] = val
    freq = parts.get("FREQ")
    if freq is None:
        raise _refuse(value, "FREQ is required")
    if freq in _FINE:
        raise _refuse(value, f"FREQ={freq} would move the time of day; DAILY or coarser only")
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if key in parts:
            raise _refuse(value, f"{key} would move the time of day; the start gives it")
    if ("COUNT" in parts) == ("UNTIL" in parts):
        raise _refuse(value, "exactly one of COUNT and UNTIL is needed (a series must end)")
    _check_by(value, parts)
    until = parts.pop("UNTIL", None)
    rest = ";".join(f"{k}={v}" for k, v in parts.items())
    from dateutil.rrule import rrulestr  # only a series pays for dateutil's import

    try:
        rrulestr(rest, dtstart=_EPOCH)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _refuse(value, f"not a valid RRULE: {exc}") from exc
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    if count is not None and not 1 <= count <= MAX_SPAN_DAYS + 1:
        raise _refuse(value, f"COUNT must be 1 to {MAX_SPAN_DAYS + 1} (a year of days)")
    return Rule(value, rest, None if until is None else _until_wall(until, value, zone), count)


def local_day(zone: str, t: int) -> int:
    """The wall day of instant ``t`` in ``zone``."""
    local = datetime.fromtimestamp(t, ZoneInfo(zone)).replace(tzinfo=None)
    return (local - _EPOCH).days


def _shape(year: int) -> tuple[bool, int, bool]:
    """What a rule sees of ``year`` and the next: leap or not, and the weekday of 1 January."""
    return calendar.isleap(year), date(year, 1, 1).weekday(), calendar.isleap(year + 1)


@lru_cache(maxsize=512)
def _far_shift(year: int) -> int:
    """Days from 1 January ``year`` to 1 January of the last year before 9999 of the same
    :func:`_shape`: a series of at most a year, expanded from there, falls on the same month
    days and weekdays, and a rule that matches nothing more runs out within 28 years."""
    shape = _shape(year)
    far = next(y for y in range(9998, 9969, -1) if _shape(y) == shape)
    return (date(far, 1, 1) - date(year, 1, 1)).days


@lru_cache(maxsize=64)
def table(
    rule: Rule, first_day: int, last_day: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Occurrence dates of a series starting on each wall day in ``[first_day, last_day]``.

    Returns ``(offsets, valid)``, one row per day: ``offsets[i, k]`` is how many days after
    day ``first_day + i`` occurrence ``k`` falls, where ``valid[i, k]``. A day whose own date
    is not the rule's first occurrence (``BYDAY=TU`` on a Monday) starts no series: its row is
    all invalid. ``UNTIL`` is applied here by date only; the exact cut by time of day is the
    caller's (``rule.until_wall``). Raises :class:`InputError` when a series begun on one of
    these days would run past :data:`MAX_SPAN_DAYS` (``COUNT`` occurrences do not fit in it,
    or ``UNTIL`` lies beyond it).
    """
    from dateutil.rrule import rrulestr

    base: rrule = rrulestr(rule.text, dtstart=_EPOCH)
    until = None
    if rule.until_wall is not None:
        until = _EPOCH + timedelta(days=rule.until_wall // _DAY, seconds=_DAY - 1)
    rows: list[list[int]] = []
    for day in range(first_day, last_day + 1):
        start = _EPOCH + timedelta(days=day)
        # The year cap is the rule's UNTIL and COUNT is cut here. dateutil checks UNTIL only
        # on a date it yields, so a rule that matches nothing more searches on to year 9999:
        # the series is expanded in a year of the same shape near 9999 instead.
        far = timedelta(days=_far_shift(start.year))
        cap = start + timedelta(days=MAX_SPAN_DAYS, seconds=_DAY - 1)
        dates = base.replace(dtstart=start + far, count=None, until=min(cap, until or cap) + far)
        offs = [(when - far - start).days for when in islice(dates, rule.count)]
        if not offs or offs[0] != 0:
            rows.append([])  # this date begins no series
            continue
        if (rule.count or 0) > len(offs) or (until is not None and until > cap):
            raise _refuse(
                rule.source,
                f"a series starting {start.date()} runs past {MAX_SPAN_DAYS} days "
                "(lower COUNT or UNTIL)",
            )
        rows.append(offs)
    width = max((len(r) for r in rows), default=0)
    offsets = np.zeros((len(rows), max(width, 1)), dtype=np.int64)
    valid = np.zeros(offsets.shape, dtype=bool)
    for i, offs in enumerate(rows):
        offsets[i, : len(offs)] = offs
        valid[i, : len(offs)] = True
    offsets.setflags(write=False)
    valid.setflags(write=False)
    return offsets, valid
