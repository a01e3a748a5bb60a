"""slotfinder: find meeting times across DingTalk, Feishu/Lark, .ics and JSON calendars.

The public names live here; implementation stays in one-idea modules. The engine
(:func:`find_slots`) is pure and synchronous; :func:`suggest` fetches busy time through the
provider plugins first. Plugin authors need :data:`hookimpl` and the names of
:mod:`slotfinder.providers` (see ``docs/plugins.md``).

Names are imported on first use (PEP 562), so ``import slotfinder.engine`` loads neither the
HTTP client nor the plugin machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slotfinder.api import invalidate, suggest, suggest_sync
    from slotfinder.config import Config
    from slotfinder.engine import find_slots
    from slotfinder.errors import ConfigError, InputError, SlotfinderError
    from slotfinder.fetch import Fetcher, FetchStats, Progress, RetryPolicy
    from slotfinder.fetch.store import Store
    from slotfinder.groups import Group
    from slotfinder.hookspecs import hookimpl
    from slotfinder.model import (
        Attendee,
        Availability,
        Busy,
        BusyTable,
        Explanation,
        LoadCaps,
        MeetingRequest,
        Occurrence,
        Reason,
        Span,
        Status,
        Suggestion,
        SuggestionResult,
        Unknown,
        WorkingHours,
    )
    from slotfinder.providers import (
        BatchError,
        Call,
        CallFailed,
        CallResult,
        ConfigKey,
        Endpoint,
        HttpProvider,
        HttpRequest,
        HttpResponse,
        Limits,
        LocalProvider,
        Provider,
        ProviderConfig,
        ProviderError,
        RateWindow,
        RetryLater,
        Secret,
        Settings,
        Target,
        Token,
        TokenExpired,
    )

__all__ = [
    "Attendee",
    "Availability",
    "BatchError",
    "Busy",
    "BusyTable",
    "Call",
    "CallFailed",
    "CallResult",
    "Config",
    "ConfigError",
    "ConfigKey",
    "Endpoint",
    "Explanation",
    "FetchStats",
    "Fetcher",
    "Group",
    "HttpProvider",
    "HttpRequest",
    "HttpResponse",
    "InputError",
    "Limits",
    "LoadCaps",
    "LocalProvider",
    "MeetingRequest",
    "Occurrence",
    "Progress",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "RateWindow",
    "Reason",
    "RetryLater",
    "RetryPolicy",
    "Secret",
    "Settings",
    "SlotfinderError",
    "Span",
    "Status",
    "Store",
    "Suggestion",
    "SuggestionResult",
    "Target",
    "Token",
    "TokenExpired",
    "Unknown",
    "WorkingHours",
    "find_slots",
    "hookimpl",
    "invalidate",
    "suggest",
    "suggest_sync",
]

__version__ = "0.1.0"

_MODULES = {
    "slotfinder.api": ("invalidate", "suggest", "suggest_sync"),
    "slotfinder.config": ("Config",),
    "slotfinder.engine": ("find_slots",),
    "slotfinder.errors": ("ConfigError", "InputError", "SlotfinderError"),
    "slotfinder.fetch": ("FetchStats", "Fetcher", "Progress", "RetryPolicy"),
    "slotfinder.fetch.store": ("Store",),
    "slotfinder.groups": ("Group",),
    "slotfinder.hookspecs": ("hookimpl",),
    "slotfinder.model": (
        "Attendee",
        "Availability",
        "Busy",
        "BusyTable",
        "Explanation",
        "LoadCaps",
        "MeetingRequest",
        "Occurrence",
        "Reason",
        "Span",
        "Status",
        "Suggestion",
        "SuggestionResult",
        "Unknown",
        "WorkingHours",
    ),
    "slotfinder.providers": (
        "BatchError",
        "Call",
        "CallFailed",
        "CallResult",
        "ConfigKey",
        "Endpoint",
        "HttpProvider",
        "HttpRequest",
        "HttpResponse",
        "Limits",
        "LocalProvider",
        "Provider",
        "ProviderConfig",
        "ProviderError",
        "RateWindow",
        "RetryLater",
        "Secret",
        "Settings",
        "Target",
        "Token",
        "TokenExpired",
    ),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> object:
    """Import a public name's module on first use and keep the name here."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'slotfinder' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
