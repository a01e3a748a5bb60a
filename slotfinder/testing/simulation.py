"""The simulator contract: an in-process imitation of a provider's web API.

A plugin that talks to a web API ships a simulator so that tests, ``slotfinder simulate`` and
``slotfinder demo`` exercise the real HTTP path (over loopback) without the real service. The
core starts simulators without knowing any provider: it asks the registered :class:`Simulator`
for an aiohttp application and for a demo tenant description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import attrs
from aiohttp import web

__all__ = ["DemoPerson", "DemoTenant", "Simulator", "get_simulators"]


@attrs.frozen
class DemoPerson:
    """Someone (or a room) in a simulated organisation, as ``suggest`` would name them."""

    id: str
    """Full id with prefix, e.g. ``feishu:ou_0001``."""
    name: str
    zone: str
    working_hours: Mapping[str, list[str]] | None = None
    room: bool = False


@attrs.frozen
class DemoTenant:
    """What ``slotfinder demo`` needs to call a running simulator like a real tenant."""

    config: Mapping[str, str]
    """The ``[providers.NAME]`` settings pointing at the simulator (base URL, credentials)."""
    people: tuple[DemoPerson, ...]
    rooms: tuple[DemoPerson, ...] = ()


@runtime_checkable
class Simulator(Protocol):
    """A provider API imitation a plugin registers through ``slotfinder_register_simulators``."""

    name: str

    def app(self, seed: int = 0, **options: object) -> web.Application:
        """A fresh aiohttp application serving the API, seeded for reproducible data."""
        ...

    def demo(self, base_url: str, seed: int = 0) -> DemoTenant:
        """The configuration and a few people and rooms of the seeded organisation."""
        ...


def get_simulators() -> dict[str, Simulator]:
    """Every simulator the loaded plugins register, by name.

    Plugins import their simulators inside the hook, so only a caller of this function pays
    for them (and for aiohttp's server).
    """
    from slotfinder.plugins import PluginError, get_plugin_manager

    found: dict[str, Simulator] = {}

    def register(simulator: Simulator) -> None:
        if not isinstance(simulator, Simulator):
            raise PluginError(f"{simulator!r} is not a Simulator")
        if simulator.name in found and found[simulator.name] is not simulator:
            raise PluginError(f"simulator name {simulator.name!r} is registered twice")
        found[simulator.name] = simulator

    get_plugin_manager().hook.slotfinder_register_simulators(register=register)
    return dict(sorted(found.items()))
