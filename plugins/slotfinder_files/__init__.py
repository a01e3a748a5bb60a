"""Built-in slotfinder providers for local files: ``ics:`` (iCalendar) and ``json:`` (busy files).

Registered through the ``slotfinder`` entry-point group (``files = "slotfinder_files"`` in
slotfinder's ``pyproject.toml``) exactly as a third-party plugin is; the offline default, and
the smallest complete example of :class:`slotfinder.providers.LocalProvider`.
"""

from __future__ import annotations

from collections.abc import Callable

from slotfinder.hookspecs import hookimpl
from slotfinder.providers import Provider
from slotfinder_files.ics import IcsProvider, read_ics
from slotfinder_files.jsonfile import JsonProvider

__all__ = ["IcsProvider", "JsonProvider", "read_ics", "slotfinder_register_providers"]


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register the ``ics`` and ``json`` providers."""
    register(IcsProvider())
    register(JsonProvider())
