"""Hypothesis strategies for ISO 8601 / RFC 3339 time texts: clean, one edit off, impossible.

Shared by the DingTalk and Feishu provider tests, which check that their readers refuse impossible
texts, naming them, and read odd ones by slotfinder.times' rules.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta

from hypothesis import strategies as st

__all__ = [
    "CLOCKS",
    "DATE_TEXTS",
    "DATE_TIMES",
    "FRACTIONS",
    "GOOD_DATES",
    "IMPOSSIBLE_DATES",
    "OFFSETS",
    "SEPARATORS",
    "impossible_date_times",
    "meetings",
    "one_edit",
]


def two(lo: int, hi: int) -> st.SearchStrategy[str]:
    """Two-digit numbers from ``lo`` to ``hi``."""
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


GOOD_DATES = st.one_of(
    st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.dates(), st.just(date(9999, 12, 31))
)


@st.composite
def _impossible_dates(draw: st.DrawFn) -> str:
    """A ``YYYY-MM-DD`` whose month (00, 13-99) or day (00, past the month's end) is out of
    range: 2026-02-29, 2024-02-30, 2026-04-31 and the like."""
    day = draw(GOOD_DATES)
    if draw(st.booleans()):
        month = draw(st.one_of(st.just(0), st.integers(13, 99)))
        return f"{day.year:04d}-{month:02d}-{day.day:02d}"
    last = calendar.monthrange(day.year, day.month)[1]
    wrong = draw(st.one_of(st.just(0), st.just(last + 1), st.integers(last + 1, 99)))
    return f"{day.year:04d}-{day.month:02d}-{wrong:02d}"


IMPOSSIBLE_DATES = _impossible_dates()
DATE_TEXTS = st.one_of(
    GOOD_DATES.map(lambda d: d.isoformat()),
    GOOD_DATES.map(lambda d: d.isoformat()),
    st.builds(lambda y, m, d: f"{y:04d}-{m}-{d}", st.integers(0, 9999), two(0, 13), two(0, 32)),
    st.sampled_from(["2026-02-30", "2025-02-29", "2026-13-01", "0000-01-01", "2026-1-5", ""]),
    IMPOSSIBLE_DATES,
)
CLOCKS = st.one_of(
    st.builds(lambda h, m, s: f"{h}:{m}:{s}", two(0, 23), two(0, 59), two(0, 59)),
    st.builds(lambda h, m, s: f"{h}:{m}:{s}", two(0, 25), two(0, 61), two(0, 99)),
    st.sampled_from(["09:00", "24:00:00", "23:59:60", "9:00:00", "09:00:0", "0900:00", "09-00-00"]),
)
GOOD_OFFSETS = ["+08:00", "Z", "-03:30", "+05:45", "+05:30", "-00:00", "+14:00", "-12:00"]
ODD_OFFSETS = ["z", "+23:59", "+24:00", "+08:60", "-99:99", "+0800", "+08", "", " ", "+", "X",
               "Z ", "\n", "+08:00 ", "+08:0", "+8:00"]  # fmt: skip
OFFSETS = st.sampled_from(GOOD_OFFSETS * 3 + ODD_OFFSETS)
FRACTIONS = st.sampled_from(["", "", "", "", ".5", ".999999", ".123456789", ",25", "."])


@st.composite
def impossible_date_times(draw: st.DrawFn, offset: bool = True) -> str:
    """``YYYY-MM-DDThh:mm:ss[.f]`` with ``Z`` or ``±hh:mm`` (none when ``offset`` is false) and
    exactly one field out of range, which no reader may roll into a neighbouring value.

    The date (see :data:`IMPOSSIBLE_DATES`), hour 25-99 (or 24 with any other minute or
    second: ``24:00:00`` is ISO 8601's end of the day), minute 60-99, second 61-99 (``:60`` is
    a leap second), or offset hours 24-99 or minutes 60-99.
    """
    fields = ["date", "hour", "minute", "second"] + (["offset"] if offset else [])
    wrong = draw(st.sampled_from(fields))
    day = draw(IMPOSSIBLE_DATES) if wrong == "date" else draw(GOOD_DATES).isoformat()
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    second = draw(st.integers(0, 59))
    if wrong == "hour":
        hour = draw(st.one_of(st.just(24), st.integers(25, 99)))
        if hour == 24 and minute == second == 0:
            second = draw(st.integers(1, 60))
    elif wrong == "minute":
        minute = draw(st.integers(60, 99))
    elif wrong == "second":
        second = draw(st.integers(61, 99))
    zone = draw(st.sampled_from(GOOD_OFFSETS)) if offset else ""
    if wrong == "offset":
        hours, minutes = draw(
            st.one_of(
                st.sampled_from([(24, 0), (8, 60), (8, 99), (0, 60)]),
                st.tuples(st.integers(24, 99), st.integers(0, 99)),
                st.tuples(st.integers(0, 23), st.integers(60, 99)),
            )
        )
        zone = f"{draw(st.sampled_from('+-'))}{hours:02d}:{minutes:02d}"
    fraction = draw(st.sampled_from(["", "", ".5", ".000"]))
    return f"{day}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{zone}"


SEPARATORS = st.sampled_from(["T", "T", "T", "T", " ", "t", "_"])
DATE_TIMES = st.one_of(
    st.builds(
        lambda d, sep, c, f, o: f"{d}{sep}{c}{f}{o}",
        DATE_TEXTS,
        SEPARATORS,
        CLOCKS,
        FRACTIONS,
        OFFSETS,
    ),
    DATE_TEXTS,
    impossible_date_times(),
    impossible_date_times(offset=False),
    st.sampled_from(
        ["2026-11-26T14:55Z", "soon", "2026-11-25", "2026/11/25", "2026-11-25T24:00:00+00:00"]
    ),
    st.text(max_size=30),
)


@st.composite
def meetings(draw: st.DrawFn) -> tuple[datetime, datetime]:
    """A naive start at a typical clock time of a good date, and an end a little before, at or
    after it (the end stays at the start where it would pass year 9999)."""
    day = draw(GOOD_DATES)
    start = datetime(day.year, day.month, day.day) + timedelta(
        seconds=draw(st.sampled_from([0, 9 * 3600, 13 * 3600 + 1800, 86399]))
    )
    delta = draw(st.sampled_from([-3600, -1, 0, 1, 900, 3600, 86400]))
    try:
        end = start + timedelta(seconds=delta)
    except OverflowError:
        end = start
    return start, end


@st.composite
def one_edit(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """A text of ``texts`` with one character replaced, inserted or deleted."""
    first = draw(texts)
    at = draw(st.integers(0, len(first)))
    char = draw(st.sampled_from("0123456789+-:TZz tT/._\n\u0663\uff10"))
    edit = draw(st.sampled_from(["replace", "insert", "delete"]))
    if edit == "replace":
        return first[:at] + char + first[at + 1 :]
    if edit == "insert":
        return first[:at] + char + first[at:]
    return first[:at] + first[at + 1 :]
