"""The Feishu provider through the real Fetcher against the simulator on 127.0.0.1."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Any

import aiohttp
import pytest
from slotfinder_feishu import FeishuProvider
from slotfinder_feishu import simulator as sim_module
from slotfinder_feishu.provider import LIST, LIST_ROOM
from slotfinder_feishu.simulator import STATE, STATS, TENANT, FeishuSimulator
from slotfinder_feishu.tenant import FeishuTenant

from slotfinder.fetch import Fetcher, RetryPolicy, TokenCache
from slotfinder.model import DAY, Availability, Span, Status
from slotfinder.plan import plan_calls
from slotfinder.providers import Secret, Target
from slotfinder.testing.simkit import Fault, Faults, running

pytestmark = pytest.mark.timeout(90)

PROVIDER = FeishuProvider()
SIM = FeishuSimulator()
T0 = 1_795_305_600  # 2026-11-22T00:00:00Z, a Sunday
BUSY, TENTATIVE = Status.BUSY.code, Status.TENTATIVE.code
FETCH_TIMEOUT = 60.0


class Rig:
    """A running simulator, a Fetcher on its own token cache, and the provider config."""

    def __init__(
        self, app: Any, base: str, session: aiohttp.ClientSession, policy: RetryPolicy
    ) -> None:
        self.app = app
        self.tenant: FeishuTenant = app[TENANT]
        self.config: dict[str, Any] = {
            "base_url": base,
            "app_id": self.tenant.app_id,
            "app_secret": Secret(self.tenant.app_secret),
            "user_id_type": "open_id",
        }
        self.fetcher = Fetcher(session, policy=policy, tokens=TokenCache(), seed=1)

    async def fetch(self, targets: Sequence[Target], window: Span) -> list[Availability]:
        return await asyncio.wait_for(
            self.fetcher.fetch(PROVIDER, targets, window, self.config), FETCH_TIMEOUT
        )


async def rig(policy: RetryPolicy | None = None, **options: Any) -> AsyncIterator[Rig]:
    app = SIM.app(seed=options.pop("seed", 11), **options)
    async with running(app) as base, aiohttp.ClientSession() as session:
        yield Rig(app, base, session, policy or RetryPolicy(base=0.0))


HINTS: list[float | None] = []
"""The wait hints :class:`HintsPolicy` was given, in order."""


class HintsPolicy(RetryPolicy):
    """No backoff; records in :data:`HINTS` each wait hint the fetcher is given."""

    def wait(self, after: float | None, attempt: int, rng: random.Random) -> float:
        HINTS.append(after)
        return 0.0


def union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def by_status(avail: Availability) -> dict[int, list[tuple[int, int]]]:
    got: dict[int, list[tuple[int, int]]] = {}
    for s, e, c in zip(avail.busy.starts, avail.busy.ends, avail.busy.status, strict=True):
        got.setdefault(int(c), []).append((int(s), int(e)))
    return {c: union(v) for c, v in got.items()}


def expected(tenant: FeishuTenant, id: str, window: Span, rsvp_visible: bool) -> dict[int, Any]:
    """What the fetch must yield: ground truth, tentative and unanswered only where list shows
    replies."""
    rows: dict[int, list[tuple[int, int]]] = {}
    shown = {"tentative": TENTATIVE, "needs_action": Status.UNANSWERED.code}
    for e in tenant.ground_truth(id, window.start, window.end):
        status = shown.get(e.rsvp, BUSY) if rsvp_visible else BUSY
        rows.setdefault(status, []).append((e.start, e.end))
    return {c: union(v) for c, v in rows.items()}


def users(tenant: FeishuTenant, n: int, start: int = 0) -> list[Target]:
    return [Target(p.open_id, zone=p.zone) for p in tenant.people[start : start + n]]


def listed_ids(targets: Sequence[Target], window: Span, config: Any) -> set[str]:
    calls = plan_calls(targets, window, PROVIDER.limits(config))
    return {c.ids[0] for c in calls if c.endpoint in (LIST, LIST_ROOM)}


def assert_ground_truth(r: Rig, targets: Sequence[Target], window: Span, avails: Any) -> None:
    listed = listed_ids(targets, window, r.config)
    for t, a in zip(targets, avails, strict=True):
        assert a.id == f"feishu:{t.id}"
        assert a.known, a.error
        assert by_status(a) == expected(r.tenant, t.id, window, t.id in listed), t.id


async def test_call_counts_equal_the_plan_and_busy_equals_ground_truth() -> None:
    """15 users over 90 days cost exactly 7 batch + 5 list calls, and every busy span is right."""
    async for r in rig():
        window = Span(T0, T0 + 90 * DAY)
        targets = users(r.tenant, 15)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.calls == {"feishu/freebusy/batch": 7, "feishu/freebusy/list": 5}
        assert r.app[STATS].calls == {"freebusy/batch": 7, "freebusy/list": 5}
        assert r.fetcher.stats.token_requests == 1
        assert r.fetcher.stats.retries == 0
        assert r.app[STATS].rate_limited == 0
        assert_ground_truth(r, targets, window, avails)
        # Tentative replies come only through list: some list user shows tentative time.
        listed = listed_ids(targets, window, r.config)
        assert any(
            TENTATIVE in by_status(a)
            for t, a in zip(targets, avails, strict=True)
            if t.id in listed
        )
        assert all(
            TENTATIVE not in by_status(a)
            for t, a in zip(targets, avails, strict=True)
            if t.id not in listed
        )


async def test_one_user_over_60_days_is_one_list_call() -> None:
    """One user over 60 days is a single freebusy/list call."""
    async for r in rig():
        window = Span(T0, T0 + 60 * DAY)
        targets = users(r.tenant, 1, 4)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.calls == {"feishu/freebusy/list": 1}
        assert_ground_truth(r, targets, window, avails)


async def test_rooms_and_union_ids() -> None:
    """Rooms go through list:room (pending bookings tentative); union_id ids work end to end.

    Three users over 30 days tie (3 batch or 3 list calls): list wins, it reports RSVPs.
    """
    async for r in rig():
        r.config["user_id_type"] = "union_id"
        window = Span(T0, T0 + 30 * DAY)
        people = r.tenant.people[:3]
        targets = [Target(p.union_id, zone=p.zone) for p in people]
        targets += [Target(room.room_id, "room", room.zone) for room in r.tenant.rooms[:2]]
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.calls == {"feishu/freebusy/list": 3, "feishu/freebusy/list:room": 2}
        assert_ground_truth(r, targets, window, avails)
        assert Status.UNANSWERED.code in by_status(avails[3])  # bookings pending approval


def _seam_person(tenant: FeishuTenant, seam: int) -> int:
    for p in tenant.people:
        if any(
            e.start < seam < e.end for e in tenant.ground_truth(p.open_id, seam - DAY, seam + DAY)
        ):
            return p.index
    raise AssertionError("no event crosses the seam in this tenant")


async def test_an_event_crossing_a_chunk_seam_is_one_busy_span() -> None:
    """An event returned by both 14-day chunks of a batch counts once after merging."""
    async for r in rig():
        window = Span(T0 + 3600, T0 + 3600 + 28 * DAY)
        seam = window.start + 14 * DAY
        index = _seam_person(r.tenant, seam)
        targets = users(r.tenant, 10, index)  # a full batch: 2 chunks, seam in the middle
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.calls == {"feishu/freebusy/batch": 2}
        crossing = [e for e in r.tenant.ground_truth(targets[0].id, seam - DAY, seam + DAY)
                    if e.start < seam < e.end]  # fmt: skip
        spans = by_status(avails[0])[BUSY]
        for e in crossing:
            assert sum(s <= e.start and e.end <= end for s, end in spans) == 1
            assert not any(seam in (s, end) for s, end in spans)
        assert_ground_truth(r, targets, window, avails)


async def test_429_bursts_are_retried_then_succeed() -> None:
    """Three injected 429s are retried (honouring the reset header) and the data still arrives."""
    faults = Faults(schedule=[Fault.RATE_LIMIT] * 3)
    async for r in rig(faults=faults, fault_reset=0):
        window = Span(T0, T0 + 14 * DAY)
        targets = users(r.tenant, 10)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.rate_limited == 3
        assert r.fetcher.stats.retries == 3
        assert r.fetcher.stats.calls == {"feishu/freebusy/batch": 4}
        assert_ground_truth(r, targets, window, avails)


async def test_rate_limit_reset_header_is_honoured() -> None:
    """A 429 saying 'reset in 3 s' reaches the fetcher as a 3-second wait hint."""
    HINTS.clear()
    faults = Faults(schedule=[Fault.RATE_LIMIT])
    async for r in rig(HintsPolicy(base=0.0), faults=faults, fault_reset=3):
        avails = await r.fetch(users(r.tenant, 1), Span(T0, T0 + DAY))
        assert HINTS == [3.0]
        assert r.fetcher.stats.rate_limited == 1
        assert avails[0].known


async def test_server_errors_are_retried() -> None:
    """500 replies with code 190003 are retried until the call succeeds."""
    async for r in rig(faults=Faults(schedule=[Fault.SERVER_ERROR, Fault.SERVER_ERROR])):
        window = Span(T0, T0 + 60 * DAY)
        targets = users(r.tenant, 2)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.retries == 2
        assert r.app[STATS].faults == 2
        assert_ground_truth(r, targets, window, avails)


async def test_195100_in_a_batch_isolates_the_bad_id() -> None:
    """One id not in the tenant fails the batch; splitting keeps the other nine and marks it."""
    async for r in rig():
        window = Span(T0, T0 + 14 * DAY)
        good = users(r.tenant, 9)
        bad = Target("ou_" + "f" * 32)
        targets = [*good[:4], bad, *good[4:]]
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.splits >= 1
        unknown = [a for a in avails if not a.known]
        assert [a.id for a in unknown] == [f"feishu:{bad.id}"]
        assert "not in tenant" in (unknown[0].error or "")
        known = [(t, a) for t, a in zip(targets, avails, strict=True) if a.known]
        for t, a in known:
            assert by_status(a) == expected(r.tenant, t.id, window, rsvp_visible=False)
        assert len(known) == 9


def plant(monkeypatch: pytest.MonkeyPatch, epoch: int, zone: str, text: str) -> None:
    """Make the simulator write ``text`` for the time ``epoch`` of an owner in ``zone``."""
    real = sim_module._rfc3339

    def rfc3339(at: int, where: str) -> str:
        return text if (at, where) == (epoch, zone) else real(at, where)

    monkeypatch.setattr(sim_module, "_rfc3339", rfc3339)


async def test_an_unreadable_item_in_a_batch_makes_only_its_user_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch reply where one of three users has an impossible time: one batch call, that
    user unknown with a reason naming the field and time, the other two their ground truth."""
    async for r in rig():
        window = Span(T0, T0 + 7 * DAY)
        targets = users(r.tenant, 3)
        sick = r.tenant.user(targets[1].id)
        assert sick is not None
        first = r.tenant.ground_truth(sick.open_id, window.start, window.end)[0]
        bad = "2026-11-25T09:00:61+08:00"
        plant(monkeypatch, first.start, sick.zone, bad)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.calls == {"feishu/freebusy/batch": 1}
        assert r.fetcher.stats.splits == 0
        assert [a.known for a in avails] == [True, False, True]
        reason = avails[1].error or ""
        assert reason.startswith(
            f"feishu freebusy/batch returned an unreadable busy item for user_id {sick.open_id}: "
            f"freebusy_lists[1].freebusy_items[0].start_time={bad!r}: no such time of day"
        )
        assert "log id" in reason
        for t, a in zip(targets[::2], avails[::2], strict=True):
            assert by_status(a) == expected(r.tenant, t.id, window, rsvp_visible=False)
            assert a.busy.starts.size > 0


