"""RFC 3339 times to integer epoch seconds and back, without a datetime per item.

A Feishu reply can carry thousands of busy items; each time is read with one regular expression
and integer arithmetic (``date.toordinal`` validates the calendar date), which is several times
faster than building an aware datetime, and far faster than pendulum.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["format_in_zone", "format_time", "parse_date", "parse_time"]

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
    reads as ``:59``. Raises :class:`ValueError` naming the text when it is not RFC 3339.
    """
    m = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    y, mo, d, h, mi, s, zulu, sign, oh, om = m.groups()
    try:
        days = date(int(y), int(mo), int(d)).toordinal() - _EPOCH_ORDINAL
    except ValueError as exc:
        raise ValueError(f"not an RFC 3339 date-time: {text!r} ({exc})") from None
    hour, minute, second = int(h), int(mi), min(int(s), 59)
    if hour > 23 or minute > 59:
        raise ValueError(f"not an RFC 3339 date-time: {text!r} (time out of range)")
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
    return int(datetime(y, mo, d, tzinfo=ZoneInfo(zone)).timestamp())


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
