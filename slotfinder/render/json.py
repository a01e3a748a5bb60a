"""The JSON output of ``slots`` and ``suggest``, as DESIGN.md states it, plus names.

::

    {"slots": [{"start", "end", "score", "available_count", "tentative", "unavailable",
                "unknown", "room", "room_name", "groups": [{"name", "required", "size",
                "available": [id, ...]}, ...], "people": [{"id", "name", "state"}, ...],
                "conflicts", "occurrences": [{"start", "end", "passes", "room",
                "blocked_by"}, ...]}, ...],      <- groups: with groups; the last two: a series
     "periods": [{"start", "end"}, ...],
     "unknown": [{"id", "name", "reason", "room"}, ...],
     "explanation": null | {"reasons": [{"code", "message", "ids", "names"}, ...],
                            "alternatives": [slot, ...], "next_after_window": slot | null},
     "calls": {"provider/endpoint": n, ...}, "retries": n}      <- only with stats=True

Compact by default, so the output grows with what was asked, not with slots x attendees: a
slot counts who is free (``available_count``) and lists in ``people`` only those who are not
free. ``full_lists=True`` (``--full-lists``, the service's ``"full_lists": true``) adds the
``available`` ids after ``score`` and the free attendees to ``people``. ``name`` is the
configured display name, else the id; ``state`` is ``free``, ``tentative``, ``busy`` (an event,
or a buffer around one), ``outside_hours`` (outside their working hours), ``capped`` (a
meeting then would break their load cap for that day or week) or ``unknown``; the design's
``unavailable`` joins ``busy``, ``outside_hours`` and ``capped``. ``unknown`` lists rooms too
(``"room": true``). Times are RFC 3339 with the UTC offset of the request's zone at that
instant. ``groups`` appears only when the request has groups: per group, how many it needs, how
many members it has and which of them are free for the slot. Keys come in the order above,
``calls`` sorted, so a result always gives the same bytes.

:func:`write` streams the document one slot at a time, so a large result never becomes one
string; :func:`dumps` is :func:`write` into a string.
"""

from __future__ import annotations

import io
import json as _json
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from slotfinder.groups import membership
from slotfinder.model import Suggestion, SuggestionResult
from slotfinder.render._common import Person, people, reason_text, result_zone, rfc3339
from slotfinder.render._grid import slot_state

__all__ = ["dumps", "to_json", "write"]


_STATE = {"outside": "outside_hours"}


def _slot(
    slot: Suggestion,
    zone: str,
    result: SuggestionResult,
    persons: Sequence[Person],
    full_lists: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "start": rfc3339(slot.start, zone),
        "end": rfc3339(slot.end, zone),
        "score": float(slot.score),
    }
    if full_lists:
        out["available"] = list(slot.available)
    out["available_count"] = len(slot.available)
    out["tentative"] = list(slot.tentative)
    out["unavailable"] = list(slot.unavailable)
    out["unknown"] = list(slot.unknown)
    out["room"] = slot.room
    out["room_name"] = result.label(slot.room) if slot.room else None
    if result.request is not None and result.request.groups:
        out["groups"] = [
            {"name": g.name, "required": g.required, "size": g.size, "available": list(g.available)}
            for g in membership(result.request.groups, slot.available)
        ]
    free = frozenset(slot.available)
    listed = []
    for p in persons:
        if p.kind == "room":
            continue
        state = "free" if p.id in free else slot_state(result, slot, p)
        if state and (state != "free" or full_lists):
            listed.append({"id": p.id, "name": p.attendee.label, "state": _STATE.get(state, state)})
    out["people"] = listed
    if slot.occurrences:  # a series (``--repeat``)
        out["conflicts"] = len(slot.conflicts)
        out["occurrences"] = [
            {
                "start": rfc3339(o.start, zone),
                "end": rfc3339(o.end, zone),
                "passes": o.passes,
                "room": o.room,
                "blocked_by": list(o.blocked_by),
            }
            for o in slot.occurrences
        ]
    return out


def _explanation(
    result: SuggestionResult, zone: str, persons: Sequence[Person], full_lists: bool
) -> dict[str, Any] | None:
    explanation = result.explanation
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
        "alternatives": [
            _slot(s, zone, result, persons, full_lists) for s in explanation.alternatives
        ],
        "next_after_window": None if nxt is None else _slot(nxt, zone, result, persons, full_lists),
    }


def _document(
    result: SuggestionResult, zone: str | None, stats: bool, full_lists: bool
) -> Iterator[tuple[str, Any]]:
    """The top-level keys in order; ``slots`` and ``periods`` come as iterators of items, made
    only when taken, so :func:`write` holds one slot at a time."""
    tz = result_zone(result, zone)
    persons = people(result)
    yield "slots", (_slot(s, tz, result, persons, full_lists) for s in result.slots)
    yield (
        "periods",
        ({"start": rfc3339(p.start, tz), "end": rfc3339(p.end, tz)} for p in result.periods),
    )
    yield (
        "unknown",
        [{"id": u.id, "name": u.label, "reason": u.reason, "room": u.room} for u in result.unknown],
    )
    yield "explanation", _explanation(result, tz, persons, full_lists)
    if stats:
        yield "calls", {k: int(result.calls[k]) for k in sorted(result.calls)}
        yield "retries", int(result.retries)


def to_json(
    result: SuggestionResult,
    *,
    zone: str | None = None,
    stats: bool = False,
    full_lists: bool = False,
) -> dict[str, Any]:
    """The result as plain JSON data (dicts, lists, strings, numbers, ``None``).

    ``zone`` overrides the request's zone for the times; ``stats`` adds ``calls`` and
    ``retries`` (what ``suggest --format json`` prints); ``full_lists`` the free attendees.
    """
    return {
        key: list(value) if isinstance(value, Iterator) else value
        for key, value in _document(result, zone, stats, full_lists)
    }


def write(
    result: SuggestionResult,
    fp: TextIO,
    *,
    zone: str | None = None,
    stats: bool = False,
    full_lists: bool = False,
    indent: int | None = 2,
) -> None:
    """Write the result to ``fp`` as :func:`to_json` would serialise: the text of
    ``json.dumps(to_json(...), indent=indent, ensure_ascii=False)``, one slot at a time.

    Each item is serialised by the standard library and indented to its depth (JSON strings
    hold no raw newline, so only structure is re-indented); no trailing newline.
    """
    newline = "" if indent is None else "\n"
    comma = ", " if indent is None else ","
    pad = "" if indent is None else " " * indent

    def text(value: Any, depth: int) -> str:
        out = _json.dumps(value, indent=indent, ensure_ascii=False)
        return out.replace("\n", "\n" + pad * depth) if newline and pad else out

    fp.write("{")
    for i, (key, value) in enumerate(_document(result, zone, stats, full_lists)):
        fp.write(f"{comma if i else ''}{newline}{pad}{text(key, 1)}: ")
        if not isinstance(value, Iterator):
            fp.write(text(value, 1))
            continue
        first = True
        for item in value:
            fp.write(f"{'[' if first else comma}{newline}{pad * 2}{text(item, 2)}")
            first = False
        fp.write("[]" if first else f"{newline}{pad}]")
    fp.write(newline + "}")


def dumps(
    result: SuggestionResult,
    *,
    zone: str | None = None,
    stats: bool = False,
    full_lists: bool = False,
    indent: int | None = 2,
) -> str:
    """:func:`write` into a string: UTF-8 text kept as is, no trailing newline."""
    buffer = io.StringIO()
    write(result, buffer, zone=zone, stats=stats, full_lists=full_lists, indent=indent)
    return buffer.getvalue()
