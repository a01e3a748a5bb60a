"""Many requests, one app: concurrent ``suggest`` calls and worker processes against one limit.

An application answers many "find a time" requests for one Feishu tenant at once, from one
process or several. The app's limit (50 calls/s and 1000/min) is the simulator's, counted over
all its clients, so every call any worker makes counts against it. Scenarios, each fetching
125 users over 90 days per request, four requests at a time:

* ``4 suggest, 1 process``: four concurrent ``await slotfinder.suggest`` in one process
  (the embedded default: one limiter and one token per app, in memory);
* ``4 workers, Redis``: four processes sharing the windows, token and cache through Redis;
* ``4 workers, one killed``: the same, worker 0 killed mid-run and its request run again by a
  fresh worker (the cache keeps every call that had completed);
* ``again, Redis``: the four requests once more, within the cache's freshness limit.

The simulator runs in its own process (as the service runs on its own machine) with 80 ms of
latency. Printed per scenario: calls against the minimum plan, rate-limit replies the
simulator sent, wall time, and the rate floor of those calls (what the busiest API's windows
allow, plus the token's round trip and the last call's), with the ratio.

Run: ``.venv/bin/python benchmarks/shared.py`` (needs redis-server on PATH for the Redis rows).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing as mp
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED = 3
USERS = 500
PER_REQUEST = 125
DAYS = 90
LATENCY = 0.08
START = 1_795_392_000  # 2026-11-23T00:00:00+08:00
RATE = ((50, 1.0), (1000, 60.0))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _simulator(port: int, ready: Any, stop: Any, stats: Any, report: Any) -> None:
    """The Feishu simulator, serving until ``stop``; its counts go to ``stats`` whenever
    ``report`` is set."""
    from slotfinder_feishu.simulator import STATS

    from slotfinder.testing import get_simulators, simkit

    async def serve() -> None:
        app = get_simulators()["feishu"].app(seed=SEED, users=USERS, latency=LATENCY)
        async with simkit.running(app, port=port):
            ready.set()
            while not stop.is_set():
                if report.is_set():
                    s = app[STATS]
                    stats.put({"calls": dict(s.calls), "rate_limited": s.rate_limited})
                    report.clear()
                await asyncio.sleep(0.01)

    asyncio.run(serve())


@contextlib.contextmanager
def simulator() -> Iterator[tuple[str, Any]]:
    """A simulator process; yields its URL and a function returning its counts so far."""
    ctx = mp.get_context("spawn")
    port = _free_port()
    ready, stop, stats, report = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Event()
    process = ctx.Process(target=_simulator, args=(port, ready, stop, stats, report), daemon=True)
    process.start()
    if not ready.wait(60):
        raise RuntimeError("simulator did not start")
    try:
        yield f"http://127.0.0.1:{port}", (report, stats)
    finally:
        stop.set()
        process.join(10)


def counts(handle: Any) -> tuple[dict[str, int], int]:
    """The simulator's calls per API (counted on arrival) and rate-limit replies so far.

    The user and room variants of ``freebusy/list`` are one API with one budget.
    """
    report, stats = handle
    report.set()
    got = stats.get(timeout=30)
    apis: dict[str, int] = {}
    for endpoint, n in got["calls"].items():
        api = endpoint.split(":")[0]
        apis[api] = apis.get(api, 0) + n
    return apis, int(got["rate_limited"])


def since(now: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {api: n - before.get(api, 0) for api, n in now.items()}


@contextlib.contextmanager
def redis() -> Iterator[str | None]:
    binary = shutil.which("redis-server")
    if binary is None:
        yield None
        return
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def _config(url: str) -> Any:
    from slotfinder.config import Config
    from slotfinder.testing import get_simulators

    tenant = get_simulators()["feishu"].demo(url, seed=SEED)
    return Config.from_mapping(
        {"tz": "Asia/Shanghai", "providers": {"feishu": dict(tenant.config)}}
    )


def _people(url: str) -> list[str]:
    from slotfinder_feishu.tenant import FeishuTenant

    return [f"feishu:{p.open_id}" for p in FeishuTenant(SEED, users=USERS).people]


def _request(ids: list[str]) -> Any:
    from slotfinder.model import Attendee, MeetingRequest, Span

    return MeetingRequest(
        attendees=tuple(Attendee(id=i) for i in ids),
        window=Span(START, START + DAYS * 86_400),
        duration=1800,
        zone="Asia/Shanghai",
        quorum=0.5,
    )


async def _suggest(config: Any, ids: list[str], store: Any) -> dict[str, int]:
    import slotfinder

    result = await slotfinder.suggest(_request(ids), config=config, store=store, lookahead=0)
    unknown = len(result.unknown)
    return {"calls": sum(result.calls.values()), "unknown": unknown}


def _worker(  # noqa: PLR0917 (a process target)
    url: str, ids: list[str], redis_url: str, go: Any, out: Any, name: str
) -> None:
    """A worker process: imports, settings and store first, then one request when ``go`` is
    set (a pool's workers are up before requests come, as ``serve`` makes its store when it
    starts)."""
    from slotfinder.fetch.store import Store

    config, store = _config(url), Store.redis(redis_url)
    go.wait()
    out.put({**asyncio.run(_suggest(config, ids, store)), "name": name})


def _min_calls(n_requests: int) -> int:
    from slotfinder.model import Span
    from slotfinder.plan import min_calls
    from slotfinder.plugins import get_providers

    provider = get_providers()["feishu"]
    limits = provider.limits({})  # type: ignore[union-attr]
    window = Span(START, START + DAYS * 86_400)
    return n_requests * min_calls(PER_REQUEST, "user", window, limits)


def floor(calls: dict[str, int]) -> float:
    """Seconds the windows need for ``calls`` (per API) from a standing start, plus the
    token's round trip and the last call's.

    Each API has its own windows (the simulator's and Feishu's limits are per API), so the
    floor is the busiest API's, not the total's as if every call shared one budget.
    """
    need = -1.0
    for n in calls.values():
        for limit, seconds in RATE:
            if n:
                need = max(need, math.ceil(n / limit - 1) * seconds)
    return need + 2 * LATENCY if need >= 0 else 0.0


def _row(  # noqa: PLR0917 (one table row)
    name: str, calls: dict[str, int], minimum: int, limited: int, wall: float, unknown: int
) -> str:
    fl = floor(calls)
    ratio = f"{wall / fl:.2f}" if fl else "-"
    return (
        f"{name:<24} | {sum(calls.values()):>5} | {minimum:>5} | {limited:>3} | {unknown:>7} | "
        f"{wall:>6.2f} | {fl:>6.2f} | {ratio:>10}"
    )


def in_process(url: str, people: list[str]) -> tuple[int, float]:
    import slotfinder.api  # noqa: F401  (an application has loaded it before requests come)
    from slotfinder.fetch.store import Store

    config, store = _config(url), Store.local(cache=False)

    async def run() -> list[dict[str, int]]:
        return await asyncio.gather(
            *(
                _suggest(config, people[i * PER_REQUEST : (i + 1) * PER_REQUEST], store)
                for i in range(4)
            )
        )

    started = time.monotonic()
    results = asyncio.run(run())
    return sum(r["unknown"] for r in results), time.monotonic() - started


def workers(
    url: str, people: list[str], redis_url: str, *, kill_after: float | None = None
) -> tuple[int, float]:
    """Four worker processes, one request each; with ``kill_after``, worker 0 is killed that
    many seconds in and a standby worker runs its request again."""
    ctx = mp.get_context("fork")
    out: Any = ctx.Queue()
    go, standby_go = ctx.Event(), ctx.Event()
    jobs = [people[i * PER_REQUEST : (i + 1) * PER_REQUEST] for i in range(4)]
    procs = [
        ctx.Process(target=_worker, args=(url, job, redis_url, go, out, f"worker {i}"))
        for i, job in enumerate(jobs)
    ]
    standby = ctx.Process(
        target=_worker, args=(url, jobs[0], redis_url, standby_go, out, "standby")
    )
    for p in [*procs, standby]:
        p.start()
    time.sleep(3)  # every worker has imported and is waiting
    started = time.monotonic()
    go.set()
    if kill_after is not None:
        time.sleep(kill_after)
        os.kill(procs[0].pid or 0, signal.SIGKILL)
        procs[0].join()
        standby_go.set()
        procs[0] = standby
    else:
        standby.kill()
    results = [out.get(timeout=300) for _ in procs]
    wall = time.monotonic() - started
    for p in procs:
        p.join()
    if kill_after is not None:
        names = {r["name"]: r["calls"] for r in results}
        done = "after it had finished" if "worker 0" in names else "mid-run"
        print(f"  (worker 0 killed {done}; the standby made {names.get('standby', 0)} calls)")
    return sum(r["unknown"] for r in results), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--kill-after", type=float, default=2.0, help="seconds before the kill")
    args = parser.parse_args()
    minimum = _min_calls(4)
    print(
        f"Feishu: 4 requests x {PER_REQUEST} users x {DAYS} days; simulator in its own "
        f"process, {LATENCY * 1000:.0f} ms latency; limits 50/s and 1000/min per app\n"
    )
    head = (
        "scenario                 | calls |   min | 429 | unknown | wall s | floor s | wall/floor"
    )
    print(head)
    print("-" * len(head))
    people = _people("")
    with simulator() as (url, handle):
        unknown, wall = in_process(url, people)
        calls, limited = counts(handle)
    print(_row("4 suggest, 1 process", calls, minimum, limited, wall, unknown))
    with redis() as redis_url:
        if redis_url is None:
            print("(redis-server not found: the Redis rows are skipped)")
            return
        with simulator() as (url, handle):
            unknown, wall = workers(url, people, redis_url)
            calls, limited = counts(handle)
        print(_row("4 workers, Redis", calls, minimum, limited, wall, unknown))
    with redis() as redis_url:
        assert redis_url is not None
        with simulator() as (url, handle):
            unknown, wall = workers(url, people, redis_url, kill_after=args.kill_after)
            first, first_limited = counts(handle)
            name = f"4 workers, 1 killed@{args.kill_after:g}s"
            print(_row(name, first, minimum, first_limited, wall, unknown))
            extra = sum(first.values()) - minimum
            if extra:
                print(
                    f"  ({extra:+d} calls against the minimum: calls in flight "
                    "when worker 0 died lost their replies with it and were made again)"
                )
            unknown, wall = workers(url, people, redis_url)
            second, second_limited = counts(handle)
            made = since(second, first)
            limited = second_limited - first_limited
            print(_row("again, Redis (cached)", made, 0, limited, wall, unknown))


if __name__ == "__main__":
    main()
