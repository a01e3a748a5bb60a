"""Built-in slotfinder provider: Feishu / Lark, with an aiohttp simulator of its API.

Registered through the ``slotfinder`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable

from slotfinder.hookspecs import hookimpl
from slotfinder.providers import Provider
from slotfinder.simulation import Simulator
from slotfinder_feishu.provider import FeishuProvider
from slotfinder_feishu.simulator import FeishuSimulator
from slotfinder_feishu.tenant import FeishuTenant

__all__ = [
    "FeishuProvider",
    "FeishuSimulator",
    "FeishuTenant",
    "slotfinder_register_providers",
    "slotfinder_register_simulators",
]


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register the ``feishu`` provider."""
    register(FeishuProvider())


@hookimpl
def slotfinder_register_simulators(register: Callable[[Simulator], None]) -> None:
    """Register the ``feishu`` simulator."""
    register(FeishuSimulator())
