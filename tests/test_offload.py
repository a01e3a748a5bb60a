"""The parse helper process: jobs and their failures, and the fetcher's use of it.

The helper is a real child process talking over real pipes; each test starts its own and stops
it. Jobs are module-level functions of this file, which the helper imports by name.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from slotfinder_dingtalk.provider import DingTalkProvider
from slotfinder_dingtalk.simulator import TENANT, DingTalkSimulator

import slotfinder.fetch
from slotfinder import offload, simkit
from slotfinder.fetch import Fetcher, RetryPolicy, TokenCache
from slotfinder.model import DAY, Span
from slotfinder.offload import Helper, OffloadFailed
from slotfinder.providers import (
    Call,
    CallResult,
    HttpResponse,
    ProviderConfig,
    RetryLater,
    Secret,
    Target,
)

pytestmark = pytest.mark.timeout(120)

T0 = 1_795_564_800  # 2026-11-25T00:00:00Z


class NeedsTwo(Exception):
    """An exception pickle cannot rebuild (its ``__init__`` wants two arguments)."""

    def __init__(self, a: str, b: int) -> None:
        super().__init__(f"{a}{b}")


def double(x: int) -> int:
    return 2 * x


def pid() -> int:
    return os.getpid()


def rate_limited(reason: str) -> None:
    raise RetryLater(reason, after=3.0, rate_limited=True)


def needs_two() -> None:
    raise NeedsTwo("a", 1)


def a_function() -> Callable[[], int]:
    return lambda: 1


def noisy() -> str:
    print("stray output on stdout")
    logging.getLogger("slotfinder.test_offload").warning("from the helper: %d", 7)
    logging.getLogger("slotfinder.test_offload").debug("quiet detail")
    return "ok"


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@pytest.fixture
async def helper() -> AsyncIterator[Helper]:
    h = Helper()
    assert await h.ready(60)
    yield h
    h.close()


async def job(h: Helper, function: Callable[..., Any], *args: Any) -> Any:
    assert h.claim()
    return await asyncio.wait_for(h.run(function, *args), 60)


async def test_a_job_runs_in_another_process(helper: Helper) -> None:
    """The helper answers with the job's value, computed in a process that is not this one."""
    assert await job(helper, double, 21) == 42
    assert await job(helper, pid) != os.getpid()
    assert helper.jobs == 2


async def test_a_jobs_exception_comes_back_whole(helper: Helper) -> None:
    """A provider's steering exception keeps its type and its attributes."""
    with pytest.raises(RetryLater) as caught:
        await job(helper, rate_limited, "slow down")
    assert (caught.value.reason, caught.value.after, caught.value.rate_limited) == (
        "slow down",
        3.0,
        True,
    )


async def test_what_cannot_travel_is_refused_and_the_helper_goes_on(helper: Helper) -> None:
    """A job, a value or an exception that does not pickle raises OffloadFailed (the caller
    then runs the job itself); the same helper process takes the next job."""
    first = await job(helper, pid)
    with pytest.raises(OffloadFailed, match="job not picklable"):
        await job(helper, lambda: 1)
    with pytest.raises(OffloadFailed, match="answer not picklable"):
        await job(helper, a_function)
    with pytest.raises(OffloadFailed, match="answer not readable"):
        await job(helper, needs_two)
    assert await job(helper, pid) == first


async def test_logs_come_home_and_prints_do_not_break_frames(
    helper: Helper, caplog: pytest.LogCaptureFixture
) -> None:
    """A record logged in the helper reaches this process's loggers at their level; a print
    goes to stderr, not into the answer."""
    with caplog.at_level(logging.WARNING, logger="slotfinder.test_offload"):
        assert await job(helper, noisy) == "ok"
    messages = [r.getMessage() for r in caplog.records if r.name == "slotfinder.test_offload"]
    assert messages == ["from the helper: 7"]


async def test_jobs_beyond_the_depth_are_refused(helper: Helper) -> None:
    """``claim`` never waits: with ``depth`` jobs in the helper, the next caller is told no;
    the jobs in it are answered in order, each with its own answer."""
    assert helper.depth == 2
    assert helper.claim(1)
    assert not helper.claim(1)  # a caller may ask for an idle helper only
    assert helper.claim()
    assert not helper.claim()
    slow, fast = helper.run(sleep, 0.3), helper.run(double, 3)
    assert await asyncio.wait_for(asyncio.gather(slow, fast), 60) == [0.3, 6]
    assert helper.claim()
    assert await helper.run(double, 4) == 8


async def test_a_cancelled_job_is_dropped_not_mistaken(helper: Helper) -> None:
    """Cancelled, a job still runs in the helper; its answer is dropped when it comes, and the
    next job gets its own answer from the same helper process."""
    before = await job(helper, pid)
    assert helper.claim()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(helper.run(sleep, 0.5), 0.1)
    assert await job(helper, double, 5) == 10  # waited behind the cancelled job
    assert await job(helper, pid) == before


async def test_a_job_cancelled_with_its_loop_does_not_confuse_the_next_loop() -> None:
    """asyncio.run per call: a job left in the helper when its loop closed is answered later,
    on nobody's behalf; the next loop's job gets its own answer."""
    h = Helper()

    async def abandon() -> None:
        assert await h.ready(60)
        assert h.claim()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(h.run(sleep, 0.3), 0.05)

    await asyncio.to_thread(asyncio.run, abandon())
    try:
        assert await job(h, double, 21) == 42
    finally:
        h.close()


