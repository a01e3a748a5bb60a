"""Groups of attendees: examples per rule, and properties against the brute-force reference."""

from __future__ import annotations

import attrs
import pytest
import reference
from hypothesis import given
from hypothesis import strategies as st
from test_engine import at, busy, req, scenario, starts

from slotfinder.engine import find_slots
from slotfinder.errors import InputError
from slotfinder.groups import Group, GroupSeat, membership, parse_spec
from slotfinder.model import Attendee, Availability, MeetingRequest, Span

# --- strategies ----------------------------------------------------------------------------


@st.composite
def grouped(draw: st.DrawFn) -> tuple[list[Availability], MeetingRequest]:
    """The engine scenario (DST anchors, zones, hours, coverage, rooms) with groups instead of
    a quorum: some required attendees split into one or two groups needing all or a count."""
    avs, request = draw(scenario())
    required = [a.id for a in request.required]
    chosen = draw(st.lists(st.sampled_from(required), unique=True, min_size=1))
    cut = draw(st.integers(1, len(chosen)))
    groups = []
    for i, members in enumerate((chosen[:cut], chosen[cut:])):
        if members:
            need = draw(st.one_of(st.just("all"), st.integers(1, len(members))))
            groups.append(Group(name=f"g{i}", members=tuple(members), required=need))
    return avs, attrs.evolve(request, quorum=None, groups=tuple(groups))


# --- properties ----------------------------------------------------------------------------


@given(grouped())
def test_grouped_slots_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Slots, rooms, per-attendee lists and periods with groups equal the brute-force ones."""
    avs, request = case
    result = find_slots(avs, request)
    ref_slots, ref_periods = reference.find(avs, request, now=request.now or 0)
    got = [(s.start, s.available, s.tentative, s.unavailable, s.unknown) for s in result.slots]
    want = [(r.start, r.available, r.tentative, r.unavailable, r.unknown) for r in ref_slots]
    assert got == want
    assert [s.room for s in result.slots] == [r.room for r in ref_slots]
    assert [(p.start, p.end) for p in result.periods] == ref_periods


@given(grouped())
def test_grouped_scores_match_reference(case: tuple[list[Availability], MeetingRequest]) -> None:
    """Score order with groups holds the same slots, scored as the reference scores them."""
    avs, request = case
    by_score = find_slots(avs, attrs.evolve(request, order="score"))
    ref_slots, _ = reference.find(avs, request, now=request.now or 0)
    want = {r.start: round(reference.score(request, r), 2) for r in ref_slots}
    assert {s.start: s.score for s in by_score.slots} == pytest.approx(want, abs=0.011)


@given(grouped())
def test_every_offered_slot_meets_every_group(
    case: tuple[list[Availability], MeetingRequest],
) -> None:
    """Each slot's membership shows at least the needed count free in every group."""
    avs, request = case
    for s in find_slots(avs, request).slots:
        for seat in membership(request.groups, s.available):
            flagged = request.unknown == "flag" or request.tentative == "free"
            assert flagged or len(seat.available) >= seat.required


@given(scenario())
def test_quorum_is_one_group(case: tuple[list[Availability], MeetingRequest]) -> None:
    """A quorum and one group of every required attendee needing that many give the same
    slots and periods."""
    avs, request = case
    if request.quorum is None:
        return
    members = tuple(a.id for a in request.required)
    group = Group(name="all", members=members, required=request.quorum_count())
    as_group = attrs.evolve(request, quorum=None, groups=(group,))
    a, b = find_slots(avs, request), find_slots(avs, as_group)
    assert [(s.start, s.available, s.room) for s in a.slots] == [
        (s.start, s.available, s.room) for s in b.slots
    ]
    assert a.periods == b.periods


# --- examples ------------------------------------------------------------------------------


def panel(**kw: object) -> MeetingRequest:
    """Lead ``a`` (ungrouped, so needed), interviewers ``i1``-``i3`` of whom two are needed."""
    return req("a", "i1", "i2", "i3", groups=(Group("panel", ("i1", "i2", "i3"), 2),), **kw)


def test_two_of_three_interviewers_pass() -> None:
    """A slot with one interviewer busy passes; with two busy it does not."""
    avs = [
        Availability.of("a"),
        Availability.of("i1", [busy(9, 11)]),
        Availability.of("i2", [busy(9, 10)]),
        Availability.of("i3", [busy(15, 17)]),
    ]
    result = find_slots(avs, panel())
    assert starts(result)[0] == 10.0  # i2 and i3 from 10:00; i1 still busy
    assert 9.0 not in starts(result)
    assert 16.0 in starts(result)  # i3 busy, i1 and i2 free: two of three
    seats = membership(result.request.groups, result.slots[0].available)  # type: ignore[union-attr]
    assert seats == (GroupSeat("panel", 2, 3, ("i2", "i3")),)


def test_ungrouped_required_attendee_is_needed() -> None:
    """The lead outside every group blocks slots whatever the group can do."""
    avs = [Availability.of("a", [busy(9, 16)]), *(Availability.of(f"i{i}") for i in (1, 2, 3))]
    result = find_slots(avs, panel())
    assert starts(result) == [16.0]
    assert result.periods == (Span(at(16), at(17)),)


