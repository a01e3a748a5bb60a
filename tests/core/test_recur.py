"""Occurrence dates (``slotfinder.recur.table``) against dateutil run where the series is.

``table`` expands each start's rule in a year of the same shape near 9999 so that a rule
matching nothing more cannot search for thousands of years; the dates must be exactly those
dateutil gives from the start itself, whatever the year (century years and leap days too).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import islice

import pytest
from dateutil.rrule import rrulestr
from hypothesis import example, given
from hypothesis import strategies as st

from slotfinder import recur
from slotfinder.errors import InputError

RULES = [
    "FREQ=DAILY;COUNT=5",
    "FREQ=DAILY;INTERVAL=3;COUNT=4",
    "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=6",
    "FREQ=WEEKLY;INTERVAL=2;WKST=SU;BYDAY=SU,MO;COUNT=4",
    "FREQ=MONTHLY;COUNT=12",
    "FREQ=MONTHLY;BYMONTHDAY=31;COUNT=4",
    "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=6",
    "FREQ=MONTHLY;BYDAY=-1FR;COUNT=5",
    "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13;COUNT=2",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1",
    "FREQ=YEARLY;BYYEARDAY=-1;COUNT=1",
    "FREQ=YEARLY;BYWEEKNO=1,53;BYDAY=MO;COUNT=1",
    "FREQ=WEEKLY;UNTIL={until}",
    "FREQ=DAILY;UNTIL={until}",
]
EPOCH = datetime(1970, 1, 1)


def direct(text: str, day: int, count: int | None, until: datetime | None) -> list[int]:
    """Day offsets of the rule started on wall day ``day``, by dateutil from that very day."""
    start = EPOCH + timedelta(days=day)
    cap = start + timedelta(days=recur.MAX_SPAN_DAYS, seconds=86399)
    rule = rrulestr(text, dtstart=start).replace(count=None, until=min(cap, until or cap))
    return [(d - start).days for d in islice(rule, count)]


@given(
    st.dates(date(1899, 1, 1), date(2405, 12, 31)),
    st.integers(0, 40),
    st.sampled_from(RULES),
    st.integers(0, 300),
)
@example(date(2099, 12, 1), 40, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1", 0)  # 2100
@example(date(2399, 12, 1), 40, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;COUNT=1", 0)  # 2400
@example(date(1899, 12, 25), 10, "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6", 0)
def test_dates_are_dateutils_from_the_start_itself(
    first: date, days: int, text: str, until_in: int
) -> None:
    """Every row of ``table`` is what dateutil gives started on that row's date."""
    first_day = (first - EPOCH.date()).days
    until = (first + timedelta(days=until_in)).strftime("%Y%m%d")
    rule = recur.parse(text.format(until=until), "UTC")
    bound = None
    if rule.until_wall is not None:
        bound = EPOCH + timedelta(days=rule.until_wall // 86400, seconds=86399)
    rows = [direct(rule.text, first_day + i, rule.count, bound) for i in range(days + 1)]
    rows = [r if r and r[0] == 0 else [] for r in rows]  # a date that begins no series

    def too_long(i: int) -> bool:
        cap = EPOCH + timedelta(days=first_day + i + recur.MAX_SPAN_DAYS, seconds=86399)
        return len(rows[i]) < (rule.count or 0) or (bound is not None and bound > cap)

    if any(r and too_long(i) for i, r in enumerate(rows)):  # said, not cut short
        with pytest.raises(InputError, match="runs past") as err:
            recur.table(rule, first_day, first_day + days)
        assert err.value.field == "repeat"
        return
    offsets, valid = recur.table(rule, first_day, first_day + days)
    for i, want in enumerate(rows):
        assert offsets[i][valid[i]].tolist() == want
