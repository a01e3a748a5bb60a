"""simkit's latency model: handled on arrival, replied when the drawn delay is over."""

from __future__ import annotations

import asyncio

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
