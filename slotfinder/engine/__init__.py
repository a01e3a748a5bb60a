"""The engine: from availabilities and a request to ranked slots, free periods and explanations.

One idea per module, imports flowing one way (``kernel <- detail <- explain <- slots <-
series``):
:mod:`~slotfinder.engine.kernel` (people as arrays, counting who is free at slot starts),
:mod:`~slotfinder.engine.detail` (who can come to a slot, and its score),
:mod:`~slotfinder.engine.slots` (the slot semantics),
:mod:`~slotfinder.engine.explain` (why nothing fits) and :mod:`~slotfinder.engine.series`
(recurring series). Pure and synchronous; no I/O.

A series and an explanation are loaded when a request needs one, so a command that finds
plain slots does not pay for their imports (nor dateutil's).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from slotfinder.engine import slots
from slotfinder.engine.slots import NEXT_SEARCH_DAYS
from slotfinder.model import Availability, MeetingRequest, SuggestionResult, as_availabilities

__all__ = ["ALTERNATIVES", "NEXT_SEARCH_DAYS", "find_slots"]


def find_slots(availabilities: Iterable[Availability], request: MeetingRequest) -> SuggestionResult:
    """Slots, common free periods, unknown attendees and (when nothing fits) an explanation:
    :func:`slotfinder.engine.slots.find_slots`, or for a request with ``repeat`` the series of
    :mod:`slotfinder.engine.series`."""
    if isinstance(request, MeetingRequest) and request.repeat is not None:
        from slotfinder.engine.series import find_series

        return find_series(as_availabilities(availabilities), request)
    return slots.find_slots(availabilities, request)


def __getattr__(name: str) -> Any:
    if name == "ALTERNATIVES":
        from slotfinder.engine.explain import ALTERNATIVES

        return ALTERNATIVES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
