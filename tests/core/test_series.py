"""Recurring series (``repeat``, ``allow_conflicts``): examples per rule, and properties
against the brute-force ``tests/reference.find_series`` across DST transitions, with quorums,
groups, load caps and the unanswered policy drawn too."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import attrs
import pytest
import reference
from hypothesis import example, given
from hypothesis import strategies as st

from slotfinder.engine import find_slots
from slotfinder.engine.series import series_span
from slotfinder.errors import InputError
from slotfinder.groups import Group
from slotfinder.model import (
    DAY,
    Attendee,
    Availability,
    Busy,
    LoadCaps,
    MeetingRequest,
    Span,
    Status,
    WorkingHours,
)

H = 3600
M = 60
ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Shanghai"]
# Window starts a few days to two weeks before DST transitions, so occurrences cross them.
TRANSITIONS = [
    date(2026, 3, 8),  # US spring forward
    date(2026, 11, 1),  # US fall back
    date(2026, 3, 29),  # EU spring forward
    date(2026, 10, 25),  # EU fall back
    date(2026, 4, 5),  # Lord Howe back half an hour
    date(2026, 10, 4),  # Lord Howe forward half an hour
]
RULES = [
    "FREQ=DAILY;COUNT=3",
    "FREQ=WEEKLY;COUNT=3",
    "FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4",
    "FREQ=DAILY;INTERVAL=2;COUNT=4",
    "FREQ=MONTHLY;COUNT=2",
    "RRULE:FREQ=WEEKLY;UNTIL={until}",
    "FREQ=DAILY;UNTIL={until_z}",
    "FREQ=WEEKLY;UNTIL={until_date}",
]


def local(zone: str, day: date, hh: int, mm: int = 0, fold: int = 0) -> int:
    return int(datetime.combine(day, time(hh, mm, fold=fold), tzinfo=ZoneInfo(zone)).timestamp())


def person(aid: str, zone: str, spec: dict[str, object] | None = None, **kw: object) -> Attendee:
    wh = None if spec is None else WorkingHours.parse(zone, spec)
    return Attendee(id=aid, zone=zone, working_hours=wh, **kw)  # type: ignore[arg-type]


def request(zone: str, attendees: list[Attendee], window: Span, **kw: object) -> MeetingRequest:
    fields: dict[str, object] = {"duration": H, "order": "start", "max_results": 1000}
    fields.update(kw)
    return MeetingRequest(attendees=attendees, window=window, zone=zone, **fields)  # type: ignore[arg-type]


def check_reference(avs: list[Availability], req: MeetingRequest) -> None:
    """The engine's series, their rooms and every occurrence agree with the reference."""
    req = attrs.evolve(req, order="start", max_results=1000)
    got = find_slots(avs, req).slots
    want = reference.find_series(avs, req, now=req.now or 0)
    assert [s.start for s in got] == [r.start for r in want]
    for s, r in zip(got, want, strict=True):
        assert s.room == r.room
        assert [(o.start, o.passes, o.blocked_by) for o in s.occurrences] == r.occurrences
        assert all(o.end == o.start + req.duration for o in s.occurrences)
        assert all(o.room is not None for o in s.occurrences if o.passes and req.rooms)


