"""The value types: what they refuse (naming the field and the limit) and how they read.

Every refusal here used to be accepted or to escape as a bare ``TypeError``/``IndexError``;
each test names the old behaviour it pins down.
"""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest

import slotfinder
from slotfinder.errors import InputError, SlotfinderError
from slotfinder.model import (
    DAY,
    EARLIEST,
    LATEST,
    MAX_RESULTS,
    Attendee,
    Availability,
    Busy,
    BusyTable,
    MeetingRequest,
    Span,
    Status,
    Suggestion,
    SuggestionResult,
    Unknown,
    WorkingHours,
    as_availabilities,
)

HOUR = 3600
T0 = 1_795_363_200  # 2026-11-22T16:00:00Z, Monday 00:00 in Shanghai
WINDOW = Span(T0, T0 + DAY)
ALICE = Attendee(id="alice")


def request(**changes: Any) -> MeetingRequest:
    fields: dict[str, Any] = {"attendees": [ALICE], "window": WINDOW, "duration": HOUR}
    fields.update(changes)
    return MeetingRequest(**fields)


def meeting(start: int, end: int) -> Availability:
    return Availability.of("alice", [Busy(Span(start, end))])


# --- numbers: NaN, infinities, floats, negatives, overflow ------------------------------------


@pytest.mark.parametrize("field", ["buffer_before", "buffer_after", "min_notice", "duration"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), 1.5, 600.0, "600"])
def test_durations_that_are_not_whole_seconds_are_refused(field: str, value: object) -> None:
    """A NaN buffer used to drop busy time silently; any non-int duration is now refused."""
    with pytest.raises(InputError, match="expected a whole number") as info:
        request(**{field: value})
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("buffer_before", -1, "must not be negative"),
        ("buffer_after", -60, "must not be negative"),
        ("min_notice", -1, "must not be negative"),
        ("buffer_before", DAY + 1, "at most 86400 seconds (1 day)"),
        ("buffer_after", 2**63 - 1, "at most 86400 seconds (1 day)"),
        ("buffer_after", 2**64, "at most 86400 seconds (1 day)"),
        ("min_notice", 367 * DAY, "at most 31622400 seconds (366 days)"),
    ],
)
def test_buffers_and_notice_out_of_range_are_refused(field: str, value: int, limit: str) -> None:
    """Negative or huge buffers and notices are refused with the limit in the message."""
    with pytest.raises(InputError) as info:
        request(**{field: value})
    assert info.value.field == field
    assert limit in str(info.value)


def test_huge_buffer_no_longer_wraps_into_a_slot_right_after_a_meeting() -> None:
    """An int64-wrapping buffer_before used to offer 11:00 right after a 10:00-11:00 meeting;
    the largest buffer allowed (a day) keeps the rest of the day clear."""
    busy = meeting(T0 + 10 * HOUR, T0 + 11 * HOUR)
    with pytest.raises(InputError, match="buffer_before"):
        request(buffer_before=2**63 - 1 - (T0 + 11 * HOUR))
    result = slotfinder.find_slots([busy], request(buffer_before=DAY, max_results=100))
    assert result.slots
    assert max(s.end for s in result.slots) == T0 + 10 * HOUR


@pytest.mark.parametrize("granularity", [1, 30, 90, 0.5, 900.0, float("nan"), "15m", None])
def test_granularity_must_be_whole_minutes_dividing_a_day(granularity: object) -> None:
    """A 0.5 or 1 s granularity used to give a one-second grid; whole minutes are required."""
    with pytest.raises(InputError) as info:
        request(granularity=granularity)
    assert info.value.field == "granularity"


@pytest.mark.parametrize("granularity", [60, 300, 900, 3600, DAY])
def test_whole_minute_granularities_dividing_a_day_are_accepted(granularity: int) -> None:
    """1m, 5m, 15m, 1h and a whole day are accepted."""
    assert request(granularity=granularity).granularity == granularity


def test_numpy_integers_are_accepted_as_plain_ints() -> None:
    """Counts computed with numpy are fine; they are stored as ints."""
    req = request(duration=np.int64(HOUR), max_results=np.int32(3))
    assert (type(req.duration), type(req.max_results)) == (int, int)
    assert (req.duration, req.max_results) == (HOUR, 3)


