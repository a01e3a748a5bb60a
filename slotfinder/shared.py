"""State shared by every worker through Redis: rate windows, tokens and the busy cache.

A provider's rate limit is per app, whatever number of processes or hosts call it; so are
its tokens. With ``redis_url`` configured, every worker using the same app asks one Redis:

* :class:`RedisLimiter` keeps each window as a sorted set and decides in one atomic script,
  timed by Redis ``TIME`` (never a worker's clock). A call holds its place from the moment it
  is let through until its reply's status line is in, then for the window's length, as the
  in-process limiter does. A call in flight holds its place on a short lease that
  its worker renews while the call lasts, so a worker that dies mid-call frees its places a
  lease later (the server saw those calls before the worker died, so counting them from the
  lease's end is safe). The script returns how long to wait and the worker sleeps that long
  (when every place is held by a call still in flight, no release time is known yet, and
  the worker looks again a quarter of a window later).
* :class:`RedisTokens` keeps one token per app; one worker refreshes it under a short lock
  while the others wait for it.
* :class:`RedisCache` keeps the busy-time pieces of :mod:`slotfinder.cache`.

When Redis stops answering mid-run the fetch does not guess: the limiter raises
:class:`SharedStateLost`, the fetcher stops calling that provider, and the ids it had not read
are unknown with the reason. Calling on at a local pace could exceed the app's limit, since
the other workers keep calling at theirs.

``redis`` (redis-py, asyncio) is imported only here and only when Redis is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from slotfinder.cache import CacheError, Failure, Piece
from slotfinder.errors import ConfigError
from slotfinder.fetch.tokens import fresh
from slotfinder.providers import CallFailed, RateWindow, Token

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "RedisCache",
    "RedisLimiter",
    "RedisLimiters",
    "RedisTokens",
    "SharedStateLost",
    "connect",
    "scope_key",
]

log = logging.getLogger("slotfinder.shared")

PREFIX = "slotfinder"
TOKEN_POLL = 0.01
"""Seconds between looks for the token another worker is obtaining."""
LEASE = 1.5
"""Seconds a call in flight holds its place unless its worker renews it (every third of it).

