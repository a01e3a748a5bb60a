"""Hypothesis strategies for DingTalk ``scheduleItems``: mostly well formed, odd parts mixed in.

tests/test_dingtalk_provider.py feeds them to the item reader, which must give sane rows or a
reason naming the item, and never lose the other users of the reply.
"""

from __future__ import annotations

import time_texts as tt
from hypothesis import strategies as st

__all__ = ["ABSENT", "DAY_TEXTS", "STATUSES", "ZONES", "items", "point", "time_pairs"]


@st.composite
def time_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """Start and end texts, mostly one clean meeting (end a little before, at or after start)."""
    if draw(st.integers(0, 3)) == 0:
        return draw(tt.DATE_TIMES), draw(tt.DATE_TIMES)
    start, end = draw(tt.meetings())
    offset = draw(tt.OFFSETS)
    fraction = draw(tt.FRACTIONS)
    other = offset if draw(st.integers(0, 3)) else draw(tt.OFFSETS)
    text = "%Y-%m-%dT%H:%M:%S"
    return start.strftime(text) + fraction + offset, end.strftime(text) + other


ABSENT = object()
"""A field left out of the object (not `null`)."""


def point(fields: dict[str, object]) -> dict[str, object]:
    """The object without its ABSENT fields."""
    return {k: v for k, v in fields.items() if v is not ABSENT}


GOOD_ZONES = ["Asia/Shanghai", "UTC", "Etc/UTC", "America/New_York", "Europe/Berlin",
              "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe"]  # fmt: skip
ODD_ZONES = ["", None, "America", "Mars/Olympus", "A" * 300, "asia/shanghai", 8, ["UTC"]]
ZONES = st.sampled_from([ABSENT] * 8 + GOOD_ZONES + ODD_ZONES)
STATUSES = st.sampled_from(
    ["BUSY"] * 6 + ["TENTATIVE"] * 3 + ["busy", "Tentative", "FREE", "", None, 3, ["BUSY"], ABSENT]
)
DAY_TEXTS = st.one_of(
    tt.DATE_TEXTS, st.sampled_from(["9999-12-31", " 2026-11-25", None, "", 20261125, ABSENT])
)


@st.composite
def items(draw: st.DrawFn) -> object:
    """A querySchedule item: mostly well formed, timed or all-day, with every odd part mixed in."""
    kind = draw(st.sampled_from(["timed", "timed", "timed", "all-day", "odd"]))
    status = draw(STATUSES)
    if kind == "timed":
        first, last = draw(time_pairs())
        start = point({"dateTime": first, "timeZone": draw(ZONES)})
        end = point({"dateTime": last, "timeZone": draw(ZONES)})
    elif kind == "all-day":
        start = point({"date": draw(DAY_TEXTS), "dateTime": draw(st.sampled_from([ABSENT, ""]))})
        end = point({"date": draw(DAY_TEXTS)})
    else:
        odd = st.one_of(
            st.sampled_from(
                [None, "2026-11-25", [], {}, {"dateTime": 5}, {"date": "2026-11-25", "dateTime": 5}]
            ),
            st.builds(lambda t: {"date": "2026-11-25", "dateTime": t}, tt.DATE_TIMES),
        )
        if draw(st.booleans()):
            return draw(st.sampled_from([None, "item", [], 7]))
        start, end = draw(odd), draw(odd)
    return point({"status": status, "start": start, "end": end})
