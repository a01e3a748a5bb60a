"""Fetch throughput against the Feishu and DingTalk simulators: calls, wall time, 429s, memory.

Run: ``.venv/bin/python benchmarks/fetch.py [--quick | --minute] [--repeats R] [--only NAMES]
[--concurrency N] [--margin M]``. It prints tables and ratios; it never asserts on time.

Set-up. Each simulator runs in its own process (so its CPU work and allocations do not disturb
the client's timing or memory figures), on 127.0.0.1, with its real rate limits on (Feishu:
50 calls/s and 1000 calls/min per API; DingTalk: 20 calls/s per API) and every reply delayed by
``--latency`` ± ``--jitter`` seconds (default 80 ± 20 ms) by the simulators' latency option.
The client is the real :class:`slotfinder.fetch.Fetcher` with the library's default
:class:`~slotfinder.fetch.RetryPolicy` (``--margin`` overrides its limiter margin), and the
providers' own ``Limits.concurrency`` unless ``--concurrency`` overrides it. Its parse helper
process (:data:`slotfinder.fetch.HELPER`) is started once, before the first scenario, as a
long-lived application has it after its first large reply; the time that takes is printed.

Each scenario runs ``--repeats`` times (default 5), each time against new simulator processes
(clean server-side windows, the same seed); the table shows the run with the median
wall/floor and, under ``range``, the lowest and highest. The short scenarios take ~0.1 s and
are bound by the client's CPU (a 220 KB reply is several ms of Python), and these small virtual
machines change speed by 2x from one minute to the next: a single run says little. The
parsers' memos stay warm from one repeat to the next, as in a long-lived process. Before each
timed run the benchmark's own objects (the tenants kept for the correctness check) are frozen
out of the garbage collector's view (:func:`gc.freeze`): an application does not hold them.

Scenarios (window: 90 days; ``--quick``: smaller counts for a CI smoke run):

* 500 Feishu users; 500 DingTalk users;
* 50 rooms on DingTalk (meetingRooms/schedules/query) and 50 rooms on Feishu (freebusy/list
  with ``room_id``), each on its own;
* mixed: Feishu users and rooms plus DingTalk users and rooms in one fetch (one Fetcher, both
  providers concurrently, as ``suggest`` does), then the engine over everything;
* ``--minute`` instead: 1500 Feishu users, 1050 calls, past the 1000-a-minute window (each run
  lasts over a minute, so ``--repeats 1`` is the usual choice; no memory run).

Columns.

* ``calls`` data calls sent (``FetchStats.calls``, retries included) and ``min`` the fewest
  calls that cover the request (:func:`slotfinder.plan.min_calls` per kind of id).
* ``wall`` seconds from the first data call to the last reply, with the token already cached
  and the connection pool open (as in a long-lived process; ``token ms`` and ``pool ms`` are
  what fetching the token and opening ``Limits.concurrency`` connections cost cold).
* Floors use the delays the simulator actually dealt each call (it records them in arrival
  order, ``SimStats.delays``; its own work is part of each delay, not added to it): with
  ± 20 ms of jitter the slowest of ten parallel calls takes ~96 ms, so a floor built on the
  nominal 80 ms would be out of any client's reach. ``nominal`` is that older floor, shown
  for comparison.
* ``rate floor``: for a sliding window of ``C`` calls per ``S`` seconds, ``n`` calls need
  ``k = ceil(n / C)`` windows; the last ``m = n - (k - 1) * C`` arrivals cannot arrive before
  ``(k - 1) * S`` and then take their own delays (the slowest of them, or their total over
  the connections, whichever is more). Taken over every window of every budget (calls grouped
  by URL path, as the server keeps them: Feishu's freebusy/list serves users and rooms from
  one budget), and over a provider-wide window in ``Limits.rate`` on the provider's total;
  in a mixed run the providers run concurrently: the largest wins.
* ``lat floor``: the slowest call, or all delays spread over ``Limits.concurrency``
  connections, whichever is more; the largest over the providers.
* ``wall/floor``: wall time over the larger floor. Target per scenario (its last row): calls
  = min, wall/floor <= 1.15, no rate-limit replies. The per-provider rows of the mixed run
  are shown for detail (``part``): there both providers share one client CPU.
* ``429 cli`` rate-limit replies the fetcher saw (``FetchStats.rate_limited``); ``429 sim``
  the ones the simulator sent (``SimStats.rate_limited``: real limits and injected faults).
* ``cli cpu s`` CPU seconds of this process during the timed fetch; ``helper cpu s`` those of
  the parse helper process (``/proc``, 10 ms ticks), and ``helper jobs`` the replies it parsed.
* ``peak MiB``: ``tracemalloc`` peak of the client process during the fetch (allocations of
  the fetch only; started after the token warm-up). That run parses every reply in this
  process (no helper), so the peak includes all the parsing.
* ``check``: availability of a sample of ids equals the simulator's ground truth (the tenant),
  and no id is unknown.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import multiprocessing as mp
import os
import random
import sys
import time
import tracemalloc
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import attrs
import numpy as np
from slotfinder_dingtalk import DingTalkProvider, DingTalkSimulator
from slotfinder_dingtalk.simulator import STATS as DT_STATS
from slotfinder_dingtalk.simulator import TENANT as DT_TENANT
from slotfinder_feishu import FeishuProvider, FeishuSimulator
from slotfinder_feishu import simulator as feishu_simulator
from slotfinder_feishu.provider import BATCH
from slotfinder_feishu.simulator import STATS as FS_STATS
from slotfinder_feishu.simulator import TENANT as FS_TENANT
from slotfinder_feishu.tenant import FeishuTenant

from slotfinder.engine import find_slots
from slotfinder.fetch import HELPER, Fetcher, FetchStats, RetryPolicy, TokenCache, merge_rows
from slotfinder.model import DAY, Attendee, Availability, BusyTable, MeetingRequest, Span, Status
from slotfinder.plan import min_calls
from slotfinder.providers import (
    HttpProvider,
    HttpRequest,
    HttpResponse,
    Kind,
    Limits,
    ProviderConfig,
    RateWindow,
    Secret,
    Target,
)
from slotfinder.testing import simkit

T0 = 1_795_564_800  # 2026-11-25T00:00:00Z
SEED = 11
SAMPLE = 40
"""Ids per provider and kind checked against the ground truth."""

BUSY, TENTATIVE = Status.BUSY.code, Status.TENTATIVE.code
_FEISHU_RSVP = {"accept": BUSY, "tentative": TENTATIVE, "needs_action": TENTATIVE}


# --- scenarios ------------------------------------------------------------------------------


@attrs.frozen
class Part:
    """One provider's share of a scenario: how many users and rooms it is asked about."""

    provider: str
    users: int = 0
    rooms: int = 0


