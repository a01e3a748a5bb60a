"""A series' occurrences and conflicts as words, shared by the table, timeline and HTML.

Occurrences repeat the first one's local time, so they are named by date; one whose local
time differs (moved by a DST gap) carries its time too. A failing occurrence is named with
who blocks it, by the names the request gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from slotfinder.model import Occurrence, Suggestion, SuggestionResult
from slotfinder.render._common import STATE_TEXT, Person, local, people, plural, span_text, wrap
from slotfinder.render._grid import state_at


def occurrence_text(o: Occurrence, first: Occurrence, zone: str) -> str:
    """``Mon 30 Nov``, or ``Sun 08 Mar 03:30`` when its local time is not the first one's."""
    same = local(o.start, zone) == local(first.start, zone)
    return local(o.start, zone, "%a %d %b" if same else "%a %d %b %H:%M")


def summary(slot: Suggestion) -> str:
    """``series of 12, 1 conflict`` (empty for a slot that is no series)."""
    n, bad = len(slot.occurrences), len(slot.conflicts)
    if not n:
        return ""
    return f"series of {n}, " + (plural(bad, "conflict") if bad else "no conflict")


def blockers_text(result: SuggestionResult, o: Occurrence, persons: Sequence[Person]) -> str:
    """``Ann (busy), Bo (outside working hours)``: who blocks ``o`` and why, each from their
    own calendar and hours (a room that is named has no free one among the rooms).
    ``persons`` is the report's :func:`people`, built once so each keeps its merged busy."""
    by_id = {p.id: p for p in persons}
    out = []
    for i in o.blocked_by:
        p = by_id.get(i)
        state = state_at(result, p, o.start, o.end) if p is not None else ""
        why = STATE_TEXT.get(state, "") if state != "free" else ""
        out.append(f"{result.label(i)} ({why})" if why else result.label(i))
    return ", ".join(out) or "nobody named"


def series_lines(
    result: SuggestionResult,
    slot: Suggestion,
    zone: str,
    width: int,
    *,
    lead: str,
    indent: int,
    cross: int,
) -> list[str]:
    """The text lines of a series (none for a plain slot): ``{lead}series of 12, 1 conflict:``
    and the dates, wrapped at ``indent`` columns, then per conflict ``x Mon 07 Dec 09:00–10:00
    blocked by Ann (busy)`` with the ``x`` at ``cross`` columns."""
    if not slot.occurrences:
        return []
    dates = [occurrence_text(o, slot.occurrences[0], zone) for o in slot.occurrences]
    head = f"{lead}{summary(slot)}: "
    lines = wrap(dates, width, first=head, indent=" " * indent, sep=" · ")
    persons = people(result) if slot.conflicts else []
    for o in slot.conflicts:
        text = f"{span_text(o.start, o.end, zone)} blocked by {blockers_text(result, o, persons)}"
        lines += wrap(text.split(" "), width, first=" " * cross + "x ", indent=" " * (cross + 2))
    return lines
