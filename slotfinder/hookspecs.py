"""The whole plugin contract: the hooks a slotfinder plugin may implement.

Hooks are synchronous registrations (pluggy has no async hooks): a plugin hands over objects,
and the async work happens later on those objects, inside :mod:`slotfinder.fetch`. Each hook
receives a ``register`` callback so the host validates and de-duplicates what it is given.
A plugin implements any subset; new hooks or arguments are opt-in, so old plugins keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

from slotfinder.providers import Provider

if TYPE_CHECKING:  # simulators live in slotfinder.testing, imported only by who runs one
    from slotfinder.testing.simulation import Simulator

hookspec = pluggy.HookspecMarker("slotfinder")
hookimpl = pluggy.HookimplMarker("slotfinder")


@hookspec
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register calendar providers: call ``register(provider)`` once for each.

    ``provider`` implements :class:`slotfinder.HttpProvider` or :class:`slotfinder.LocalProvider`;
    its ``name`` becomes the id prefix (``name:ID``) and must be unique across plugins.
    """


@hookspec
def slotfinder_register_simulators(register: Callable[[Simulator], None]) -> None:
    """Register API simulators: call ``register(simulator)`` once for each.

    A simulator serves a provider's endpoints on 127.0.0.1 for tests, ``slotfinder simulate``
    and ``slotfinder demo``; its ``name`` is the provider name it imitates.
    """
