"""Built-in slotfinder provider: DingTalk (钉钉) calendar free/busy, and its simulator.

Registered through the ``slotfinder`` entry-point group exactly as a third-party plugin is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from slotfinder.hookspecs import hookimpl
from slotfinder.providers import Provider
from slotfinder_dingtalk.provider import DingTalkProvider

if TYPE_CHECKING:
    from slotfinder.testing import Simulator

__all__ = ["DingTalkProvider"]


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register the DingTalk provider (``dingtalk:UNIONID`` users, ``dingtalk:ROOMID`` rooms)."""
    register(DingTalkProvider())


@hookimpl
def slotfinder_register_simulators(register: Callable[[Simulator], None]) -> None:
    """Register the DingTalk API simulator."""
    from slotfinder_dingtalk.simulator import DingTalkSimulator  # only who runs one pays for it

    register(DingTalkSimulator())
