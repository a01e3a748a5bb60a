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
import numpy as np

from slotfinder.caps import reach
from slotfinder.config import Config
from slotfinder.engine import find_slots
from slotfinder.engine.series import series_span
from slotfinder.errors import InputError, SlotfinderError
from slotfinder.fetch import Fetcher, ProgressCallback, RetryPolicy
from slotfinder.fetch.store import Store, fetch_through
from slotfinder.model import (
    Attendee,
    Availability,
    BusyTable,
    MeetingRequest,
    Span,
    SuggestionResult,
)
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, LocalProvider, Provider, ProviderConfig, Target

__all__ = ["LOOKAHEAD", "default_store", "invalidate", "split_ids", "suggest", "suggest_sync"]

LOOKAHEAD = 14 * 86_400
"""How far past the window ``suggest`` looks for the first slot when none fits inside it."""


@attrs.frozen
class _Group:
    provider: Provider
    config: ProviderConfig
    attendees: tuple[Attendee, ...]


def split_ids(
    request: MeetingRequest, providers: Mapping[str, Provider], config: Config
) -> list[_Group]:
    """Group attendees and rooms by provider, checking ids and credentials (no I/O)."""
    names = ", ".join(sorted(providers)) or "none"
    by_name: dict[str, list[Attendee]] = {}
    entries = [(f"attendees[{i}].id", a) for i, a in enumerate(request.attendees)]
    entries += [(f"rooms[{i}].id", r) for i, r in enumerate(request.rooms)]
    for field, who in entries:
        prefix, sep, rest = who.id.partition(":")
        if not sep or not prefix or not rest:
            raise InputError(field, who.id, f"expected PROVIDER:ID (providers: {names})")
        if prefix not in providers:
            raise InputError(field, who.id, f"unknown provider {prefix!r} (providers: {names})")
        by_name.setdefault(prefix, []).append(who)
    return [
        _Group(
            provider=providers[name],
            config=config.provider_config(providers[name]),
            attendees=tuple(members),
        )
        for name, members in by_name.items()
    ]


async def _fetch_group(
    group: _Group,
    request: MeetingRequest,
    window: Span,
    fetcher: Fetcher,
    *,
    store: Store,
    refresh: bool = False,
) -> list[Availability]:
    provider = group.provider
    if isinstance(provider, HttpProvider):
        rooms = {r.id for r in request.rooms}
        targets = [
            Target(
                id=a.id.partition(":")[2],
                kind="room" if a.id in rooms else "user",
                zone=request.zone_of(a),
            )
            for a in group.attendees
        ]
        return await fetch_through(
            store, fetcher, provider, targets, window, config=group.config, refresh=refresh
        )
    assert isinstance(provider, LocalProvider)
    read = await asyncio.to_thread(
        provider.read, list(group.attendees), window, request.zone, group.config
    )
    # What was read for this window speaks for this window only, unless the provider says more.
    return [
        a if a.covered is not None or not a.known else attrs.evolve(a, covered=window) for a in read
    ]


def _extend(first: Availability, later: Availability, window: Span, more: Span) -> Availability:
    """``first`` (read for ``window``) extended by ``later`` (read for ``more``, just after).

    When the later read failed the attendee stays known for the window only, so nothing after
    it is ever taken as free.
    """
    if not first.known or not later.known:
        return first
    a, b = first.covered or window, later.covered or more
    if a.end < b.start:
        return first  # a gap: what lies between is unknown
    busy = BusyTable(
        starts=np.concatenate([first.busy.starts, later.busy.starts]),
        ends=np.concatenate([first.busy.ends, later.busy.ends]),
        status=np.concatenate([first.busy.status, later.busy.status]),
    )
    covered = Span(min(a.start, b.start), max(a.end, b.end))
    return Availability(id=first.id, busy=busy, covered=covered)


def _known(groups: Sequence[_Group], availabilities: Sequence[Availability]) -> list[_Group]:
    """The groups cut down to the ids read in the first pass: an id that failed there stays
    unknown whatever comes after the window, so asking about it again only costs calls."""
    known = {a.id for a in availabilities if a.known}
    out = []
    for g in groups:
        attendees = tuple(a for a in g.attendees if a.id in known)
        if attendees:
            out.append(attrs.evolve(g, attendees=attendees))
    return out


