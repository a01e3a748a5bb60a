"""A series' occurrences and conflicts as words, shared by the table, timeline and HTML.

Occurrences repeat the first one's local time, so they are named by date; one whose local
time differs (moved by a DST gap) carries its time too. A failing occurrence is named with
who blocks it, by the names the request gives.
"""

from __future__ import annotations

from slotfinder.model import Occurrence, Suggestion, SuggestionResult
from slotfinder.render._common import local, span_text

__all__ = ["conflict_texts", "occurrence_text", "summary"]


def occurrence_text(o: Occurrence, first: Occurrence, zone: str) -> str:
    """``Mon 30 Nov``, or ``Sun 08 Mar 03:30`` when its local time is not the first one's."""
    same = local(o.start, zone) == local(first.start, zone)
    return local(o.start, zone, "%a %d %b" if same else "%a %d %b %H:%M")


def summary(slot: Suggestion) -> str:
    """``series of 12, 1 conflict`` (empty for a slot that is no series)."""
    n, bad = len(slot.occurrences), len(slot.conflicts)
    if not n:
        return ""
    return f"series of {n}, " + ("no conflict" if not bad else f"{bad} conflict" + "s" * (bad > 1))


def conflict_texts(result: SuggestionResult, slot: Suggestion, zone: str) -> list[str]:
    """``Mon 07 Dec 09:00–10:00 blocked by Ann, Bo`` for each failing occurrence."""
    return [
        f"{span_text(o.start, o.end, zone)} blocked by "
        + (", ".join(result.label(i) for i in o.blocked_by) or "nobody named")
        for o in slot.conflicts
    ]