async def test_token_expiry_mid_run_refreshes_once() -> None:
    """Tokens expiring after 3 data calls cost one refresh; every id is still fetched."""
    async for r in rig(faults=Faults(expire_tokens_after=3)):
        window = Span(T0, T0 + 90 * DAY)
        targets = users(r.tenant, 15)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.token_requests == 2
        assert r.app[STATS].token_calls == 2
        assert_ground_truth(r, targets, window, avails)


async def test_bad_secret_is_a_config_error_naming_the_key() -> None:
    """A refused app secret costs one token request and names providers.feishu.app_secret."""
    async for r in rig():
        r.config["app_secret"] = Secret("not-the-secret")
        avails = await r.fetch(users(r.tenant, 12), Span(T0, T0 + 30 * DAY))
        assert r.fetcher.stats.token_requests == 1
        assert [e.key for e in r.fetcher.config_errors] == ["providers.feishu.app_secret"]
        assert "SLOTFINDER_FEISHU_APP_SECRET" in str(r.fetcher.config_errors[0])
        assert all(not a.known for a in avails)
        assert all("providers.feishu.app_secret" in (a.error or "") for a in avails)
        assert all("not-the-secret" not in (a.error or "") for a in avails)
        assert r.fetcher.stats.calls == {}


async def test_malformed_body_makes_the_ids_unknown_with_a_clear_reason() -> None:
    """An HTML reply with HTTP 200 marks that call's ids unknown, saying what came back."""
    async for r in rig(faults=Faults(schedule=[Fault.MALFORMED])):
        avails = await r.fetch(users(r.tenant, 1), Span(T0, T0 + 7 * DAY))
        assert not avails[0].known
        reason = avails[0].error or ""
        assert "HTTP 200" in reason
        assert "not JSON" in reason
        assert "<html>" in reason