# --- properties ----------------------------------------------------------------------------


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Availability], MeetingRequest]:
    zone = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(TRANSITIONS))
    day = date.fromordinal(day.toordinal() - draw(st.sampled_from([0, 1, 2, 6, 7, 13])))
    w0 = local(zone, day, draw(st.integers(0, 23)))
    w1 = w0 + draw(st.integers(3, 40)) * H
    until_day = date.fromordinal(day.toordinal() + draw(st.integers(0, 20)))
    rule = draw(st.sampled_from(RULES)).format(
        until=until_day.strftime("%Y%m%dT100000"),
        until_z=until_day.strftime("%Y%m%dT120000Z"),
        until_date=until_day.strftime("%Y%m%d"),
    )
    reach = w0 + 32 * DAY
    attendees, avs = [], []
    for i in range(draw(st.integers(1, 3))):
        aid = f"p{i}"
        spec = draw(st.sampled_from([None, {"mon-fri": "08:00-18:00"}, {"mon-sun": "01:00-23:00"}]))
        caps = draw(
            st.sampled_from(
                [None, None, LoadCaps(meetings_per_day=1), LoadCaps(busy_per_week=4 * H)]
            )
        )
        attendees.append(
            person(
                aid,
                draw(st.sampled_from(ZONES)),
                spec,
                optional=i > 0 and draw(st.booleans()),
                caps=caps,
            )
        )
        kind = draw(st.sampled_from(["ok", "ok", "ok", "error", "covered"]))
        busy = []
        for _ in range(draw(st.integers(0, 5))):
            s = w0 + draw(st.integers(0, 31)) * DAY + draw(st.integers(-2, 40)) * 30 * M
            length = draw(st.sampled_from([0, 15 * M, H, 3 * H]))
            busy.append(Busy(Span(s, s + length), draw(st.sampled_from(list(Status)))))
        if kind == "error":
            avs.append(Availability.unknown(aid, "boom"))
        elif kind == "ok":
            avs.append(Availability.of(aid, busy))
        else:
            c1 = draw(st.integers(w1, reach))
            avs.append(Availability.of(aid, busy, covered=Span(w0, c1)))
    rooms = []
    for j in range(draw(st.integers(0, 1))):
        rid = f"room{j}"
        rooms.append(Attendee(id=rid))
        s = w0 + draw(st.integers(0, 31)) * DAY + draw(st.integers(0, 40)) * 30 * M
        avs.append(Availability.of(rid, [Busy(Span(s, s + 2 * H))]))
    required = [a.id for a in attendees if not a.optional]
    need = draw(st.sampled_from(["all", "quorum", "group"]))
    teams: dict[str, object] = {}
    if need == "quorum":
        teams["quorum"] = draw(st.integers(1, len(required)))
    elif need == "group" and len(required) > 1:
        members = required[: draw(st.integers(2, len(required)))]
        teams["groups"] = (Group("g", tuple(members), draw(st.integers(1, len(members)))),)
    req = request(
        zone,
        attendees,
        Span(w0, w1),
        **teams,
        unanswered=draw(st.sampled_from(["busy", "tentative", "free"])),
        rooms=rooms,
        duration=draw(st.sampled_from([30 * M, H, 2 * H])),
        granularity=draw(st.sampled_from([15 * M, 30 * M, H, 2 * H])),
        buffer_before=draw(st.sampled_from([0, 0, 15 * M])),
        tentative=draw(st.sampled_from(["busy", "free"])),
        unknown=draw(st.sampled_from(["exclude", "flag"])),
        repeat=rule,
        allow_conflicts=draw(st.integers(0, 2)),
        min_notice=draw(st.sampled_from([0, 0, 3 * H])),
        now=w0,
    )
    return avs, req


@given(scenario())
def test_series_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Every offered start and each occurrence's pass and blockers match the brute force."""
    check_reference(*case)


@given(scenario())
def test_score_order_prefers_fewer_conflicts(
    case: tuple[list[Availability], MeetingRequest],
) -> None:
    """In score order, a series never comes before one with fewer failing occurrences, and
    the starts offered are starts start order offers too."""
    avs, req = case
    ranked = find_slots(avs, attrs.evolve(req, order="score", max_results=5)).slots
    fails = [len(s.conflicts) for s in ranked]
    assert fails == sorted(fails)
    every = {s.start for s in find_slots(avs, req).slots}
    assert {s.start for s in ranked} <= every


# --- examples ------------------------------------------------------------------------------


NY = "America/New_York"


