"""The status policy in the engine: how ``unanswered`` entries count, against the reference."""

from __future__ import annotations

import attrs
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st
from test_engine import at, busy, req, scenario, starts

from slotfinder.engine import find_slots
from slotfinder.errors import InputError
from slotfinder.model import Availability, BusyTable, MeetingRequest, Status


def _as(avs: list[Availability], old: Status, new: Status) -> list[Availability]:
    """The same availabilities with every ``old`` entry relabelled ``new``."""
    out = []
    for av in avs:
        codes = av.busy.status.copy()
        codes[codes == old.code] = new.code
        table = BusyTable(starts=av.busy.starts, ends=av.busy.ends, status=codes)
        out.append(attrs.evolve(av, busy=table))
    return out


def _view(result: object) -> list[tuple[object, ...]]:
    return [
        (s.start, s.end, s.available, s.tentative, s.unavailable, s.unknown, s.room, s.score)
        for s in result.slots  # type: ignore[attr-defined]
    ]


@given(scenario())
def test_unanswered_counts_exactly_as_its_policy_status(
    case: tuple[list[Availability], MeetingRequest],
) -> None:
    """An unanswered entry under policy P gives the result of the same entry with status P."""
    avs, request = case
    got = find_slots(avs, request)
    same = find_slots(_as(avs, Status.UNANSWERED, Status(request.unanswered)), request)
    assert _view(got) == _view(same)
    assert got.periods == same.periods


@given(scenario(), st.sampled_from(["busy", "tentative", "free"]))
def test_unanswered_policy_matches_reference(
    case: tuple[list[Availability], MeetingRequest], policy: str
) -> None:
    """Slots and periods under each unanswered policy equal the brute-force reference's."""
    avs, request = case
    request = attrs.evolve(request, unanswered=policy)
    result = find_slots(avs, request)
    ref_slots, ref_periods = reference.find(avs, request, now=request.now or 0)
    got = [(s.start, s.available, s.tentative, s.unavailable, s.room) for s in result.slots]
    want = [(r.start, r.available, r.tentative, r.unavailable, r.room) for r in ref_slots]
    assert got == want
    assert [(p.start, p.end) for p in result.periods] == ref_periods


def test_unanswered_is_tentative_by_default() -> None:
    """By default an unanswered invitation counts as tentative, so it blocks (tentative=busy)."""
    avs = [Availability.of("a", [busy(9, 16, Status.UNANSWERED)])]
    assert starts(find_slots(avs, req("a"))) == [16.0]
    relaxed = find_slots(avs, req("a", tentative="free"))
    assert relaxed.slots[0].start == at(9)
    assert relaxed.slots[0].tentative == ("a",)


def test_unanswered_busy_blocks_even_when_tentative_is_free() -> None:
    """``unanswered="busy"`` makes it hard: the tentative policy no longer relaxes it."""
    avs = [Availability.of("a", [busy(9, 16, Status.UNANSWERED)])]
    assert starts(find_slots(avs, req("a", unanswered="busy", tentative="free"))) == [16.0]


def test_unanswered_free_blocks_nothing_and_lists_available() -> None:
    """``unanswered="free"`` ignores it: the attendee is available, at full score."""
    avs = [Availability.of("a", [busy(9, 16, Status.UNANSWERED)])]
    first = find_slots(avs, req("a", unanswered="free")).slots[0]
    assert (first.start, first.available, first.tentative) == (at(9), ("a",), ())


def test_unanswered_room_follows_the_policy() -> None:
    """A room booking still pending (unanswered) counts by the same policy as a person's entry."""
    from slotfinder.model import Attendee

    avs = [
        Availability.of("a"),
        Availability.of("r", [busy(9, 17, Status.UNANSWERED)]),
    ]
    rooms = (Attendee(id="r"),)
    assert find_slots(avs, req("a", rooms=rooms)).slots == ()
    assert find_slots(avs, req("a", rooms=rooms, unanswered="free")).slots[0].room == "r"


@pytest.mark.parametrize("bad", ["maybe", "", None, 1])
def test_bad_unanswered_policy_is_refused(bad: object) -> None:
    """Anything but busy/tentative/free is refused, naming the field and the choices."""
    with pytest.raises(InputError) as info:
        req("a", unanswered=bad)
    assert info.value.field == "unanswered"
    assert "'tentative'" in str(info.value)


@pytest.mark.parametrize(
    ("unanswered", "tentative", "counted"),
    [
        ("busy", "free", True),
        ("tentative", "busy", True),
        ("tentative", "free", False),
        ("free", "busy", False),
    ],
)
def test_unanswered_counts_toward_a_load_cap_as_its_policy_status(
    unanswered: str, tentative: str, counted: bool
) -> None:
    """An unanswered entry is a meeting for the caps exactly when the policy makes it block."""
    from slotfinder.model import Attendee, LoadCaps, Span

    a = Attendee(id="a", caps=LoadCaps(meetings_per_day=1))
    request = MeetingRequest(
        attendees=(a,),
        window=Span(at(9), at(17)),
        duration=3600,
        unanswered=unanswered,  # type: ignore[arg-type]
        tentative=tentative,  # type: ignore[arg-type]
        max_results=100,
        order="start",
    )
    avs = [Availability.of("a", [busy(7, 8, Status.UNANSWERED)])]
    assert bool(find_slots(avs, request).slots) is not counted
