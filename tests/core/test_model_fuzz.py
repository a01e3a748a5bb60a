"""Fuzzing the Python API: whatever a caller passes, only slotfinder's own errors come out.

The public constructors (:class:`Span`, :class:`Busy`, :class:`BusyTable`,
:class:`Availability`, :meth:`WorkingHours.parse`, :class:`Attendee`, :class:`MeetingRequest`)
get arbitrary values for every argument: ints of any size, floats with NaN and infinities,
text, ``None``, naive and aware datetimes, lists and values of other types. Whatever they
accept goes on to :func:`slotfinder.find_slots`, which must then compute a result: the model
validates at construction so the engine never meets input it cannot handle. The contract
(``slotfinder/errors.py``): callers catch :class:`SlotfinderError` and get nothing else.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import slotfinder
from slotfinder.errors import SlotfinderError
from slotfinder.model import (
    DAY,
    EARLIEST,
    LATEST,
    Attendee,
    Availability,
    Busy,
    BusyTable,
    MeetingRequest,
    Span,
    SuggestionResult,
    WorkingHours,
)

pytestmark = pytest.mark.timeout(300)

FUZZ = settings(  # three times the profile's examples: 300 on CI, 6000 with the deep profile
    max_examples=3 * settings().max_examples,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

T = TypeVar("T")
T0 = 1_795_363_200  # 2026-11-23T00:00:00+08:00
HOUR = 3600
ZONES = (
    "UTC",
    "Asia/Shanghai",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Pacific/Chatham",  # +12:45
    "Pacific/Kiritimati",  # +14
)
IDS = ("a", "b", "c", "feishu:ou_x", "r1", "r2")
HUGE = (2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, EARLIEST - 1, LATEST + 1, EARLIEST, LATEST)
BAD_ZONES = ("Mars/Base", "", "America", "x" * 300, "../../etc/passwd", "utc", "Asia/Shanghai/")

# --- arbitrary values --------------------------------------------------------------------------

anything: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(BAD_ZONES),
    st.datetimes(timezones=st.none() | st.timezones()),  # naive and aware, years 1 to 9999
    st.lists(st.integers() | st.floats() | st.none(), max_size=4),
    st.sampled_from((complex, bytes, Decimal, Fraction, timedelta, frozenset)).flatmap(
        st.from_type
    ),
)


def field(valid: st.SearchStrategy[T], bad: int) -> st.SearchStrategy[T | Any]:
    """A valid value, or in about ``bad`` percent of draws an arbitrary one: mostly valid, so the
    checks after the first are reached too."""
    return st.integers(0, 99).flatmap(lambda n: anything if n < bad else valid)


# --- valid values, to get past the first check -------------------------------------------------

zones = st.sampled_from(ZONES)
instants = st.integers(T0 - 3 * DAY, T0 + 10 * DAY) | st.sampled_from((EARLIEST, LATEST))
aware = st.datetimes(
    min_value=datetime(2026, 11, 1), max_value=datetime(2026, 12, 31), timezones=st.timezones()
)
ranges = st.sampled_from(
    ("09:00-17:00", "22:00-06:00", "00:00-24:00", "02:30-03:30", "23:45-00:15", "13:00-13:01")
)
days = st.sampled_from(("mon-fri", "sat", "sun-thu", "mon,wed,fri", "fri-mon", "sun"))
specs = st.dictionaries(days, ranges | st.lists(ranges, max_size=3), max_size=3)
statuses = st.sampled_from(("busy", "tentative", "free", "oof", "BUSY"))


@st.composite
def spans(draw: st.DrawFn, bad: int) -> Any:
    """A Span from mostly sensible instants (or whatever the constructor says to anything)."""
    a, b = draw(field(instants | aware, bad)), draw(field(instants | aware, bad))
    if type(a) is type(b) and isinstance(a, int | datetime):
        with contextlib.suppress(TypeError):  # a naive and an aware datetime do not compare
            a, b = sorted((a, b))
    return build(Span, a, b)


class Refused(Exception):
    """A constructor refused its input with a SlotfinderError (the draw is abandoned)."""


def build(make: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a constructor: a SlotfinderError is a refusal, anything else fails the test."""
    try:
        return make(*args, **kwargs)
    except SlotfinderError as exc:
        raise Refused from exc


@st.composite
def working_hours(draw: st.DrawFn, bad: int) -> Any:
    return build(WorkingHours.parse, draw(field(zones, bad)), draw(field(specs, bad)))


