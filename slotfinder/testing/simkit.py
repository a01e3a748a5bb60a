"""Building blocks for provider simulators: rate limits, tokens, faults, latency, serving,
and the stored calendars of a seeded organisation.

Every simulator must enforce the real API's rate limits, expire tokens and inject the faults a
test asks for; those mechanics are the same for every provider, so they live here once and each
plugin's simulator only decides what its error replies look like. Public so third-party plugin
authors can build their simulators the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import math
import random
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence, Set
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from slotfinder.testing.simulation import DemoTenant, Simulator

__all__ = [
    "COMMON_OPTIONS",
    "Calendars",
    "Fault",
    "Faults",
    "Served",
    "SimStats",
    "TokenStore",
    "WindowLimiter",
    "application",
    "check_options",
    "drop_connection",
    "faults_option",
    "free_port",
    "instant",
    "json_body",
    "latency_middleware",
    "number_option",
    "running",
    "serving",
    "wall_clock",
]


class WindowLimiter:
    """Sliding-window rate limit with several windows at once (e.g. 50/s AND 1000/min).

    ``check`` records the call when every window has room, else returns how many seconds until
    the earliest window frees a place (the hint a real API puts in its reply headers).
    """

    def __init__(self, windows: Sequence[tuple[int, float]]) -> None:
        self.windows = tuple(windows)
        self._hits: list[deque[float]] = [deque() for _ in self.windows]

    def check(self) -> float | None:
        now = time.monotonic()
        wait = 0.0
        for (calls, seconds), hits in zip(self.windows, self._hits, strict=True):
            while hits and hits[0] <= now - seconds:
                hits.popleft()
            if len(hits) >= calls:
                wait = max(wait, hits[0] + seconds - now)
        if wait > 0:
            return wait
        for hits in self._hits:
            hits.append(now)
        return None


@attrs.define
class TokenStore:
    """Issues opaque tokens with a lifetime; can expire them all at once (a mid-run expiry)."""

    ttl: float = 7200.0
    prefix: str = "t-"
    _tokens: dict[str, float] = attrs.field(factory=dict)
    issued: int = 0

    def issue(self) -> tuple[str, int]:
        token = self.prefix + secrets.token_hex(16)
        self._tokens[token] = time.monotonic() + self.ttl
        self.issued += 1
        return token, int(self.ttl)

    def valid(self, token: str | None) -> bool:
        if not token:
            return False
        deadline = self._tokens.get(token)
        return deadline is not None and time.monotonic() < deadline

    def expire_all(self) -> None:
        self._tokens.clear()


class _Timed(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


E = TypeVar("E", bound=_Timed)


def wall_clock(ordinal: int, minute: int, zone: str) -> int:
    """Epoch seconds of ``minute`` minutes (may pass 24:00) after the local midnight of day
    ``ordinal`` (``date.toordinal``) in ``zone``; a time in a gap or fold reads as fold=0."""
    day = date.fromordinal(ordinal)
    midnight = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return int((midnight + timedelta(minutes=minute)).timestamp())


class Calendars(Generic[E]):
    """A seeded organisation's calendars: each owner's local day is drawn the first time it is
    asked for, then kept, as the real service keeps its calendars.

    ``draw(owner, ordinal)`` gives the events starting on that local day and must depend only
    on its arguments (and the seed), so any window gives the same events whatever was asked
    before; keeping a day only saves drawing it again. No event may last longer than
    ``lookback_days``, so a window needs to look back no further.
    """

    def __init__(self, draw: Callable[[str, int], Sequence[E]], lookback_days: int) -> None:
        self._draw = draw
        self._lookback = lookback_days
        self._days: dict[tuple[str, int], Sequence[E]] = {}

    def overlapping(self, owner: str, zone: str, start: int, end: int) -> list[E]:
        """The events of ``owner`` (whose days are local to ``zone``) overlapping
        ``[start, end)``, whole, in day and draw order."""
        tz = ZoneInfo(zone)
        first = datetime.fromtimestamp(start, tz).toordinal() - self._lookback
        last = datetime.fromtimestamp(max(start, end - 1), tz).toordinal()
        out: list[E] = []
        for ordinal in range(first, last + 1):
            day = self._days.get((owner, ordinal))
            if day is None:
                day = self._days[owner, ordinal] = self._draw(owner, ordinal)
            out.extend(e for e in day if e.start < end and start < e.end)
        return out


class Fault(enum.Enum):
    """A misbehaviour a simulator can be told to show on a call."""

    RATE_LIMIT = "rate_limit"
    SERVER_ERROR = "server_error"
    DROP = "drop"
    SLOW = "slow"
    MALFORMED = "malformed"


@attrs.define
class Faults:
    """Which faults to inject and how often; seeded so a failing run can be replayed.

    Probabilities are per data call (token calls are spared unless ``tokens`` is set).
    ``expire_tokens_after`` expires every issued token once that many data calls were served.
    ``schedule``, when given, overrides the probabilities: one entry per data call in order
    (``None`` for a clean reply), for tests that draw the schedule with hypothesis.
    """

    rate_limit: float = 0.0
    server_error: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    malformed: float = 0.0
    slow_seconds: float = 30.0
    expire_tokens_after: int | None = None
    tokens: bool = False
    schedule: Sequence[Fault | None] | None = None
    seed: int = 0
    _rng: random.Random = attrs.field(init=False)
    _served: int = attrs.field(init=False, default=0)
    _expired: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def pick(self) -> Fault | None:
        """The fault for the next data call, or ``None`` for a clean reply."""
        index = self._served
        self._served += 1
        if self.schedule is not None:
            return self.schedule[index] if index < len(self.schedule) else None
        roll = self._rng.random()
        for fault, p in (
            (Fault.RATE_LIMIT, self.rate_limit),
            (Fault.SERVER_ERROR, self.server_error),
            (Fault.DROP, self.drop),
            (Fault.SLOW, self.slow),
            (Fault.MALFORMED, self.malformed),
        ):
            if roll < p:
                return fault
            roll -= p
        return None

    def token_expiry_due(self) -> bool:
        """True exactly once, when ``expire_tokens_after`` data calls have been served.

        Once, even when the simulator asks again before the next :meth:`pick` (a call refused
        for its token draws no fault), so tokens issued after the expiry stay valid.
        """
        due = not self._expired and self._served == self.expire_tokens_after
        self._expired = self._expired or due
        return due


@attrs.define
class SimStats:
    """What a simulator served, for tests and benchmarks to compare with the plan."""

    calls: dict[str, int] = attrs.field(factory=dict)
    rate_limited: int = 0
    errors: int = 0
    faults: int = 0
    token_calls: int = 0
    delays: list[tuple[str, float]] = attrs.field(factory=list)
    """``(path, seconds)`` per call, in arrival order, when latency is simulated."""

    def count(self, endpoint: str) -> None:
        self.calls[endpoint] = self.calls.get(endpoint, 0) + 1


async def drop_connection(request: web.Request) -> web.StreamResponse:
    """Close the socket without a reply, as a crashed proxy would."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise ConnectionResetError("simulated dropped connection")


