"""Fetch against the Feishu and DingTalk simulators: calls, rate-limit replies, wall time.

Run: ``.venv/bin/python benchmarks/fetch.py [--quick | --minute] [--repeats R] [--only NAMES]
[--latency S] [--jitter S]``. It prints a table; it never asserts on time.

Set-up. The plugins' simulators run in child processes on 127.0.0.1, one process per provider
(``multiprocessing``, spawned), as the real services run on other machines: this process holds
only the client, so ``wall s`` and ``cpu s`` are the client's. Each simulator keeps its real
rate limits (Feishu: 50 calls/s and 1000 calls/min per API; DingTalk: 20 calls/s per API) and
delays every reply by ``--latency`` ± ``--jitter`` seconds (default 80 ± 20 ms) by its latency
option. Its tenant draws each person's and room's days the first time they are asked for and
keeps them (the service's stored calendars); the scenario's window is asked for once before the
clock starts, as a real service has its calendars before anyone asks. The client is the real
:class:`slotfinder.fetch.Fetcher` with the default :class:`RetryPolicy`, one per run (cold: its
first act is the token request, and :mod:`slotfinder.times` has read no text yet). Each
scenario runs ``--repeats`` times (default 3) against fresh simulators; the table shows the run
with the median wall/floor and the range.

Columns.

* ``calls`` data calls sent (retries included); ``min`` the fewest calls that cover the request
  (:func:`slotfinder.plan.min_calls` per kind of id).
* ``429 cli`` rate-limit replies the fetcher saw; ``429 sim`` those the simulators sent.
* ``wall s`` seconds for the whole fetch, token request included.
* ``floor s``: one round trip for the token, then the larger of the rate floor and the latency
  floor. Rate floor: for ``n`` calls under "``C`` calls per ``S`` s", the last call cannot start
  before ``(ceil(n / C) - 1) * S``, and then takes a round trip; taken over every window of
  every rate group (endpoints sharing one budget count together) and the provider-wide windows.
  Latency floor: ``ceil(n / concurrency)`` round trips. In a mixed run the providers run
  concurrently: the larger floor wins.
* ``cpu s`` CPU seconds of this process (the client) during the fetch; ``sim s`` CPU seconds
  of the simulator processes over the same time, summed. The client does not share its core
  with them unless the machine has fewer cores than processes.
* ``check``: a sample of ids equals the simulated tenant's ground truth, none unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import random
import sys
import time
from collections.abc import Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import attrs
import numpy as np

from slotfinder import times
from slotfinder.fetch import Fetcher, RetryPolicy, merge_rows
from slotfinder.model import DAY, Availability, BusyTable, Span, Status
from slotfinder.plan import min_calls, plan_calls
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, Kind, Limits, Secret, Target
from slotfinder.testing import get_simulators, simkit

T0 = 1_795_564_800  # 2026-11-25T00:00:00Z
SEED = 11
SAMPLE = 40
"""Ids per provider and kind checked against the ground truth."""

BUSY, TENTATIVE = Status.BUSY.code, Status.TENTATIVE.code
_FEISHU_RSVP = {"accept": BUSY, "tentative": TENTATIVE, "needs_action": Status.UNANSWERED.code}


@attrs.frozen
class Part:
    """One provider's share of a scenario: how many users and rooms it is asked about."""

    provider: str
    users: int = 0
    rooms: int = 0

    @property
    def label(self) -> str:
        bits = [f"{self.users} users"] if self.users else []
        bits += [f"{self.rooms} rooms"] if self.rooms else []
        return f"{self.provider} " + " + ".join(bits)


@attrs.frozen
class Scenario:
    name: str
    parts: tuple[Part, ...]
    days: int = 90


def scenarios(quick: bool, minute: bool) -> list[Scenario]:
    if minute:  # 1050 batch calls: Feishu's 1000-a-minute window sets the floor (~61 s)
        return [Scenario("feishu 1500 users x 90 d", (Part("feishu", users=1500),))]
    if quick:
        return [
            Scenario("feishu 50 users x 30 d", (Part("feishu", users=50),), 30),
            Scenario("dingtalk 60 users x 30 d", (Part("dingtalk", users=60),), 30),
            Scenario("dingtalk 10 rooms x 30 d", (Part("dingtalk", rooms=10),), 30),
            Scenario("feishu 10 rooms x 30 d", (Part("feishu", rooms=10),), 30),
            Scenario(
                "mixed x 30 d",
                (Part("feishu", users=25, rooms=5), Part("dingtalk", users=25, rooms=5)),
                30,
            ),
        ]
    return [
        Scenario("feishu 500 users x 90 d", (Part("feishu", users=500),)),
        Scenario("dingtalk 500 users x 90 d", (Part("dingtalk", users=500),)),
        Scenario("dingtalk 50 rooms x 90 d", (Part("dingtalk", rooms=50),)),
        Scenario("feishu 50 rooms x 90 d", (Part("feishu", rooms=50),)),
        Scenario(
            "mixed x 90 d",
            (Part("feishu", users=255, rooms=50), Part("dingtalk", users=250, rooms=50)),
        ),
    ]