async def test_dropped_connection_is_retried() -> None:
    """A connection closed without a reply is retried and the data arrives."""
    async for r in rig(faults=Faults(schedule=[Fault.DROP])):
        window = Span(T0, T0 + 7 * DAY)
        targets = users(r.tenant, 1)
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.retries == 1
        assert_ground_truth(r, targets, window, avails)


async def test_slow_reply_times_out_and_is_retried() -> None:
    """A reply slower than the call timeout, while the host answers the other calls, is
    abandoned and the call tried again."""
    faults = Faults(schedule=[Fault.SLOW], slow_seconds=30.0)
    async for r in rig(RetryPolicy(base=0.0, timeout=2.0), faults=faults):
        window = Span(T0, T0 + 60 * DAY)
        targets = users(r.tenant, 3)  # three list calls at once: one slow, two answered
        avails = await r.fetch(targets, window)
        assert r.fetcher.stats.retries == 1
        assert_ground_truth(r, targets, window, avails)


async def test_a_host_answering_nothing_makes_the_ids_unknown() -> None:
    """A lone call whose reply never comes within the call timeout makes its id unknown,
    naming the timeout: never free."""
    faults = Faults(schedule=[Fault.SLOW] * 3, slow_seconds=30.0)
    async for r in rig(RetryPolicy(base=0.0, timeout=0.5, silence=0.5), faults=faults):
        avails = await r.fetch(users(r.tenant, 1), Span(T0, T0 + 7 * DAY))
        assert not avails[0].known
        assert "within 0.5 s" in (avails[0].error or "")


