"""Building blocks for provider simulators: rate limits, tokens, faults, latency, serving.

Every simulator must enforce the real API's rate limits, expire tokens and inject the faults a
test asks for; those mechanics are the same for every provider, so they live here once and each
plugin's simulator only decides what its error replies look like. Public so third-party plugin
authors can build their simulators the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import random
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from slotfinder.simulation import DemoTenant, Simulator

__all__ = [
    "Fault",
    "Faults",
    "Served",
    "SimStats",
    "TokenStore",
    "WindowLimiter",
    "before_reply",
    "free_port",
    "latency_middleware",
    "running",
    "serving",
]


class WindowLimiter:
    """Sliding-window rate limit with several windows at once (e.g. 50/s AND 1000/min).

    ``check`` records the call when every window has room, else returns how many seconds until
    the earliest window frees a place (the hint a real API puts in its reply headers).
    """

    def __init__(self, windows: Sequence[tuple[int, float]]) -> None:
        self.windows = tuple(windows)
        self._hits: list[deque[float]] = [deque() for _ in self.windows]

    def check(self, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
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
        """True exactly once, when ``expire_tokens_after`` data calls have been served."""
        return self.expire_tokens_after is not None and self._served == self.expire_tokens_after


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
    """An aiohttp middleware that makes every reply take ``latency`` ± ``jitter`` seconds.

    The request is handled at once (so a rate limit counts it on arrival, as real gateways
    do) and the reply leaves when its drawn delay has passed since arrival: the simulator's own
    work is part of the delay, not added to it, so "80 ms a call" means 80 ms as the client
    sees it, however large the reply (unless the work itself takes longer). Arrival is when the
    request's first bytes came in, stamped by the protocol :func:`running` serves with; under
    another server, when this middleware starts. With ``stats``,
    each call's path and drawn delay are appended to ``stats.delays`` in arrival order, so a
    benchmark can compare a client with the delays it was actually dealt.
    """
    rng = random.Random(seed)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        transport = request.transport
        now = loop.time()
        arrived = min(now, _ARRIVED.pop(transport, now)) if transport is not None else now
        delay = max(0.0, latency + (rng.uniform(-jitter, jitter) if jitter else 0.0))
        if stats is not None:
            stats.delays.append((request.path, delay))
        request[_DEADLINE] = arrived + delay
        try:
            response = await handler(request)
        except Exception:
            await _sleep_until(loop, arrived + delay)
            raise
        finally:
            if transport is not None:  # a stamp from this request's own later body bytes
                _ARRIVED.pop(transport, None)
        await _sleep_until(loop, arrived + delay)
        return response

    return middleware


_ARRIVED: dict[asyncio.BaseTransport, float] = {}
"""Loop time each connection's next request began to come in, from :class:`_Stamped`."""


class _Stamped(asyncio.Protocol):
    """aiohttp's protocol for one connection, noting when each request's first bytes come in.

    Why: the latency middleware times a call from its arrival, and a simulator is one Python
    process. Stamped when its handler starts, the 50th of a burst of 50 requests was stamped
    3-6 ms after its bytes came in: aiohttp parses the whole burst, then runs the handlers one by
    one. A real gateway has no such queue, and the client was charged for the simulator's own
    slowness. The stamp is taken here, in ``data_received``, before any parsing; the middleware
    takes it (a request after one whose stamp it took gets its own).
    """

    def __init__(self, inner: asyncio.Protocol) -> None:
        self._inner = inner
        self._transport: asyncio.BaseTransport | None = None
        self._clock = asyncio.get_running_loop().time

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is not None and self._transport not in _ARRIVED:
            _ARRIVED[self._transport] = self._clock()
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            _ARRIVED.pop(self._transport, None)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


_DEADLINE = web.RequestKey("simkit_deadline", float)
"""When the reply to a request is due (loop time), set by :func:`latency_middleware`."""


async def before_reply(request: web.Request) -> None:
    """In a handler, after the checks a server makes on arrival (token, rate limit) and before
    building a large reply: wait half of what is left of the call's simulated latency.

    Fifty calls arriving together are then all taken in, each timed from its arrival, before
    any reply is built; built on arrival, each reply would hold up the next call's arrival (a
    queue no real gateway has), and built in a worker thread it would fight the event loop for
    the GIL. The reply still leaves at its deadline. Without simulated latency: no wait.
    """
    deadline = request.get(_DEADLINE)
    if deadline is not None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        await _sleep_until(loop, now + (deadline - now) / 2)


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    remaining = deadline - loop.time()
    if remaining > 0:
        await asyncio.sleep(remaining)


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
    server = runner.server
    assert server is not None  # set by setup()
    loop = asyncio.get_running_loop()
    try:
        # Not a TCPSite: each connection's protocol is wrapped to stamp arrivals (_Stamped).
        listener = await loop.create_server(lambda: _Stamped(server()), "127.0.0.1", port)
    except BaseException:
        await runner.cleanup()
        raise
    try:
        bound = listener.sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{bound}"
    finally:
        listener.close()
        await runner.cleanup()  # closes the open connections too
        await listener.wait_closed()


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
