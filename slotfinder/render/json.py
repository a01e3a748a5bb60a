"""The JSON output of ``slots`` and ``suggest``, exactly as DESIGN.md states it, plus names.

::

    {"slots": [{"start", "end", "score", "available", "tentative", "unavailable", "unknown",
                "room", "room_name", "people": [{"id", "name", "state"}, ...]}, ...],
     "periods": [{"start", "end"}, ...],
     "unknown": [{"id", "name", "reason", "room"}, ...],
     "explanation": null | {"reasons": [{"code", "message", "ids", "names"}, ...],
                            "alternatives": [slot, ...], "next_after_window": slot | null},
     "calls": {"provider/endpoint": n, ...}, "retries": n}      <- only with stats=True

The design's keys come first and mean what it says; the rest are additions a reader may
ignore. ``name`` is the configured display name, else the id. A slot's ``people`` gives each
attendee's ``state``: ``free``, ``tentative``, ``busy`` (an event, or a buffer around one),
``outside_hours`` (no event: outside their working hours) or ``unknown``; the design's
``unavailable`` joins ``busy`` and ``outside_hours``. ``unknown`` lists rooms too
(``"room": true``) with their reasons. Times are RFC 3339 with the UTC offset of the
request's zone at that instant (``2026-11-23T09:00:00+08:00``). Keys come in the order above,
``calls`` sorted by name, so the same result always serialises to the same bytes.
"""

from __future__ import annotations

import json as _json
from typing import Any

from slotfinder.model import Explanation, Suggestion, SuggestionResult
from slotfinder.render._common import people, reason_text, result_zone, rfc3339
from slotfinder.render._grid import slot_state

__all__ = ["dumps", "slot_to_json", "to_json"]


_STATE = {"outside": "outside_hours"}


def slot_to_json(
    slot: Suggestion, zone: str, result: SuggestionResult | None = None
) -> dict[str, Any]:
    """One slot as its JSON object, times in ``zone``; with ``result``, names and states too."""
    out: dict[str, Any] = {
        "start": rfc3339(slot.start, zone),
        "end": rfc3339(slot.end, zone),
        "score": float(slot.score),
        "available": list(slot.available),
        "tentative": list(slot.tentative),
        "unavailable": list(slot.unavailable),
        "unknown": list(slot.unknown),
        "room": slot.room,
    }
    if result is None:
        return out
    out["room_name"] = result.label(slot.room) if slot.room else None
    out["people"] = [
        {"id": p.id, "name": p.attendee.label, "state": _STATE.get(state, state)}
        for p in people(result)
        if p.kind != "room" and (state := slot_state(result, slot, p))
    ]
    return out


def _explanation(result: SuggestionResult, zone: str) -> dict[str, Any] | None:
    explanation: Explanation | None = result.explanation
    if explanation is None:
        return None
    nxt = explanation.next_after_window
    return {
        "reasons": [
            {
                "code": r.code,
                "message": reason_text(r),
                "ids": list(r.ids),
                "names": [result.label(i) for i in r.ids],
            }
            for r in explanation.reasons
        ],
        "alternatives": [slot_to_json(s, zone, result) for s in explanation.alternatives],
        "next_after_window": None if nxt is None else slot_to_json(nxt, zone, result),
    }


def to_json(
    result: SuggestionResult, *, zone: str | None = None, stats: bool = False
) -> dict[str, Any]:
    """The result as plain JSON data (dicts, lists, strings, numbers, ``None``).

    ``zone`` overrides the request's zone for the times; ``stats`` adds ``calls`` and
    ``retries`` (what ``suggest --format json`` prints).
    """
    tz = result_zone(result, zone)
    out: dict[str, Any] = {
        "slots": [slot_to_json(s, tz, result) for s in result.slots],
        "periods": [
            {"start": rfc3339(p.start, tz), "end": rfc3339(p.end, tz)} for p in result.periods
        ],
        "unknown": [
            {"id": u.id, "name": u.label, "reason": u.reason, "room": u.room}
            for u in result.unknown
        ],
        "explanation": _explanation(result, tz),
    }
    if stats:
        out["calls"] = {k: int(result.calls[k]) for k in sorted(result.calls)}
        out["retries"] = int(result.retries)
    return out


def dumps(
    result: SuggestionResult,
    *,
    zone: str | None = None,
    stats: bool = False,
    indent: int | None = 2,
) -> str:
    """:func:`to_json` serialised: UTF-8 text kept as is, no trailing newline."""
    return _json.dumps(to_json(result, zone=zone, stats=stats), indent=indent, ensure_ascii=False)
