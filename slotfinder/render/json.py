"""The JSON output of ``slots`` and ``suggest``, exactly as DESIGN.md states it.

::

    {"slots": [{"start", "end", "score", "available", "tentative", "unavailable", "unknown",
                "room"}, ...],
     "periods": [{"start", "end"}, ...],
     "unknown": [{"id", "reason"}, ...],
     "explanation": null | {"reasons": [{"code", "message", "ids"}, ...],
                            "alternatives": [slot, ...], "next_after_window": slot | null},
     "calls": {"provider/endpoint": n, ...}, "retries": n}      <- only with stats=True

Times are RFC 3339 with the UTC offset of the request's zone at that instant
(``2026-11-23T09:00:00+08:00``). Keys come in the order above, ``calls`` sorted by name, so
the same result always serialises to the same bytes.
"""

from __future__ import annotations

import json as _json
from typing import Any

from slotfinder.model import Explanation, Suggestion, SuggestionResult
from slotfinder.render._common import result_zone, rfc3339

__all__ = ["dumps", "slot_to_json", "to_json"]


def slot_to_json(slot: Suggestion, zone: str) -> dict[str, Any]:
    """One slot as its JSON object, times in ``zone``."""
    return {
        "start": rfc3339(slot.start, zone),
        "end": rfc3339(slot.end, zone),
        "score": float(slot.score),
        "available": list(slot.available),
        "tentative": list(slot.tentative),
        "unavailable": list(slot.unavailable),
        "unknown": list(slot.unknown),
        "room": slot.room,
    }


def _explanation(explanation: Explanation | None, zone: str) -> dict[str, Any] | None:
    if explanation is None:
        return None
    nxt = explanation.next_after_window
    return {
        "reasons": [
            {"code": r.code, "message": r.message, "ids": list(r.ids)} for r in explanation.reasons
        ],
        "alternatives": [slot_to_json(s, zone) for s in explanation.alternatives],
        "next_after_window": None if nxt is None else slot_to_json(nxt, zone),
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
        "slots": [slot_to_json(s, tz) for s in result.slots],
        "periods": [
            {"start": rfc3339(p.start, tz), "end": rfc3339(p.end, tz)} for p in result.periods
        ],
        "unknown": [{"id": u.id, "reason": u.reason} for u in result.unknown],
        "explanation": _explanation(result.explanation, tz),
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