@pytest.mark.parametrize(
    ("value", "needle"),
    [(0, "at least 1"), (-3, "at least 1"), (MAX_RESULTS + 1, f"at most {MAX_RESULTS}")],
)
def test_max_results_out_of_range_is_refused(value: int, needle: str) -> None:
    """max_results must be 1 to MAX_RESULTS; 10**30 used to be accepted."""
    with pytest.raises(InputError, match=needle) as info:
        request(max_results=value)
    assert info.value.field == "max_results"


@pytest.mark.parametrize("quorum", [float("nan"), float("inf"), -0.5, 0, 2, "1", [1]])
def test_quorum_out_of_range_or_of_the_wrong_type_is_refused(quorum: object) -> None:
    """A quorum must be 1..required or a fraction in (0, 1]."""
    with pytest.raises(InputError) as info:
        request(quorum=quorum)
    assert info.value.field == "quorum"


# --- instants: aware or integer, years 1 to 9999 ----------------------------------------------


def test_aware_now_is_accepted_and_counts_the_notice_from_it() -> None:
    """An aware ``now`` used to be a bare TypeError in find_slots; it is converted once."""
    now = datetime(2026, 11, 23, 3, tzinfo=ZoneInfo("Asia/Shanghai"))  # T0 + 3 h
    req = request(now=now, min_notice=HOUR, order="start", max_results=1)
    assert req.now == T0 + 3 * HOUR
    [first] = slotfinder.find_slots([meeting(T0, T0)], req).slots
    assert first.start == T0 + 4 * HOUR


def test_naive_now_is_refused() -> None:
    """A naive ``now`` used to be a bare TypeError in find_slots; it is an InputError naming now."""
    with pytest.raises(InputError, match="naive") as info:
        request(now=datetime(2026, 11, 23, 3), min_notice=HOUR)
    assert info.value.field == "now"


@pytest.mark.parametrize(
    "make",
    [
        lambda: Span(0, 2**63),
        lambda: Span(-(2**63), 0),
        lambda: Span(0, 2**70),
        lambda: Span(EARLIEST - 1, 0),
        lambda: Span(0, LATEST + 1),
        lambda: Span(datetime(1, 1, 1, tzinfo=UTC), 0),
        lambda: Span(0, datetime(9999, 12, 31, 12, tzinfo=UTC)),
    ],
)
def test_times_beyond_years_1_to_9999_are_refused(make: Any) -> None:
    """Spans used to take any int, even past int64; the range is now EARLIEST to LATEST."""
    with pytest.raises(InputError, match="outside 0001-01-02T00:00:00Z to 9999-12-31T00:00:00Z"):
        make()


def test_the_extreme_instants_have_a_wall_clock_time_in_every_zone() -> None:
    """EARLIEST and LATEST convert to datetimes even in the zones furthest from UTC."""
    span = Span(EARLIEST, LATEST)
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12", "UTC"):
        assert span.start_at(zone).year == 1
        assert span.end_at(zone).year == 9999


@pytest.mark.parametrize(
    ("window", "field", "needle"),
    [
        (Span(T0, T0 + 367 * DAY), "window.end", "at most 366 days"),
        (Span(EARLIEST, EARLIEST + DAY), "window.start", "must not be before 0001-02-02"),
        (Span(LATEST - DAY, LATEST), "window.end", "must not be after 9999-11-30"),
    ],
)
def test_windows_too_long_or_too_near_the_ends_of_time_are_refused(
    window: Span, field: str, needle: str
) -> None:
    """The engine looks around the window; a window it cannot handle is refused up front."""
    with pytest.raises(InputError, match=needle) as info:
        request(window=window)
    assert info.value.field == field


# --- busy tables ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [5, 9, -1, 258])
def test_unknown_status_codes_are_refused_not_read_as_free(code: int) -> None:
    """Code 9 used to make the entry silently free (and 258 wrapped to 2); now it is refused."""
    with pytest.raises(
        InputError, match="unknown code: 0 free, 1 tentative, 2 busy, 3 oof, 4 unanswered"
    ) as info:
        BusyTable(starts=[T0], ends=[T0 + HOUR], status=[code])
    assert info.value.field == "busy.status[0]"


