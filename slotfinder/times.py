"""Reading and writing times: the one reader every part of slotfinder uses.

The busy-file loader, the command line and every provider read times here, so one text means
one instant everywhere. Texts become integer epoch seconds; nothing keeps a datetime.

The rules, one for each odd form:

* An instant is ``YYYY-MM-DD`` then ``T``, ``t`` or a space, then ``hh:mm`` or ``hh:mm:ss``
  with an optional fraction (``.`` or ``,``), then ``Z``/``z`` or an offset ``±hh:mm``,
  ``±hhmm`` or ``±hh`` (RFC 3339, plus ISO 8601's common extended forms).
* Without an offset a text is a wall-clock time and needs a zone: it is read by RFC 5545
  (``zoneinfo`` with ``fold=0``): a time skipped by a spring-forward gap takes the offset before
  the gap, a repeated time is its first occurrence. Without a zone it is refused.
* Fractions of a second are truncated toward the past: calendars work in whole seconds.
* A leap second ``hh:mm:60`` is the first second of the next minute (epoch seconds have no room
  for it), and ``24:00`` or ``24:00:00`` is the next day's midnight (ISO 8601's end of a day).
* Anything impossible is refused, never rolled over: a date that does not exist (``02-30``),
  an hour over 24, a minute over 59, a second over 60, an offset hour over 23 or minute over 59.
* A date is ``YYYY-MM-DD``; it names a local day, whose start is :func:`midnight` in a zone.

Errors are :class:`~slotfinder.errors.InputError` naming the field, the text and the rule.
Read texts are remembered in a bounded cache: calendars repeat the same times endlessly.
"""

from __future__ import annotations

import functools
import re
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotfinder.errors import InputError

__all__ = [
    "DAY",
    "INSTANT_RULE",
    "format_in",
    "format_utc",
    "instant",
    "local",
    "midnight",
    "read_date",
    "zone_info",
]

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?",
    re.ASCII,
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
INSTANT_RULE = "expected an RFC 3339 time such as '2026-11-23T10:00:00+08:00'"
_DATE_RULE = "expected a date YYYY-MM-DD"


@functools.cache
def zone_info(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` of an IANA name; :class:`InputError` (field ``tz``) if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: "America" names a tzdata directory; a very long name is too long a path.
        raise InputError("tz", name, "unknown IANA time zone") from None


def _day_number(text: str, y: str, m: str, d: str, field: str) -> int:
    try:
        return date(int(y), int(m), int(d)).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        raise InputError(field, text, "no such date") from None


def local(days: int, seconds: int, zone: str) -> int:
    """Epoch seconds of ``seconds`` past the wall-clock midnight of epoch day ``days`` in
    ``zone`` (RFC 5545: a skipped time takes the offset before the gap, a repeated one its
    first occurrence). ``seconds`` may reach the next day (``24:00``)."""
    if zone in ("UTC", "Etc/UTC"):
        return days * DAY + seconds
    try:
        wall = datetime(1970, 1, 1) + timedelta(days=days, seconds=seconds)
        return int(wall.replace(tzinfo=zone_info(zone)).timestamp())
    except (OverflowError, ValueError):
        raise InputError("time", days * DAY + seconds, "outside the years 1-9999") from None


def midnight(days: int, zone: str) -> int:
    """Epoch seconds where local day ``days`` (days since 1970-01-01) starts in ``zone``."""
    return local(days, 0, zone)


@functools.lru_cache(maxsize=65_536)
def _read(text: str, zone: str | None) -> int:
    # The field is not part of the cache key (callers name each item's path, and the same
    # text must still hit): errors say "time" and instant() renames them.
    field = "time"
    m = _INSTANT.fullmatch(text)
    if m is None:
        raise InputError(field, text, INSTANT_RULE)
    y, mo, d, h, mi, s, fraction, zulu, sign, oh, om = m.groups()
    days = _day_number(text, y, mo, d, field)
    hour, minute, second = int(h), int(mi), int(s or 0)
    past_midnight = minute or second or (fraction or "0").strip("0")
    if hour > 24 or minute > 59 or second > 60 or (hour == 24 and past_midnight):
        raise InputError(field, text, "no such time of day (hours 00-24, minutes 00-59)")
    clock = hour * 3600 + minute * 60 + second
    if zulu is not None:
        return days * DAY + clock
    if sign is not None:
        east_h, east_m = int(oh), int(om or 0)
        if east_h > 23 or east_m > 59:
            raise InputError(field, text, "no such UTC offset (hours 00-23, minutes 00-59)")
        east = east_h * 3600 + east_m * 60
        return days * DAY + clock + (east if sign == "-" else -east)
    if zone is None:
        raise InputError(field, text, "no UTC offset: add one such as '+08:00' or 'Z'")
    try:
        return local(days, clock, zone)
    except InputError:
        raise InputError(field, text, "outside the years 1-9999") from None


def instant(text: object, field: str = "time", zone: str | None = None) -> int:
    """Epoch seconds of an RFC 3339 / ISO 8601 time (see the module rules).

    ``zone`` reads a text without an offset as a wall-clock time there; without ``zone`` such
    a text is refused. Raises :class:`InputError` naming ``field``.
    """
    if not isinstance(text, str):
        raise InputError(field, text, INSTANT_RULE)
    if zone is not None:
        zone_info(zone)
    try:
        return _read(text, zone)
    except InputError as exc:
        raise InputError(field, text, exc.problem) from None


def read_date(text: object, field: str = "date") -> int:
    """The epoch day number (days since 1970-01-01) of a ``YYYY-MM-DD`` date."""
    m = _DATE.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise InputError(field, text, _DATE_RULE)
    y, mo, d = m.groups()
    return _day_number(str(text), y, mo, d, field)


def format_utc(epoch: int) -> str:
    """``2026-11-23T02:00:00Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def format_in(epoch: int, zone: str) -> str:
    """RFC 3339 on ``zone``'s wall clock with its offset: ``2026-11-23T10:00:00+08:00``."""
    return datetime.fromtimestamp(epoch, UTC).astimezone(zone_info(zone)).isoformat()
