"""The DingTalk provider through the real fetcher against the simulator on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import numpy as np
import pytest
from slotfinder_dingtalk.provider import ROOM_ENDPOINT, USER_ENDPOINT, DingTalkProvider
from slotfinder_dingtalk.simulator import STATS, TENANT, DingTalkSimulator
from slotfinder_dingtalk.tenant import Tenant

from slotfinder.fetch import Fetcher, RetryPolicy, TokenCache, merge_rows
from slotfinder.model import DAY, Availability, Span
from slotfinder.providers import Secret, Target
from slotfinder.testing import simkit

pytestmark = pytest.mark.timeout(90)

SIM = DingTalkSimulator()
PROVIDER = DingTalkProvider()
T0 = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
USERS = f"dingtalk/{USER_ENDPOINT}"
ROOMS = f"dingtalk/{ROOM_ENDPOINT}"


@asynccontextmanager
async def fetching(
    seed: int = 0, config: dict[str, Any] | None = None, **options: object
) -> AsyncIterator[tuple[Fetcher, dict[str, Any], Any]]:
    """A simulator app, its demo configuration, and a fresh fetcher without backoff."""
    app = SIM.app(seed, **options)
    async with simkit.running(app) as base, aiohttp.ClientSession() as session:
        settings: dict[str, Any] = dict(SIM.demo(base, seed).config)
        settings["app_secret"] = Secret(settings["app_secret"])
        settings.update(config or {})
        fetcher = Fetcher(session, policy=RetryPolicy(base=0.0, timeout=5.0), tokens=TokenCache())
        yield fetcher, settings, app


def people(tenant: Tenant, n: int, offset: int = 0) -> list[Target]:
    return [Target(p.union_id, "user", p.zone) for p in tenant.people[offset : offset + n]]


def rooms(tenant: Tenant, n: int) -> list[Target]:
    return [Target(r.room_id, "room", r.zone) for r in tenant.rooms[:n]]


def by_id(avails: Sequence[Availability]) -> dict[str, Availability]:
    return {a.id.removeprefix("dingtalk:"): a for a in avails}


def truth(tenant: Tenant, key: str, window: Span) -> Any:
    rows = tenant.truth(key, window.start, window.end)
    return merge_rows([np.asarray(rows, dtype=np.int64).reshape(-1, 3)])


async def test_call_counts_equal_the_plan() -> None:
    """45 users x 30 days cost 3 calls and 12 rooms x 100 days 6, as planned and as served."""
    async with fetching() as (fetcher, config, app):
        tenant = app[TENANT]
        users = await fetcher.fetch(PROVIDER, people(tenant, 45), Span(T0, T0 + 30 * DAY), config)
        halls = await fetcher.fetch(PROVIDER, rooms(tenant, 12), Span(T0, T0 + 100 * DAY), config)
        served = dict(app[STATS].calls)
        token_calls = app[STATS].token_calls
    assert len(users) == 45
    assert len(halls) == 12
    assert all(a.known and a.id.startswith("dingtalk:") for a in [*users, *halls])
    assert fetcher.stats.calls == {USERS: 3, ROOMS: 6}
    assert fetcher.stats.planned == fetcher.stats.calls
    assert served == {USER_ENDPOINT: 3, ROOM_ENDPOINT: 6}
    assert (fetcher.stats.retries, fetcher.stats.rate_limited) == (0, 0)
    assert fetcher.stats.token_requests == token_calls == 1


async def test_busy_equals_ground_truth_across_seams() -> None:
    """Chunked users and rooms come back equal to the tenant's events, seam duplicates merged."""
    window = Span(T0, T0 + 30 * DAY)
    async with fetching(config={"max_days": 3}) as (fetcher, config, app):
        tenant = app[TENANT]
        targets = [*people(tenant, 30), *rooms(tenant, 7)]
        got = by_id(await fetcher.fetch(PROVIDER, targets, window, config))
    assert fetcher.stats.calls == {USERS: 20, ROOMS: 2}
    seams = range(window.start + 3 * DAY, window.end, 3 * DAY)
    crossing = [
        e
        for t in targets[:30]
        for e in tenant.events(t.id, window.start, window.end)
        if any(e.start < s < e.end for s in seams)
    ]
    assert crossing, "the test needs events crossing a chunk seam"
    assert any(e.all_day for e in crossing)
    for t in targets:
        assert got[t.id].known
        assert got[t.id].busy == truth(tenant, t.id, window), t.id


async def test_per_user_error_makes_only_that_user_unknown() -> None:
    """A per-user error and an unknown unionId make just those two ids unknown."""
    tenant = Tenant(0)
    broken = tenant.people[3].union_id
    async with fetching(user_errors={broken: "no permission to read this calendar"}) as (
        fetcher,
        config,
        _,
    ):
        targets = [*people(tenant, 10), Target("nobody")]
        got = by_id(await fetcher.fetch(PROVIDER, targets, Span(T0, T0 + 7 * DAY), config))
    assert fetcher.stats.calls == {USERS: 1}
    unknown = {k: a.error for k, a in got.items() if not a.known}
    assert set(unknown) == {broken, "nobody"}
    assert "no permission" in (unknown[broken] or "")
    assert sum(a.known for a in got.values()) == 9


async def test_qps_error_waits_a_second_and_retries() -> None:
    """A QPS reply is retried after at least one second and counted as rate limited."""
    faults = simkit.Faults(schedule=[simkit.Fault.RATE_LIMIT])
    async with fetching(faults=faults) as (fetcher, config, app):
        started = time.monotonic()
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 5), Span(T0, T0 + DAY), config)
        elapsed = time.monotonic() - started
        served = app[STATS].calls[USER_ENDPOINT]
    assert all(a.known for a in got)
    assert elapsed >= 1.0
    assert (fetcher.stats.retries, fetcher.stats.rate_limited) == (1, 1)
    assert served == fetcher.stats.calls[USERS] == 2