A dead worker's places idle this long before their window starts, so it is short; a live
worker's loop may stall for two thirds of it before a lease lapses."""

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local hold = tonumber(ARGV[2])
local n = #KEYS - 1
local wait = 0
local poll = false
local blocked = tonumber(redis.call('GET', KEYS[#KEYS]) or '0')
if blocked > now then wait = blocked - now end
for i = 1, n do
  local calls = tonumber(ARGV[1 + 2 * i])
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - seconds)
  if redis.call('ZCARD', KEYS[i]) >= calls then
    local first = tonumber(redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')[2])
    if first > now then
      poll = true
    elseif first + seconds - now > wait then
      wait = first + seconds - now
    end
  end
end
if wait > 0 then return tostring(wait) end
if poll then return '-1' end
for i = 1, n do
  local seconds = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', KEYS[i], now + hold, ARGV[1])
  redis.call('PEXPIRE', KEYS[i], math.ceil((hold + seconds) * 1000) + 1000)
end
return '0'
"""

_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[1]) then
    redis.call('ZADD', KEYS[i], 'XX', now, ARGV[1])
  end
end
return 1
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local lease = tonumber(ARGV[1])
local n = #KEYS
for i = 1, n do
  local renewed = false
  for j = n + 2, #ARGV do
    local score = tonumber(redis.call('ZSCORE', KEYS[i], ARGV[j]))
    if score and score > now then
      redis.call('ZADD', KEYS[i], 'XX', now + lease, ARGV[j])
      renewed = true
    end
  end
  if renewed then
    redis.call('PEXPIRE', KEYS[i], math.ceil((lease + tonumber(ARGV[1 + i])) * 1000) + 1000)
  end
end
return 1
"""

_PENALISE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local until_ = now + tonumber(ARGV[1])
local old = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > old then
  redis.call('SET', KEYS[1], tostring(until_), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


class SharedStateLost(CallFailed):
    """Redis stopped answering: the shared windows cannot be honoured, so calls stop.

    Fatal for the provider's fetch: its ids not read yet are unknown with this reason.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, fatal=True)


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import RedisError

    return (RedisError, OSError, asyncio.TimeoutError)


def connect(url: str) -> Redis:
    """A Redis client for ``url``; :class:`ConfigError` when redis-py is not installed.

    The URL may hold a password, so it is never put into a message; only host and port are.
    """
    try:
        from redis.asyncio import Redis
    except ImportError:
        raise ConfigError(
            "redis_url", "needs the redis package: pip install 'slotfinder[redis]'"
        ) from None
    try:
        return Redis.from_url(url, socket_timeout=5.0, socket_connect_timeout=5.0)
    except ValueError as exc:
        raise ConfigError("redis_url", f"not a Redis URL ({exc.__class__.__name__})") from None


def where(client: Redis) -> str:
    """``host:port`` of the client's server, for messages (never the password)."""
    kwargs = client.connection_pool.connection_kwargs
    return f"{kwargs.get('host', '?')}:{kwargs.get('port', '?')}"


def scope_key(provider: str, parts: Sequence[str]) -> str:
    """``provider:digest`` naming one app of one provider, without its settings in clear."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return f"{provider}:{digest}"


class RedisLimiter:
    """Every window of one app's endpoint, shared through Redis (see the module docstring);
    a :class:`~slotfinder.fetch.fetcher.Limiter`, as the in-process limiter is."""

    def __init__(
        self,
        client: Redis,
        scope: str,
        windows: Sequence[tuple[int, float]],
        *,
        lease: float = LEASE,
    ) -> None:
        self.client = client
        self.windows = tuple(windows)
        self.lease = lease
        base = f"{PREFIX}:rate:{scope}"
        self._keys = [f"{base}:{calls}/{seconds:g}" for calls, seconds in self.windows]
        self._blocked = f"{base}:blocked"
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._penalise = client.register_script(_PENALISE)
        self._renew = client.register_script(_RENEW)
        self._turn = asyncio.Lock()
        # When every place of a window is held by a call in flight, no release time is known
        # (the script answers -1) and the worker looks again. A place frees a whole window
        # after its call's release, so looking a few times a window loses no time.
        self._poll = min((seconds for _, seconds in self.windows), default=1.0) / 4
        self._in_flight: set[str] = set()
        self._renewing: asyncio.Task[None] | None = None

    async def _call(self, what: Awaitable[Any]) -> Any:
        try:
            return await what
        except _redis_errors() as exc:
            raise SharedStateLost(
                f"shared rate limit unavailable (Redis at {where(self.client)}: "
                f"{type(exc).__name__}); calls stopped rather than risk the app's limit"
            ) from None

    async def acquire(self) -> str:
        """Wait for a place in every window and take it; returns the place's name.

        A worker's waiting calls queue behind one another and only the first asks Redis, so
        Redis hears from each worker once per wait, not from each of its waiting calls (which
        would load Redis and the worker's CPU while every place is in flight).
        """
        member = secrets.token_hex(8)
        args: list[str | float] = [member, self.lease]
        for calls, seconds in self.windows:
            args += [calls, seconds]
        async with self._turn:
            while True:
                keys = [*self._keys, self._blocked]
                wait = float(await self._call(self._acquire(keys=keys, args=args)))
                if wait == 0:
                    self._in_flight.add(member)
                    if self._renewing is None or self._renewing.done():
                        self._renewing = asyncio.ensure_future(self._keep_leases())
                    return member
                await asyncio.sleep(self._poll if wait < 0 else wait)

    async def _keep_leases(self) -> None:
        """Renew the leases of this worker's calls in flight until none is left."""
        while self._in_flight:
            await asyncio.sleep(self.lease / 3)
            if self._in_flight:
                args: list[str | float] = [self.lease, *(s for _, s in self.windows)]
                args += sorted(self._in_flight)
                with contextlib.suppress(SharedStateLost):
                    await self._call(self._renew(keys=self._keys, args=args))

    async def release(self, member: str) -> None:
        """The call's reply is in: its places count from now (Redis time)."""
        self._in_flight.discard(member)
        await self._call(self._release(keys=self._keys, args=[member]))

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[], None]]:
        """Hold a place for the block; calling what it yields frees it sooner (once)."""
        if not self.windows:
            yield lambda: None
            return
        member = await self.acquire()
        pending: list[asyncio.Task[None]] = []

        def free() -> None:
            if not pending:
                pending.append(asyncio.ensure_future(self.release(member)))

        try:
            yield free
        finally:
            free()
            with contextlib.suppress(SharedStateLost):
                await pending[0]

    def penalise(self, seconds: float) -> None:
        """After a rate-limit reply, every worker waits ``seconds`` (best effort)."""
        _background(self._call(self._penalise(keys=[self._blocked], args=[seconds])))


class RedisTokens:
    """One token per app for every worker: cached in Redis, refreshed by one worker at a time.

    A token is used while it is :func:`~slotfinder.fetch.tokens.fresh`, the in-process cache's
    rule; then one worker takes a short lock and obtains a new one while the others wait for
    it. A worker that dies holding the lock leaves it for ``wait`` seconds; the others wait
    longer than that, so one of them takes it over.
    """

    def __init__(self, client: Redis, *, wait: float = 15.0) -> None:
        self.client = client
        self.wait = wait

    async def _call(self, what: Awaitable[Any]) -> Any:
        try:
            return await what
        except _redis_errors() as exc:
            raise SharedStateLost(
                f"shared token store unavailable (Redis at {where(self.client)}: "
                f"{type(exc).__name__})"
            ) from None

    async def _fresh(self, key: str) -> str | None:
        raw = await self._call(self.client.get(key))
        if raw is None:
            return None
        value, expires_at, lifetime = json.loads(raw)
        return str(value) if fresh(float(expires_at), float(lifetime), time.time()) else None

    async def get(self, key: Sequence[str], obtain: Callable[[], Awaitable[Token]]) -> str:
        """The app's token: cached, or obtained by exactly one worker and shared."""
        name = f"{PREFIX}:token:{scope_key(key[0], key[1:])}"
        lock = f"{name}:lock"
        # The lock may have been taken just after this worker first looked, so its holder's
        # ``wait`` can end up to ``wait`` after this worker's: wait for both.
        deadline = time.monotonic() + 2 * self.wait
        while True:
            cached = await self._fresh(name)
            if cached is not None:
                return cached
            owner = secrets.token_hex(8)
            if await self._call(self.client.set(lock, owner, nx=True, px=int(self.wait * 1000))):
                try:
                    token = await obtain()
                    life = token.expires_in
                    payload = json.dumps([token.value, time.time() + life, life])
                    await self._call(self.client.set(name, payload, px=max(1, int(life * 1000))))
                    return token.value
                finally:
                    if await self._call(self.client.get(lock)) == owner.encode():
                        await self._call(self.client.delete(lock))
            if time.monotonic() > deadline:
                raise SharedStateLost("no token arrived from the worker refreshing it")
            await asyncio.sleep(TOKEN_POLL)

    def invalidate(self, key: Sequence[str], value: str) -> None:
        """Drop the cached token if it is still ``value`` (the API refused it)."""
        name = f"{PREFIX}:token:{scope_key(key[0], key[1:])}"

        async def forget() -> None:
            raw = await self._call(self.client.get(name))
            if raw is not None and json.loads(raw)[0] == value:
                await self._call(self.client.delete(name))

        _background(forget())


def _background(work: Awaitable[Any]) -> None:
    """Run ``work`` without waiting; a failure is logged, never raised into a caller."""

    def done(task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("shared state: %s", task.exception())

    asyncio.ensure_future(work).add_done_callback(done)


def _glob(text: str | None) -> str:
    """A Redis match pattern for ``text`` exactly, or for anything when ``None``."""
    if text is None:
        return "*"
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


class RedisCache:
    """The busy-time cache in Redis: one list of pieces per scope and id, expiring with them."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    async def _call(self, what: Awaitable[Any]) -> Any:
        try:
            return await what
        except _redis_errors() as exc:
            raise CacheError(
                f"shared cache unavailable (Redis at {where(self.client)}: {type(exc).__name__})"
            ) from None

    @staticmethod
    def _key(kind: str, scope: str, id: str) -> str:
        return f"{PREFIX}:{kind}:{scope}:{id}"

    async def pieces(self, scope: str, ids: Sequence[str], ttl: float) -> dict[str, list[Piece]]:
        if not ids:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for i in ids:
                pipe.lrange(self._key("busy", scope, i), 0, -1)
            found = await self._call(pipe.execute())
        oldest = time.time() - ttl
        out: dict[str, list[Piece]] = {}
        for i, raws in zip(ids, found, strict=True):
            kept = [p for p in map(Piece.from_json, raws) if p.read_at > oldest]
            if kept:
                out[i] = kept
        return out

    async def add(self, scope: str, pieces: Mapping[str, Piece], ttl: float) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for i, piece in pieces.items():
                key = self._key("busy", scope, i)
                pipe.rpush(key, piece.to_json())
                pipe.expire(key, max(1, int(ttl) + 1))
            await self._call(pipe.execute())

    async def failures(self, scope: str, ids: Sequence[str]) -> dict[str, Failure]:
        if not ids:
            return {}
        found = await self._call(self.client.mget([self._key("failed", scope, i) for i in ids]))
        out: dict[str, Failure] = {}
        for i, raw in zip(ids, found, strict=True):
            if raw is not None:
                reason, until = json.loads(raw)
                if until > time.time():
                    out[i] = Failure(reason, until)
        return out

    async def fail(self, scope: str, reasons: Mapping[str, str], ttl: float) -> None:
        until = time.time() + ttl
        async with self.client.pipeline(transaction=False) as pipe:
            for i, reason in reasons.items():
                pipe.set(
                    self._key("failed", scope, i), json.dumps([reason, until]), px=int(ttl * 1000)
                )
            await self._call(pipe.execute())

    async def invalidate(self, scope: str | None = None, id: str | None = None) -> None:
        kinds = ("busy", "failed")
        if scope is not None and id is not None:
            await self._call(self.client.delete(*(self._key(k, scope, id) for k in kinds)))
            return
        for kind in kinds:
            pattern = self._key(kind, _glob(scope), _glob(id))
            keys = [k async for k in self.client.scan_iter(match=pattern, count=500)]
            if keys:
                await self._call(self.client.delete(*keys))

    async def close(self) -> None:
        await self.client.aclose()


class RedisLimiters:
    """The ``limiter_for`` of a :class:`~slotfinder.fetch.Fetcher` whose windows live in Redis:
    one :class:`RedisLimiter` per app and rate group, shared by every worker."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._made: dict[Hashable, RedisLimiter] = {}

    def __call__(self, key: Hashable, windows: Sequence[RateWindow], margin: float) -> RedisLimiter:
        limiter = self._made.get(key)
        if limiter is None:
            parts = [str(p) for p in key] if isinstance(key, tuple) else [str(key)]
            pairs = [(w.calls, w.seconds * (1 + margin)) for w in windows]
            scope = scope_key(parts[0], parts[1:])
            limiter = self._made[key] = RedisLimiter(self.client, scope, pairs)
        return limiter
