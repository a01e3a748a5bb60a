"""The JSON renderer follows the DESIGN.md output contract to the key."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
import pytest

from slotfinder.model import (
    Attendee,
    MeetingRequest,
    Span,
    Suggestion,
    SuggestionResult,
    Unknown,
)
from slotfinder.render._example import example_result
from slotfinder.render.json import dumps, to_json

SLOT_KEYS = ["start", "end", "score", "available", "tentative", "unavailable", "unknown", "room"]
"""The design's slot keys, in its order; the names and states follow them."""
ALL_SLOT_KEYS = [*SLOT_KEYS, "room_name", "people"]


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
        assert all(isinstance(slot[k], list) for k in SLOT_KEYS[3:7])
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


def test_people_states_names_and_unknown_rooms() -> None:
    """Each slot lists every attendee's id, name and state, telling 'outside_hours' from
    'busy'; rooms carry their names; unknown rooms are listed with their reason."""
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
    data = to_json(attrs.evolve(result, request=request, unknown=(*result.unknown, lost)))
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
