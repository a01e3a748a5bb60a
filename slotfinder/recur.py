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

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt
from dateutil.rrule import rrule, rrulestr

from slotfinder.errors import InputError

__all__ = ["MAX_SPAN_DAYS", "Rule", "local_day", "parse", "table"]

MAX_SPAN_DAYS = 365
"""The last occurrence starts at most this many days after the first (a year of calendars)."""

_DAY = 86400
_EPOCH = datetime(1970, 1, 1)
_FINE = ("SECONDLY", "MINUTELY", "HOURLY")
_PARTS = {
    "FREQ", "UNTIL", "COUNT", "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR", "BYDAY",
    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH", "BYSETPOS", "WKST",
}  # fmt: skip


@attrs.frozen
class Rule:
    """A checked rule: as given (``source``), its text for dateutil (upper case, without
    ``UNTIL``) and the latest local start ``UNTIL`` allows, as a wall time (see
    :mod:`slotfinder.hours`), or ``None``."""

    source: str
    text: str
    until_wall: int | None


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
    until = parts.pop("UNTIL", None)
    rest = ";".join(f"{k}={v}" for k, v in parts.items())
    try:
        rrulestr(rest, dtstart=_EPOCH)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _refuse(value, f"not a valid RRULE: {exc}") from exc
    if "COUNT" in parts and int(parts["COUNT"]) < 1:
        raise _refuse(value, "COUNT must be at least 1")
    return Rule(value, rest, None if until is None else _until_wall(until, value, zone))


def local_day(zone: str, t: int) -> int:
    """The wall day of instant ``t`` in ``zone``."""
    local = datetime.fromtimestamp(t, ZoneInfo(zone)).replace(tzinfo=None)
    return (local - _EPOCH).days


@lru_cache(maxsize=64)
def table(
    rule: Rule, first_day: int, last_day: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Occurrence dates of a series starting on each wall day in ``[first_day, last_day]``.

    Returns ``(offsets, valid)``, one row per day: ``offsets[i, k]`` is how many days after
    day ``first_day + i`` occurrence ``k`` falls, where ``valid[i, k]``. A day whose own date
    is not the rule's first occurrence (``BYDAY=TU`` on a Monday) starts no series: its row is
    all invalid. ``UNTIL`` is applied here by date only; the exact cut by time of day is the
    caller's (``rule.until_wall``). Raises :class:`InputError` when a series would run past
    :data:`MAX_SPAN_DAYS`.
    """
    base: rrule = rrulestr(rule.text, dtstart=_EPOCH)
    until = None
    if rule.until_wall is not None:
        until = _EPOCH + timedelta(days=rule.until_wall // _DAY, seconds=_DAY - 1)
    rows: list[list[int]] = []
    for day in range(first_day, last_day + 1):
        start = _EPOCH + timedelta(days=day)
        offs: list[int] = []
        for when in base.replace(dtstart=start, until=until):
            off = (when - start).days
            if off > MAX_SPAN_DAYS:
                raise _refuse(
                    rule.source,
                    f"a series starting {start.date()} runs past {MAX_SPAN_DAYS} days "
                    "(lower COUNT or UNTIL)",
                )
            offs.append(off)
        rows.append(offs if offs and offs[0] == 0 else [])
    width = max((len(r) for r in rows), default=0)
    offsets = np.zeros((len(rows), max(width, 1)), dtype=np.int64)
    valid = np.zeros(offsets.shape, dtype=bool)
    for i, offs in enumerate(rows):
        offsets[i, : len(offs)] = offs
        valid[i, : len(offs)] = True
    offsets.setflags(write=False)
    valid.setflags(write=False)
    return offsets, valid
