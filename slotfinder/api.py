"""``suggest``: fetch everyone's busy time through the providers, then find slots.

The order of work is the promise: every id, zone, working-hours rule and credential is checked
first, so bad input fails before any call; then each provider is fetched concurrently (web APIs
through one :class:`~slotfinder.fetch.Fetcher`, local files in a worker thread); then the pure
engine runs. Whatever could not be read comes back as unknown, with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

import aiohttp
import attrs

from slotfinder.config import Config
from slotfinder.engine import find_slots
from slotfinder.errors import InputError, SlotfinderError
from slotfinder.fetch import Fetcher, ProgressCallback, RetryPolicy
from slotfinder.model import Attendee, Availability, MeetingRequest, SuggestionResult
from slotfinder.plugins import get_providers
from slotfinder.providers import (
    HttpProvider,
    LocalProvider,
    Provider,
    ProviderConfig,
    Target,
)

__all__ = ["split_ids", "suggest", "suggest_sync"]


@attrs.frozen
class _Group:
    provider: Provider
    config: ProviderConfig
    attendees: tuple[Attendee, ...]
    rooms: frozenset[str]


def split_ids(
    request: MeetingRequest, providers: Mapping[str, Provider], config: Config
) -> list[_Group]:
    """Group attendees and rooms by provider, checking ids and credentials (no I/O)."""
    names = ", ".join(sorted(providers)) or "none"
    by_name: dict[str, list[Attendee]] = {}
    rooms: dict[str, set[str]] = {}
    entries = [(f"attendees[{i}].id", a, False) for i, a in enumerate(request.attendees)]
    entries += [(f"rooms[{i}].id", r, True) for i, r in enumerate(request.rooms)]
    for field, who, is_room in entries:
        prefix, sep, rest = who.id.partition(":")
        if not sep or not prefix or not rest:
            raise InputError(field, who.id, f"expected PROVIDER:ID (providers: {names})")
        if prefix not in providers:
            raise InputError(field, who.id, f"unknown provider {prefix!r} (providers: {names})")
        by_name.setdefault(prefix, []).append(who)
        if is_room:
            rooms.setdefault(prefix, set()).add(who.id)
    return [
        _Group(
            provider=providers[name],
            config=config.provider_config(providers[name]),
            attendees=tuple(members),
            rooms=frozenset(rooms.get(name, ())),
        )
        for name, members in by_name.items()
    ]


async def _fetch_group(
    group: _Group, request: MeetingRequest, fetcher: Fetcher
) -> list[Availability]:
    provider = group.provider
    if isinstance(provider, HttpProvider):
        targets = [
            Target(
                id=a.id.partition(":")[2],
                kind="room" if a.id in group.rooms else "user",
                zone=request.zone_of(a),
            )
            for a in group.attendees
        ]
        return await fetcher.fetch(provider, targets, request.window, group.config)
    assert isinstance(provider, LocalProvider)
    return await asyncio.to_thread(
        provider.read, list(group.attendees), request.window, request.zone, group.config
    )


async def suggest(
    request: MeetingRequest,
    *,
    config: Config | None = None,
    providers: Mapping[str, Provider] | None = None,
    session: aiohttp.ClientSession | None = None,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback | None = None,
) -> SuggestionResult:
    """Fetch every attendee's and room's busy time, then :func:`slotfinder.find_slots`.

    ``config`` defaults to ``./slotfinder.toml`` plus the environment; ``providers`` to the
    registered plugins. Raises :class:`InputError` or :class:`ConfigError` before any call for
    bad ids or missing credentials, and :class:`ConfigError` when an API refuses the
    credentials. The result's ``calls`` and ``retries`` say what the fetch cost.
    """
    if providers is None:
        providers = get_providers()
    config = config or Config.load()
    groups = split_ids(request, providers, config)
    owned = session is None
    http = session or aiohttp.ClientSession()
    try:
        fetcher = Fetcher(http, policy=policy, progress=progress)
        fetched: Sequence[list[Availability]] = await asyncio.gather(
            *(_fetch_group(g, request, fetcher) for g in groups)
        )
    finally:
        if owned:
            await http.close()
    if fetcher.config_errors:
        raise fetcher.config_errors[0]
    availabilities = [a for batch in fetched for a in batch]
    result = find_slots(availabilities, request)
    return attrs.evolve(
        result, calls=dict(sorted(fetcher.stats.calls.items())), retries=fetcher.stats.retries
    )


def suggest_sync(
    request: MeetingRequest,
    *,
    config: Config | None = None,
    providers: Mapping[str, Provider] | None = None,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback | None = None,
) -> SuggestionResult:
    """:func:`suggest` for code without an event loop (scripts, notebooks' plain cells)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(
            suggest(request, config=config, providers=providers, policy=policy, progress=progress)
        )
    raise SlotfinderError(
        "suggest_sync() was called inside a running event loop; use `await slotfinder.suggest(...)`"
    )
