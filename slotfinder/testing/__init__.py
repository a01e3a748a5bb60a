"""Simulated provider APIs: the simulator contract and the parts simulators are built from.

Tests, ``slotfinder simulate`` and ``slotfinder demo`` import this package; the library's
fetch path, :func:`slotfinder.plugins.get_providers` and the hook specifications never do, so an
application pays for the simulators (and aiohttp's server) only when it runs one.
"""

from slotfinder.testing.simulation import DemoPerson, DemoTenant, Simulator, get_simulators

__all__ = ["DemoPerson", "DemoTenant", "Simulator", "get_simulators"]
