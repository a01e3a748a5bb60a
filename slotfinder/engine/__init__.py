"""The engine: from availabilities and a request to ranked slots, free periods and explanations.

One idea per module, imports flowing one way (``kernel <- detail <- explain <- slots``):
:mod:`~slotfinder.engine.kernel` (people as arrays, counting who is free at slot starts),
:mod:`~slotfinder.engine.detail` (who can come to a slot, and its score),
:mod:`~slotfinder.engine.slots` (:func:`find_slots` and the slot semantics) and
:mod:`~slotfinder.engine.explain` (why nothing fits). Pure and synchronous; no I/O.
"""

from slotfinder.engine.explain import ALTERNATIVES
from slotfinder.engine.slots import NEXT_SEARCH_DAYS, find_slots

__all__ = ["ALTERNATIVES", "NEXT_SEARCH_DAYS", "find_slots"]