@pytest.mark.parametrize(
    ("starts", "needle"),
    [
        ([T0, float("nan")], "expected an integer"),
        ([T0 + 0.5], "expected an integer"),
        (["2026-11-23"], "expected an integer"),
        ([None], "expected an integer"),
        ([2**64], "outside"),
        ([-(2**63)], "outside"),
        ([[T0]], "flat sequence"),
        ([[T0], [T0, T0]], "flat sequence"),
        (5, "flat sequence"),
    ],
)
def test_busy_table_times_must_be_integers_in_range(starts: Any, needle: str) -> None:
    """NaN became -2**63 and floats were truncated; any non-integer time is now refused."""
    with pytest.raises(InputError, match=needle):
        BusyTable(starts=starts, ends=[T0 + HOUR] * 2, status=[2, 2])


def test_busy_table_of_integer_arrays_is_read_only_and_leaves_the_callers_array_writable() -> None:
    """Parsers' int arrays are used as they are, frozen in the table but not in the parser."""
    starts = np.array([T0, T0 + HOUR], dtype=np.int64)
    table = BusyTable(starts=starts, ends=starts + 60, status=np.array([2, 1], dtype=np.int8))
    assert not table.starts.flags.writeable
    assert starts.flags.writeable
    assert [b.status for b in table.entries()] == [Status.BUSY, Status.TENTATIVE]


def test_busy_table_columns_of_different_lengths_are_refused() -> None:
    """Three columns must align."""
    with pytest.raises(InputError, match="one length"):
        BusyTable(starts=[T0], ends=[T0, T0], status=[2])


# --- wrong types, per constructor -------------------------------------------------------------


WH = WorkingHours
TYPE_ERRORS: list[tuple[Any, dict[str, Any], str]] = [
    (Span, {"start": "2026-11-23", "end": T0}, "span.start"),
    (Span, {"start": T0, "end": 1.5e9}, "span.end"),
    (Span, {"start": True, "end": T0}, "span.start"),
    (Busy, {"span": (T0, T0 + 1)}, "span"),
    (Busy, {"span": WINDOW, "status": "maybe"}, "status"),
    (Busy, {"span": WINDOW, "status": 2}, "status"),
    (Busy, {"span": WINDOW, "source": None}, "source"),
    (Availability, {"id": 5}, "id"),
    (Availability, {"id": ""}, "id"),
    (Availability, {"id": "a", "busy": []}, "busy"),
    (Availability, {"id": "a", "error": 404}, "error"),
    (Availability, {"id": "a", "covered": (T0, T0 + 1)}, "covered"),
    (Availability.of, {"id": "a", "busy": [WINDOW]}, "busy[0]"),
    (Availability.of, {"id": "a", "busy": 5}, "busy"),
    (Attendee, {"id": None}, "id"),
    (Attendee, {"id": "a", "optional": "no"}, "optional"),
    (Attendee, {"id": "a", "zone": 8}, "zone"),
    (Attendee, {"id": "a", "working_hours": {"mon": "09:00-17:00"}}, "working_hours"),
    (Attendee, {"id": "a", "name": ["Alice"]}, "name"),
    (WH, {"zone": "UTC", "rules": [(0, 540)]}, "working_hours.rules[0]"),
    (WH, {"zone": "UTC", "rules": [(0, 540.0, 600)]}, "working_hours.rules[0]"),
    (WH, {"zone": "UTC", "rules": 5}, "working_hours.rules"),
    (WH, {"zone": "UTC", "rules": [(7, 540, 600)]}, "working_hours"),
    (WH.parse, {"zone": "UTC", "spec": {1: "09:00-17:00"}}, "working_hours"),
    (request, {"attendees": "alice"}, "attendees"),
    (request, {"attendees": None}, "attendees"),
    (request, {"attendees": [ALICE, "bob"]}, "attendees[1]"),
    (request, {"rooms": [None]}, "rooms[0]"),
    (request, {"window": (T0, T0 + DAY)}, "window"),
    (request, {"duration": None}, "duration"),
    (request, {"now": "now"}, "now"),
    (request, {"tentative": None}, "tentative"),
    (request, {"unknown": ["flag"]}, "unknown"),
    (request, {"order": np.array(["start", "score"])}, "order"),
    (request, {"zone": None}, "tz"),
]


