"""RFC 3339 times to integer epoch seconds and back, without a datetime per item.

:func:`parse_time` reads one time with a regular expression and integer arithmetic
(``date.toordinal`` validates the calendar date); it is the reference reader. Replies are parsed
on the event loop and the same times recur across people, items and replies, so the provider
reads items with :func:`read_time` and :func:`read_date`: the same values and the same errors,
through memos of texts already read and, on a miss, a reader of the canonical form
``YYYY-MM-DDThh:mm:ss±hh:mm`` built from memos of its date, clock and offset parts. Only
successful reads are remembered (an unreadable text raises from the reference reader every
time). The memos follow :mod:`slotfinder.memo`'s rules (safe across threads, bounded), and the
date, clock and offset parts are read through its shared part memos.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from slotfinder import memo

__all__ = [
    "TIME_MEMO",
    "forget",
    "format_in_zone",
    "format_time",
    "parse_date",
    "parse_time",
    "read_date",
    "read_time",
]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_SHANGHAI = 8 * 3600


def parse_time(text: str) -> int:
    """Epoch seconds of an RFC 3339 date-time with ``Z`` or a ``±HH:MM`` offset.

    Fractions of a second are dropped (calendars work in whole seconds); a leap second ``:60``
    (RFC 3339 allows it) reads as ``:59``, the last second before it, as it always has. Raises
    :class:`ValueError` naming the text when it is not RFC 3339, including a date, hour
    (``24`` too: RFC 3339 has no ``24:00``), minute, second (``61``-``99``) or offset out of
    range: an impossible time is refused, never clamped or rolled into a neighbouring day.
    """
    m = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    y, mo, d, h, mi, s, zulu, sign, oh, om = m.groups()
    try:
        days = date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 date-time: {text!r} ({exc})") from None
    hour, minute, second = int(h), int(mi), int(s)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"not an RFC 3339 date-time: {text!r} (time out of range)")
    second = min(second, 59)  # the leap second, see above
    offset = 0
    if zulu is None:
        offset = int(oh) * 3600 + int(om) * 60
        if int(oh) > 23 or int(om) > 59:
            raise ValueError(f"not an RFC 3339 date-time: {text!r} (offset out of range)")
        if sign == "-":
            offset = -offset
    return days * 86_400 + hour * 3600 + minute * 60 + second - offset


def parse_date(text: str, zone: str) -> int:
    """Epoch seconds of local midnight starting the date ``YYYY-MM-DD`` in ``zone``."""
    m = _DATE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not a date: {text!r}")
    y, mo, d = (int(g) for g in m.groups())
    tz = ZoneInfo(zone)
    try:
        day = date(y, mo, d)
    except ValueError as exc:  # 2026-02-30 is refused, naming the text, not rolled into March
        raise ValueError(f"not a date: {text!r} ({exc})") from None
    return int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())


# --- memoised readers -----------------------------------------------------------------------

TIME_MEMO: dict[str, int] = {}
"""Epoch seconds of date-times :func:`read_time` has read (never a 10-character bare date)."""
_DATE_MEMO: dict[tuple[str, str], int] = {}
"""Epoch seconds of ``(bare date, zone)`` pairs :func:`read_date` has read."""
_MEMOS = (TIME_MEMO, _DATE_MEMO)


def forget() -> None:
    """Empty every memo (benchmarks time a cold start with it)."""
    for table in _MEMOS:
        table.clear()
    memo.forget()


def _canonical(text: str) -> int | None:
    """Epoch seconds of ``YYYY-MM-DD[Tt ]hh:mm:ss`` plus ``Z``/``z`` or ``±hh:mm``, else ``None``.

    Accepts only texts :func:`parse_time` reads to this same integer (seconds 00-59, so its
    clamp of a leap second never applies); ``None`` sends a text to it.
    """
    size = len(text)
    if size == 25:
        east = memo.offset_seconds(text[19:])
    elif size == 20 and text[19] in "Zz":
        east = 0
    else:
        return None
    if east is None or text[10] not in "Tt ":
        return None
    days = memo.day_number(text[:10])
    clock = memo.clock_seconds(text[11:19])
    if days is None or clock is None:
        return None
    return days * 86_400 + clock - east


def read_time(text: str) -> int:
    """:func:`parse_time` through a memo: the same epoch seconds or the same ValueError."""
    if type(text) is not str:
        return parse_time(text)
    value = TIME_MEMO.get(text)
    if value is None:
        value = _canonical(text)
        if value is None:
            value = parse_time(text)
        memo.remember(TIME_MEMO, text, value)
    return value


def read_date(text: str, zone: str) -> int:
    """:func:`parse_date` through a memo: the same epoch seconds or the same error."""
    if type(text) is not str or type(zone) is not str:
        return parse_date(text, zone)
    key = (text, zone)
    value = _DATE_MEMO.get(key)
    if value is None:
        value = parse_date(text, zone)
        memo.remember(_DATE_MEMO, key, value)
    return value


def format_time(epoch: int) -> str:
    """RFC 3339 with the ``+08:00`` offset Feishu's own examples use (any offset is valid)."""
    t = time.gmtime(epoch + _SHANGHAI)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T"
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}+08:00"
    )


def format_in_zone(epoch: int, zone: ZoneInfo) -> str:
    """RFC 3339 in the wall clock of ``zone`` (the simulator answers in each person's zone)."""
    return datetime.fromtimestamp(epoch, zone).isoformat()