@attrs.frozen
class Scenario:
    name: str
    parts: tuple[Part, ...]
    days: int = 90
    memory: bool = True
    """Also measure peak memory (an untimed second run after the server's windows empty)."""


def scenarios(quick: bool, minute: bool = False) -> list[Scenario]:
    if minute:
        # 1500 users x 90 days = 1050 batch calls: more than Feishu's 1000 a minute, so the
        # minute window, not the 50/s one, sets the floor (~61 s). No memory run: it would
        # first have to wait out the server's minute.
        return [Scenario("feishu 1500 users x 90 d", (Part("feishu", users=1500),), memory=False)]
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


# --- simulators in their own processes --------------------------------------------------------


def _tenant_size(part: Part) -> tuple[int, int]:
    return max(part.users, 240), max(part.rooms, 12)


def _serve(
    name: str, seed: int, options: dict[str, Any], warm: tuple[int, int, int, int], conn: Any
) -> None:
    """Child process: serve one simulator; answer "stats" with its SimStats until "stop".

    The tenant's calendars are computed once before serving (``warm``: users, rooms, window),
    so the simulator's own CPU time per reply stays small next to the configured latency.
    """
    sim: Any = FeishuSimulator() if name == "feishu" else DingTalkSimulator()
    app = sim.app(seed, **options)
    key = FS_STATS if name == "feishu" else DT_STATS
    tenant = app[FS_TENANT if name == "feishu" else DT_TENANT]
    users, rooms, start, end = warm
    ids = [p.open_id if name == "feishu" else p.union_id for p in tenant.people[:users]]
    room_ids = [r.room_id for r in tenant.rooms[:rooms]]
    rooms_set = set(room_ids)
    for i in ids + room_ids:
        if name == "dingtalk":
            tenant.warm(i, start, end)  # events and their encoded items
        elif i in rooms_set:
            feishu_simulator.warm(tenant, i, start, end)  # one list call each: encoded items
        else:
            tenant.events(i, start, end)  # batch calls come in 14-day chunks: events only

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with simkit.running(app) as url:
            conn.send(url)
            while await loop.run_in_executor(None, conn.recv) == "stats":
                conn.send(attrs.asdict(app[key]))

    asyncio.run(main())