@pytest.mark.parametrize(("make", "kwargs", "field"), TYPE_ERRORS)
def test_wrong_types_are_input_errors_naming_the_field(
    make: Any, kwargs: dict[str, Any], field: str
) -> None:
    """Each of these used to be accepted or to raise a bare TypeError/AttributeError later."""
    with pytest.raises(InputError) as info:
        make(**kwargs)
    assert info.value.field == field


def test_status_is_given_by_name_or_member() -> None:
    """Busy takes a Status or its name in any case."""
    assert Busy(span=WINDOW, status="OOF").status is Status.OOF
    assert Busy(span=WINDOW, status=Status.FREE).status is Status.FREE


def test_availabilities_for_find_slots_are_checked_by_position() -> None:
    """as_availabilities names the position of anything that is not an Availability."""
    ok = Availability.of("alice")
    assert as_availabilities([ok]) == (ok,)
    with pytest.raises(InputError) as info:
        as_availabilities([ok, "bob"])
    assert info.value.field == "availabilities[1]"
    with pytest.raises(InputError):
        as_availabilities(ok)


def test_an_error_about_an_int_too_long_to_print_is_still_made() -> None:
    """repr of a 5000-digit int raises ValueError; the error message names its type instead."""
    with pytest.raises(InputError, match=r"span\.start=<int>"):
        Span(10**5000, 0)
    assert str(InputError("x", 10**5000, "too big")) == "x=<int>: too big"
    assert issubclass(InputError, SlotfinderError)


# --- an attendee's zone and their working hours' zone -----------------------------------------


def test_attendee_zone_and_working_hours_zone_must_agree() -> None:
    """Berlin hours for a Shanghai attendee used to be taken silently; both zones are named."""
    berlin = WorkingHours.parse("Europe/Berlin", {"mon-fri": "09:00-17:00"})
    with pytest.raises(InputError, match="'Asia/Shanghai'") as info:
        Attendee(id="alice", zone="Asia/Shanghai", working_hours=berlin)
    assert info.value.field == "working_hours.tz"
    assert info.value.value == "Europe/Berlin"


def test_attendee_without_a_zone_takes_the_working_hours_zone() -> None:
    """Working hours say where someone works: their zone becomes the attendee's zone, so the
    request's zone is not assumed for them (all-day events are read in it)."""
    berlin = WorkingHours.parse("Europe/Berlin", {"mon-fri": "09:00-17:00"})
    alice = Attendee(id="alice", working_hours=berlin)
    assert alice.zone == "Europe/Berlin"
    assert request(attendees=[alice], zone="Asia/Shanghai").zone_of(alice) == "Europe/Berlin"
    assert Attendee(id="bob").zone is None


# --- reading results: aware datetimes, ISO reprs, names ---------------------------------------


def test_span_repr_shows_utc_times() -> None:
    """A Span prints as RFC 3339 UTC times, not epoch seconds."""
    assert repr(Span(T0 + 10 * HOUR, T0 + 11 * HOUR)) == (
        "Span(2026-11-23T02:00:00Z, 2026-11-23T03:00:00Z)"
    )
    assert repr(Span(EARLIEST, LATEST)) == "Span(0001-01-02T00:00:00Z, 9999-12-31T00:00:00Z)"


def test_span_gives_aware_datetimes_in_a_zone() -> None:
    """start_at/end_at give aware datetimes on the zone's wall clock."""
    span = Span(T0 + 10 * HOUR, T0 + 11 * HOUR)
    start = span.start_at("Asia/Shanghai")
    assert start.isoformat() == "2026-11-23T10:00:00+08:00"
    assert span.end_at("Asia/Shanghai") - start == timedelta(hours=1)
    assert span.start_at().tzinfo is not None
    assert span.end_at("America/New_York").utcoffset() == timedelta(hours=-5)
    with pytest.raises(InputError, match="unknown IANA time zone"):
        span.start_at("Mars/Base")


def test_suggestions_and_periods_read_as_aware_datetimes() -> None:
    """find_slots results print ISO times and convert to any zone."""
    result = slotfinder.find_slots(
        [meeting(T0, T0 + 10 * HOUR)], request(order="start", max_results=1, zone="Asia/Shanghai")
    )
    [slot] = result.slots
    assert slot.start_at("Asia/Shanghai").isoformat() == "2026-11-23T10:00:00+08:00"
    assert slot.end_at("Asia/Shanghai").isoformat() == "2026-11-23T11:00:00+08:00"
    assert repr(slot).startswith("Suggestion(2026-11-23T02:00:00Z, 2026-11-23T03:00:00Z, score=")
    assert "available=('alice',)" in repr(slot)
    assert [p.start_at("Asia/Shanghai").hour for p in result.periods] == [10]
    assert "Span(2026-11-23T02:00:00Z, 2026-11-23T16:00:00Z)" in repr(result)


