"""Running providers' plans over HTTP: the one place slotfinder does network I/O.

Providers only build requests and decipher replies (:mod:`slotfinder.providers`); everything
that makes a fetch robust is here, once, for every provider:

* one caller-owned :class:`aiohttp.ClientSession`;
* concurrency bounded per provider (``Limits.concurrency``);
* a client-side limiter honouring every declared window at once (Feishu: 50/s AND 1000/min),
  where a call holds its place until the server has answered (the status line is in), so a
  well-behaved run gets no rate-limit reply whatever the network's jitter;
* retries with exponential backoff and full jitter on 429, 5xx, connection errors, timeouts and
  the provider's retryable codes, honouring the server's wait hint when it gives one;
* tokens fetched once per app (cached by the provider's ``token_key``), refreshed before they
  expire, and refreshed once when a reply says the token is no longer valid;
* a batch failing because of one bad id is split until the bad id is isolated;
* large replies parsed on the other core by a helper process when it is free
  (:mod:`slotfinder.offload`), else in one worker thread while other calls wait to be sent,
  else on the loop; each id's chunks merged per status as soon as its last call is over, so
  an event crossing a chunk seam counts once and no merge work piles up after the last reply;
* an unrecoverable failure marks exactly the ids of that call unknown, with the reason, and the
  run goes on for everyone else. Nothing is ever assumed free.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import hashlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence

import aiohttp
import attrs
import numpy as np

from slotfinder import intervals
from slotfinder.errors import ConfigError
from slotfinder.model import Availability, BusyTable, Span
from slotfinder.offload import Helper, OffloadFailed
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    HttpProvider,
    HttpRequest,
    HttpResponse,
    ProviderConfig,
    RateWindow,
    RetryLater,
    Secret,
    Target,
    Token,
    TokenExpired,
)

__all__ = [
    "HELPER",
    "FetchStats",
    "Fetcher",
    "Progress",
    "ProgressCallback",
    "RateLimiter",
    "RetryPolicy",
    "TokenCache",
    "merge_rows",
]

log = logging.getLogger("slotfinder.fetch")

PARSE_IN_THREAD = 64 * 1024
"""Replies at least this large (bytes) are parsed off the event loop when there is room."""

HELPER = Helper()
"""The process-wide parse helper: started at the first large reply (or by ``await
HELPER.ready()`` in an application's warm-up), shared by every Fetcher that does not opt out."""


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
    """Per-call timeout in seconds; ``None`` uses the provider's ``Limits.timeout``."""
    margin: float = 0.0
    """Extra slack for the client limiter, as a fraction of each window (see RateLimiter)."""

    def backoff(self, attempt: int, rng: random.Random) -> float:
        if self.base <= 0:
            return 0.0
        return rng.uniform(0, min(self.cap, self.base * 2**attempt))


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
    """What a fetch cost. ``calls`` counts every data request sent, by ``provider/endpoint``."""

    calls: dict[str, int] = attrs.field(factory=dict)
    planned: dict[str, int] = attrs.field(factory=dict)
    retries: int = 0
    rate_limited: int = 0
    token_requests: int = 0
    splits: int = 0

    def add(self, table: dict[str, int], key: str, n: int = 1) -> None:
        table[key] = table.get(key, 0) + n


class RateLimiter:
    """Client-side sliding windows that hold even when replies are delayed.

    A call occupies a place in every window from the moment it is let through until its
    reply's status line (or its failure) is back, and for a window's length after that. The
    server sees the call arrive somewhere in between, so the next call it sees in that place
    arrives at least a window later — whatever the network or a busy event loop did to the
    timing. That costs one round trip per window (about 8 % at 80 ms and 1 s windows) instead
    of a guessed margin, and a run that follows it gets no rate-limit replies. ``margin`` (a
    fraction of each window) adds slack on top, for servers whose clocks count differently.

    Use ``async with limiter.slot() as answered: ...`` around the request, and call
    ``answered()`` when the status line is in. Waiters are served in order.
    """

    def __init__(self, windows: Sequence[RateWindow], margin: float = 0.0) -> None:
        self.windows = [(w.calls, w.seconds * (1 + margin)) for w in windows]
        self._done: list[deque[float]] = [deque() for _ in self.windows]
        self._in_flight = 0
        self._blocked_until = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    def _wait(self, now: float) -> float | None:
        """Seconds to wait before a place is free; ``None``: wait for a reply to come back."""
        wait = max(0.0, self._blocked_until - now)
        for (calls, seconds), done in zip(self.windows, self._done, strict=True):
            while done and done[0] <= now - seconds:
                done.popleft()
            if self._in_flight >= calls:
                return None
            if len(done) + self._in_flight >= calls:
                wait = max(wait, done[0] + seconds - now)
        return wait

    async def acquire(self) -> None:
        """Wait for a place in every window and take it (pair with :meth:`release`)."""
        if not self.windows:
            return
        async with self._lock:
            while True:
                wait = self._wait(time.monotonic())
                if wait is None:
                    self._released.clear()
                    await self._released.wait()
                elif wait > 0:
                    await asyncio.sleep(wait)
                else:
                    self._in_flight += 1
                    return

    def release(self) -> None:
        """The call's reply is back (or it failed): its place counts from now."""
        if not self.windows:
            return
        self._in_flight -= 1
        now = time.monotonic()
        for done in self._done:
            done.append(now)
        self._released.set()

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[Callable[[], None]]:
        """Hold a place for the block; the block may free it sooner by calling what it gets
        (once the server has answered: it has counted the call by then). Freed once only."""
        await self.acquire()
        freed = False

        def free() -> None:
            nonlocal freed
            if not freed:
                freed = True
                self.release()

        try:
            yield free
        finally:
            free()

    def penalise(self, seconds: float) -> None:
        """After a rate-limit reply, let nothing through for ``seconds`` (history is kept)."""
        self._blocked_until = max(self._blocked_until, time.monotonic() + seconds)


@attrs.define
class _CachedToken:
    token: Token
    expires_at: float


class TokenCache:
    """Tokens per ``(provider, token_key)``: fetched once, refreshed early, shared by callers.

    A token is refreshed when less than a quarter of its life (at most 30 minutes) remains:
    Feishu hands out a new token once fewer than 30 minutes are left while the old one stays
    valid, so refreshing early never leaves a call with a dead token.
    """

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, ...], _CachedToken] = {}
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}

    def _fresh(self, key: tuple[str, ...]) -> Token | None:
        cached = self._tokens.get(key)
        if cached is None:
            return None
        margin = min(1800.0, cached.token.expires_in / 4)
        return cached.token if time.monotonic() < cached.expires_at - margin else None

    async def get(
        self,
        provider: HttpProvider,
        config: ProviderConfig,
        *,
        fetch: Callable[[HttpRequest], Awaitable[HttpResponse]],
        stats: FetchStats,
        policy: RetryPolicy,
        rng: random.Random,
    ) -> str:
        key = _token_key(provider, config)
        token = self._fresh(key)
        if token is not None:
            return token.value
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            token = self._fresh(key)
            if token is not None:
                return token.value
            last = "no attempt made"
            for attempt in range(policy.attempts):
                stats.token_requests += 1
                try:
                    response = await fetch(provider.token_request(config))
                    token = provider.parse_token(response, config)
                except RetryLater as exc:
                    last = exc.reason
                    await asyncio.sleep(_wait(exc.after, attempt, policy, rng))
                    continue
                except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                    last = f"token request failed: {type(exc).__name__}"
                    await asyncio.sleep(policy.backoff(attempt + 1, rng))
                    continue
                self._tokens[key] = _CachedToken(token, time.monotonic() + token.expires_in)
                return token.value
            raise CallFailed(f"could not obtain a {provider.name} token: {last}")

    def invalidate(self, provider: HttpProvider, config: ProviderConfig, value: str) -> None:
        """Forget the token ``value`` if it is still the cached one (refresh on next get)."""
        key = _token_key(provider, config)
        cached = self._tokens.get(key)
        if cached is not None and cached.token.value == value:
            del self._tokens[key]