def test_weekly_series_skips_a_start_blocked_in_a_later_week() -> None:
    """A start is offered only when all four weekly occurrences are free."""
    day = date(2026, 11, 23)
    a = person("a", NY, {"mon-fri": "09:00-11:00"})
    busy = Busy(Span(local(NY, date(2026, 12, 7), 9), local(NY, date(2026, 12, 7), 10)))
    req = request(
        NY, [a], Span(local(NY, day, 0), local(NY, day, 23)), repeat="FREQ=WEEKLY;COUNT=4"
    )
    result = find_slots([Availability.of("a", [busy])], req)
    assert [s.start for s in result.slots] == [local(NY, day, 10)]
    assert [o.start for o in result.slots[0].occurrences] == [
        local(NY, date(2026, 11, 23) + (date(2026, 11, 30) - date(2026, 11, 23)) * k, 10)
        for k in range(4)
    ]


def test_allow_conflicts_names_who_blocks() -> None:
    """With one conflict allowed, the blocked occurrence is named with its blocker, and the
    series without conflicts ranks first."""
    day = date(2026, 11, 23)
    a = person("a", NY, {"mon-fri": "09:00-11:00"})
    b = person("b", NY)
    busy = Busy(Span(local(NY, date(2026, 12, 7), 9), local(NY, date(2026, 12, 7), 10)))
    req = request(
        NY,
        [a, b],
        Span(local(NY, day, 0), local(NY, day, 23)),
        repeat="FREQ=WEEKLY;COUNT=4",
        allow_conflicts=1,
        order="score",
        granularity=H,
    )
    result = find_slots([Availability.of("a", [busy]), Availability.of("b")], req)
    assert [s.start for s in result.slots] == [local(NY, day, 10), local(NY, day, 9)]
    assert result.slots[0].conflicts == ()
    (bad,) = result.slots[1].conflicts
    assert bad.start == local(NY, date(2026, 12, 7), 9)
    assert bad.blocked_by == ("a",)
    check_reference([Availability.of("a", [busy]), Availability.of("b")], req)


def test_occurrence_in_a_dst_gap_takes_the_offset_before_it() -> None:
    """Daily at 02:30 from 7 March: on the US spring day 02:30 does not exist, so that
    occurrence is 03:30 EDT (RFC 5545: the offset before the gap)."""
    a = person("a", NY)
    start = local(NY, date(2026, 3, 7), 2, 30)
    req = request(NY, [a], Span(start, start + H), repeat="FREQ=DAILY;COUNT=3", granularity=30 * M)
    (slot,) = find_slots([Availability.of("a")], req).slots
    walls = [
        datetime.fromtimestamp(o.start, ZoneInfo(NY)).strftime("%d %H:%M%z")
        for o in slot.occurrences
    ]
    assert walls == ["07 02:30-0500", "08 03:30-0400", "09 02:30-0400"]
    check_reference([Availability.of("a")], req)


def test_repeated_time_is_its_first_instant() -> None:
    """Daily at 01:30 into the US fall-back day: that occurrence is 01:30 EDT, the first."""
    a = person("a", NY)
    start = local(NY, date(2026, 10, 31), 1, 30)
    req = request(NY, [a], Span(start, start + H), repeat="FREQ=DAILY;COUNT=2", granularity=30 * M)
    (slot,) = find_slots([Availability.of("a")], req).slots
    assert slot.occurrences[1].start == local(NY, date(2026, 11, 1), 1, 30, fold=0)
    assert slot.occurrences[1].start == slot.start + DAY


def test_byday_starts_only_on_its_days() -> None:
    """BYDAY=TU,TH offers Tuesday and Thursday starts only (the first date must be the rule's)."""
    a = person("a", NY, {"mon-sun": "09:00-10:00"})
    w = Span(local(NY, date(2026, 11, 23), 0), local(NY, date(2026, 11, 28), 0))
    req = request(NY, [a], w, repeat="FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4")
    days = [
        datetime.fromtimestamp(s.start, ZoneInfo(NY)).strftime("%a")
        for s in find_slots([Availability.of("a")], req).slots
    ]
    assert days == ["Tue", "Thu"]