@attrs.define
class Side:
    """One provider in one run: its tenant (ground truth), what is asked, and what came back."""

    part: Part
    tenant: Any
    provider: HttpProvider
    config: dict[str, Any]
    targets: list[Target]
    result: list[Availability] = attrs.field(factory=list)


def _size(part: Part) -> dict[str, int]:
    """The simulated tenant's size: the scenario's ids plus the simulator's usual others."""
    return {"users": max(part.users, 240), "rooms": max(part.rooms, 12)}


def _ids(tenant: Any, part: Part) -> tuple[list[str], list[str]]:
    """The user and room ids a part asks about: the tenant's first people and rooms."""
    people = tenant.people[: part.users]
    users = [p.open_id if part.provider == "feishu" else p.union_id for p in people]
    return users, [r.room_id for r in tenant.rooms[: part.rooms]]


def _side(part: Part, url: str) -> Side:
    sim: Any = get_simulators()[part.provider]
    provider = get_providers()[part.provider]
    assert isinstance(provider, HttpProvider)
    demo = sim.demo(url, seed=SEED).config
    config = {k: Secret(v) if "secret" in k else v for k, v in demo.items()}
    # The same seed and size give the same organisation as the simulator process serves.
    tenant = sim.tenant(SEED, **_size(part))
    people, rooms = tenant.people[: part.users], tenant.rooms[: part.rooms]
    users, room_ids = _ids(tenant, part)
    targets = [Target(i, "user", p.zone) for i, p in zip(users, people, strict=True)]
    targets += [Target(i, "room", r.zone) for i, r in zip(room_ids, rooms, strict=True)]
    return Side(part, tenant, provider, config, targets)


# --- the simulator processes ------------------------------------------------------------------


def _serve(conn: Connection, part: Part, window: Span, latency: float, jitter: float) -> None:
    """A simulator process: serve ``part``'s provider until told to stop, then report."""
    asyncio.run(_serving(conn, part, window, latency, jitter))


async def _serving(
    conn: Connection, part: Part, window: Span, latency: float, jitter: float
) -> None:
    sim = get_simulators()[part.provider]
    app = sim.app(seed=SEED, latency=latency, jitter=jitter, **_size(part))
    tenant: Any
    if part.provider == "feishu":
        from slotfinder_feishu.simulator import STATS as FEISHU_STATS
        from slotfinder_feishu.simulator import TENANT as FEISHU_TENANT

        tenant, stats = app[FEISHU_TENANT], app[FEISHU_STATS]
    else:
        from slotfinder_dingtalk.simulator import STATS as DINGTALK_STATS
        from slotfinder_dingtalk.simulator import TENANT as DINGTALK_TENANT

        tenant, stats = app[DINGTALK_TENANT], app[DINGTALK_STATS]
    users, rooms = _ids(tenant, part)
    for key in users + rooms:  # the service's calendars exist before anyone asks
        tenant.events(key, window.start, window.end)
    loop = asyncio.get_running_loop()
    async with simkit.running(app) as url:
        conn.send(url)
        await loop.run_in_executor(None, conn.recv)  # the client starts
        cpu = time.process_time()
        await loop.run_in_executor(None, conn.recv)  # the client is done
        conn.send((time.process_time() - cpu, stats.rate_limited))


@attrs.frozen
class Server:
    """A simulator process as the client sees it: its URL and the pipe to it."""

    url: str
    conn: Connection


@contextlib.contextmanager
def simulators(
    parts: Sequence[Part], window: Span, latency: float, jitter: float
) -> Iterator[list[Server]]:
    """One fresh simulator process per part, stopped on exit whatever happens."""
    ctx = multiprocessing.get_context("spawn")
    procs: list[Any] = []
    try:
        servers = []
        for part in parts:
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(
                target=_serve, args=(theirs, part, window, latency, jitter), daemon=True
            )
            proc.start()
            theirs.close()  # a simulator that dies closes the pipe: recv() raises EOFError
            procs.append(proc)
            servers.append(Server("", mine))
        for n, server in enumerate(servers):
            if not server.conn.poll(120):
                raise RuntimeError(f"simulator for {parts[n].provider} did not start")
            servers[n] = attrs.evolve(server, url=server.conn.recv())
        yield servers
    finally:
        for proc in procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join()


