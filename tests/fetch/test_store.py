"""The busy cache and shared state: repeat queries make no call, widening fetches only the
missing stretch, failures are never free, and many fetchers (through Redis) keep one limit.

Everything runs against the Feishu simulator over loopback and a real redis-server.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis_server import redis_server

from slotfinder.fetch import Fetcher, RetryPolicy
from slotfinder.fetch.store import Store, fetch_through
from slotfinder.model import Span
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, Secret, Target
from slotfinder.testing import get_simulators, simkit

START = 1_795_392_000  # 2026-11-23T00:00:00+08:00
DAY = 86_400
pytestmark = pytest.mark.timeout(120)


def _provider() -> HttpProvider:
    provider = get_providers()["feishu"]
    assert isinstance(provider, HttpProvider)
    return provider


class Sim:
    """A Feishu simulator on loopback, its app (for stats) and a config pointing at it."""

    def __init__(self, app: Any, url: str, config: dict[str, Any], people: list[str]) -> None:
        self.app, self.url, self.config, self.people = app, url, config, people

    @property
    def stats(self) -> Any:
        from slotfinder_feishu.simulator import STATS

        return self.app[STATS]


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    from slotfinder_feishu.simulator import TENANT

    simulator = get_simulators()["feishu"]
    app = simulator.app(seed=7, users=200)
    async with simkit.running(app) as url:
        settings = simulator.demo(url, seed=7).config
        config = {k: Secret(v) if "secret" in k else v for k, v in settings.items()}
        people = [p.open_id for p in app[TENANT].people]
        yield Sim(app, url, config, people)


async def _fetch(
    store: Store, sim: Sim, ids: list[str], window: Span, *, refresh: bool = False
) -> tuple[list[Any], Fetcher]:
    async with aiohttp.ClientSession() as session:
        fetcher = store.fetcher(Fetcher(session, policy=RetryPolicy(base=0.0)))
        got = await fetch_through(
            store,
            fetcher,
            _provider(),
            [Target(i) for i in ids],
            window,
            config=sim.config,
            refresh=refresh,
        )
    return got, fetcher


def _calls(fetcher: Fetcher) -> int:
    return sum(fetcher.stats.calls.values())


async def test_a_repeat_query_makes_no_call(sim: Sim) -> None:
    """The same people and window again, within the freshness limit: no call, same answer."""
    store = Store(cache=_memory())
    window = Span(START, START + 20 * DAY)
    first, f1 = await _fetch(store, sim, sim.people[:20], window)
    again, f2 = await _fetch(store, sim, sim.people[:20], window)
    assert _calls(f1) > 0
    assert _calls(f2) == 0
    assert [a.busy for a in again] == [a.busy for a in first]
    assert all(a.known and a.covered == window for a in again)


async def test_widening_the_window_fetches_only_the_missing_stretch(sim: Sim) -> None:
    """Cached for 14 days, asked for 28: one batch call per ten people, for the later 14."""
    store = Store(cache=_memory())
    ids = sim.people[:30]
    await _fetch(store, sim, ids, Span(START, START + 14 * DAY))
    wide = Span(START, START + 28 * DAY)
    got, fetcher = await _fetch(store, sim, ids, wide)
    assert fetcher.stats.calls == {"feishu/freebusy/batch": math.ceil(30 / 10)}
    fresh, _ = await _fetch(Store(cache=None), sim, ids, wide)
    assert [a.busy for a in got] == [a.busy for a in fresh]


async def test_a_failure_is_kept_as_a_reason_never_as_free_time(sim: Sim) -> None:
    """An id the tenant does not know is unknown, and stays unknown (no call) while its
    failure is kept; its neighbours are read and cached as usual."""
    store = Store(cache=_memory())
    window = Span(START, START + 7 * DAY)
    ids = [*sim.people[:3], "ou_nobody"]
    first, _ = await _fetch(store, sim, ids, window)
    by_id = {a.id: a for a in first}
    assert not by_id["feishu:ou_nobody"].known
    again, fetcher = await _fetch(store, sim, ids, window)
    assert _calls(fetcher) == 0
    missing = {a.id: a for a in again}["feishu:ou_nobody"]
    assert not missing.known
    assert missing.error == by_id["feishu:ou_nobody"].error


async def test_refresh_reads_the_calendars_again(sim: Sim) -> None:
    """``refresh`` ignores what is cached for these ids."""
    store = Store(cache=_memory())
    window = Span(START, START + 7 * DAY)
    await _fetch(store, sim, sim.people[:5], window)
    _, fetcher = await _fetch(store, sim, sim.people[:5], window, refresh=True)
    assert _calls(fetcher) == 1


async def test_the_sqlite_cache_serves_a_later_run(sim: Sim, tmp_path: Path) -> None:
    """A second store on the same file (as the next command-line run opens) makes no call."""
    path = tmp_path / "busy.sqlite"
    window = Span(START, START + 7 * DAY)
    first_store = Store.sqlite(str(path))
    first, f1 = await _fetch(first_store, sim, sim.people[:12], window)
    assert first_store.cache is not None
    await first_store.cache.close()
    second = Store.sqlite(str(path))
    again, f2 = await _fetch(second, sim, sim.people[:12], window)
    assert (_calls(f1), _calls(f2)) == (2, 0)
    assert [a.busy for a in again] == [a.busy for a in first]
    assert path.stat().st_mode & 0o077 == 0  # the owner's only


async def test_redis_workers_share_one_limit_one_token_and_the_cache(sim: Sim) -> None:
    """Four fetchers, each with its own Redis client (as four workers have), fetching 50
    people each over 40 days at once: 60 calls, more than the app's 50 a second, and no
    rate-limit reply; one token request among them; a fifth fetch of the same is free."""
    from slotfinder import shared

    window = Span(START, START + 40 * DAY)
    with redis_server() as (url, _):
        stores = [Store.redis(url) for _ in range(4)]
        # Store.redis reuses one client per loop; a worker has its own: give each its own.
        stores = [
            Store(
                cache=shared.RedisCache(c),
                limiter_for=shared.RedisLimiters(c),
                tokens=shared.RedisTokens(c),
            )
            for c in (shared.connect(url) for _ in stores)
        ]
        results = await asyncio.wait_for(
            asyncio.gather(
                *(
                    _fetch(store, sim, sim.people[i * 50 : (i + 1) * 50], window)
                    for i, store in enumerate(stores)
                )
            ),
            60,
        )
        fetchers = [f for _, f in results]
        assert all(a.known for got, _ in results for a in got)
        assert sum(_calls(f) for f in fetchers) == 60
        assert sum(f.stats.rate_limited for f in fetchers) == 0
        assert sim.stats.rate_limited == 0
        assert sum(f.stats.token_requests for f in fetchers) == 1
        _, later = await _fetch(stores[0], sim, sim.people[:200], window)
        assert _calls(later) == 0
        for store in stores:
            assert store.cache is not None
            await store.cache.close()


async def test_when_redis_goes_away_calls_stop_and_ids_are_unknown(sim: Sim) -> None:
    """Redis killed mid-fetch: no exception escapes, no rate-limit reply is drawn, every id
    is either read or unknown with a reason naming the shared limit; none is free."""
    from slotfinder import shared

    window = Span(START, START + 40 * DAY)
    with redis_server() as (url, process):
        client = shared.connect(url)
        store = Store(cache=None, limiter_for=shared.RedisLimiters(client), tokens=_local())
        seen = 0

        def progress(p: Any) -> None:
            nonlocal seen
            seen = p.calls_done
            if seen == 5:
                process.kill()

        async with aiohttp.ClientSession() as session:
            fetcher = store.fetcher(
                Fetcher(session, policy=RetryPolicy(base=0.0), progress=progress)
            )
            got = await asyncio.wait_for(
                fetch_through(
                    store,
                    fetcher,
                    _provider(),
                    [Target(i) for i in sim.people[:200]],
                    window,
                    config=sim.config,
                ),
                60,
            )
        await client.aclose()
    unknown = [a for a in got if not a.known]
    assert unknown, "the fetch went on without its shared limit"
    assert all("shared rate limit unavailable" in (a.error or "") for a in unknown)
    assert sim.stats.rate_limited == 0


@pytest.mark.parametrize("lease", [0.6, None])
async def test_a_dead_workers_places_free_a_lease_later_a_live_ones_stay_held(
    lease: float | None,
) -> None:
    """One place a window: a worker that dies holding it (no release, no renewal) frees it a
    lease plus a window later; a live worker's call longer than the lease keeps it (a short
    lease, and the default one)."""
    from slotfinder import shared

    lease = lease or shared.LEASE

    async def within(task: asyncio.Task[str], seconds: float) -> bool:
        """Whether ``task`` finished within ``seconds`` (left running otherwise)."""
        done, _ = await asyncio.wait({task}, timeout=seconds)
        return task in done

    with redis_server() as (url, _):
        clients = [shared.connect(url) for _ in range(4)]
        live, other, dead, waiter = (
            shared.RedisLimiter(c, scope, [(1, 0.2)], lease=lease)
            for c, scope in zip(clients, ["test:app"] * 2 + ["test:dead"] * 2, strict=True)
        )
        member = await live.acquire()
        second = asyncio.ensure_future(other.acquire())
        assert not await within(second, 2 * lease)  # the lease was renewed meanwhile
        await live.release(member)
        assert await within(second, 5.0)
        await other.release(second.result())

        await dead.acquire()
        assert dead._renewing is not None
        dead._renewing.cancel()  # the worker is gone: nobody renews its lease
        third = asyncio.ensure_future(waiter.acquire())
        assert await within(third, 2 * lease + 3.0)
        await waiter.release(third.result())
        for c in clients:
            await asyncio.wait_for(c.aclose(), 5.0)


async def test_a_waiter_behind_calls_in_flight_asks_redis_a_few_times_a_window() -> None:
    """Every place held by a call in flight: the waiting worker looks again a few times a
    window, not continually, and still takes the place a window after the release."""
    from slotfinder import shared

    async def scripts(client: Any) -> int:
        stats = await client.info("commandstats")
        return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_eval"))

    with redis_server() as (url, _):
        clients = [shared.connect(url) for _ in range(3)]
        holder, waiter = (shared.RedisLimiter(c, "test:poll", [(1, 0.8)]) for c in clients[:2])
        member = await holder.acquire()
        before = await scripts(clients[2])
        second = asyncio.ensure_future(waiter.acquire())
        await asyncio.sleep(1.6)  # two windows with the only place in flight
        assert not second.done()
        assert await scripts(clients[2]) - before <= 12  # a look every 10 ms made ~150
        await holder.release(member)
        await asyncio.wait_for(second, 5.0)
        await waiter.release(second.result())
        for c in clients:
            await asyncio.wait_for(c.aclose(), 5.0)


async def test_a_worker_dying_with_the_token_lock_leaves_the_token_to_another() -> None:
    """The lock taken by a worker that then died (just after this one began waiting) expires,
    and this worker obtains the token instead of giving up."""
    from slotfinder import shared
    from slotfinder.providers import Token

    key = ("feishu", "app", "secret")
    lock = f"{shared.PREFIX}:token:{shared.scope_key(key[0], key[1:])}:lock"

    async def obtain() -> Token:
        return Token("fresh", 7200.0)

    with redis_server() as (url, _):
        client = shared.connect(url)
        tokens = shared.RedisTokens(client, wait=0.5)
        await client.set(lock, "dead worker", px=800)
        assert await asyncio.wait_for(tokens.get(key, obtain), 10) == "fresh"
        await client.aclose()


def _memory() -> Any:
    from slotfinder.cache import MemoryCache

    return MemoryCache()


def _local() -> Any:
    from slotfinder.fetch.tokens import TokenCache

    return TokenCache()


async def test_the_command_line_keeps_busy_time_between_runs(sim: Sim, tmp_path: Path) -> None:
    """A second `suggest` run makes no call; --refresh reads again; --no-cache keeps nothing."""
    import io
    import json as jsonlib

    from slotfinder import cli

    config = tmp_path / "slotfinder.toml"
    lines = ['tz = "Asia/Shanghai"', "[providers.feishu]"]
    lines += [
        f'{k} = "{v.reveal() if isinstance(v, Secret) else v}"' for k, v in sim.config.items()
    ]
    config.write_text("\n".join(lines) + "\n")
    argv = [
        "suggest", "--config", str(config), "--attendee", *[f"feishu:{p}" for p in sim.people[:3]],
        "--start", "2026-11-23T00:00:00+08:00", "--end", "2026-11-25T00:00:00+08:00",
        "--duration", "30m", "--format", "json",
    ]  # fmt: skip

    def run(*extra: str) -> int:
        out = io.StringIO()
        assert cli.main([*argv, *extra], out=out) == 0
        return sum(jsonlib.loads(out.getvalue())["calls"].values())

    first = await asyncio.to_thread(run)
    assert first > 0
    assert await asyncio.to_thread(run) == 0
    assert await asyncio.to_thread(run, "--refresh") == first
    assert await asyncio.to_thread(run, "--no-cache") == first