class SimProcess:
    """A simulator served by a child process; ``stats()`` asks it for its SimStats."""

    def __init__(self, name: str, part: Part, latency: float, jitter: float, window: Span) -> None:
        users, rooms = _tenant_size(part)
        options = {"latency": latency, "jitter": jitter, "users": users, "rooms": rooms}
        warm = (part.users, part.rooms, window.start, window.end)
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(
            target=_serve, args=(name, SEED, options, warm, child), daemon=True
        )
        self.process.start()
        if not self.conn.poll(60):
            self.process.kill()
            raise RuntimeError(f"the {name} simulator did not start")
        self.url: str = self.conn.recv()

    def stats(self) -> dict[str, Any]:
        self.conn.send("stats")
        if not self.conn.poll(30):
            raise RuntimeError("the simulator did not report its statistics")
        stats: dict[str, Any] = self.conn.recv()
        return stats

    def stop(self) -> None:
        if self.process.is_alive():
            self.conn.send("stop")
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)


# --- providers, ids, ground truth -------------------------------------------------------------


class Tuned:
    """A provider with another ``Limits.concurrency`` (``--concurrency``); all else delegated."""

    def __init__(self, inner: HttpProvider, concurrency: int) -> None:
        self._inner = inner
        self._concurrency = concurrency
        self.name = inner.name
        self.description = inner.description
        self.config_keys = inner.config_keys

    def limits(self, config: ProviderConfig) -> Limits:
        return attrs.evolve(self._inner.limits(config), concurrency=self._concurrency)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)


@attrs.define
class Side:
    """Everything about one provider in one scenario run."""

    part: Part
    provider: HttpProvider
    config: dict[str, Any]
    targets: list[Target]
    truth: Any
    wall: float = 0.0
    token_ms: float = 0.0
    pool_ms: float = 0.0
    result: list[Availability] = attrs.field(factory=list)


def _side(part: Part, url: str, concurrency: int | None) -> Side:
    users, rooms = _tenant_size(part)
    provider: Any
    if part.provider == "feishu":
        tenant: Any = FeishuSimulator().tenant(SEED, users=users, rooms=rooms)
        provider = FeishuProvider()
        config: dict[str, Any] = {
            "base_url": url,
            "app_id": tenant.app_id,
            "app_secret": Secret(tenant.app_secret),
            "user_id_type": "open_id",
        }
        targets = [Target(p.open_id, "user", p.zone) for p in tenant.people[: part.users]]
    else:
        tenant = DingTalkSimulator().tenant(SEED, users=users, rooms=rooms)
        provider = DingTalkProvider()
        config = {
            "base_url": url,
            "app_key": tenant.app_key,
            "app_secret": Secret(tenant.app_secret),
            "operator_union_id": tenant.operator,
        }
        targets = [Target(p.union_id, "user", p.zone) for p in tenant.people[: part.users]]
    targets += [Target(r.room_id, "room", r.zone) for r in tenant.rooms[: part.rooms]]
    if concurrency is not None:
        provider = Tuned(provider, concurrency)
    return Side(part, provider, config, targets, tenant)


def _truth_rows(side: Side, target: Target, endpoint: str, window: Span) -> BusyTable:
    """What a correct fetch returns for ``target``: the tenant's blocking events, merged."""
    tenant = side.truth
    if isinstance(tenant, FeishuTenant):
        events = tenant.ground_truth(target.id, window.start, window.end)
        # freebusy/batch carries no rsvp_status: every blocking event reads as busy there.
        rows = [
            (e.start, e.end, BUSY if endpoint == BATCH else _FEISHU_RSVP[e.rsvp]) for e in events
        ]
    else:
        rows = tenant.truth(target.id, window.start, window.end)
    return merge_rows([np.asarray(rows, dtype=np.int64).reshape(-1, 3)])


