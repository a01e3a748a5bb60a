"""Bounded memos for reply readers, and the canonical ISO 8601 parts they all read.

A provider's busy times repeat: the same dates, clock times and UTC offsets recur across people,
items and replies (a 500-person, 90-day DingTalk fetch reads ~125,000 times but only a few
thousand distinct dates, clocks and offsets). Reading ``2026-11-25``, ``09:30:00`` and
``+08:00`` once each and looking them up afterwards is several times faster than parsing every
text. Each plugin keeps its own memo of whole texts (what a text means differs per provider);
the part readers here are shared.

Memos are plain dicts used with single get/set calls (atomic under the GIL), each value a pure
function of its key: replies are parsed in a worker thread as well as on the event loop, and a
race costs at most a recomputation. The parse helper process (:mod:`slotfinder.offload`) has
memos of its own, warmed by the replies it parses. A memo is emptied when it reaches
:data:`MEMO_MAX` entries, so a long-lived process never holds more than a few MiB per memo.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, TypeVar

__all__ = ["MEMO_MAX", "clock_seconds", "day_number", "forget", "offset_seconds", "remember"]

MEMO_MAX = 65_536
"""Entries a memo may hold before it is emptied (a 500-person, 90-day fetch needs ~38,000)."""

_K = TypeVar("_K")
_V = TypeVar("_V")

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_NUMBERS: dict[str, int] = {}
"""Valid ``YYYY-MM-DD`` dates → days since 1970-01-01."""
_CLOCKS: dict[str, int] = {}
"""``hh:mm:ss`` (hours 00-23, minutes and seconds 00-59) → seconds after midnight."""
_OFFSETS: dict[str, int] = {}
"""``+hh:mm``/``-hh:mm`` (hours 00-23, minutes 00-59) → seconds east of UTC."""
_DATE_PART = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CLOCK_PART = re.compile(r"(\d{2}):(\d{2}):(\d{2})", re.ASCII)
_OFFSET_PART = re.compile(r"([+-])(\d{2}):(\d{2})", re.ASCII)
_PART_MEMOS: tuple[dict[Any, Any], ...] = (_DAY_NUMBERS, _CLOCKS, _OFFSETS)


def remember(memo: dict[_K, _V], key: _K, value: _V) -> None:
    """Store ``value`` under ``key``, emptying ``memo`` first when it is full."""
    if len(memo) >= MEMO_MAX:
        memo.clear()
    memo[key] = value


def forget() -> None:
    """Empty the part memos (a benchmark times a cold start with it)."""
    for memo in _PART_MEMOS:
        memo.clear()


def day_number(text: str) -> int | None:
    """Days since 1970-01-01 of a valid ``YYYY-MM-DD`` date in ASCII digits, else ``None``."""
    days = _DAY_NUMBERS.get(text)
    if days is None and _DATE_PART.fullmatch(text):
        try:
            days = date(int(text[:4]), int(text[5:7]), int(text[8:])).toordinal()
        except ValueError:
            return None
        days -= _EPOCH_ORDINAL
        remember(_DAY_NUMBERS, text, days)
    return days


def clock_seconds(text: str) -> int | None:
    """Seconds after midnight of ``hh:mm:ss`` (00-23, 00-59, 00-59), else ``None``."""
    seconds = _CLOCKS.get(text)
    if seconds is None:
        match = _CLOCK_PART.fullmatch(text)
        if match is None:
            return None
        h, mi, s = int(match[1]), int(match[2]), int(match[3])
        if h > 23 or mi > 59 or s > 59:
            return None
        seconds = h * 3600 + mi * 60 + s
        remember(_CLOCKS, text, seconds)
    return seconds


def offset_seconds(text: str) -> int | None:
    """Seconds east of UTC of ``+hh:mm`` or ``-hh:mm`` (hours 00-23, minutes 00-59), else
    ``None`` (``Z`` is the caller's to handle)."""
    east = _OFFSETS.get(text)
    if east is None:
        match = _OFFSET_PART.fullmatch(text)
        if match is None:
            return None
        hours, minutes = int(match[2]), int(match[3])
        if hours > 23 or minutes > 59:
            return None
        east = (hours * 3600 + minutes * 60) * (-1 if match[1] == "-" else 1)
        remember(_OFFSETS, text, east)
    return east
