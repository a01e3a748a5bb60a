"""The fetcher: runs providers' calls robustly, the same way for every provider.

Providers only build requests and decipher replies (:mod:`slotfinder.providers`); here, once:

* the plan (the provider's own ``plan`` when it has one, else :func:`slotfinder.plan.plan_calls`);
* every declared rate window, shared by everyone calling the same app in this process
  (:func:`~slotfinder.fetch.limiter.shared_limiter`), and ``Limits.concurrency`` per fetch;
* retries with exponential backoff and full jitter on no reply and on the provider's
  transient errors, honouring the server's wait hint; a rate-limit reply pauses the endpoint;
* the app's token from the process-wide cache, refreshed once when a reply refuses it;
* a batch failing because of one bad id split until the bad id is isolated;
* a host that answers nothing for ``RetryPolicy.silence`` given up on, a redirect never
  followed (credentials stay on the configured host);
* an unrecoverable failure marks exactly the ids of that call unknown, with the reason, and
  the run goes on for everyone else. Nothing is ever assumed free.

Replies are parsed where they arrive, on the event loop: each API's rate limit leaves tens of
milliseconds between calls, far more than a reply takes to read.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin

import attrs
import numpy as np

from slotfinder import intervals
from slotfinder.errors import ConfigError
from slotfinder.fetch.limiter import shared_limiter
from slotfinder.fetch.tokens import SHARED_TOKENS, AppKey, app_key
from slotfinder.fetch.transport import AiohttpTransport, NoReply, Timeout, Transport, origin
from slotfinder.model import Availability, BusyTable, Span
from slotfinder.plan import plan_calls
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    CallResult,
    HttpProvider,
    HttpRequest,
    HttpResponse,
    Limits,
    ProviderConfig,
    RateWindow,
    RetryLater,
    Target,
    Token,
    TokenExpired,
)

if TYPE_CHECKING:
    import aiohttp

__all__ = [
    "CallDone",
    "FetchStats",
    "Fetcher",
    "Limiter",
    "LimiterFor",
    "Progress",
    "ProgressCallback",
    "RetryPolicy",
    "TokenStore",
    "merge_rows",
]

log = logging.getLogger("slotfinder.fetch")


class Limiter(Protocol):
    """Rate places: ``async with limiter.slot() as answered`` around a call, ``answered()``
    once its status line is in; ``penalise(seconds)`` after a rate-limit reply."""

    def slot(self) -> AbstractAsyncContextManager[Callable[[], None]]: ...

    def penalise(self, seconds: float) -> None: ...


LimiterFor = Callable[[Hashable, Sequence[RateWindow], float], Limiter]
"""The limiter shared by everyone calling ``key`` (an app and a rate group)."""


class TokenStore(Protocol):
    """Where an app's token is kept: this process (the default) or Redis for many workers."""

    async def get(self, key: AppKey, obtain: Callable[[], Awaitable[Token]]) -> str: ...

    def invalidate(self, key: AppKey, value: str) -> None: ...


CallDone = Callable[[Span, Mapping[str, np.ndarray]], Awaitable[None]]
"""Told, after each successful call, the stretch it covered and each readable id's rows."""


@attrs.frozen
class RetryPolicy:
    """How hard to try. ``base=0`` switches backoff off (tests); server hints still apply.

    The wait before retry ``n`` (1-based) is a random value in ``[0, min(cap, base * 2**n))``
    ("full jitter"), or the server's hint when it gave one (capped by ``max_hint``).
    """

    attempts: int = 6
    base: float = 0.25
    cap: float = 20.0
    max_hint: float = 120.0
    timeout: float | None = None
    """Seconds per call, connecting included; ``None`` uses the provider's ``Limits.timeout``.
    A host that answers nothing for this long is given up on for the rest of the fetch."""
    connect_timeout: float = 5.0
    """Seconds to open a connection."""
    silence: float = 10.0
    """Seconds a host may answer nothing at all before it is given up on (at least one call
    timeout): a dead host is reported fast, a slow one still gets its retries."""
    margin: float = 0.0
    """Extra slack for the client limiter, as a fraction of each window (see RateLimiter)."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        if self.base <= 0:
            return 0.0
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))

    def wait(self, after: float | None, attempt: int, rng: random.Random) -> float:
        """The server's hint when it gave one, else :meth:`backoff`."""
        if after is not None and after > 0:
            return min(after, self.max_hint) + (rng.uniform(0, 0.1) if self.base > 0 else 0)
        return self.backoff(attempt, rng)


@attrs.frozen
class Progress:
    """How far a fetch has come: calls and ids done against planned."""

    calls_done: int
    calls_planned: int
    ids_done: int
    ids_total: int