def _rows(t: BusyTable) -> list[tuple[int, int, int]]:
    return sorted(zip(t.starts.tolist(), t.ends.tolist(), t.status.tolist(), strict=True))


def _same(a: BusyTable, b: BusyTable) -> bool:
    return _rows(a) == _rows(b)


def _diff(a: BusyTable, b: BusyTable) -> list[tuple[int, int, int]]:
    other = set(_rows(b))
    return [r for r in _rows(a) if r not in other]


def check(side: Side, window: Span) -> tuple[int, int, int]:
    """(ids checked, mismatches, unknown ids) over a seeded sample of users and rooms."""
    calls = side.provider.plan(side.targets, window, side.config)
    endpoint_of = {i: c.endpoint for c in calls for i in c.ids}
    by_id = {a.id.partition(":")[2]: a for a in side.result}
    unknown = sum(1 for a in side.result if not a.known)
    rng = random.Random(SEED)
    sample: list[Target] = []
    for kind in ("user", "room"):
        pool = [t for t in side.targets if t.kind == kind]
        sample += rng.sample(pool, min(SAMPLE, len(pool)))
    bad = 0
    for t in sample:
        got = by_id[t.id]
        want = _truth_rows(side, t, endpoint_of[t.id], window)
        if not got.known or not _same(got.busy, want):
            if not bad:
                print(
                    f"  MISMATCH {side.part.provider}:{t.id} ({endpoint_of[t.id]}): "
                    f"error={got.error!r}; only fetched {_diff(got.busy, want)[:3]}; "
                    f"only in truth {_diff(want, got.busy)[:3]}",
                    file=sys.stderr,
                )
            bad += 1
    return len(sample), bad, unknown


# --- floors ---------------------------------------------------------------------------------


def window_floor(n: int, calls: int, seconds: float) -> float:
    """Least time ``n`` calls take under "``calls`` per ``seconds``" (sliding window)."""
    return max(0, math.ceil(n / calls) - 1) * seconds if n else 0.0


def rate_floor(limits: Limits, calls: Mapping[str, int]) -> float:
    """Largest floor over the endpoints' windows, and the provider-wide windows on the total."""
    floors = [0.0]
    for e in limits.endpoints:
        n = calls.get(e.name, 0)
        floors += [window_floor(n, w.calls, w.seconds) for w in e.rate]
    total = sum(calls.values())
    floors += [window_floor(total, w.calls, w.seconds) for w in limits.rate]
    return max(floors)


def latency_floor(limits: Limits, calls: int, latency: float) -> float:
    return math.ceil(calls / max(1, limits.concurrency)) * latency


def busy_floor(delays: Sequence[float], concurrency: int) -> float:
    """Least time calls with these server delays take with ``concurrency`` in flight: the
    slowest one, and their total spread over the connections."""
    if not delays:
        return 0.0
    return max(*delays, sum(delays) / max(1, concurrency))


def dealt_rate_floor(delays: Sequence[float], windows: Sequence[RateWindow], conc: int) -> float:
    """Rate floor with the delays the calls were dealt (in arrival order): for a window of
    ``C`` calls per ``S`` s, the last ``m = n - (k - 1) * C`` arrivals (``k = ceil(n / C)``)
    cannot arrive before ``(k - 1) * S``, and then take their own delays."""
    n, out = len(delays), 0.0
    for w in windows:
        k = math.ceil(n / w.calls) if n else 0
        if k <= 1:
            continue
        m = n - (k - 1) * w.calls
        out = max(out, (k - 1) * w.seconds + busy_floor(delays[n - m :], conc))
    return out