@st.composite
def attendees(draw: st.DrawFn, bad: int) -> Any:
    hours = draw(field(st.none() | working_hours(bad), bad))
    own = st.just(hours.zone) if isinstance(hours, WorkingHours) else zones
    return build(
        Attendee,
        id=draw(field(st.sampled_from(IDS), bad)),
        optional=draw(field(st.booleans(), bad)),
        zone=draw(field(st.none() | own, bad)),
        working_hours=hours,
        name=draw(field(st.none() | st.text(max_size=8), bad)),
    )


@st.composite
def busy_tables(draw: st.DrawFn, bad: int) -> Any:
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(field(st.integers(T0 - DAY, T0 + 8 * DAY), bad))
        length = draw(st.integers(0, 8 * HOUR))
        end = start + length if isinstance(start, int) else draw(anything)
        rows.append((start, end, draw(field(st.integers(0, 3), bad))))
    if draw(st.booleans()):
        return build(BusyTable.from_rows, rows)
    starts, ends, codes = ([r[i] for r in rows] for i in range(3))
    return build(BusyTable, starts=starts, ends=ends, status=codes)


@st.composite
def availabilities(draw: st.DrawFn, bad: int, ident: str | None = None) -> Any:
    ident = draw(field(st.sampled_from(IDS) if ident is None else st.just(ident), bad))
    how = draw(st.sampled_from(("table", "of", "table", "of", "unknown")))
    if how == "unknown":
        return build(Availability.unknown, ident, draw(field(st.text(max_size=10), bad)))
    covered = draw(field(st.none() | spans(bad), bad))
    if how == "of":
        entries = [
            build(Busy, span=draw(field(spans(bad), bad)), status=draw(field(statuses, bad)))
            for _ in range(draw(st.integers(0, 4)))
        ]
        return build(Availability.of, ident, draw(field(st.just(entries), bad)), covered)
    return build(
        Availability,
        id=ident,
        busy=draw(field(busy_tables(bad), bad)),
        error=draw(field(st.none(), bad)),
        covered=covered,
    )


@st.composite
def requests(draw: st.DrawFn, bad: int) -> Any:
    start = draw(st.integers(T0 - DAY, T0 + DAY))
    length = draw(st.integers(HOUR, 9 * DAY))
    return build(
        MeetingRequest,
        attendees=draw(field(st.lists(attendees(bad), min_size=1, max_size=4), bad)),
        window=draw(field(st.just(Span(start, start + length)), bad)),
        duration=draw(field(st.sampled_from((15 * 60, 30 * 60, HOUR)), bad)),
        rooms=draw(field(st.just([]) | st.lists(attendees(bad), max_size=2), bad)),
        granularity=draw(field(st.sampled_from((300, 900, 1800, 3600, 86_400)), bad)),
        buffer_before=draw(field(st.sampled_from((0, 600, DAY)), bad)),
        buffer_after=draw(field(st.sampled_from((0, 900)), bad)),
        min_notice=draw(field(st.sampled_from((0, HOUR, 2 * DAY)), bad)),
        now=draw(field(st.none() | instants | aware, bad)),
        quorum=draw(field(st.none() | st.just(1) | st.floats(0.1, 1.0), bad)),
        tentative=draw(field(st.sampled_from(("busy", "free")), bad)),
        unknown=draw(field(st.sampled_from(("exclude", "flag")), bad)),
        max_results=draw(field(st.integers(1, 50), bad)),
        order=draw(field(st.sampled_from(("score", "start")), bad)),
        zone=draw(field(zones, bad)),
    )


@st.composite
def availability_lists(draw: st.DrawFn, bad: int) -> list[Any]:
    """Availabilities for most ids (the others are unknown), leaving out those refused."""
    out = []
    for ident in IDS:
        if draw(st.integers(0, 9)):
            with contextlib.suppress(Refused):
                out.append(draw(availabilities(bad, ident)))
    return out


def draw_or_refused(data: st.DataObject, strategy: st.SearchStrategy[T]) -> T | None:
    """Draw a value built by constructors; ``None`` when one of them refused its input."""
    try:
        return data.draw(strategy)
    except Refused:
        return None


# --- the tests ---------------------------------------------------------------------------------


