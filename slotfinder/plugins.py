"""Loading plugins: one function, run once.

Built-in providers are registered exactly as a third-party plugin is: through the entry-point
group ``slotfinder`` declared in ``pyproject.toml``. ``SLOTFINDER_LOAD_PLUGINS`` (a comma list
of entry-point names, empty for none) limits which are loaded, for debugging and for tests.
"""

from __future__ import annotations

import functools
import os
import re
from importlib.metadata import entry_points

import pluggy

from slotfinder import hookspecs
from slotfinder.errors import SlotfinderError
from slotfinder.providers import HttpProvider, LocalProvider, Provider

__all__ = ["PluginError", "get_plugin_manager", "get_providers"]

ENTRY_POINT_GROUP = "slotfinder"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class PluginError(SlotfinderError):
    """A plugin registered something slotfinder cannot use."""


def _load(pm: pluggy.PluginManager) -> None:
    allow = os.environ.get("SLOTFINDER_LOAD_PLUGINS")
    if allow is None:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        return
    wanted = {name.strip() for name in allow.split(",") if name.strip()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in wanted and pm.get_plugin(ep.name) is None:
            pm.register(ep.load(), name=ep.name)


@functools.cache
def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with entry-point plugins loaded on first use (once)."""
    pm = pluggy.PluginManager("slotfinder")
    pm.add_hookspecs(hookspecs)
    _load(pm)
    return pm


def get_providers() -> dict[str, Provider]:
    """Every registered provider by name, validated: unique names, a known shape."""
    found: dict[str, Provider] = {}

    def register(provider: Provider) -> None:
        name = getattr(provider, "name", None)
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise PluginError(f"provider name {name!r}: expected lower-case letters and digits")
        if not isinstance(provider, HttpProvider | LocalProvider):
            raise PluginError(
                f"provider {name!r} implements neither HttpProvider nor LocalProvider"
            )
        if name in found and found[name] is not provider:
            raise PluginError(f"provider name {name!r} is registered twice")
        found[name] = provider

    get_plugin_manager().hook.slotfinder_register_providers(register=register)
    return dict(sorted(found.items()))