def dealt_floors(
    side: Side, limits: Limits, delays: Sequence[tuple[str, float]], window: Span
) -> tuple[float, float]:
    """(rate floor, latency floor) of one provider from the delays its simulator dealt.

    Calls are grouped by URL path, which is how a server keeps its budgets (Feishu's
    freebusy/list serves users and rooms from one budget); the token path is left out.
    """
    one_per_endpoint = {
        c.endpoint: c for c in side.provider.plan(side.targets, window, side.config)
    }
    paths: dict[str, Sequence[RateWindow]] = {}
    for endpoint, call in one_per_endpoint.items():
        request = side.provider.build(call, "token", side.config)
        paths[urlsplit(request.url).path] = limits.endpoint(endpoint).rate
    data = [(p, d) for p, d in delays if p in paths]
    conc = limits.concurrency
    rate = max(
        [dealt_rate_floor([d for q, d in data if q == p], w, conc) for p, w in paths.items()]
        + [dealt_rate_floor([d for _, d in data], limits.rate, conc)]
    )
    return rate, busy_floor([d for _, d in data], conc)


def least_calls(side: Side, window: Span) -> int:
    limits = side.provider.limits(side.config)
    out = 0
    kinds: tuple[tuple[Kind, int], ...] = (("user", side.part.users), ("room", side.part.rooms))
    for kind, n in kinds:
        if n:
            out += min_calls(n, kind, window, limits)
    return out


# --- running --------------------------------------------------------------------------------


async def _warm_token(
    session: aiohttp.ClientSession, side: Side, tokens: TokenCache, policy: RetryPolicy
) -> None:
    async def send(request: HttpRequest) -> HttpResponse:
        async with session.request(
            request.method, request.url, headers=dict(request.headers), data=request.body
        ) as reply:
            body = await reply.read()
            return HttpResponse(
                reply.status, {k.lower(): v for k, v in reply.headers.items()}, body
            )

    started = time.perf_counter()
    await tokens.get(
        side.provider, side.config, fetch=send, stats=FetchStats(), policy=policy,
        rng=random.Random(0),
    )  # fmt: skip
    side.token_ms = (time.perf_counter() - started) * 1000


async def _warm_pool(session: aiohttp.ClientSession, side: Side) -> None:
    """Open ``Limits.concurrency`` connections to the simulator, as a long-lived session has
    them after its first fetch (aiohttp keeps them alive), and time it (``pool ms``): opening
    50 loopback connections at once costs tens of ms of CPU on both sides, a start-up cost
    the wall time of a short run would otherwise mostly measure. The requests go to a path the
    simulator does not serve (404), so they count against no rate limit."""

    async def touch() -> None:
        async with session.get(side.config["base_url"] + "/warm-up") as reply:
            await reply.read()

    started = time.perf_counter()
    conc = side.provider.limits(side.config).concurrency
    await asyncio.wait_for(asyncio.gather(*(touch() for _ in range(conc))), 30)
    side.pool_ms = (time.perf_counter() - started) * 1000


async def _warm_helper() -> float:
    """Have the parse helper process up before timing (a long-lived application starts it
    once, at its first large reply or in its warm-up): ms it took to get it ready."""
    started = time.perf_counter()
    if not await HELPER.ready():
        raise RuntimeError("the parse helper process did not start")
    return (time.perf_counter() - started) * 1000


@attrs.frozen
class Cpu:
    """CPU seconds of a timed fetch: this process, and the parse helper process."""

    client: float
    helper: float
    jobs: int


def _helper_cpu() -> float:
    """CPU seconds the parse helper process has used so far (Linux ``/proc``; -1 elsewhere)."""
    pid = HELPER.pid
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(
    sides: Sequence[Side], window: Span, policy: RetryPolicy, trace: bool
) -> tuple[Fetcher, float, Cpu, int]:
    """Fetch every side concurrently through one Fetcher: (fetcher, wall, CPU seconds,
    tracemalloc peak).

    With ``trace`` the fetch runs under tracemalloc, which slows the client's parsing several
    times over: such a run is for the memory figure only, never for the wall time. It parses
    every reply in this process (no helper), so the peak counts all of the fetch's memory.
    """
    tokens = TokenCache()
    await _warm_helper()
    async with aiohttp.ClientSession() as session:
        for side in sides:
            await _warm_token(session, side, tokens, policy)
            await _warm_pool(session, side)
        helper = None if trace else HELPER
        fetcher = Fetcher(session, policy=policy, tokens=tokens, seed=0, helper=helper)

        async def one(side: Side) -> None:
            started = time.perf_counter()
            side.result = await fetcher.fetch(side.provider, side.targets, window, side.config)
            side.wall = time.perf_counter() - started

        # This process also holds the tenants (for the correctness check) and earlier runs'
        # results: objects an application does not have. Freeze them out of the collector's
        # view, so a collection during the fetch costs what the fetch's own objects cost.
        gc.collect()
        gc.freeze()
        if trace:
            tracemalloc.start()
        jobs, helper_cpu = HELPER.jobs, _helper_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        try:
            await asyncio.wait_for(asyncio.gather(*(one(s) for s in sides)), 600)
        finally:
            gc.unfreeze()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        used = Cpu(cpu, _helper_cpu() - helper_cpu, HELPER.jobs - jobs)
        peak = 0
        if trace:
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
    return fetcher, wall, used, peak


