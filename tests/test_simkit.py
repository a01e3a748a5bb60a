"""simkit's latency model: handled on arrival, replied when the drawn delay is over."""

from __future__ import annotations

import asyncio
import queue
import threading
import time

import aiohttp
from aiohttp import web

from slotfinder.testing import simkit


def _app(
    latency: float, jitter: float, stats: simkit.SimStats, seen: list[float]
) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        seen.append(asyncio.get_running_loop().time())
        return web.Response(text="ok")

    app = web.Application(middlewares=[simkit.latency_middleware(latency, jitter, 3, stats)])
    app.router.add_get("/a", handler)
    app.router.add_get("/b", handler)
    return app


async def test_handled_on_arrival_and_replied_after_the_drawn_delay() -> None:
    """The handler (where a rate limit counts the call) runs before the delay, not after it;
    the reply still takes at least the delay, which is recorded with the path."""
    stats, seen = simkit.SimStats(), []
    async with simkit.running(_app(0.6, 0.0, stats, seen)) as url, aiohttp.ClientSession() as s:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        async with asyncio.timeout(10), s.get(url + "/a") as reply:
            assert await reply.text() == "ok"
        done = loop.time()
    assert stats.delays == [("/a", 0.6)]
    assert seen[0] - sent < 0.6 <= done - sent + 0.01  # handled at once, replied after 0.6 s


async def test_delays_are_drawn_per_call_in_arrival_order() -> None:
    """With jitter each call gets its own draw, the same sequence for the same seed."""
    runs: list[list[tuple[str, float]]] = []
    for _ in range(2):
        stats: simkit.SimStats = simkit.SimStats()
        async with (
            simkit.running(_app(0.05, 0.02, stats, [])) as url,
            aiohttp.ClientSession() as s,
        ):
            for path in ("/a", "/b", "/a"):
                async with asyncio.timeout(10), s.get(url + path) as reply:
                    await reply.read()
        runs.append(stats.delays)
    assert runs[0] == runs[1]
    assert [p for p, _ in runs[0]] == ["/a", "/b", "/a"]
    assert all(0.03 <= d <= 0.07 for _, d in runs[0])
    assert len({d for _, d in runs[0]}) == 3


async def test_before_reply_waits_half_the_latency_left_and_the_reply_stays_on_time() -> None:
    """A handler that builds its reply after before_reply() builds it about half way to the
    deadline (so a burst is taken in first), and the reply still takes the whole latency."""
    stats: simkit.SimStats = simkit.SimStats()
    marks: list[float] = []

    async def handler(request: web.Request) -> web.Response:
        loop = asyncio.get_running_loop()
        marks.append(loop.time())
        await simkit.before_reply(request)
        marks.append(loop.time())
        return web.Response(text="ok")

    app = web.Application(middlewares=[simkit.latency_middleware(0.6, 0.0, 3, stats)])
    app.router.add_get("/a", handler)
    async with simkit.running(app) as url, aiohttp.ClientSession() as s:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        async with asyncio.timeout(10), s.get(url + "/a") as reply:
            await reply.read()
        done = loop.time()
    assert marks[1] - marks[0] >= 0.25  # about 0.3 s: half of what was left
    assert marks[1] < sent + 0.6 <= done + 0.01


async def test_a_call_is_timed_from_its_bytes_not_from_when_its_handler_starts() -> None:
    """A burst the simulator takes in while busy: each call's delay counts from when its bytes
    came in (the protocol stamps them), not from when the one-process simulator got round to
    its handler. Here the server's loop is blocked while two calls arrive; the handler that
    runs first then blocks it again for 0.2 s, and the other call is still timed from its
    arrival."""
    blocking, stop = threading.Event(), threading.Event()
    marks: dict[str, tuple[float, float]] = {}  # path -> (arrival, handler start)
    ready: queue.Queue[str] = queue.Queue()

    async def handler(request: web.Request) -> web.Response:
        start = asyncio.get_running_loop().time()
        marks[request.path] = (request[simkit._DEADLINE] - 0.5, start)
        if request.path == "/block":
            blocking.set()
            time.sleep(0.3)  # the simulator busy: the next calls wait in the kernel
        elif len(marks) == 2:  # the first of /a and /b: busy again before the other's handler
            time.sleep(0.2)
        return web.Response(text="ok")

    def serve() -> None:
        async def main() -> None:
            app = web.Application(middlewares=[simkit.latency_middleware(0.5, 0.0, 3)])
            for path in ("/block", "/a", "/b"):
                app.router.add_get(path, handler)
            async with simkit.running(app) as url:
                ready.put(url)
                while not stop.is_set():
                    await asyncio.sleep(0.01)

        asyncio.run(main())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        url = await asyncio.to_thread(ready.get, True, 10)
        async with aiohttp.ClientSession() as s, asyncio.timeout(20):

            async def get(path: str) -> None:
                async with s.get(url + path) as reply:
                    assert await reply.text() == "ok"

            blocker = asyncio.create_task(get("/block"))
            assert await asyncio.to_thread(blocking.wait, 10)
            await asyncio.gather(get("/a"), get("/b"), blocker)
    finally:
        stop.set()
        thread.join(10)
    (_, first_start), (second_arrival, second_start) = sorted(
        [marks["/a"], marks["/b"]], key=lambda m: m[1]
    )
    assert second_start >= first_start + 0.2  # its handler waited for the first one's
    assert second_arrival < first_start + 0.1  # its delay did not: timed from its bytes
