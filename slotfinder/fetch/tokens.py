"""Access tokens per app: fetched once, refreshed early, shared by every caller in a process."""

from __future__ import annotations

import asyncio
import hashlib
import time
import weakref
from collections.abc import Awaitable, Callable

import attrs

from slotfinder.providers import HttpProvider, ProviderConfig, Secret, Token

__all__ = ["SHARED_TOKENS", "AppKey", "TokenCache", "app_key", "fresh"]

AppKey = tuple[str, ...]
"""Who an API counts calls and issues tokens for: provider name, its token key, secrets."""


def app_key(provider: HttpProvider, config: ProviderConfig) -> AppKey:
    """The provider's token key plus a fingerprint of the secrets: a changed secret gets a new
    token (and a wrong one fails now, not when the cached token expires)."""
    secrets = sorted(v.reveal() for v in config.values() if isinstance(v, Secret))
    digest = hashlib.sha256("\0".join(secrets).encode()).hexdigest()[:16]
    return (provider.name, *provider.token_key(config), digest)


def fresh(expires_at: float, lifetime: float, now: float) -> bool:
    """Whether a token is still used: until less than a quarter of its life (at most 30
    minutes) remains. Feishu hands out a new token once fewer than 30 minutes are left while
    the old one stays valid, so refreshing early never leaves a call with a dead token."""
    return now < expires_at - min(1800.0, lifetime / 4)


@attrs.frozen
class _Cached:
    token: Token
    expires_at: float


class TokenCache:
    """Tokens by :data:`AppKey`, with one request in flight per app however many callers wait.

    A token is refreshed once it is no longer :func:`fresh`. Tokens outlive event loops; the
    locks that keep callers from asking twice belong to one loop each.
    """

    def __init__(self) -> None:
        self._tokens: dict[AppKey, _Cached] = {}
        self._locks: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[AppKey, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _fresh(self, key: AppKey) -> str | None:
        cached = self._tokens.get(key)
        now = time.monotonic()
        if cached is None or not fresh(cached.expires_at, cached.token.expires_in, now):
            return None
        return cached.token.value

    async def get(self, key: AppKey, obtain: Callable[[], Awaitable[Token]]) -> str:
        """The cached token for ``key``, or one from ``obtain()`` (whose errors propagate)."""
        value = self._fresh(key)
        if value is not None:
            return value
        locks = self._locks.setdefault(asyncio.get_running_loop(), {})
        async with locks.setdefault(key, asyncio.Lock()):
            value = self._fresh(key)
            if value is not None:
                return value
            token = await obtain()
            self._tokens[key] = _Cached(token, time.monotonic() + token.expires_in)
            return token.value

    def invalidate(self, key: AppKey, value: str) -> None:
        """Forget the token ``value`` if it is still the cached one (refresh on next get)."""
        cached = self._tokens.get(key)
        if cached is not None and cached.token.value == value:
            del self._tokens[key]


SHARED_TOKENS = TokenCache()
"""The process-wide cache every Fetcher uses unless given another."""