def _calls_of(stats: Mapping[str, int], provider: str) -> dict[str, int]:
    prefix = f"{provider}/"
    return {k[len(prefix) :]: v for k, v in stats.items() if k.startswith(prefix)}


def engine_seconds(sides: Sequence[Side], window: Span) -> tuple[float, int]:
    """Time ``find_slots`` over everything fetched: a 30-minute meeting, users optional
    (hundreds of required people share no free slot), one of the rooms needed."""
    avails = [a for s in sides for a in s.result]
    rooms = {f"{s.part.provider}:{t.id}" for s in sides for t in s.targets if t.kind == "room"}
    zone = {f"{s.part.provider}:{t.id}": t.zone for s in sides for t in s.targets}
    people = [a.id for a in avails if a.id not in rooms]
    request = MeetingRequest(
        attendees=[Attendee(people[0], zone=zone[people[0]])]
        + [Attendee(i, optional=True, zone=zone[i]) for i in people[1:]],
        rooms=[Attendee(r, zone=zone[r]) for r in sorted(rooms)],
        window=window,
        duration=1800,
        zone="Asia/Shanghai",
        now=window.start,
    )
    started = time.perf_counter()
    result = find_slots(avails, request)
    return time.perf_counter() - started, len(result.slots)


@attrs.frozen
class Row:
    scenario: str
    provider: str
    calls: int
    least: int
    wall: float
    cpu: float
    helper_cpu: float
    helper_jobs: int
    rate: float
    latency: float
    nominal: float
    limited_client: int
    limited_sim: int
    retries: int
    token_ms: float
    pool_ms: float
    peak: float
    checked: str
    concurrency: int

    @property
    def floor(self) -> float:
        return max(self.rate, self.latency)

    part: bool = False
    spread: str = "-"
    """Lowest and highest wall/floor over the repeated runs."""
    """One provider's share of a mixed scenario: detail, judged as part of the whole."""

    @property
    def ok(self) -> bool:
        ratio_ok = self.wall <= 1.15 * self.floor if self.floor > 0 else True
        return self.calls == self.least and ratio_ok and self.limited_sim == 0