def _check_arguments(  # noqa: PLR0917 (suggest's arguments, checked together)
    request: object,
    config: object,
    providers: object,
    store: object,
    policy: object,
    lookahead: object,
) -> None:
    """:func:`suggest`'s arguments are of the types it takes: a wrong one is an
    :class:`InputError` naming it (by its type only: a mapping may hold secrets)."""
    for field, value, kind, what in (
        ("request", request, MeetingRequest, "a MeetingRequest"),
        ("config", config, (Config, type(None)), "a slotfinder.Config or None"),
        ("providers", providers, (Mapping, type(None)), "a mapping of name to provider or None"),
        ("store", store, (Store, type(None)), "a Store or None"),
        ("policy", policy, (RetryPolicy, type(None)), "a RetryPolicy or None"),
    ):
        if not isinstance(value, kind):
            raise InputError(field, type(value).__name__, f"expected {what}")
    if isinstance(lookahead, bool) or not isinstance(lookahead, int) or lookahead < 0:
        raise InputError("lookahead", lookahead, "expected whole seconds, at least 0")


async def suggest(
    request: MeetingRequest,
    *,
    config: Config | None = None,
    providers: Mapping[str, Provider] | None = None,
    session: aiohttp.ClientSession | None = None,
    policy: RetryPolicy | None = None,
    progress: ProgressCallback | None = None,
    lookahead: int = LOOKAHEAD,
    store: Store | None = None,
    refresh: bool = False,
) -> SuggestionResult:
    """Fetch every attendee's and room's busy time, then :func:`slotfinder.find_slots`.

    ``config`` defaults to ``./slotfinder.toml`` plus the environment; ``providers`` to the
    registered plugins. Raises :class:`InputError` or :class:`ConfigError` before any call for
    bad ids or missing credentials, and :class:`ConfigError` when an API refuses the
    credentials. The result's ``calls`` and ``retries`` say what the fetch cost.

    When nothing fits, busy time for ``lookahead`` seconds after the window is fetched too (at
    the cost of more calls, counted in ``calls``) so the explanation can name the first slot
    after the window; ``lookahead=0`` skips that. For a series (``request.repeat``) the fetch
    covers :func:`~slotfinder.engine.series.series_span` (every occurrence any start can have),
    planned as one stretch so it takes the fewest calls, and looks no further.

    ``store`` says where busy time, rate windows and tokens are shared (default: this
    process, or Redis when ``redis_url`` is configured); a repeat query within a provider's
    freshness limit makes no call. ``refresh`` re-reads these calendars whatever is cached.
    """
    _check_arguments(request, config, providers, store, policy, lookahead)
    if providers is None:
        providers = get_providers()
    config = config or Config.load()
    groups = split_ids(request, providers, config)
    store = store or default_store(config)
    owned = session is None
    http = session or aiohttp.ClientSession()
    try:
        fetcher = store.fetcher(Fetcher(http, policy=policy, progress=progress))
        # a series needs every occurrence; load caps count whole days and weeks
        window = reach(request, series_span(request))
        fetched: Sequence[list[Availability]] = await asyncio.gather(
            *(
                _fetch_group(g, request, window, fetcher, store=store, refresh=refresh)
                for g in groups
            )
        )
        if fetcher.config_errors:
            raise fetcher.config_errors[0]
        availabilities = [a for batch in fetched for a in batch]
        result = find_slots(availabilities, request)
        if not result.slots and lookahead > 0 and request.repeat is None:
            more = Span(window.end, reach(request, Span(window.end, window.end + lookahead)).end)
            later: Sequence[list[Availability]] = await asyncio.gather(
                *(
                    _fetch_group(g, request, more, fetcher, store=store)
                    for g in _known(groups, availabilities)
                )
            )
            by_id = {a.id: a for batch in later for a in batch}
            availabilities = [
                _extend(a, by_id[a.id], window, more) if a.id in by_id else a
                for a in availabilities
            ]
            result = find_slots(availabilities, request)
    finally:
        if owned:
            await http.close()
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
    lookahead: int = LOOKAHEAD,
    store: Store | None = None,
    refresh: bool = False,
) -> SuggestionResult:
    """:func:`suggest` for code without an event loop (scripts, notebooks' plain cells)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(
            suggest(
                request,
                config=config,
                providers=providers,
                policy=policy,
                progress=progress,
                lookahead=lookahead,
                store=store,
                refresh=refresh,
            )
        )
    raise SlotfinderError(
        "suggest_sync() was called inside a running event loop; use `await slotfinder.suggest(...)`"
    )


def default_store(config: Config) -> Store:
    """Redis when ``redis_url`` is configured (or ``SLOTFINDER_REDIS_URL`` is set), else this
    process's memory: the embedded default needs nothing."""
    url = config.redis_url or config.env.get("SLOTFINDER_REDIS_URL")
    store = Store.redis(url) if url else Store.local()
    return attrs.evolve(store, ttl=config.cache_ttl) if config.cache_ttl else store


async def invalidate(id: str | None = None, *, store: Store | None = None) -> None:
    """Forget cached busy time of ``id`` (``provider:ID``), or of everyone: the next
    ``suggest`` asks the provider again."""
    await (store or default_store(Config.load())).invalidate(id)
