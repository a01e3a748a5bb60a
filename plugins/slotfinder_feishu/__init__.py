"""Built-in slotfinder provider: Feishu / Lark, with an aiohttp simulator of its API.

Registered through the ``slotfinder`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slotfinder.hookspecs import hookimpl
from slotfinder.providers import Provider
from slotfinder_feishu.provider import FeishuProvider

if TYPE_CHECKING:
    from slotfinder.testing import Simulator

__all__ = [
    "FeishuProvider",
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
    from slotfinder_feishu.simulator import FeishuSimulator  # only who runs a simulator pays for it

    register(FeishuSimulator())