def scenario_rows(
    sc: Scenario,
    latency: float,
    jitter: float,
    policy: RetryPolicy,
    concurrency: int | None,
    *,
    repeats: int,
) -> tuple[list[Row], str]:
    """Run ``sc`` ``repeats`` times, each against new simulator processes (clean server-side
    windows, the same seed, so much the same delays); show the run with the median
    wall/floor, and the spread of all runs. The last run also measures memory."""
    runs = [
        scenario_once(
            sc, latency, jitter, policy, concurrency, memory=sc.memory and i == repeats - 1
        )
        for i in range(repeats)
    ]
    ratios = [rows[-1].wall / rows[-1].floor if rows[-1].floor else 0.0 for rows, _ in runs]
    order = sorted(range(len(runs)), key=ratios.__getitem__)
    rows, note = runs[order[len(order) // 2]]
    peak = runs[-1][0][-1].peak
    spread = f"{min(ratios):.2f}-{max(ratios):.2f}" if len(runs) > 1 else "-"
    rows[-1] = attrs.evolve(rows[-1], peak=peak, spread=spread)
    return rows, note


def scenario_once(
    sc: Scenario,
    latency: float,
    jitter: float,
    policy: RetryPolicy,
    concurrency: int | None,
    *,
    memory: bool,
) -> tuple[list[Row], str]:
    window = Span(T0, T0 + sc.days * DAY)
    procs: list[SimProcess] = []
    peak = -(2**20)
    try:
        for part in sc.parts:
            procs.append(SimProcess(part.provider, part, latency, jitter, window))
        sides = [_side(p, proc.url, concurrency) for p, proc in zip(sc.parts, procs, strict=True)]
        fetcher, wall, cpu, _ = asyncio.run(run(sides, window, policy, trace=False))
        sim_stats = [proc.stats() for proc in procs]
        if memory:
            # A second, untimed run measures memory; first let every per-second window empty.
            time.sleep(1.5)
            memory_sides = [attrs.evolve(s, result=[]) for s in sides]
            _, _, _, peak = asyncio.run(run(memory_sides, window, policy, trace=True))
    finally:
        for proc in procs:
            proc.stop()
    rows: list[Row] = []
    note = ""
    totals: dict[str, float] = {"rate": 0.0, "latency": 0.0, "nominal": 0.0}
    for side, simstats in zip(sides, sim_stats, strict=True):
        limits = side.provider.limits(side.config)
        calls = _calls_of(fetcher.stats.calls, side.part.provider)
        planned = _calls_of(fetcher.stats.planned, side.part.provider)
        n = sum(calls.values())
        checked, bad, unknown = check(side, window)
        # Nominal: every call takes the nominal latency, so the last one ends that much after
        # the moment the rate limit lets it start. Dealt: the delays the simulator drew.
        nominal = max(
            rate_floor(limits, planned) + latency,
            latency_floor(limits, sum(planned.values()), latency),
        )
        rate, lat = dealt_floors(side, limits, simstats["delays"], window)
        totals["rate"] = max(totals["rate"], rate)
        totals["latency"] = max(totals["latency"], lat)
        totals["nominal"] = max(totals["nominal"], nominal)
        rows.append(
            Row(
                scenario=sc.name,
                provider=_label(side.part),
                calls=n,
                least=least_calls(side, window),
                wall=side.wall,
                cpu=-1,
                helper_cpu=-1,
                helper_jobs=-1,
                rate=rate,
                latency=lat,
                nominal=nominal,
                limited_client=-1,
                limited_sim=int(simstats["rate_limited"]),
                retries=-1,
                token_ms=side.token_ms,
                pool_ms=side.pool_ms,
                peak=-1,
                checked=f"{checked - bad}/{checked}" + (f" unk {unknown}" if unknown else ""),
                concurrency=limits.concurrency,
                part=len(sc.parts) > 1,
            )
        )
    total = Row(
        scenario=sc.name,
        provider="all" if len(rows) > 1 else rows[0].provider,
        calls=sum(r.calls for r in rows),
        least=sum(r.least for r in rows),
        wall=wall,
        cpu=cpu.client,
        helper_cpu=cpu.helper,
        helper_jobs=cpu.jobs,
        rate=totals["rate"],
        latency=totals["latency"],
        nominal=totals["nominal"],
        limited_client=fetcher.stats.rate_limited,
        limited_sim=sum(r.limited_sim for r in rows),
        retries=fetcher.stats.retries,
        token_ms=max(r.token_ms for r in rows),
        pool_ms=max(r.pool_ms for r in rows),
        peak=peak / 2**20,
        checked=" ".join(r.checked for r in rows) if len(rows) > 1 else rows[0].checked,
        concurrency=max(r.concurrency for r in rows),
    )
    if len(rows) > 1:
        seconds, slots = engine_seconds(sides, window)
        note = (
            f"  {sc.name}: engine find_slots over {sum(len(s.result) for s in sides)} ids took "
            f"{seconds * 1000:.0f} ms ({slots} slots); calls by endpoint "
            f"{dict(sorted(fetcher.stats.calls.items()))}"
        )
        return [*rows, total], note
    return [total], f"  {sc.name}: calls by endpoint {dict(sorted(fetcher.stats.calls.items()))}"


def _label(part: Part) -> str:
    bits = [
        f"{part.users} users" if part.users else "",
        f"{part.rooms} rooms" if part.rooms else "",
    ]
    return f"{part.provider} " + " + ".join(b for b in bits if b)


def _cell(value: float, fmt: str) -> str:
    return "-" if value < 0 else format(value, fmt)


def table(rows: Sequence[Row]) -> str:
    head = (
        "scenario", "part", "conc", "calls", "min", "wall s", "cli cpu s", "helper cpu s",
        "helper jobs", "rate floor",
        "lat floor", "wall/floor", "range", "nominal", "wall/nom", "429 cli", "429 sim", "retries",
        "token ms", "pool ms", "peak MiB", "check", "target",
    )  # fmt: skip
    lines = [
        (
            r.scenario,
            r.provider,
            str(r.concurrency),
            str(r.calls),
            str(r.least),
            f"{r.wall:.2f}",
            _cell(r.cpu, ".2f"),
            _cell(r.helper_cpu, ".2f"),
            _cell(r.helper_jobs, "d"),
            f"{r.rate:.2f}",
            f"{r.latency:.2f}",
            f"{r.wall / r.floor:.2f}" if r.floor else "-",
            r.spread,
            f"{r.nominal:.2f}",
            f"{r.wall / r.nominal:.2f}" if r.nominal else "-",
            _cell(r.limited_client, "d"),
            str(r.limited_sim),
            _cell(r.retries, "d"),
            f"{r.token_ms:.0f}",
            f"{r.pool_ms:.0f}",
            _cell(r.peak, ".1f"),
            r.checked,
            "part" if r.part else "ok" if r.ok else "MISS",
        )
        for r in rows
    ]
    widths = [max(len(x) for x in col) for col in zip(head, *lines, strict=True)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small scenarios (CI smoke)")
    parser.add_argument(
        "--minute",
        action="store_true",
        help="only 1500 Feishu users: 1050 calls, so the 1000/min window binds (~65 s a run)",
    )
    parser.add_argument("--latency", type=float, default=0.08, help="seconds per reply")
    parser.add_argument("--jitter", type=float, default=0.02, help="± seconds per reply")
    parser.add_argument("--concurrency", type=int, help="override every Limits.concurrency")
    parser.add_argument("--margin", type=float, help="RetryPolicy.margin for the limiter")
    parser.add_argument(
        "--repeats", type=int, default=5, help="runs per scenario (median shown; default 5)"
    )
    parser.add_argument(
        "--only", help="run only scenarios whose name contains one of these (comma-separated)"
    )
    args = parser.parse_args(argv)
    policy = RetryPolicy() if args.margin is None else RetryPolicy(margin=args.margin)
    print(
        f"slotfinder fetch benchmark: latency {args.latency * 1000:.0f} ± "
        f"{args.jitter * 1000:.0f} ms, limiter margin {policy.margin:g} (+20 ms), "
        f"concurrency {args.concurrency or 'per provider'}, python {sys.version.split()[0]}"
    )
    print(f"parse helper process ready in {asyncio.run(_warm_helper()):.0f} ms (once per process)")
    rows: list[Row] = []
    notes: list[str] = []
    for sc in scenarios(args.quick, args.minute):
        if args.only and not any(o in sc.name for o in args.only.split(",")):
            continue
        got, note = scenario_rows(
            sc, args.latency, args.jitter, policy, args.concurrency, repeats=args.repeats
        )
        rows += got
        notes.append(note)
        print(f"  done: {sc.name}", file=sys.stderr, flush=True)
    print()
    print(table(rows))
    print()
    print("\n".join(notes))
    print(
        "\nFloors use the delays the simulator dealt each call (SimStats.delays). rate floor ="
        "\n  max over windows (C calls / S s) of (k - 1) * S + the time the last m = n - (k-1)*C"
        "\n  arrivals need (k = ceil(n / C)), per budget (URL path) and provider-wide; lat floor"
        "\n  = max(slowest call, sum of delays / concurrency). nominal = the older floor, on a"
        "\n  flat 80 ms a call. range = lowest-highest wall/floor over the repeats. target"
        "\n  (a scenario's last row): calls = min, wall/floor <= 1.15, no 429s. check = sampled"
        "\n  ids equal to the tenant's truth. wall excludes the cold start (token ms + pool"
        "\n  ms), as in a long-lived process."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