# --- correctness ------------------------------------------------------------------------------


def _rows(t: BusyTable) -> list[tuple[int, int, int]]:
    return sorted(zip(t.starts.tolist(), t.ends.tolist(), t.status.tolist(), strict=True))


def _truth(side: Side, target: Target, endpoint: str, window: Span) -> BusyTable:
    tenant = side.tenant
    if side.part.provider == "feishu":
        events = tenant.ground_truth(target.id, window.start, window.end)
        # freebusy/batch carries no rsvp_status: every blocking event reads as busy there.
        batch = endpoint == "freebusy/batch"
        rows = [(e.start, e.end, BUSY if batch else _FEISHU_RSVP[e.rsvp]) for e in events]
    else:
        rows = tenant.truth(target.id, window.start, window.end)
    return merge_rows([np.asarray(rows, dtype=np.int64).reshape(-1, 3)])


def check(side: Side, window: Span) -> str:
    """``right/checked`` over a seeded sample of users and rooms, and unknown ids if any."""
    limits = side.provider.limits(side.config)
    endpoint_of = {i: c.endpoint for c in plan_calls(side.targets, window, limits) for i in c.ids}
    by_id = {a.id.partition(":")[2]: a for a in side.result}
    unknown = sum(1 for a in side.result if not a.known)
    rng = random.Random(SEED)
    sample: list[Target] = []
    for kind in ("user", "room"):
        pool = [t for t in side.targets if t.kind == kind]
        sample += rng.sample(pool, min(SAMPLE, len(pool)))
    right = 0
    for t in sample:
        got = by_id[t.id]
        want = _truth(side, t, endpoint_of[t.id], window)
        if got.known and _rows(got.busy) == _rows(want):
            right += 1
        else:
            print(f"  MISMATCH {side.part.provider}:{t.id}: {got.error!r}", file=sys.stderr)
    return f"{right}/{len(sample)}" + (f" unk {unknown}" if unknown else "")


# --- floors -----------------------------------------------------------------------------------


def rate_floor(limits: Limits, calls: dict[str, int]) -> float:
    """When the last call may start: the largest over every rate group's windows, and over the
    provider-wide windows on the total."""
    groups: dict[str, int] = {}
    windows = {}
    for e in limits.endpoints:
        groups[e.limiter_key] = groups.get(e.limiter_key, 0) + calls.get(e.name, 0)
        windows[e.limiter_key] = e.rate
    budgets = [(groups[g], windows[g]) for g in groups]
    budgets.append((sum(calls.values()), limits.rate))
    return max(
        [0.0] + [(math.ceil(n / w.calls) - 1) * w.seconds for n, ws in budgets if n for w in ws]
    )


def floor(limits: Limits, calls: dict[str, int], latency: float) -> float:
    n = sum(calls.values())
    waves = math.ceil(n / max(1, limits.concurrency))
    return latency + max(rate_floor(limits, calls) + latency, waves * latency)


# --- running ----------------------------------------------------------------------------------


@attrs.frozen
class Row:
    scenario: str
    part: str
    calls: int
    least: int
    limited_client: int
    limited_sim: int
    retries: int
    wall: float
    floor: float
    checked: str
    cpu: float = -1.0
    sim: float = -1.0
    spread: str = "-"

    @property
    def ratio(self) -> float:
        return self.wall / self.floor if self.floor else 0.0


def _calls_of(stats: dict[str, int], provider: str) -> dict[str, int]:
    prefix = f"{provider}/"
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def _least(side: Side, window: Span) -> int:
    limits = side.provider.limits(side.config)
    kinds: tuple[tuple[Kind, int], ...] = (("user", side.part.users), ("room", side.part.rooms))
    return sum(min_calls(n, kind, window, limits) for kind, n in kinds if n)


async def _fetch(sides: Sequence[Side], window: Span) -> tuple[Fetcher, float, float]:
    """Every side's fetch, concurrently, with one fetcher: it, wall seconds and CPU seconds."""
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, policy=RetryPolicy(), seed=0)

        async def one(side: Side) -> None:
            side.result = await fetcher.fetch(side.provider, side.targets, window, side.config)

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.wait_for(asyncio.gather(*(one(s) for s in sides)), 600)
        return fetcher, time.perf_counter() - started, time.process_time() - cpu