@FUZZ
@given(
    args=st.lists(anything, max_size=3),
    kwargs=st.dictionaries(
        st.sampled_from(
            (
                "start",
                "end",
                "span",
                "status",
                "source",
                "id",
                "busy",
                "error",
                "covered",
                "zone",
                "optional",
                "working_hours",
                "name",
                "rules",
                "spec",
                "starts",
                "ends",
            )
        ),
        anything,
        max_size=3,
    ),
)
def test_constructors_raise_only_slotfinder_errors_on_anything(
    args: list[Any], kwargs: dict[str, Any]
) -> None:
    """Every public constructor, given arbitrary positional and keyword values, either builds a
    value or raises a SlotfinderError (a missing or unexpected argument is a TypeError)."""
    makers: list[Callable[..., Any]] = [
        Span,
        Busy,
        BusyTable,
        BusyTable.from_rows,
        Availability,
        Availability.of,
        Availability.unknown,
        WorkingHours,
        WorkingHours.parse,
        Attendee,
    ]
    for make in makers:
        try:
            make(*args, **kwargs)
        except SlotfinderError:
            pass
        except TypeError as exc:
            if "argument" not in str(exc):  # Python's own call check, before any of ours
                raise


@FUZZ
@given(data=st.data())
def test_meeting_request_raises_only_slotfinder_errors(data: st.DataObject) -> None:
    """MeetingRequest with any field replaced by an arbitrary value builds or refuses."""
    request = draw_or_refused(data, requests(bad=4))
    event("refused" if request is None else "built")
    if request is not None:
        assert isinstance(request, MeetingRequest)
        assert type(request.duration) is int
        assert request.now is None or type(request.now) is int


@FUZZ
@given(data=st.data())
def test_find_slots_computes_whatever_the_model_accepts(data: st.DataObject) -> None:
    """Whatever the constructors accept, find_slots turns into a result (no exception at all),
    whose slots lie in the window on the request's terms and whose times read in its zone."""
    request = draw_or_refused(data, requests(bad=1))
    avs = data.draw(availability_lists(bad=1))
    if request is None:
        event("refused")
        return
    result = slotfinder.find_slots(avs, request)
    event("slots" if result.slots else "no slot")
    assert isinstance(result, SuggestionResult)
    w = request.window
    assert len(result.slots) <= request.max_results
    for slot in result.slots:
        assert w.start <= slot.start < slot.end <= w.end
        assert slot.end - slot.start == request.duration
        assert slot.start_at(request.zone).tzinfo is not None
    for period in result.periods:
        assert w.start <= period.start < period.end <= w.end
    repr(result)


def test_the_extreme_instants_are_accepted_and_computed_with() -> None:
    """Busy time at EARLIEST and LATEST is accepted and find_slots copes with it."""
    table = BusyTable(starts=[EARLIEST, T0 - HOUR], ends=[T0 - DAY + HOUR, LATEST], status=[2, 3])
    request = MeetingRequest(
        attendees=[Attendee(id="a")], window=Span(T0 - DAY, T0), duration=HOUR, order="start"
    )
    result = slotfinder.find_slots([Availability(id="a", busy=table)], request)
    assert result.slots[0].start == T0 - DAY + HOUR
    assert result.periods == (Span(T0 - DAY + HOUR, T0 - HOUR),)


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Etc/GMT+12", "America/New_York"])
@pytest.mark.parametrize("at_start", [True, False])
def test_windows_at_the_ends_of_the_allowed_range_are_computed(zone: str, at_start: bool) -> None:
    """The first and last windows allowed, busy throughout, still get an explanation and a look
    past the window: the month of margin covers what the engine reads around a window."""
    w = MeetingRequest(attendees=[Attendee(id="a")], window=Span(T0, T0 + DAY), duration=HOUR)
    first = EARLIEST + 31 * DAY
    window = (
        Span(first, first + 10 * DAY) if at_start else Span(LATEST - 41 * DAY, LATEST - 31 * DAY)
    )
    hours = WorkingHours.parse(zone, {"mon-sun": "09:00-17:00"})
    request = attrs.evolve(
        w,
        attendees=(Attendee(id="a", working_hours=hours),),
        rooms=(Attendee(id="r", working_hours=hours),),
        window=window,
        zone=zone,
        buffer_before=DAY,
        buffer_after=DAY,
        min_notice=HOUR,
        now=EARLIEST,
    )
    busy = Availability.of("a", [Busy(span=window)])
    result = slotfinder.find_slots([busy, Availability.of("r")], request)
    assert result.slots == ()
    assert result.explanation is not None
    nxt = result.explanation.next_after_window
    assert nxt is not None
    assert window.end <= nxt.start < window.end + 3 * DAY
    with pytest.raises(SlotfinderError, match="must not be before 0001-02-02"):
        attrs.evolve(request, window=Span(first - 1, first + DAY))