def latency_middleware(
    latency: float, jitter: float = 0.0, seed: int = 0, stats: SimStats | None = None
) -> Middleware:
    """An aiohttp middleware that delays every reply by ``latency`` ± ``jitter`` seconds.

    The request is handled at once (so a rate limit counts it on arrival, as real gateways
    do), then the reply waits for its drawn delay, as a distant server's would. With ``stats``,
    each call's path and drawn delay are appended to ``stats.delays`` in arrival order.
    """
    rng = random.Random(seed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        delay = max(0.0, latency + (rng.uniform(-jitter, jitter) if jitter else 0.0))
        if stats is not None:
            stats.delays.append((request.path, delay))
        try:
            return await handler(request)
        finally:
            await asyncio.sleep(delay)

    return middleware


COMMON_OPTIONS = frozenset(
    {"latency", "jitter", "faults", "rate_limit", "token_ttl", "users", "rooms"}
)
"""Options every simulator's ``app`` takes; :func:`application` reads the first two."""


def check_options(options: Mapping[str, object], known: Set[str], simulator: str) -> None:
    """Refuse an option that is neither common nor in ``known`` (the simulator's own): a
    misspelt one would otherwise be ignored silently."""
    unknown = set(options) - COMMON_OPTIONS - known
    if unknown:
        raise TypeError(f"unknown {simulator} simulator options: {', '.join(sorted(unknown))}")


def number_option(options: Mapping[str, object], name: str, default: float) -> float:
    """A non-negative number option, ``default`` when it is not given."""
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise TypeError(f"option {name} must be a non-negative number, got {value!r}")
    return float(value)


def faults_option(options: Mapping[str, object]) -> Faults:
    """The ``faults`` option; none given is an empty :class:`Faults` a test can switch on."""
    faults = options.get("faults")
    if faults is None:
        return Faults()
    if not isinstance(faults, Faults):
        raise TypeError("option faults must be a slotfinder.testing.simkit.Faults")
    return faults


def application(options: Mapping[str, object], seed: int, stats: SimStats) -> web.Application:
    """A fresh app, its replies delayed by the ``latency`` and ``jitter`` options (seconds)."""
    latency = number_option(options, "latency", 0.0)
    jitter = number_option(options, "jitter", 0.0)
    if not latency and not jitter:
        return web.Application()
    return web.Application(middlewares=[latency_middleware(latency, jitter, seed, stats)])


async def json_body(request: web.Request) -> object:
    """The request's body decoded as JSON, or ``None`` when it is empty or not JSON."""
    try:
        return json.loads(await request.read())
    except ValueError:  # UnicodeDecodeError is one too
        return None


def instant(value: object) -> int | None:
    """Epoch seconds of an ISO 8601 time with an offset (``2022-07-29T14:55Z``), else ``None``.

    Simulators read request times with the standard library, never with the client's reader,
    so a reading bug shared by both sides cannot pass the HTTP tests.
    """
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else math.floor(moment.timestamp())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def running(app: web.Application, port: int = 0) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port unless given) and yield its base URL.

    The server is stopped when the block exits, whatever happens inside it.
    """
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
        bound = runner.addresses[0][1]
        yield f"http://127.0.0.1:{bound}"
    finally:
        await runner.cleanup()  # stops the site and closes the open connections too


@attrs.frozen
class Served:
    """A simulator running on loopback: its app (for stats and faults), URL and demo tenant."""

    app: web.Application
    base_url: str
    tenant: DemoTenant


@contextlib.asynccontextmanager
async def serving(
    simulators: Mapping[str, Simulator],
    names: Sequence[str],
    *,
    seed: int = 0,
    options: Mapping[str, Mapping[str, object]] | None = None,
) -> AsyncIterator[dict[str, Served]]:
    """Run the named simulators side by side on free loopback ports; stop them all on exit.

    ``options`` passes app options per simulator name (``{"feishu": {"faults": ...}}``).
    """
    async with contextlib.AsyncExitStack() as stack:
        out: dict[str, Served] = {}
        for name in names:
            sim = simulators[name]
            app = sim.app(seed=seed, **(options or {}).get(name, {}))
            base_url = await stack.enter_async_context(running(app))
            out[name] = Served(app, base_url, sim.demo(base_url, seed=seed))
        yield out