def test_periods_need_every_group_at_each_instant() -> None:
    """Periods are where the group has two free at once, even if different pairs."""
    avs = [
        Availability.of("a"),
        Availability.of("i1", [busy(9, 10)]),
        Availability.of("i2", [busy(10, 11)]),
        Availability.of("i3", [busy(9, 11)]),
    ]
    result = find_slots(avs, panel(window=Span(at(9), at(12))))
    assert result.periods == (Span(at(11), at(12)),)


def test_group_unreachable_names_the_group() -> None:
    """A group never met names itself, its members and the most ever free together."""
    avs = [
        Availability.of("a"),
        Availability.of("i1", [busy(9, 13)]),
        Availability.of("i2", [busy(13, 17)]),
        Availability.of("i3", [busy(9, 17)]),
    ]
    result = find_slots(avs, panel())
    assert result.explanation is not None
    reason = next(r for r in result.explanation.reasons if r.code == "group_unreachable")
    assert reason.ids == ("i1", "i2", "i3")
    assert "'panel'" in reason.message
    assert "at most 1 of its 3" in reason.message


def test_groups_each_met_but_never_together_are_named() -> None:
    """Leads free mornings only, reviewers afternoons only: each group is met, never both."""
    request = req(
        "l1", "l2", "r1", "r2",
        groups=(Group("leads", ("l1", "l2"), 1), Group("reviewers", ("r1", "r2"), 1)),
    )  # fmt: skip
    avs = [Availability.of(i, [busy(13, 17)]) for i in ("l1", "l2")]
    avs += [Availability.of(i, [busy(9, 13)]) for i in ("r1", "r2")]
    result = find_slots(avs, request)
    assert result.explanation is not None
    codes = [r.code for r in result.explanation.reasons]
    assert "group_unreachable" not in codes
    reason = next(r for r in result.explanation.reasons if r.code == "groups_never_together")
    assert reason.ids == ("l1", "l2", "r1", "r2")
    assert "group 'reviewers' (1 of 2)" in reason.message
    assert "group 'leads' (1 of 2)" in reason.message


def test_a_group_never_met_with_the_ungrouped_attendees_says_so() -> None:
    """The lead is free only when two interviewers are not: the ungrouped need is named."""
    avs = [
        Availability.of("a", [busy(9, 13)]),
        Availability.of("i1", [busy(13, 17)]),
        Availability.of("i2", [busy(13, 17)]),
        Availability.of("i3"),
    ]
    result = find_slots(avs, panel())
    assert result.explanation is not None
    reason = next(r for r in result.explanation.reasons if r.code == "groups_never_together")
    assert "outside the groups" in reason.message
    assert reason.ids == ("a", "i1", "i2", "i3")


def test_all_group_is_every_member() -> None:
    """``required="all"`` needs every member, like ungrouped required attendees."""
    request = req("a", "b", groups=(Group("pair", ("a", "b")),))
    avs = [Availability.of("a", [busy(9, 16)]), Availability.of("b")]
    assert starts(find_slots(avs, request)) == [16.0]


@pytest.mark.parametrize(
    ("groups", "quorum", "field", "pattern"),
    [
        ((Group("g", ("zz",), 1),), None, "groups[g].members", "not one of"),
        ((Group("g", ("o",), 1),), None, "groups[g].members", "optional"),
        ((Group("g", ("a",)), Group("h", ("a", "b"))), None, "groups[h].members", "already"),
        ((Group("g", ("a",)), Group("g", ("b",))), None, "groups.name", "two groups"),
        ((Group("g", ("a",)),), 1, "quorum", "not both"),
        ("g", None, "groups", "list of Group"),
    ],
)
def test_bad_groups_are_refused(groups: object, quorum: object, field: str, pattern: str) -> None:
    """Groups that do not fit the attendees are refused, naming the field."""
    with pytest.raises(InputError, match=pattern) as info:
        req("a", "b", "o", optional=["o"], groups=groups, quorum=quorum)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"members": ("a",), "required": 0}, "groups[g].required"),
        ({"members": ("a",), "required": 2}, "groups[g].required"),
        ({"members": ("a",), "required": True}, "groups[g].required"),
        ({"members": ("a", "a")}, "groups[g].members"),
        ({"members": ()}, "groups[g].members"),
        ({"members": "ab"}, "groups.members"),
    ],
)
def test_bad_group_is_refused(kw: dict[str, object], field: str) -> None:
    """A count outside 1..members, a repeated member, no members or a string is refused."""
    with pytest.raises(InputError) as info:
        Group(name="g", **kw)  # type: ignore[arg-type]
    assert info.value.field == field


def test_group_spec() -> None:
    """``[NAME=]N:ID,...`` reads name, count (or all) and members; ids may hold colons."""
    assert parse_spec("2:feishu:a,feishu:b", 1) == Group("group 1", ("feishu:a", "feishu:b"), 2)
    assert parse_spec("team=all:x,y", 2) == Group("team", ("x", "y"), "all")
    for bad in ("2", "x:a", "2:a,,b", "=2:a"):
        with pytest.raises(InputError):
            parse_spec(bad, 1)


def test_request_without_groups_is_unchanged() -> None:
    """No groups: the implicit group is every required attendee (optional ones never count)."""
    request = MeetingRequest(
        attendees=(Attendee("a"), Attendee("o", optional=True)),
        window=Span(at(9), at(17)),
        duration=3600,
    )
    assert request.groups == ()
    assert request.ungrouped() == ("a",)