def run_once(sc: Scenario, latency: float, jitter: float) -> list[Row]:
    """One run of ``sc`` against fresh simulators: a row per provider, then the total."""
    window = Span(T0, T0 + sc.days * DAY)
    times._read.cache_clear()  # every run reads its times as a fresh process would
    with simulators(sc.parts, window, latency, jitter) as servers:
        sides = [_side(part, server.url) for part, server in zip(sc.parts, servers, strict=True)]
        for server in servers:
            server.conn.send("go")
        fetcher, wall, cpu = asyncio.run(_fetch(sides, window))
        for server in servers:
            server.conn.send("stop")
        reports: list[tuple[float, int]] = [server.conn.recv() for server in servers]
    sim_cpu = sum(r[0] for r in reports)
    rows = []
    for side, (_, limited) in zip(sides, reports, strict=True):
        calls = _calls_of(fetcher.stats.calls, side.part.provider)
        rows.append(
            Row(
                scenario=sc.name,
                part=side.part.label,
                calls=sum(calls.values()),
                least=_least(side, window),
                limited_client=-1,
                limited_sim=limited,
                retries=-1,
                wall=wall,
                floor=floor(side.provider.limits(side.config), calls, latency),
                checked=check(side, window),
            )
        )
    if len(rows) == 1:
        only = rows[0]
        return [
            attrs.evolve(
                only,
                limited_client=fetcher.stats.rate_limited,
                retries=fetcher.stats.retries,
                cpu=cpu,
                sim=sim_cpu,
            )
        ]
    total = Row(
        scenario=sc.name,
        part="all",
        calls=sum(r.calls for r in rows),
        least=sum(r.least for r in rows),
        limited_client=fetcher.stats.rate_limited,
        limited_sim=sum(r.limited_sim for r in rows),
        retries=fetcher.stats.retries,
        wall=wall,
        floor=max(r.floor for r in rows),
        checked=" ".join(r.checked for r in rows),
        cpu=cpu,
        sim=sim_cpu,
    )
    return [*rows, total]


def run_scenario(sc: Scenario, latency: float, jitter: float, repeats: int) -> list[Row]:
    """``repeats`` runs; the one with the median wall/floor, with the range of all."""
    runs = [run_once(sc, latency, jitter) for _ in range(repeats)]
    runs.sort(key=lambda rows: rows[-1].ratio)
    rows = runs[len(runs) // 2]
    if len(runs) > 1:
        spread = f"{runs[0][-1].ratio:.2f}-{runs[-1][-1].ratio:.2f}"
        rows[-1] = attrs.evolve(rows[-1], spread=spread)
    return rows


def _cell(value: int) -> str:
    return "-" if value < 0 else str(value)


def table(rows: Sequence[Row]) -> str:
    head = (
        "scenario", "part", "calls", "min", "429 cli", "429 sim", "retries", "wall s",
        "floor s", "wall/floor", "range", "cpu s", "sim s", "check",
    )  # fmt: skip
    lines = [
        (
            r.scenario,
            r.part,
            str(r.calls),
            str(r.least),
            _cell(r.limited_client),
            str(r.limited_sim),
            _cell(r.retries),
            f"{r.wall:.2f}",
            f"{r.floor:.2f}",
            f"{r.ratio:.2f}",
            r.spread,
            "-" if r.cpu < 0 else f"{r.cpu:.2f}",
            "-" if r.sim < 0 else f"{r.sim:.2f}",
            r.checked,
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small scenarios (CI smoke)")
    parser.add_argument("--minute", action="store_true", help="1500 Feishu users (~65 s a run)")
    parser.add_argument("--latency", type=float, default=0.08, help="seconds per reply")
    parser.add_argument("--jitter", type=float, default=0.02, help="± seconds per reply")
    parser.add_argument("--repeats", type=int, default=3, help="runs per scenario (median shown)")
    parser.add_argument("--only", help="only scenarios whose name contains one of these (a,b)")
    args = parser.parse_args(argv)
    print(
        f"slotfinder fetch benchmark: latency {args.latency * 1000:.0f} ± "
        f"{args.jitter * 1000:.0f} ms, python {sys.version.split()[0]}"
    )
    rows: list[Row] = []
    for sc in scenarios(args.quick, args.minute):
        if args.only and not any(o in sc.name for o in args.only.split(",")):
            continue
        rows += run_scenario(sc, args.latency, args.jitter, max(1, args.repeats))
        print(f"  done: {sc.name}", file=sys.stderr, flush=True)
    print()
    print(table(rows))
    print(
        "\nfloor = one round trip (token) + max(rate floor + one round trip, round trips in"
        "\n  waves of Limits.concurrency); rate floor = (ceil(n / C) - 1) * S over every window"
        "\n  of every rate group and the provider-wide windows, at the nominal latency."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