async def test_ctrl_c_is_the_parents_business(helper: Helper) -> None:
    """SIGINT (Ctrl-C reaches the whole process group) leaves the helper running: it ends when
    the parent closes its stdin, without a traceback of its own."""
    before = await job(helper, pid)
    os.kill(before, signal.SIGINT)
    await asyncio.sleep(0.2)
    assert await job(helper, pid) == before


def test_a_forked_child_starts_its_own_helper() -> None:
    """A process forked after the helper started must not write into the parent's pipe: the
    child drops what it inherited and starts a helper of its own; the parent's goes on."""
    h = Helper()

    async def pid_of_helper() -> int:
        assert await h.ready(60)
        return int(await job(h, pid))

    try:
        before = asyncio.run(pid_of_helper())
        child = os.fork()
        if child == 0:  # pragma: no cover - runs in the forked child
            code = 1
            try:
                own = asyncio.run(pid_of_helper())
                code = 0 if own not in (before, os.getpid()) and h.starts == 1 else 2
            finally:
                h.close()
                os._exit(code)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert asyncio.run(pid_of_helper()) == before
    finally:
        h.close()


async def test_a_dead_helper_fails_the_job_then_is_replaced(helper: Helper) -> None:
    """A helper killed from outside fails the job in hand with OffloadFailed."""
    process = helper._process
    assert process is not None
    process.kill()
    process.wait()
    with pytest.raises(OffloadFailed, match="stopped"):
        await job(helper, double, 1)
    assert await helper.ready(60)
    assert await job(helper, double, 1) == 2


async def test_a_helper_that_never_starts_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that exits at once is started MAX_STARTS times, then the helper stays off."""
    monkeypatch.setattr(offload, "_CHILD", "import sys; sys.exit(3)  # {path!r}")
    h = Helper()
    assert not await h.ready(30)
    assert not h.usable
    h.start()
    assert not h.claim()
    assert h.starts == offload.MAX_STARTS


async def test_the_operator_can_switch_the_helper_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLOTFINDER_PARSE_HELPER=0: no process is ever started, and every reply is parsed here."""
    monkeypatch.setenv(offload.ENV_SWITCH, "0")
    h = Helper()
    assert not h.usable
    assert not await h.ready(5)
    monkeypatch.setattr(slotfinder.fetch, "PARSE_IN_THREAD", 0)
    got = await fetch_rooms(h, DingTalkProvider(), n=2, days=7)
    assert h.starts == 0
    assert h.jobs == 0
    assert all(known for known, _, _ in got.values())


# --- the fetcher ------------------------------------------------------------------------------


class Unshippable(DingTalkProvider):
    """A provider holding something pickle refuses: it must be parsed in this process."""

    def __init__(self) -> None:
        self.lock = __import__("threading").Lock()
        self.parsed = 0

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        self.parsed += 1
        return super().parse(call, response, config)


async def fetch_rooms(
    helper: Helper | None, provider: DingTalkProvider, n: int = 10, days: int = 90
) -> dict[str, Any]:
    sim = DingTalkSimulator()
    app = sim.app(3)
    window = Span(T0, T0 + days * DAY)
    async with simkit.running(app) as base, aiohttp.ClientSession() as session:
        config: dict[str, Any] = dict(sim.demo(base, 3).config)
        config["app_secret"] = Secret(config["app_secret"])
        tenant = app[TENANT]
        targets = [Target(r.room_id, "room", r.zone) for r in tenant.rooms[:n]]
        fetcher = Fetcher(
            session, policy=RetryPolicy(base=0.0, timeout=10.0), tokens=TokenCache(), helper=helper
        )
        got = await asyncio.wait_for(fetcher.fetch(provider, targets, window, config), 60)
    return {a.id: (a.known, a.busy.starts.tolist(), a.busy.ends.tolist()) for a in got}


async def test_the_fetcher_hands_large_replies_to_the_helper(helper: Helper) -> None:
    """90 days of ten rooms come back as ~220 KB replies: the helper parses them, and the
    availability equals parsing everything in this process."""
    here = await fetch_rooms(None, DingTalkProvider())
    there = await fetch_rooms(helper, DingTalkProvider())
    assert helper.jobs > 0
    assert there == here
    assert all(known for known, _, _ in here.values())


async def test_a_provider_that_does_not_pickle_is_parsed_here(helper: Helper) -> None:
    """OffloadFailed is never an outcome: the reply is parsed in this process instead."""
    provider = Unshippable()
    got = await fetch_rooms(helper, provider)
    assert helper.jobs == 0
    assert provider.parsed == 2  # both replies, here
    assert got == await fetch_rooms(None, DingTalkProvider())


async def test_small_replies_never_start_the_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper is a process: it is started by the first large reply, not before."""
    h = Helper()
    monkeypatch.setattr(slotfinder.fetch, "PARSE_IN_THREAD", 10**9)
    await fetch_rooms(h, DingTalkProvider(), n=2, days=7)
    assert h.starts == 0
    monkeypatch.setattr(slotfinder.fetch, "PARSE_IN_THREAD", 0)
    await fetch_rooms(h, DingTalkProvider(), n=2, days=7)
    assert h.starts == 1
    h.close()