def test_until_cuts_by_local_start_time() -> None:
    """UNTIL=...T093000 keeps a 09:00 occurrence on that day and drops a 10:00 one."""
    a = person("a", NY, {"mon-sun": "09:00-11:00"})
    day = date(2026, 11, 23)
    req = request(
        NY,
        [a],
        Span(local(NY, day, 0), local(NY, day, 23)),
        repeat="FREQ=DAILY;UNTIL=20261125T093000",
    )
    slots = {s.start: len(s.occurrences) for s in find_slots([Availability.of("a")], req).slots}
    assert slots[local(NY, day, 9)] == 3
    assert slots[local(NY, day, 10)] == 2


def test_span_covers_every_occurrence() -> None:
    """The fetch span runs from the window to the end of the last occurrence's day (+ duration)."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    req = request(
        NY, [a], Span(local(NY, day, 0), local(NY, day, 23)), repeat="FREQ=WEEKLY;COUNT=12"
    )
    span = series_span(req)
    assert span.start == req.window.start
    assert span.end == local(NY, date(2027, 2, 9), 0) + H


def test_data_not_covering_a_later_occurrence_is_unknown() -> None:
    """Busy data read for the window only leaves later occurrences unknown: nothing passes,
    and the attendee is reported as covering only part of the span."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    w = Span(local(NY, day, 0), local(NY, day, 23))
    req = request(NY, [a], w, repeat="FREQ=WEEKLY;COUNT=2")
    result = find_slots([Availability.of("a", covered=w)], req)
    assert result.slots == ()
    assert [u.id for u in result.unknown] == ["a"]
    assert result.explanation is not None
    (reason,) = result.explanation.reasons
    assert reason.code == "series_conflicts"
    assert reason.ids == ("a",)
    assert result.explanation.alternatives[0].conflicts[0].blocked_by == ("a",)


def test_no_start_begins_a_series() -> None:
    """A window of Mondays only with BYDAY=FR says no start begins a series."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    req = request(
        NY, [a], Span(local(NY, day, 0), local(NY, day, 23)), repeat="FREQ=WEEKLY;BYDAY=FR;COUNT=2"
    )
    result = find_slots([Availability.of("a")], req)
    assert result.explanation is not None
    assert [r.code for r in result.explanation.reasons] == ["series_never_starts"]


def test_room_only_conflict_names_the_rooms() -> None:
    """An occurrence failing only for want of a room is blocked by the rooms."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    busy = Busy(Span(local(NY, date(2026, 11, 30), 9), local(NY, date(2026, 11, 30), 10)))
    w = Span(local(NY, day, 9), local(NY, day, 10))
    req = request(
        NY, [a], w, rooms=[Attendee(id="r1")], repeat="FREQ=WEEKLY;COUNT=2", allow_conflicts=1
    )
    avs = [Availability.of("a"), Availability.of("r1", [busy])]
    (slot,) = find_slots(avs, req).slots
    assert slot.room == "r1"
    assert [(o.passes, o.room, o.blocked_by) for o in slot.occurrences] == [
        (True, "r1", ()),
        (False, None, ("r1",)),
    ]
    check_reference(avs, req)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("FREQ=HOURLY;COUNT=3", "DAILY or coarser"),
        ("FREQ=DAILY;BYHOUR=9;COUNT=3", "BYHOUR"),
        ("FREQ=WEEKLY", "COUNT and UNTIL"),
        ("FREQ=WEEKLY;COUNT=2;UNTIL=20270101", "COUNT and UNTIL"),
        ("FREQ=WEEKLY;COUNT=60", "365 days"),
        ("FREQ=DAILY;COUNT=400", "COUNT must be 1 to 366"),
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=2", "no month in BYMONTH"),
        ("FREQ=DAILY;BYMONTH=13;COUNT=2", "BYMONTH"),
        ("FREQ=YEARLY;BYWEEKNO=60;COUNT=2", "BYWEEKNO=60: each must be 1 to 53"),
        ("FREQ=YEARLY;BYYEARDAY=400;COUNT=2", "BYYEARDAY=400: each must be 1 to 366"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=0;COUNT=2", "BYSETPOS=0"),
        ("FREQ=WEEKLY;COUNT=x", "not a valid RRULE"),
        ("FREQ=WEEKLY;FOO=1;COUNT=2", "unknown rule part FOO"),
        ("COUNT=2", "FREQ is required"),
        ("FREQ=WEEKLY;UNTIL=2027", "UNTIL=2027"),
        ("", "expected an RFC 5545 RRULE"),
    ],
)
def test_bad_repeat_is_refused_naming_it(value: str, words: str) -> None:
    """A rule the engine cannot use is an InputError naming repeat, the value and why."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    with pytest.raises(InputError) as err:
        request(NY, [a], Span(local(NY, day, 0), local(NY, day, 23)), repeat=value)
    assert err.value.field == "repeat"
    assert words in err.value.problem


@pytest.mark.parametrize("n", [-1, 1.5, True, "2"])
def test_bad_allow_conflicts(n: object) -> None:
    """allow_conflicts is a whole number at least 0."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    with pytest.raises(InputError) as err:
        request(
            NY,
            [a],
            Span(local(NY, day, 0), local(NY, day, 23)),
            repeat="FREQ=DAILY;COUNT=2",
            allow_conflicts=n,
        )
    assert err.value.field == "allow_conflicts"