async def test_monthly_quota_is_not_retried() -> None:
    """ApiCountLimitForOrg is never retried and leaves every id unknown with a clear reason."""
    async with fetching(quota=0) as (fetcher, config, app):
        tenant = app[TENANT]
        targets = [*people(tenant, 45), *rooms(tenant, 3)]
        got = await fetcher.fetch(PROVIDER, targets, Span(T0, T0 + 7 * DAY), config)
        served = sum(app[STATS].calls.values())
    assert not any(a.known for a in got)
    assert all("monthly quota" in (a.error or "") for a in got)
    assert fetcher.stats.retries == 0
    assert served == sum(fetcher.stats.calls.values()) <= 4


async def test_server_errors_are_retried() -> None:
    """Two 500 replies in a row are retried and the data still arrives."""
    faults = simkit.Faults(schedule=[simkit.Fault.SERVER_ERROR, simkit.Fault.SERVER_ERROR])
    async with fetching(faults=faults) as (fetcher, config, app):
        tenant = app[TENANT]
        window = Span(T0, T0 + 7 * DAY)
        got = by_id(await fetcher.fetch(PROVIDER, people(tenant, 3), window, config))
    assert fetcher.stats.retries == 2
    assert all(a.busy == truth(tenant, k, window) for k, a in got.items())


async def test_dropped_connection_is_retried() -> None:
    """A dropped connection is retried like any transient failure."""
    faults = simkit.Faults(schedule=[simkit.Fault.DROP])
    async with fetching(faults=faults) as (fetcher, config, app):
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 2), Span(T0, T0 + DAY), config)
    assert all(a.known for a in got)
    assert fetcher.stats.retries == 1


async def test_ip_ban_page_gives_a_clear_unknown_reason() -> None:
    """A non-JSON 403 (the IP-ban page) leaves the ids unknown, saying why, without a crash."""
    faults = simkit.Faults(schedule=[simkit.Fault.MALFORMED])
    async with fetching(faults=faults) as (fetcher, config, app):
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 4), Span(T0, T0 + DAY), config)
    assert not any(a.known for a in got)
    assert all("non-JSON body (HTTP 403)" in (a.error or "") for a in got)
    assert all("banned" in (a.error or "") for a in got)


async def test_malformed_success_loses_only_that_call() -> None:
    """A truncated 200 body makes only the ids of that one call unknown."""
    faults = simkit.Faults(schedule=[simkit.Fault.MALFORMED])
    async with fetching(faults=faults, malformed_status=200) as (fetcher, config, app):
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 40), Span(T0, T0 + DAY), config)
    unknown = [a for a in got if not a.known]
    assert len(unknown) == 20
    assert all("non-JSON body (HTTP 200)" in (a.error or "") for a in unknown)


async def test_token_expiry_mid_run_refreshes_once() -> None:
    """Tokens expiring mid-run cost exactly one refresh, and every id still arrives."""
    faults = simkit.Faults(expire_tokens_after=2)
    async with fetching(faults=faults, config={"max_days": 1}) as (fetcher, config, app):
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 25), Span(T0, T0 + 5 * DAY), config)
        token_calls = app[STATS].token_calls
    assert all(a.known for a in got)
    assert fetcher.stats.token_requests == token_calls == 2


async def test_unknown_room_is_isolated_by_splitting() -> None:
    """``roomId invalid`` splits the batch so only the bad room is unknown."""
    async with fetching() as (fetcher, config, app):
        tenant = app[TENANT]
        targets = [*rooms(tenant, 4), Target("no-such-room", "room")]
        got = by_id(await fetcher.fetch(PROVIDER, targets, Span(T0, T0 + 7 * DAY), config))
    assert [k for k, a in got.items() if not a.known] == ["no-such-room"]
    assert "roomId invalid" in (got["no-such-room"].error or "")
    assert fetcher.stats.splits >= 1


async def test_refused_secret_is_a_configuration_error() -> None:
    """A wrong app secret costs one token request and names the key, never the secret."""
    wrong = "definitely-not-the-secret"
    async with fetching(config={"app_secret": Secret(wrong)}) as (fetcher, config, app):
        got = await fetcher.fetch(PROVIDER, people(app[TENANT], 45), Span(T0, T0 + DAY), config)
        token_calls = app[STATS].token_calls
    assert not any(a.known for a in got)
    assert token_calls == 1
    assert fetcher.config_errors
    assert fetcher.config_errors[0].key == "providers.dingtalk.app_secret"
    assert all("app_secret" in (a.error or "") for a in got)
    assert not any(wrong in (a.error or "") for a in got)


async def test_many_calls_get_no_rate_limit_reply() -> None:
    """A run of 50+ calls is paced under 20 calls/s, so the simulator never rate-limits it."""
    async with fetching(config={"max_days": 1}) as (fetcher, config, app):
        tenant = app[TENANT]
        targets = [*people(tenant, 100), *rooms(tenant, 12)]
        started = time.monotonic()
        got = await fetcher.fetch(PROVIDER, targets, Span(T0, T0 + 10 * DAY), config)
        elapsed = time.monotonic() - started
        stats = app[STATS]
    assert all(a.known for a in got)
    assert fetcher.stats.calls == {USERS: 50, ROOMS: 3}
    assert stats.rate_limited == fetcher.stats.rate_limited == 0
    assert elapsed >= 2.0  # 50 querySchedule calls at 20/s