def test_suggestion_converts_with_an_offset_zone() -> None:
    """A fixed-offset IANA zone works like any other."""
    s = Suggestion(start=T0, end=T0 + HOUR, score=1.0)
    assert s.start_at("Etc/GMT-8") == datetime(2026, 11, 23, tzinfo=timezone(timedelta(hours=8)))


def test_suggestion_from_row_reads_like_one_given_its_lists() -> None:
    """Lists built on first read compare, hash, print, pickle and evolve as given ones."""
    ids = np.array(["ann", "bob", "cy", "dee", "eve"], dtype=object)
    row = bytes([0, 2, 0, 1, 3])

    def lazy() -> Suggestion:
        return Suggestion.from_row(start=T0, end=T0 + HOUR, score=80.0, room="r", ids=ids, row=row)

    given = Suggestion(
        start=T0,
        end=T0 + HOUR,
        score=80.0,
        available=("ann", "cy"),
        tentative=("dee",),
        unavailable=("bob",),
        unknown=("eve",),
        room="r",
    )
    assert lazy() == given
    assert given == lazy()
    assert hash(lazy()) == hash(given)
    assert repr(lazy()) == repr(given)
    assert pickle.loads(pickle.dumps(lazy())) == given
    assert copy.copy(lazy()) == given
    assert attrs.astuple(lazy()) == attrs.astuple(given)
    assert attrs.evolve(lazy(), score=1.0) == attrs.evolve(given, score=1.0)
    first = lazy()
    assert first.unknown == ("eve",)
    assert first.available is first.available
    assert lazy() != attrs.evolve(given, available=("cy", "ann"))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.available = ()  # type: ignore[misc]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = first.nope  # type: ignore[attr-defined]


def test_result_names_unknown_attendees_and_rooms_by_their_display_names() -> None:
    """Unknown entries carry the display name the request gave; label() names any id."""
    people = [Attendee(id="alice", name="Alice Wang"), Attendee(id="bob")]
    room = Attendee(id="feishu:omm_7", name="Room 7")
    result = slotfinder.find_slots(
        [Availability.unknown("alice", "token expired"), Availability.of("bob")],
        request(attendees=people, rooms=[room], unknown="flag"),
    )
    assert [(u.id, u.label, u.room) for u in result.unknown] == [
        ("alice", "Alice Wang", False),
        ("feishu:omm_7", "Room 7", True),
    ]
    assert result.label("alice") == "Alice Wang"
    assert result.label("bob") == "bob"
    assert result.label("feishu:omm_7") == "Room 7"
    assert result.label("nobody") == "nobody"


# --- rooms that cannot be read ----------------------------------------------------------------


def room_request() -> tuple[list[Availability], MeetingRequest]:
    room = Attendee(id="feishu:omm_7", name="Room 7")
    avs = [Availability.of("alice"), Availability.unknown("feishu:omm_7", "HTTP 403")]
    return avs, request(rooms=[room])


def test_an_unreadable_room_is_reported_as_an_unknown_room() -> None:
    """The result tells a room that could not be read from a person (for exit status 3)."""
    avs, req = room_request()
    result = slotfinder.find_slots(avs, req)
    assert result.slots == ()
    assert [(u.id, u.reason) for u in result.unknown_rooms] == [("feishu:omm_7", "HTTP 403")]
    assert SuggestionResult(slots=(), periods=(), unknown=(Unknown("x", "?"),)).unknown_rooms == ()


def test_an_unreadable_room_is_not_explained_as_a_busy_room() -> None:
    """With the only room unknown, the explanation says so instead of "no room free"."""
    avs, req = room_request()
    explanation = slotfinder.find_slots(avs, req).explanation
    assert explanation is not None
    codes = [r.code for r in explanation.reasons]
    assert "no_room_free" not in codes
    assert "rooms_unknown" in codes