async def test_faults_switched_on_mid_run_are_survived() -> None:
    """Random 500s, drops and 429s switched on between fetches are all retried away."""
    async for r in rig(fault_reset=0):
        window = Span(T0, T0 + 28 * DAY)
        targets = users(r.tenant, 20)
        first = await r.fetch(targets, window)
        r.app[STATE].faults = Faults(server_error=0.2, drop=0.1, rate_limit=0.1, seed=3)
        second = await r.fetch(targets, window)
        assert r.fetcher.stats.retries > 0
        assert [by_status(a) for a in first] == [by_status(a) for a in second]
        assert_ground_truth(r, targets, window, second)


@pytest.mark.slow
async def test_300_calls_get_no_429_from_the_server() -> None:
    """300 batch calls in one run stay under 50/s and 1000/min at the server: no 429 at all.

    Client and server share this process, so a busy machine delays requests between the
    client's limiter and the server's clock; the client limiter holds each place until the
    reply is back, so no margin is needed for that.
    """
    async for r in rig(RetryPolicy()):
        window = Span(T0, T0 + 420 * DAY)  # 30 chunks of 14 days x 10 batches of 10 users
        targets = users(r.tenant, 100)
        avails = await r.fetch(targets, window)
        assert r.app[STATS].rate_limited == 0
        assert r.fetcher.stats.rate_limited == 0
        assert r.fetcher.stats.calls == {"feishu/freebusy/batch": 300}
        assert r.app[STATS].calls == {"freebusy/batch": 300}
        assert all(a.known for a in avails)
