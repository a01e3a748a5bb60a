"""The JSON renderer follows the DESIGN.md output contract to the key: compact slots by
default, the full per-slot lists on request, and a streaming writer giving the same bytes."""

from __future__ import annotations

import io
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from render_example import example_result

from slotfinder.model import (
    Attendee,
    Explanation,
    MeetingRequest,
    Reason,
    Span,
    Suggestion,
    SuggestionResult,
    Unknown,
)
from slotfinder.render.json import dumps, to_json, write

SLOT_KEYS = [
    "start", "end", "score", "available_count", "tentative", "unavailable", "unknown", "room"
]  # fmt: skip
"""The design's slot keys, in its order (the count in place of the ``available`` ids)."""
ALL_SLOT_KEYS = [*SLOT_KEYS, "room_name", "people"]
FULL_SLOT_KEYS = [*SLOT_KEYS[:3], "available", *SLOT_KEYS[3:], "room_name", "people"]
"""With ``full_lists``: the former shape, ``available_count`` after the ``available`` ids."""


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _ny_result() -> SuggestionResult:
    """Two slots either side of the 2026 US spring-forward (8 March), zone America/New_York."""
    ny = ZoneInfo("America/New_York")
    before = int(datetime(2026, 3, 6, 10, 0, tzinfo=ny).timestamp())
    after = int(datetime(2026, 3, 9, 10, 0, tzinfo=ny).timestamp())
    request = MeetingRequest(
        attendees=(Attendee(id="ann"),),
        window=Span(before - 36_000, after + 36_000),
        duration=1800,
        zone="America/New_York",
    )
    slots = tuple(
        Suggestion(start=t, end=t + 1800, score=1.0, available=("ann",)) for t in (before, after)
    )
    return SuggestionResult(slots=slots, periods=(Span(before, after + 3600),), request=request)


def test_top_level_and_slot_keys_in_contract_order() -> None:
    """Top-level keys and each slot's keys come exactly as DESIGN.md lists them, in order."""
    data = to_json(example_result())
    assert list(data) == ["slots", "periods", "unknown", "explanation"]
    assert data["slots"], "the example has slots"
    for slot in data["slots"]:
        assert list(slot) == ALL_SLOT_KEYS
        assert isinstance(slot["score"], float)
        assert isinstance(slot["available_count"], int)
        assert all(isinstance(slot[k], list) for k in SLOT_KEYS[4:7])
    assert all(list(p) == ["start", "end"] for p in data["periods"])
    assert data["unknown"] == [
        {
            "id": "dingtalk:dave",
            "name": "dingtalk:dave",
            "reason": "DingTalk 403: the app may not read this user's calendar",
            "room": False,
        }
    ]
    assert data["explanation"] is None


def test_times_are_rfc3339_in_the_request_zone() -> None:
    """Every time carries the request zone's offset (+08:00) and parses back to the same instant."""
    result = example_result()
    data = to_json(result)
    for slot, model in zip(data["slots"], result.slots, strict=True):
        assert slot["start"].endswith("+08:00")
        assert _epoch(slot["start"]) == model.start
        assert _epoch(slot["end"]) == model.end
    assert data["slots"][0]["start"] == "2026-11-23T16:00:00+08:00"
    assert data["periods"][0] == {
        "start": "2026-11-23T16:00:00+08:00",
        "end": "2026-11-23T16:30:00+08:00",
    }


def test_zone_override_changes_offsets_not_instants() -> None:
    """``zone=`` writes the same instants with another zone's offset."""
    result = example_result()
    berlin = to_json(result, zone="Europe/Berlin")
    assert berlin["slots"][0]["start"] == "2026-11-23T09:00:00+01:00"
    assert [_epoch(s["start"]) for s in berlin["slots"]] == [s.start for s in result.slots]


def test_offset_follows_dst_within_one_result() -> None:
    """Slots either side of a DST change get their own offsets (-05:00, then -04:00)."""
    data = to_json(_ny_result())
    assert data["slots"][0]["start"] == "2026-03-06T10:00:00-05:00"
    assert data["slots"][1]["start"] == "2026-03-09T10:00:00-04:00"