def test_allow_conflicts_needs_repeat() -> None:
    """allow_conflicts without a series is refused rather than ignored."""
    a = person("a", NY)
    day = date(2026, 11, 23)
    with pytest.raises(InputError) as err:
        request(NY, [a], Span(local(NY, day, 0), local(NY, day, 23)), allow_conflicts=1)
    assert err.value.field == "allow_conflicts"


rule_parts = st.sampled_from(
    ["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=SECONDLY", "FREQ=BOGUS",
     "COUNT=3", "COUNT=0", "COUNT=-1", "COUNT=99999999999999999999", "UNTIL=20270101",
     "UNTIL=20270101T1", "UNTIL=99991231T000000Z", "INTERVAL=0", "INTERVAL=400", "INTERVAL=7",
     "BYDAY=MO", "BYDAY=-1FR", "BYDAY=9XX", "BYMONTHDAY=31", "BYMONTHDAY=13", "BYMONTHDAY=0",
     "BYSETPOS=-1", "BYSETPOS=2", "WKST=SU", "BYWEEKNO=60", "BYWEEKNO=1", "BYMONTH=2",
     "BYMONTH=13", "BYYEARDAY=366", "BYYEARDAY=-1", "X", "=", ""]
)  # fmt: skip


@given(st.lists(rule_parts, max_size=5).map(";".join) | st.text(max_size=40))
@example("FREQ=MONTHLY;BYDAY=-1FR;BYMONTHDAY=13;COUNT=5")  # never again: no last Friday the 13th
@example("FREQ=DAILY;INTERVAL=7;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;COUNT=2")  # one phase only
def test_any_repeat_is_a_series_or_an_input_error(value: str) -> None:
    """Whatever the rule text, the request is made or refused with an InputError naming
    repeat, and finding slots for an accepted one raises nothing (a rule that matches nothing
    more is searched in a bounded range)."""
    a = person("a", NY, {"mon-fri": "09:00-11:00"})
    day = date(2026, 11, 23)
    window = Span(local(NY, day, 0), local(NY, date(2026, 11, 30), 0))
    refused = None
    try:
        find_slots([Availability.of("a")], request(NY, [a], window, repeat=value))
    except InputError as exc:
        refused = exc
    assert refused is None or refused.field == "repeat"
