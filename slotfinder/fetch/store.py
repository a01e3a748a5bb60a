"""Where fetches keep what outlives one request: the busy cache, rate windows and tokens.

A :class:`Store` bundles the three, so one object says how a process (or a fleet of workers)
shares them: :meth:`Store.local` keeps them in this process (the library's default, nothing to
configure), :meth:`Store.sqlite` adds a cache file the command line reuses across runs, and
:meth:`Store.redis` puts all three in Redis so every worker of an app keeps to one limit.

:func:`fetch_through` is the cache's read path: each id's fresh pieces are looked up, the
stretches of the window they leave uncovered are fetched (ids missing the same stretches
together, so batching still gives the fewest calls), and every call's result is kept as it
arrives. A failure is kept briefly with its reason and never becomes free time.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np

from slotfinder.cache import (
    DEFAULT_FAILURE_TTL,
    DEFAULT_TTL,
    BusyCache,
    CacheError,
    MemoryCache,
    Piece,
    SqliteCache,
    missing,
)
from slotfinder.fetch.fetcher import Fetcher, LimiterFor, TokenStore, merge_rows
from slotfinder.fetch.limiter import shared_limiter
from slotfinder.fetch.tokens import SHARED_TOKENS, app_key
from slotfinder.model import Availability, Span
from slotfinder.providers import HttpProvider, ProviderConfig, Target

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Store", "fetch_through"]

log = logging.getLogger("slotfinder.fetch")

_MEMORY = MemoryCache()
"""The process's busy cache, shared by every ``suggest`` that is not given another store."""


@attrs.frozen
class Store:
    """The busy cache (``None``: no cache), the rate limiters and the token store of a fetch.

    ``ttl`` is how long a piece stays fresh, per provider name (``default_ttl`` otherwise);
    ``failure_ttl`` how long a failure's reason is kept.
    """

    cache: BusyCache | None = None
    limiter_for: LimiterFor = shared_limiter
    tokens: TokenStore = SHARED_TOKENS
    ttl: Mapping[str, float] = attrs.field(factory=dict)
    default_ttl: float = DEFAULT_TTL
    failure_ttl: float = DEFAULT_FAILURE_TTL

    @classmethod
    def local(cls, *, cache: bool = True) -> Store:
        """This process only: the shared in-memory cache (or none), limiters and tokens."""
        return cls(cache=_MEMORY if cache else None)

    @classmethod
    def sqlite(cls, path: str | None = None) -> Store:
        """A cache file reused across runs (the command line's default), local limits."""
        return cls(cache=SqliteCache(path))

    @classmethod
    def redis(cls, url: str, *, cache: bool = True) -> Store:
        """Cache, rate windows and tokens in Redis, shared by every worker of an app.

        One client per URL and event loop is made on first use and reused after.
        """
        from slotfinder import shared

        client = _redis_client(url)
        return cls(
            cache=shared.RedisCache(client) if cache else None,
            limiter_for=shared.RedisLimiters(client),
            tokens=shared.RedisTokens(client),
        )

    def ttl_of(self, provider: str) -> float:
        return float(self.ttl.get(provider, self.default_ttl))

    def fetcher(self, fetcher: Fetcher) -> Fetcher:
        """``fetcher`` using this store's limiters and tokens."""
        fetcher.limiter_for = self.limiter_for
        fetcher.tokens = self.tokens
        return fetcher

    async def invalidate(self, id: str | None = None) -> None:
        """Forget what the cache holds for ``id`` (``provider:ID``), or everything."""
        if self.cache is not None:
            await self.cache.invalidate(None, id)


_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Redis]] = (
    weakref.WeakKeyDictionary()
)


def _redis_client(url: str) -> Redis:
    from slotfinder import shared

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return shared.connect(url)
    clients = _CLIENTS.setdefault(loop, {})
    client = clients.get(url)
    if client is None:
        client = clients[url] = shared.connect(url)
    return client


def _scope(provider: HttpProvider, config: ProviderConfig) -> str:
    from slotfinder.shared import scope_key  # hashing only: no Redis involved

    key = app_key(provider, config)
    return scope_key(key[0], key[1:])


async def fetch_through(
    store: Store,
    fetcher: Fetcher,
    provider: HttpProvider,
    targets: Sequence[Target],
    window: Span,
    *,
    config: ProviderConfig,
    refresh: bool = False,
) -> list[Availability]:
    """Availability of every target over ``window``, calling only for what the cache lacks.

    ``refresh`` forgets these ids' cached pieces first (the user knows a calendar changed).
    Ids are kept in the cache as ``provider:ID``. A cache that fails is logged and bypassed:
    the fetch goes on as if there were none.
    """
    unique = list({t.id: t for t in targets}.values())
    if store.cache is None:
        return await fetcher.fetch(provider, unique, window, config)
    cache, name = store.cache, provider.name
    scope, ttl = _scope(provider, config), store.ttl_of(name)
    full = {t.id: f"{name}:{t.id}" for t in unique}
    try:
        if refresh:
            for i in full.values():
                await cache.invalidate(scope, i)
        failed = await cache.failures(scope, list(full.values()))
        pieces = await cache.pieces(scope, [full[t.id] for t in unique], ttl)
    except CacheError as exc:
        log.warning("busy cache not used: %s", exc)
        return await fetcher.fetch(provider, unique, window, config)

    groups: dict[tuple[Span, ...], list[Target]] = {}
    for t in unique:
        if full[t.id] not in failed:
            gaps = tuple(missing(pieces.get(full[t.id], []), window))
            if gaps:
                groups.setdefault(gaps, []).append(t)

    async def keep(span: Span, rows: Mapping[str, np.ndarray]) -> None:
        read_at = time.time()
        new = {full[i]: Piece(span.start, span.end, read_at, r) for i, r in rows.items()}
        for i, piece in new.items():
            pieces.setdefault(i, []).append(piece)
        try:
            await cache.add(scope, new, ttl)
        except CacheError as exc:
            log.warning("busy cache not written: %s", exc)

    jobs = [
        fetcher.fetch(provider, group, span, config, on_call=keep)
        for gaps, group in groups.items()
        for span in gaps
    ]
    errors: dict[str, str] = {}
    for batch in await asyncio.gather(*jobs):
        for a in batch:
            if not a.known:
                errors.setdefault(a.id, a.error or "unknown")
    if errors:
        try:
            await cache.fail(scope, errors, store.failure_ttl)
        except CacheError as exc:
            log.warning("busy cache not written: %s", exc)

    out: list[Availability] = []
    for t in unique:
        i = full[t.id]
        reason = errors.get(i) or (failed[i].reason if i in failed else None)
        own = [p for p in pieces.get(i, []) if p.end > window.start and p.start < window.end]
        if reason is None and missing(own, window):
            reason = f"{name} returned no data for part of the window"
        if reason is not None:
            out.append(Availability.unknown(i, reason))
        else:
            out.append(Availability(id=i, busy=merge_rows([p.rows for p in own]), covered=window))
    return out
