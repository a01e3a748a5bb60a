"""The client-side rate limiter, and the one limiter per app and rate group in a process.

An API's limits are per app, not per caller: two ``suggest`` calls for the same app that each
kept their own windows would together send twice the allowed rate. :func:`shared_limiter`
hands every caller on the same event loop the same limiter for the same key. Limiters hold
asyncio primitives, which belong to one loop, so each loop has its own registry (a script
calling ``suggest_sync`` twice runs two loops one after the other).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Sequence

from slotfinder.providers import RateWindow

__all__ = ["RateLimiter", "shared_limiter"]


class RateLimiter:
    """Sliding windows (every one an API enforces at once) that hold when replies are late.

    A call occupies a place in every window from the moment it is let through until its
    reply's status line (or its failure) is back, and for a window's length after that. The
    server sees the call arrive somewhere in between, so the next call it sees in that place
    arrives at least a window later, whatever the network or a busy event loop did to the
    timing: a run that follows it gets no rate-limit replies. ``margin`` (a fraction of each
    window) adds slack for servers whose clocks count differently.

    Use ``async with limiter.slot() as answered: ...`` around the request and call
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
        """Hold a place for the block; calling what it yields frees it sooner (once the server
        has answered, it has counted the call). Freed once only."""
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


_REGISTRY: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, RateLimiter]] = (
    weakref.WeakKeyDictionary()
)


def shared_limiter(key: Hashable, windows: Sequence[RateWindow], margin: float) -> RateLimiter:
    """The running loop's limiter for ``key``, made with ``windows`` and ``margin`` by its
    first caller (an app's limits do not change between callers)."""
    limiters = _REGISTRY.setdefault(asyncio.get_running_loop(), {})
    limiter = limiters.get(key)
    if limiter is None:
        limiter = limiters[key] = RateLimiter(windows, margin)
    return limiter