def test_without_request_times_are_utc() -> None:
    """A result without its request is written in UTC."""
    result = SuggestionResult(slots=(Suggestion(start=0, end=1800, score=0.5),), periods=())
    assert to_json(result)["slots"][0]["start"] == "1970-01-01T00:00:00+00:00"


def test_stats_add_sorted_calls_and_retries() -> None:
    """``stats=True`` appends ``calls`` (sorted by endpoint) and ``retries``; default omits them."""
    result = example_result()
    assert "calls" not in to_json(result)
    data = to_json(result, stats=True)
    assert list(data)[-2:] == ["calls", "retries"]
    assert list(data["calls"]) == sorted(result.calls)
    assert data["calls"]["dingtalk/schedule_query"] == 3
    assert data["retries"] == 1


def test_explanation_shape_when_nothing_fits() -> None:
    """An empty result carries reasons, alternatives as slots and the next slot after the window."""
    data = to_json(example_result(empty=True))
    assert data["slots"] == []
    ex = data["explanation"]
    assert list(ex) == ["reasons", "alternatives", "next_after_window"]
    assert ex["reasons"][0] == {
        "code": "busy_whole_window",
        "message": "feishu:ou_alice is busy for the whole window",
        "ids": ["feishu:ou_alice"],
        "names": ["feishu:ou_alice"],
    }
    assert all(list(a) == ALL_SLOT_KEYS for a in ex["alternatives"])
    assert list(ex["next_after_window"]) == ALL_SLOT_KEYS
    assert ex["next_after_window"]["start"] == "2026-11-30T15:00:00+08:00"


def test_dumps_is_deterministic_and_round_trips() -> None:
    """``dumps`` gives identical text on every call, and parses back to ``to_json``."""
    result = example_result()
    text = dumps(result, stats=True)
    assert text == dumps(example_result(), stats=True)
    assert json.loads(text) == to_json(result, stats=True)
    assert json.loads(dumps(result, indent=None)) == to_json(result)


def test_dumps_keeps_non_ascii_text() -> None:
    """Non-ASCII reasons are written as UTF-8 text, not escapes."""
    result = SuggestionResult(
        slots=(), periods=(), unknown=(Unknown(id="feishu:ou_李", reason="无权限"),)
    )
    text = dumps(result)
    assert "无权限" in text
    assert json.loads(text)["unknown"] == [
        {"id": "feishu:ou_李", "name": "feishu:ou_李", "reason": "无权限", "room": False}
    ]


def test_engine_result_follows_the_contract() -> None:
    """A result straight from ``find_slots`` serialises with the contract keys and zone offsets."""
    engine = pytest.importorskip("slotfinder.engine")
    example = example_result()
    assert example.request is not None
    result = engine.find_slots(example.availabilities, example.request)
    data = json.loads(dumps(result, stats=True))
    assert list(data) == ["slots", "periods", "unknown", "explanation", "calls", "retries"]
    assert data["slots"]
    for slot in data["slots"]:
        assert list(slot) == ALL_SLOT_KEYS
        assert slot["start"].endswith("+08:00")
    assert [_epoch(p["start"]) for p in data["periods"]] == [p.start for p in result.periods]


def _named_result() -> SuggestionResult:
    """The example with Bob named, the room named and unreadable."""
    result = example_result()
    assert result.request is not None
    room = attrs.evolve(result.request.rooms[0], name="Blue Room")
    bob = attrs.evolve(result.request.attendees[1], name="Bob")
    request = attrs.evolve(
        result.request,
        rooms=[room],
        attendees=[result.request.attendees[0], bob, *result.request.attendees[2:]],
    )
    lost = Unknown(id=room.id, reason="403 no access")
    return attrs.evolve(result, request=request, unknown=(*result.unknown, lost))