_SHARED_TOKENS = TokenCache()


def _token_key(provider: HttpProvider, config: ProviderConfig) -> tuple[str, ...]:
    """The provider's key plus a fingerprint of the secrets: a changed secret gets a new token
    (and a wrong one fails now, not when the cached token expires)."""
    secrets = sorted(v.reveal() for v in config.values() if isinstance(v, Secret))
    digest = hashlib.sha256("\0".join(secrets).encode()).hexdigest()[:16]
    return (provider.name, *provider.token_key(config), digest)


def _wait(after: float | None, attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    if after is not None and after > 0:
        return min(after, policy.max_hint) + (rng.uniform(0, 0.1) if policy.base > 0 else 0)
    return policy.backoff(attempt + 1, rng)


@functools.cache
def _parser() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread that parses large replies. Parsing is pure Python and holds the GIL, so
    more threads would only take turns with each other and with the event loop; one thread
    finishes replies in the order they came and leaves the loop free between them."""
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="slotfinder-parse")


_Parsed = tuple[Mapping[str, str], dict[str, BusyTable]]
"""A reply deciphered: per-id errors, and each readable id's rows merged into a table."""


def _parse_and_merge(
    provider: HttpProvider, call: Call, response: HttpResponse, config: ProviderConfig
) -> _Parsed:
    """``provider.parse``, then each readable id's rows merged (where they were parsed).

    The rows travel as merged tables, which is all the fetcher needs and far less to send
    back from the helper process."""
    result = provider.parse(call, response, config)
    tables = {
        i: merge_rows([np.asarray(rows, dtype=np.int64).reshape(-1, 3)])
        for i, rows in result.busy.items()
        if i not in result.errors
    }
    return result.errors, tables


def _call_all(functions: Sequence[Callable[[], None]]) -> None:
    for function in functions:
        function()


_PACK_LIMIT = 2**40
"""Times within ±2**40 s (±34,000 years: every real calendar) merge in one pass."""


def merge_rows(rows: Sequence[np.ndarray]) -> BusyTable:
    """Merge busy rows from several calls: per status, the union of the spans.

    Events crossing a chunk seam come back in both chunks; the union counts them once, and
    touching pieces of the same status become one entry. Empty rows are dropped.

    One sort for all statuses: each status's times are shifted into a band of their own, so a
    single running maximum of the ends finds every merged span (a per-status loop of
    :func:`slotfinder.intervals.normalize` costs several times more on the few hundred rows
    of one person's reply, and runs for every id of every reply).
    """
    if not rows:
        return BusyTable.empty()
    data = rows[0].reshape(-1, 3) if len(rows) == 1 else np.concatenate(rows).reshape(-1, 3)
    data = data[data[:, 1] > data[:, 0]]
    if not data.size:
        return BusyTable.empty()
    lo, hi = int(data[:, :2].min()), int(data[:, :2].max())
    if lo < -_PACK_LIMIT or hi > _PACK_LIMIT:
        return _merge_per_status(data)
    code = data[:, 2]
    band = (code - int(code.min())) * (4 * _PACK_LIMIT)  # a status's band lies above the last
    starts = data[:, 0] + band
    ends = data[:, 1] + band
    order = np.argsort(starts, kind="stable")
    starts, ends, code, band = starts[order], ends[order], code[order], band[order]
    reach = np.maximum.accumulate(ends)
    first = np.empty(starts.size, dtype=bool)
    first[0] = True
    np.greater(starts[1:], reach[:-1], out=first[1:])  # touching spans join
    last = np.empty(starts.size, dtype=bool)
    last[-1] = True
    last[:-1] = first[1:]
    shift = band[first]
    return BusyTable(starts=starts[first] - shift, ends=reach[last] - shift, status=code[first])


def _merge_per_status(data: np.ndarray) -> BusyTable:
    """:func:`merge_rows` for times too far out to band (normalize checks their range)."""
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for code in np.unique(data[:, 2]):
        sel = data[data[:, 2] == code]
        s, e = intervals.normalize(sel[:, 0], sel[:, 1])
        starts.append(s)
        ends.append(e)
        codes.append(np.full(s.size, code, dtype=np.int8))
    return BusyTable(
        starts=np.concatenate(starts), ends=np.concatenate(ends), status=np.concatenate(codes)
    )


@attrs.define
class _Run:
    """Book-keeping of one provider's fetch."""

    provider: HttpProvider
    config: ProviderConfig
    tables: dict[str, list[BusyTable]]
    """Each id's busy rows so far, one merged table per call that covered it."""
    done: dict[str, BusyTable]
    """Ids whose every call is over, merged: merging as calls finish leaves no merge work
    (thousands of ids) for after the last reply."""
    errors: dict[str, str]
    pending: dict[str, int]
    in_flight: asyncio.Semaphore
    fatal: str | None = None


class Fetcher:
    """Runs providers' calls over one session, sharing limiters, tokens and statistics.

    One Fetcher serves one ``suggest``; its token cache is process-wide by default, so a
    long-lived application asks each app for a token once per token lifetime.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        policy: RetryPolicy | None = None,
        progress: ProgressCallback | None = None,
        tokens: TokenCache | None = None,
        seed: int | None = None,
        helper: Helper | None = HELPER,
    ) -> None:
        self.session = session
        self.policy = policy or RetryPolicy()
        self.progress = progress
        self.tokens = tokens or _SHARED_TOKENS
        self.helper = helper
        """Where large replies are parsed when it is free; ``None`` keeps parsing in this
        process (the event loop, or the parse thread while calls are queued)."""
        self.stats = FetchStats()
        self.config_errors: list[ConfigError] = []
        self._token_failures: dict[tuple[str, ...], ConfigError] = {}
        self._token_locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self._limiters: dict[tuple[str, str], RateLimiter] = {}
        self._rng = random.Random(seed)
        self._ids_total = 0
        self._ids_done = 0
        self._calls_total = 0
        self._calls_done = 0
        self._queued = 0
        """Calls waiting for a rate place or a connection, across providers."""
        self._unanswered = 0
        """Calls queued or sent whose reply is not yet read, across providers."""

    def _limiter(self, key: tuple[str, str], windows: Sequence[RateWindow]) -> RateLimiter:
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter(windows, self.policy.margin)
        return limiter

    async def _send(
        self,
        request: HttpRequest,
        timeout: float,
        answered: Callable[[], None] | None = None,
    ) -> HttpResponse:
        """Send ``request`` and read the whole reply; ``answered`` is called as soon as the
        status line and headers are in (the server has seen the call), before the body."""
        started = time.monotonic()
        async with self.session.request(
            request.method,
            request.url,
            headers=dict(request.headers),
            data=request.body,
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as reply:
            if answered is not None:
                answered()
            body = await reply.read()
            headers = {k.lower(): v for k, v in reply.headers.items()}
        log.debug(
            "%s %s -> %d (%.0f ms)",
            request.method,
            request.url,
            reply.status,
            (time.monotonic() - started) * 1000,
        )
        return HttpResponse(status=reply.status, headers=headers, body=body)

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(
                Progress(self._calls_done, self._calls_total, self._ids_done, self._ids_total)
            )

    async def fetch(
        self,
        provider: HttpProvider,
        targets: Sequence[Target],
        window: Span,
        config: ProviderConfig,
    ) -> list[Availability]:
        """Availability of every target over ``window`` (ids prefixed ``provider:``)."""
        limits = provider.limits(config)
        calls = provider.plan(targets, window, config)
        run = _Run(
            provider,
            config,
            tables={},
            done={},
            errors={},
            pending={},
            in_flight=asyncio.Semaphore(max(1, limits.concurrency)),
        )
        for call in calls:
            self.stats.add(self.stats.planned, f"{provider.name}/{call.endpoint}")
            for i in call.ids:
                run.pending[i] = run.pending.get(i, 0) + 1
        unique = {t.id for t in targets}
        self._ids_total += len(unique)
        self._calls_total += len(calls)
        timeout = self.policy.timeout or limits.timeout
        shared = self._limiter((provider.name, ""), limits.rate)

        async def one(call: Call) -> None:
            await self._run_call(run, call, timeout, shared)
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

    async def _run_call(self, run: _Run, call: Call, timeout: float, shared: RateLimiter) -> None:
        provider, config = run.provider, run.config
        name = f"{provider.name}/{call.endpoint}"
        endpoint = provider.limits(config).endpoint(call.endpoint)
        limiter = self._limiter((provider.name, endpoint.limiter_key), endpoint.rate)
        refreshed = False
        last = "no attempt made"
        attempt = 0
        while attempt < self.policy.attempts:
            if run.fatal is not None:
                self._fail(run, call.ids, run.fatal)
                return
            try:
                token = await self._token(provider, config)
            except ConfigError as exc:
                run.fatal = f"configuration: {exc}"
                continue
            except CallFailed as exc:
                self._fail(run, call.ids, exc.reason)
                return
            request = provider.build(call, token, config)
            if attempt:
                self.stats.retries += 1
            attempt += 1
            try:
                # Rate places first, then a connection: a call waiting for its endpoint's
                # window must not hold a connection another endpoint could use.
                self._queued += 1
                self._unanswered += 1
                queued = True
                try:
                    async with (
                        shared.slot() as free_shared,
                        limiter.slot() as free_own,
                        run.in_flight,
                    ):
                        self._queued -= 1
                        queued = False
                        self.stats.add(self.stats.calls, name)
                        answered = functools.partial(_call_all, (free_own, free_shared))
                        response = await self._send(request, timeout, answered)
                finally:
                    self._unanswered -= 1
                    if queued:  # cancelled while waiting
                        self._queued -= 1
            except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:
                last = f"{type(exc).__name__} talking to {provider.name}"
                if isinstance(exc, TimeoutError):
                    last = f"no reply from {provider.name} within {timeout:g} s"
                await asyncio.sleep(self.policy.backoff(attempt, self._rng))
                continue
            try:
                errors, tables = await self._parse(provider, call, response, config)
            except RetryLater as exc:
                last = exc.reason
                if exc.rate_limited or response.status == 429:
                    self.stats.rate_limited += 1
                    if exc.after:
                        limiter.penalise(min(exc.after, self.policy.max_hint))
                await asyncio.sleep(_wait(exc.after, attempt, self.policy, self._rng))
                continue
            except TokenExpired as exc:
                self.tokens.invalidate(provider, config, token)
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
                    await self._run_call(run, call.subset(part), timeout, shared)
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
            self._accept(run, call, errors, tables)
            return
        self._fail(run, call.ids, f"gave up after {self.policy.attempts} attempts: {last}")

    async def _parse(
        self, provider: HttpProvider, call: Call, response: HttpResponse, config: ProviderConfig
    ) -> _Parsed:
        """Decipher a reply and merge each id's rows.

        A large reply goes to the helper process when it is up and free: it parses on the other
        core while the loop reads and parses the next replies. Otherwise, while calls wait for
        rate places or connections, it goes to the parsing thread, so the event loop keeps
        freeing places and sending them. Once every call is out it is parsed here: the GIL
        makes the thread no faster, and handing the last replies between it and the loop only
        delays them (benchmarks/fetch.py).
        """
        if len(response.body) < PARSE_IN_THREAD:
            return _parse_and_merge(provider, call, response, config)
        helper = self.helper
        if helper is not None:
            helper.start()
            # Queue behind a job already in the helper only while more replies are coming
            # (the loop will be busy with them); the last ones are parsed wherever is free now.
            if helper.claim(None if self._unanswered else 1):
                with contextlib.suppress(OffloadFailed):
                    parsed: _Parsed = await helper.run(
                        _parse_and_merge, provider, call, response, config
                    )
                    return parsed
        if not self._queued:
            return _parse_and_merge(provider, call, response, config)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            _parser(), _parse_and_merge, provider, call, response, config
        )

    def _accept(
        self, run: _Run, call: Call, errors: Mapping[str, str], tables: dict[str, BusyTable]
    ) -> None:
        for i in call.ids:
            if i in errors:
                self._fail(run, [i], errors[i])
            elif i in tables:
                run.tables.setdefault(i, []).append(tables[i])
            else:
                self._fail(run, [i], f"{run.provider.name} returned no data for this id")

    def _finish(self, run: _Run, i: str) -> None:
        """Every call for ``i`` is over: merge its pieces now (an unknown id keeps none)."""
        pieces = run.tables.pop(i, [])
        if i in run.errors:
            return
        if len(pieces) == 1:
            run.done[i] = pieces[0]
        else:
            run.done[i] = merge_rows(
                [np.column_stack((t.starts, t.ends, t.status)) for t in pieces]
            )

    async def _token(self, provider: HttpProvider, config: ProviderConfig) -> str:
        """A valid token; a credential the API refused is remembered for this fetch, so
        a bad secret costs one token request, not one per call."""
        key = _token_key(provider, config)
        async with self._token_locks.setdefault(key, asyncio.Lock()):
            failure = self._token_failures.get(key)
            if failure is not None:
                raise failure
            try:
                return await self.tokens.get(
                    provider,
                    config,
                    fetch=self._send_token,
                    stats=self.stats,
                    policy=self.policy,
                    rng=self._rng,
                )
            except ConfigError as exc:
                self._token_failures[key] = exc
                self.config_errors.append(exc)
                raise

    async def _send_token(self, request: HttpRequest) -> HttpResponse:
        return await self._send(request, self.policy.timeout or 10.0)
