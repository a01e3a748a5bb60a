"""Built-in slotfinder providers for local files: ``ics:`` (iCalendar) and ``json:`` (busy files).

Registered through the ``slotfinder`` entry-point group (``files = "slotfinder_files"`` in
slotfinder's ``pyproject.toml``) exactly as a third-party plugin is; the offline default, and
the smallest complete example of :class:`slotfinder.providers.LocalProvider`.

The ids name files, so reading is a policy (:mod:`slotfinder_files._cache`): only regular
files under ``roots`` (``[providers.ics] roots = [...]`` or ``SLOTFINDER_ICS_ROOTS``, likewise
for ``json``; without it nothing is read; the command line sets its working directory and its
config file's folder), never ``/proc`` or ``/sys``, at most
``max_bytes``. An application passing its users' ids can switch both providers off: set
``SLOTFINDER_LOAD_PLUGINS`` to the plugins it wants without ``files`` (for example
``feishu,dingtalk``), or pass ``providers=`` without ``ics`` and ``json`` to
:func:`slotfinder.suggest`; either way such ids are refused before anything is read.
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