def test_people_states_names_and_unknown_rooms() -> None:
    """With full lists each slot lists every attendee's id, name and state, telling
    'outside_hours' from 'busy'; rooms carry their names; unknown rooms come with a reason."""
    data = to_json(_named_result(), full_lists=True)
    first = data["slots"][0]
    assert first["room_name"] == "Blue Room"
    assert first["people"] == [
        {"id": "feishu:ou_alice", "name": "feishu:ou_alice", "state": "free"},
        {"id": "dingtalk:bob", "name": "Bob", "state": "free"},
        {"id": "json:team.json#carol", "name": "json:team.json#carol", "state": "outside_hours"},
        {"id": "dingtalk:dave", "name": "dingtalk:dave", "state": "unknown"},
    ]
    assert "json:team.json#carol" in first["unavailable"]  # the design's list is unchanged
    assert data["unknown"][-1] == {
        "id": "feishu:omm_room1",
        "name": "Blue Room",
        "reason": "403 no access",
        "room": True,
    }


def test_compact_slots_count_the_free_and_list_the_others() -> None:
    """By default a slot has no ``available`` ids: ``available_count`` counts them and
    ``people`` lists only who is not free, with their state."""
    first = to_json(_named_result())["slots"][0]
    assert list(first) == ALL_SLOT_KEYS
    assert first["available_count"] == 2
    assert first["people"] == [
        {"id": "json:team.json#carol", "name": "json:team.json#carol", "state": "outside_hours"},
        {"id": "dingtalk:dave", "name": "dingtalk:dave", "state": "unknown"},
    ]


def _expected_state(slot: Suggestion, pid: str) -> str | None:
    """The state the engine's lists imply (None: free); ``unavailable`` is busy or outside."""
    if pid in slot.available:
        return None
    if pid in slot.tentative:
        return "tentative"
    if pid in slot.unknown:
        return "unknown"
    return "busy|outside_hours" if pid in slot.unavailable else None


@pytest.mark.parametrize("empty", [False, True])
def test_compact_and_full_forms_agree_with_the_engine_lists(empty: bool) -> None:
    """Slots straight from the engine (and an explanation's alternatives): the count is the
    number available, every attendee not free is in ``people`` with the right state, and the
    full form is the compact one plus the ``available`` ids and the free people."""
    engine = pytest.importorskip("slotfinder.engine")
    example = example_result(empty=empty)
    assert example.request is not None
    result = engine.find_slots(example.availabilities, example.request)
    assert bool(result.slots) != empty
    compact, full = to_json(result), to_json(result, full_lists=True)
    models = list(result.slots)
    got_c, got_f = list(compact["slots"]), list(full["slots"])
    ex = result.explanation
    if ex is not None:
        models += [*ex.alternatives, *([ex.next_after_window] if ex.next_after_window else [])]
        for form, got in ((compact, got_c), (full, got_f)):
            nxt = form["explanation"]["next_after_window"]
            got += [*form["explanation"]["alternatives"], *([nxt] if nxt else [])]
    assert models
    attendees = [a.id for a in example.request.attendees]
    for model, c, f in zip(models, got_c, got_f, strict=True):
        assert "available" not in c
        assert list(c) == ALL_SLOT_KEYS
        assert list(f) == FULL_SLOT_KEYS
        assert c["available_count"] == f["available_count"] == len(model.available)
        assert f["available"] == list(model.available)
        for person in c["people"]:
            assert person["state"] in (_expected_state(model, person["id"]) or "").split("|")
        expected = [a for a in attendees if _expected_state(model, a)]
        assert [p["id"] for p in c["people"]] == expected
        assert c["people"] == [p for p in f["people"] if p["state"] != "free"]
        assert [p["id"] for p in f["people"] if p["state"] == "free"] == [
            a for a in attendees if a in model.available
        ]
        assert {k: v for k, v in f.items() if k not in ("available", "people")} == {
            k: v for k, v in c.items() if k != "people"
        }


# --- the streaming writer ---------------------------------------------------------------------


