"""Hypothesis strategies for ISO 8601 / RFC 3339 time texts, clean and one edit off.

Shared by the DingTalk and Feishu provider tests, which check their memoised readers against
their reference parsers on the same texts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import strategies as st

__all__ = [
    "CLOCKS",
    "DATE_TEXTS",
    "DATE_TIMES",
    "FRACTIONS",
    "GOOD_DATES",
    "OFFSETS",
    "SEPARATORS",
    "meetings",
    "one_edit",
]


def two(lo: int, hi: int) -> st.SearchStrategy[str]:
    """Two-digit numbers from ``lo`` to ``hi``."""
    return st.integers(lo, hi).map(lambda n: f"{n:02d}")


GOOD_DATES = st.one_of(
    st.dates(date(2026, 1, 1), date(2027, 12, 31)), st.dates(), st.just(date(9999, 12, 31))
)
DATE_TEXTS = st.one_of(
    GOOD_DATES.map(lambda d: d.isoformat()),
    GOOD_DATES.map(lambda d: d.isoformat()),
    st.builds(lambda y, m, d: f"{y:04d}-{m}-{d}", st.integers(0, 9999), two(0, 13), two(0, 32)),
    st.sampled_from(["2026-02-30", "2025-02-29", "2026-13-01", "0000-01-01", "2026-1-5", ""]),
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
