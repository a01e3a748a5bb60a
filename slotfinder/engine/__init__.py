"""The engine: from availabilities and a request to ranked slots, free periods and explanations.

One idea per module, imports flowing one way (``kernel <- detail <- explain <- slots <-
series``):
:mod:`~slotfinder.engine.kernel` (people as arrays, counting who is free at slot starts),
:mod:`~slotfinder.engine.detail` (who can come to a slot, and its score),
:mod:`~slotfinder.engine.slots` (the slot semantics),
:mod:`~slotfinder.engine.explain` (why nothing fits) and :mod:`~slotfinder.engine.series`
(recurring series, and :func:`find_slots` for every request). Pure and synchronous; no I/O.
"""

from slotfinder.engine.explain import ALTERNATIVES
from slotfinder.engine.series import find_slots
from slotfinder.engine.slots import NEXT_SEARCH_DAYS

__all__ = ["ALTERNATIVES", "NEXT_SEARCH_DAYS", "find_slots"]