ProgressCallback = Callable[[Progress], None]


@attrs.define
class FetchStats:
    """What a fetch cost. ``calls`` counts every data request sent, by ``provider/endpoint``;
    ``retries`` the data requests sent again after a failed attempt."""

    calls: dict[str, int] = attrs.field(factory=dict)
    planned: dict[str, int] = attrs.field(factory=dict)
    retries: int = 0
    rate_limited: int = 0
    token_requests: int = 0
    splits: int = 0

    def add(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1


def merge_rows(rows: Sequence[np.ndarray]) -> BusyTable:
    """Busy ``(start, end, status)`` rows from several calls as one table: per status, the
    union of the spans, so an event crossing a chunk seam (returned by both chunks) counts once.
    """
    pieces = [np.asarray(r, dtype=np.int64).reshape(-1, 3) for r in rows]
    data = np.concatenate(pieces) if pieces else np.empty((0, 3), dtype=np.int64)
    merged = []
    for code in np.unique(data[:, 2]):
        same = data[data[:, 2] == code]
        s, e = intervals.normalize(same[:, 0], same[:, 1])
        merged.append((s, e, np.full(s.size, code, dtype=np.int8)))
    if not merged:
        return BusyTable.empty()
    starts, ends, codes = (np.concatenate(column) for column in zip(*merged, strict=True))
    return BusyTable(starts=starts, ends=ends, status=codes)


def _redirect(url: str, response: HttpResponse) -> str:
    """Why a 3xx reply was not followed, naming both hosts and nothing else of either URL."""
    here = origin(url)
    location = response.headers.get("location")
    try:
        there = origin(urljoin(url, location)) if location else "an unnamed location"
    except ValueError:
        there = "an unreadable location"
    return (
        f"{here} answered HTTP {response.status} redirecting to {there}; redirects are not "
        f"followed, so credentials never leave {here}"
    )


def _both(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    def call() -> None:
        first()
        second()

    return call


@attrs.define
class _Run:
    """One provider's fetch: what it calls with, and what came back so far."""

    provider: HttpProvider
    config: ProviderConfig
    limits: Limits
    key: AppKey
    timeout: Timeout
    shared: Limiter
    in_flight: asyncio.Semaphore
    on_call: CallDone | None = None
    rows: dict[str, list[np.ndarray]] = attrs.field(factory=dict)
    done: dict[str, BusyTable] = attrs.field(factory=dict)
    errors: dict[str, str] = attrs.field(factory=dict)
    pending: dict[str, int] = attrs.field(factory=dict)
    fatal: str | None = None


class Fetcher:
    """Runs providers' calls through one transport, sharing tokens and statistics.

    One Fetcher serves one ``suggest``. Rate limiters and tokens are shared process-wide per
    app, so concurrent fetches for the same app keep to its limits together. ``transport``
    may be an :class:`aiohttp.ClientSession` (wrapped in :class:`AiohttpTransport`).
    """

    def __init__(
        self,
        transport: Transport | aiohttp.ClientSession,
        *,
        policy: RetryPolicy | None = None,
        progress: ProgressCallback | None = None,
        tokens: TokenStore | None = None,
        limiter_for: LimiterFor = shared_limiter,
        seed: int | None = None,
    ) -> None:
        self.transport: Transport = (
            transport if isinstance(transport, Transport) else AiohttpTransport(transport)
        )
        self.policy = policy or RetryPolicy()
        self.progress = progress
        self.tokens: TokenStore = tokens or SHARED_TOKENS
        self.limiter_for = limiter_for
        self.stats = FetchStats()
        self.config_errors: list[ConfigError] = []
        self._token_failures: dict[AppKey, ConfigError | CallFailed] = {}
        self._token_locks: dict[AppKey, asyncio.Lock] = {}
        self._answered_at: dict[str, float] = {}
        """When each host last sent a status line."""
        self._silent_since: dict[str, float] = {}
        """When the first request a host left unanswered since then was sent."""
        self._unreachable: dict[str, str] = {}
        self._rng = random.Random(seed)
        self._ids_total = 0
        self._ids_done = 0
        self._calls_total = 0
        self._calls_done = 0

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(self._calls_done, self._calls_total, self._ids_done, self._ids_total)
            )

    # -- sending -------------------------------------------------------------------------

    async def _send(
        self, request: HttpRequest, timeout: Timeout, answered: Callable[[], None] | None = None
    ) -> HttpResponse:
        """Send through the transport, noting when the host answers.

        Raises :class:`NoReply` for a failure worth retrying, and a fatal :class:`CallFailed`
        once the host has answered nothing for a whole call timeout.
        """
        where = self._reachable(request.url)
        started = time.monotonic()

        def heard() -> None:
            self._answered_at[where] = time.monotonic()
            self._silent_since.pop(where, None)
            if answered is not None:
                answered()

        try:
            response = await self.transport.send(request, timeout=timeout, answered=heard)
        except NoReply as exc:
            if self._answered_at.get(where, -1.0) >= started:
                raise  # the host answered meanwhile: this one was unlucky
            since = self._silent_since.setdefault(where, started)
            if time.monotonic() - since < max(timeout.total, self.policy.silence):
                raise
            reason = exc.reason
            if not reason.startswith("no reply"):
                silence = max(timeout.total, self.policy.silence)
                reason = f"no reply from {where} within {silence:g} s ({reason})"
            self._unreachable[where] = reason
            raise CallFailed(reason, fatal=True) from exc
        self._answered_at[where] = time.monotonic()
        self._silent_since.pop(where, None)
        log.debug(
            "%s %s -> %d (%.0f ms)",
            request.method,
            where,
            response.status,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _reachable(self, url: str) -> str:
        """The host of ``url``; a fatal :class:`CallFailed` when it was given up on."""
        where = origin(url)
        dead = self._unreachable.get(where)
        if dead is not None:
            raise CallFailed(dead, fatal=True)
        return where

    async def _pause(self, url: str, seconds: float, timeout: Timeout) -> None:
        """Back off after no reply, but not past the moment the host counts as unreachable."""
        since = self._silent_since.get(origin(url))
        if since is not None:
            seconds = min(
                seconds,
                max(0.0, since + max(timeout.total, self.policy.silence) - time.monotonic()),
            )
        await asyncio.sleep(seconds)

    # -- tokens --------------------------------------------------------------------------

    async def _token(self, run: _Run) -> str:
        """A valid token. A token that could not be had is remembered for this fetch, so a
        bad secret or a dead host costs one token request, not one per call."""
        async with self._token_locks.setdefault(run.key, asyncio.Lock()):
            failure = self._token_failures.get(run.key)
            if failure is not None:
                raise failure
            try:
                return await self.tokens.get(run.key, lambda: self._obtain(run))
            except (ConfigError, CallFailed) as exc:
                self._token_failures[run.key] = exc
                if isinstance(exc, ConfigError):
                    self.config_errors.append(exc)
                raise

    async def _obtain(self, run: _Run) -> Token:
        provider, config = run.provider, run.config
        last = "no attempt made"
        for attempt in range(1, self.policy.attempts + 1):
            request = provider.token_request(config)
            self.stats.token_requests += 1
            try:
                response = await self._send(request, run.timeout)
            except NoReply as exc:
                last = exc.reason
                await self._pause(request.url, self.policy.backoff(attempt, self._rng), run.timeout)
                continue
            if 300 <= response.status < 400:
                raise ConfigError(
                    f"providers.{provider.name}.base_url",
                    f"the token request was redirected: {_redirect(request.url, response)}; "
                    "set base_url to the API's own address",
                )
            try:
                return provider.parse_token(response, config)
            except RetryLater as exc:
                last = exc.reason
                await asyncio.sleep(self.policy.wait(exc.after, attempt, self._rng))
        raise CallFailed(f"could not obtain a {provider.name} token: {last}")

    # -- fetching ------------------------------------------------------------------------

    async def fetch(
        self,
        provider: HttpProvider,
        targets: Sequence[Target],
        window: Span,
        config: ProviderConfig,
        *,
        on_call: CallDone | None = None,
    ) -> list[Availability]:
        """Availability of every target over ``window`` (ids prefixed ``provider:``).

        ``on_call`` hears of each successful call as it completes (the busy cache keeps each
        call's stretch at once, so a run cut short loses nothing it had read).
        """
        limits = provider.limits(config)
        plan = getattr(provider, "plan", None)
        calls: list[Call] = (
            list(plan(targets, window, config))
            if callable(plan)
            else plan_calls(targets, window, limits)
        )
        key = app_key(provider, config)
        run = _Run(
            provider,
            config,
            limits,
            key,
            Timeout(self.policy.timeout or limits.timeout, self.policy.connect_timeout),
            self.limiter_for((*key, ""), limits.rate, self.policy.margin),
            asyncio.Semaphore(max(1, limits.concurrency)),
            on_call,
        )
        for call in calls:
            self.stats.add(self.stats.planned, f"{provider.name}/{call.endpoint}")
            for i in call.ids:
                run.pending[i] = run.pending.get(i, 0) + 1
        self._ids_total += len({t.id for t in targets})
        self._calls_total += len(calls)

        async def one(call: Call) -> None:
            await self._run_call(run, call)
            for i in call.ids:
                run.pending[i] -= 1
                if run.pending[i] == 0:
                    self._ids_done += 1
                    self._finish(run, i)
            self._calls_done += 1
            self._report()

        await asyncio.gather(*(one(c) for c in calls))
        out: list[Availability] = []
        for t in dict.fromkeys(t.id for t in targets):
            full = f"{provider.name}:{t}"
            busy = run.done.get(t)
            if t in run.errors or busy is None:
                reason = run.errors.get(t, f"no {provider.name} call was planned for this id")
                out.append(Availability.unknown(full, reason))
            else:
                out.append(Availability(id=full, busy=busy, covered=window))
        return out

    def _fail(self, run: _Run, ids: Sequence[str], reason: str) -> None:
        for i in ids:
            run.errors.setdefault(i, reason)

    async def _run_call(self, run: _Run, call: Call) -> None:
        provider, config, policy = run.provider, run.config, self.policy
        name = f"{provider.name}/{call.endpoint}"
        endpoint = run.limits.endpoint(call.endpoint)
        limiter = self.limiter_for((*run.key, endpoint.limiter_key), endpoint.rate, policy.margin)
        refreshed = False
        last = "no attempt made"
        attempt = 0
        while attempt < policy.attempts:
            if run.fatal is not None:
                self._fail(run, call.ids, run.fatal)
                return
            try:
                token = await self._token(run)
            except ConfigError as exc:
                run.fatal = f"configuration: {exc}"
                continue
            except CallFailed as exc:
                run.fatal = exc.reason
                continue
            request = provider.build(call, token, config)
            if attempt:
                self.stats.retries += 1
            attempt += 1
            try:
                # Rate places first, then a connection: a call waiting for its endpoint's
                # window must not hold a connection another endpoint could use.
                async with (
                    run.shared.slot() as free_shared,
                    limiter.slot() as free_own,
                    run.in_flight,
                ):
                    self._reachable(request.url)
                    self.stats.add(self.stats.calls, name)
                    response = await self._send(request, run.timeout, _both(free_own, free_shared))
            except NoReply as exc:
                last = exc.reason
                await self._pause(request.url, policy.backoff(attempt, self._rng), run.timeout)
                continue
            except CallFailed as exc:  # the host is unreachable
                run.fatal = exc.reason
                continue
            if 300 <= response.status < 400:
                self._fail(run, call.ids, _redirect(request.url, response))
                return
            try:
                result = provider.parse(call, response, config)
            except RetryLater as exc:
                last = exc.reason
                if exc.rate_limited or response.status == 429:
                    self.stats.rate_limited += 1
                    if exc.after:
                        limiter.penalise(min(exc.after, policy.max_hint))
                await asyncio.sleep(policy.wait(exc.after, attempt, self._rng))
                continue
            except TokenExpired as exc:
                self.tokens.invalidate(run.key, token)
                if refreshed:
                    self._fail(run, call.ids, f"token refused after a refresh: {exc.reason}")
                    return
                refreshed = True
                attempt -= 1  # a refresh is not a failed attempt
                continue
            except BatchError as exc:
                if len(call.ids) == 1:
                    self._fail(run, call.ids, exc.reason)
                    return
                self.stats.splits += 1
                half = len(call.ids) // 2
                for part in (call.ids[:half], call.ids[half:]):
                    await self._run_call(run, call.subset(part))
                return
            except CallFailed as exc:
                if exc.fatal:
                    run.fatal = exc.reason
                self._fail(run, call.ids, exc.reason)
                return
            except Exception as exc:  # a provider bug must not lose the other ids
                log.warning("%s could not parse a reply: %s", provider.name, type(exc).__name__)
                self._fail(run, call.ids, f"{provider.name} reply not understood ({exc})")
                return
            await self._accept(run, call, result)
            return
        # The last attempt may have found the host unreachable: that is the reason to give.
        reason = run.fatal or f"gave up after {policy.attempts} attempts: {last}"
        self._fail(run, call.ids, reason)

    async def _accept(self, run: _Run, call: Call, result: CallResult) -> None:
        read: dict[str, np.ndarray] = {}
        for i in call.ids:
            if i in result.errors:
                self._fail(run, [i], result.errors[i])
            elif i in result.busy:
                read[i] = np.asarray(result.busy[i], dtype=np.int64).reshape(-1, 3)
                run.rows.setdefault(i, []).append(read[i])
            else:
                self._fail(run, [i], f"{run.provider.name} returned no data for this id")
        if run.on_call is not None and read:
            await run.on_call(call.span, read)

    def _finish(self, run: _Run, i: str) -> None:
        """Every call for ``i`` is over: merge its pieces (an unknown id keeps none)."""
        pieces = run.rows.pop(i, [])
        if i not in run.errors:
            run.done[i] = merge_rows(pieces)