class _Pieces(io.StringIO):
    """A text stream that remembers the size of every write."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, s: str, /) -> int:
        self.sizes.append(len(s))
        return super().write(s)


def _results() -> list[SuggestionResult]:
    non_ascii = SuggestionResult(
        slots=(), periods=(), unknown=(Unknown(id="feishu:ou_李", reason="无权限\n第二行"),)
    )
    return [example_result(), example_result(empty=True), _ny_result(), _named_result(), non_ascii]


@pytest.mark.parametrize("indent", [None, 0, 2, 4])
@pytest.mark.parametrize("full_lists", [False, True])
def test_write_gives_the_bytes_of_json_dumps(indent: int | None, full_lists: bool) -> None:
    """``write`` produces exactly ``json.dumps(to_json(...))``'s text (and ``dumps`` the same),
    for slots, an explanation with alternatives, non-ASCII and multi-line text."""
    for result in _results():
        for stats in (False, True):
            options: dict[str, Any] = {"stats": stats, "full_lists": full_lists}
            expected = json.dumps(to_json(result, **options), indent=indent, ensure_ascii=False)
            out = io.StringIO()
            write(result, out, indent=indent, **options)
            assert out.getvalue() == expected
            assert dumps(result, indent=indent, **options) == expected


def test_write_sends_one_slot_at_a_time() -> None:
    """No write carries more than one slot: the document never exists as one string."""
    result = example_result()
    out = _Pieces()
    write(result, out, full_lists=True)
    slot_texts = [
        len(json.dumps(s, indent=2, ensure_ascii=False)) for s in to_json(result)["slots"]
    ]
    assert len(out.sizes) > len(result.slots)
    assert max(out.sizes) <= max(slot_texts) * 2  # a slot re-indented, never two of them
    assert sum(out.sizes) == len(dumps(result, full_lists=True))


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)


@st.composite
def _random_results(draw: st.DrawFn) -> SuggestionResult:
    """Results with arbitrary ids, names and reasons (quotes, newlines, any script)."""
    ids = draw(st.lists(_TEXT, min_size=1, max_size=5, unique=True))
    names = draw(st.lists(st.none() | _TEXT, min_size=len(ids), max_size=len(ids)))
    attendees = tuple(Attendee(id=i, name=n) for i, n in zip(ids, names, strict=True))
    request = MeetingRequest(attendees=attendees, window=Span(0, 10 * 86_400), duration=1800)

    def slot(start: int) -> Suggestion:
        kinds = draw(st.lists(st.sampled_from("atuk"), min_size=len(ids), max_size=len(ids)))
        lists = {k: tuple(i for i, c in zip(ids, kinds, strict=True) if c == k) for k in "atuk"}
        score = draw(st.floats(min_value=0, max_value=100, allow_nan=False))
        return Suggestion(
            start=start, end=start + 1800, score=score, available=lists["a"],
            tentative=lists["t"], unavailable=lists["u"], unknown=lists["k"],
        )  # fmt: skip

    starts = draw(st.lists(st.integers(0, 480), max_size=4, unique=True))
    slots = tuple(slot(s * 1800) for s in starts)
    explanation = None
    if not slots:
        reasons = tuple(
            Reason(code="c", message=m, ids=tuple(ids[:1])) for m in draw(st.lists(_TEXT))
        )
        explanation = Explanation(reasons=reasons, alternatives=(slot(0),))
    unknown = tuple(
        Unknown(id=i, reason=r) for i, r in zip(ids, draw(st.lists(_TEXT)), strict=False)
    )
    return SuggestionResult(
        slots=slots,
        periods=tuple(Span(s * 1800, s * 1800 + 1800) for s in starts),
        unknown=unknown,
        explanation=explanation,
        request=request,
        calls={"p/e": len(slots)},
    )


@settings(max_examples=60, deadline=None)
@given(_random_results(), st.sampled_from([None, 0, 2, 3]), st.booleans(), st.booleans())
def test_write_equals_json_dumps_for_any_result(
    result: SuggestionResult, indent: int | None, stats: bool, full_lists: bool
) -> None:
    """Whatever the text in ids, names and reasons, ``write``'s pieces add up to the text
    ``json.dumps`` gives for the whole document."""
    options: dict[str, Any] = {"stats": stats, "full_lists": full_lists}
    out = io.StringIO()
    write(result, out, indent=indent, **options)
    assert out.getvalue() == json.dumps(
        to_json(result, **options), indent=indent, ensure_ascii=False
    )
