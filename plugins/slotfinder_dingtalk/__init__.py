"""Built-in slotfinder provider: DingTalk (钉钉) calendar free/busy, and its simulator.

Registered through the ``slotfinder`` entry-point group exactly as a third-party plugin is.
"""

from __future__ import annotations

from collections.abc import Callable

from slotfinder.hookspecs import hookimpl
from slotfinder.providers import Provider
from slotfinder.simulation import Simulator
from slotfinder_dingtalk.provider import DingTalkProvider
from slotfinder_dingtalk.simulator import DingTalkSimulator

__all__ = ["DingTalkProvider", "DingTalkSimulator"]


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register the DingTalk provider (``dingtalk:UNIONID`` users, ``dingtalk:ROOMID`` rooms)."""
    register(DingTalkProvider())


@hookimpl
def slotfinder_register_simulators(register: Callable[[Simulator], None]) -> None:
    """Register the DingTalk API simulator."""
    register(DingTalkSimulator())
