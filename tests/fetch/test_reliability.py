"""Reliability under injected faults, against both simulators, through the real Fetcher.

The promise checked everywhere: whatever the simulator does (20% rate-limit replies, 10% server
errors, 5% dropped connections, replies slower than the per-call timeout, a token expiring
mid-run, bodies that are not JSON, a bad id inside a batch), every id that could be read has
exactly the fault-free availability, every other id is unknown with a reason, and no id is ever
taken as free without data — in the fetcher's output and in the engine's slots.

Backoff is off (``base=0``) and server wait hints are capped (``max_hint``) so the file stays
fast; each server binds a free port on 127.0.0.1 and stops at the end of its block.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import attrs
import pytest
from slotfinder_dingtalk import DingTalkProvider
from slotfinder_dingtalk.simulator import STATE as DT_STATE
from slotfinder_dingtalk.simulator import STATS as DT_STATS
from slotfinder_dingtalk.simulator import DingTalkSimulator
from slotfinder_feishu import FeishuProvider
from slotfinder_feishu.simulator import STATS as FS_STATS
from slotfinder_feishu.simulator import FeishuSimulator

from slotfinder.api import suggest
from slotfinder.config import Config
from slotfinder.engine import find_slots
from slotfinder.fetch import Fetcher, RetryPolicy, TokenCache
from slotfinder.model import DAY, Availability, MeetingRequest, Span
from slotfinder.providers import HttpProvider, Secret, Target
from slotfinder.testing.simkit import Fault, Faults, SimStats, running

pytestmark = pytest.mark.timeout(60)

SEED = 5
T0 = 1_795_564_800  # 2026-11-25T00:00:00Z
WINDOW = Span(T0, T0 + 20 * DAY)
FEISHU_BAD = "ou_00000000000000000000000000000000"
DINGTALK_BAD_USER = "nobodyHereAtAll0000000iE"
DINGTALK_BAD_ROOM = "0000000000000000000000000000dead"
FETCH_TIMEOUT = 40.0
"""Upper bound on one whole fetch (asyncio.wait_for), well inside pytest-timeout."""


def policy(attempts: int = 10, timeout: float = 3.0) -> RetryPolicy:
    """No backoff, server hints capped at 50 ms; short timeouts only where replies are slow."""
    return RetryPolicy(attempts=attempts, base=0.0, max_hint=0.05, timeout=timeout)


@attrs.frozen
class Setup:
    """One provider's side of a test: simulator, provider, targets, and the ids that are bad."""

    name: str
    simulator: Any
    provider: HttpProvider
    targets: tuple[Target, ...]
    bad: frozenset[str]
    stats_key: Any
    options: Mapping[str, Any] = attrs.field(factory=dict)

    def config(self, url: str, tenant: Any) -> dict[str, Any]:
        if self.name == "feishu":
            return {
                "base_url": url,
                "app_id": tenant.app_id,
                "app_secret": Secret(tenant.app_secret),
                "user_id_type": "open_id",
            }
        return {
            "base_url": url,
            "app_key": tenant.app_key,
            "app_secret": Secret(tenant.app_secret),
            "operator_union_id": tenant.operator,
            "max_days": 7,  # three chunks over the 20-day window: more calls, more faults
        }


def feishu_setup(users: int = 23, rooms: int = 2) -> Setup:
    """23 users (two full batches of 10 in 14-day chunks, three on list), 2 rooms, 1 bad id.

    The bad id sits inside the first batch, so the whole batch fails until it is split.
    """
    sim = FeishuSimulator()
    tenant = sim.tenant(SEED)
    people = [Target(p.open_id, "user", p.zone) for p in tenant.people[:users]]
    people.insert(3, Target(FEISHU_BAD, "user", "Asia/Shanghai"))
    rooms_ = [Target(r.room_id, "room", r.zone) for r in tenant.rooms[:rooms]]
    return Setup(
        "feishu", sim, FeishuProvider(), tuple(people + rooms_), frozenset({FEISHU_BAD}), FS_STATS
    )


def dingtalk_setup(users: int = 44, rooms: int = 7) -> Setup:
    """44 users + 1 unknown (per-user error) in 7-day chunks, 7 rooms + 1 unknown room.

    The unknown room fails its whole room batch (``roomId invalid``) until it is split out.
    """
    sim = DingTalkSimulator()
    tenant = sim.tenant(SEED)
    people = [Target(p.union_id, "user", p.zone) for p in tenant.people[:users]]
    people.insert(5, Target(DINGTALK_BAD_USER, "user", "Asia/Shanghai"))
    rooms_ = [Target(r.room_id, "room", r.zone) for r in tenant.rooms[:rooms]]
    rooms_.insert(1, Target(DINGTALK_BAD_ROOM, "room", "Asia/Shanghai"))
    return Setup(
        "dingtalk",
        sim,
        DingTalkProvider(),
        tuple(people + rooms_),
        frozenset({DINGTALK_BAD_USER, DINGTALK_BAD_ROOM}),
        DT_STATS,
    )


SETUPS = {"feishu": feishu_setup, "dingtalk": dingtalk_setup}


@attrs.define
class Outcome:
    """What one fetch returned, and what the fetcher and the simulator counted."""

    by_id: dict[str, Availability]
    fetcher: Fetcher
    sim: SimStats
    app: Any


@asynccontextmanager
async def serve(setup: Setup, **options: Any) -> AsyncIterator[tuple[str, Any]]:
    """The setup's simulator on a free loopback port, stopped when the block ends."""
    app = setup.simulator.app(SEED, **{**setup.options, **options})
    async with running(app) as url:
        yield url, app


async def fetch(setup: Setup, retry: RetryPolicy | None = None, **options: Any) -> Outcome:
    """Serve the simulator with ``options`` and fetch every target through a fresh Fetcher."""
    async with serve(setup, **options) as (url, app), aiohttp.ClientSession() as session:
        tenant = setup.simulator.tenant(SEED)
        fetcher = Fetcher(session, policy=retry or policy(), tokens=TokenCache(), seed=SEED)
        avails = await asyncio.wait_for(
            fetcher.fetch(setup.provider, setup.targets, WINDOW, setup.config(url, tenant)),
            FETCH_TIMEOUT,
        )
        return Outcome({a.id: a for a in avails}, fetcher, app[setup.stats_key], app)


_REFERENCES: dict[str, dict[str, Availability]] = {}


async def reference(setup: Setup) -> dict[str, Availability]:
    """The fault-free answer (cached per provider): every good id known, bad ids unknown."""
    if setup.name not in _REFERENCES:
        outcome = await fetch(setup)
        _REFERENCES[setup.name] = outcome.by_id
    return _REFERENCES[setup.name]


def rows(a: Availability) -> list[tuple[int, int, int]]:
    b = a.busy
    return sorted(zip(b.starts.tolist(), b.ends.tolist(), b.status.tolist(), strict=True))


def full(setup: Setup, i: str) -> str:
    return f"{setup.name}:{i}"


def assert_sound(
    setup: Setup, got: Mapping[str, Availability], ref: Mapping[str, Availability]
) -> set[str]:
    """Known ids equal the fault-free answer, unknown ids carry a reason; the unknown set."""
    assert set(got) == set(ref)
    unknown: set[str] = set()
    for i, a in got.items():
        if a.known:
            assert ref[i].known, f"{i} is known under faults but not without them"
            assert rows(a) == rows(ref[i]), f"{i}: busy time differs from the fault-free answer"
            assert a.covered == ref[i].covered
        else:
            assert a.error, f"{i} is unknown without a reason"
            assert len(a.busy) == 0
            unknown.add(i)
    for bad in setup.bad:
        assert not got[full(setup, bad)].known, f"bad id {bad} was taken as read"
    return unknown


def assert_engine_never_guesses(
    avails: Sequence[Availability], unknown: set[str], rooms: set[str]
) -> None:
    """No slot lists an unknown attendee as available or tentative, nor books an unknown room."""
    people = [a.id for a in avails if a.id not in rooms]
    request = MeetingRequest(
        attendees=[
            Config(tz="UTC", env={}).attendee(i, optional=n > 0) for n, i in enumerate(people)
        ],
        rooms=[Config(tz="UTC", env={}).attendee(r, room=True) for r in sorted(rooms)],
        window=WINDOW,
        duration=1800,
        unknown="flag",
        max_results=50,
        zone="UTC",
        now=WINDOW.start,
    )
    result = find_slots(list(avails), request)
    listed = {u.id for u in result.unknown}
    assert unknown <= listed
    for slot in result.slots:
        assert not unknown & set(slot.available), "an unknown attendee was offered as free"
        assert not unknown & set(slot.tentative)
        assert slot.room is None or slot.room not in unknown


def setup_rooms(setup: Setup) -> set[str]:
    return {full(setup, t.id) for t in setup.targets if t.kind == "room"}


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_fault_free_run_reads_every_good_id(name: str) -> None:
    """Without faults every real id is read and only the planted bad ids are unknown."""
    setup = SETUPS[name]()
    ref = await reference(setup)
    unknown = {i for i, a in ref.items() if not a.known}
    assert unknown == {full(setup, b) for b in setup.bad}
    assert any(len(a.busy) for a in ref.values())


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_seeded_fault_mix_gives_the_fault_free_answer(name: str) -> None:
    """20% 429s, 10% 500s, 5% drops, slow replies and a mid-run token expiry: same answer."""
    setup = SETUPS[name]()
    ref = await reference(setup)
    faults = Faults(
        rate_limit=0.2,
        server_error=0.1,
        drop=0.05,
        slow=0.03,
        slow_seconds=1.0,
        expire_tokens_after=4,
        seed=11,
    )
    out = await fetch(setup, policy(attempts=12, timeout=0.5), faults=faults)
    unknown = assert_sound(setup, out.by_id, ref)
    # Twelve attempts against a 38% fault rate: every good id is read in practice.
    assert unknown == {full(setup, b) for b in setup.bad}
    stats = out.fetcher.stats
    assert out.sim.faults > 0
    assert stats.retries > 0
    assert stats.rate_limited >= 1
    assert stats.token_requests >= 2, "the expired token was not refreshed"
    assert sum(stats.calls.values()) == sum(out.sim.calls.values())
    assert_engine_never_guesses(list(out.by_id.values()), unknown, setup_rooms(setup))


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_giving_up_leaves_ids_unknown_never_free(name: str) -> None:
    """With too few attempts for the fault rate, failed ids are unknown with a reason."""
    setup = SETUPS[name]()
    ref = await reference(setup)
    faults = Faults(rate_limit=0.3, server_error=0.3, drop=0.1, seed=3)
    out = await fetch(setup, policy(attempts=2), faults=faults)
    unknown = assert_sound(setup, out.by_id, ref)
    lost = unknown - {full(setup, b) for b in setup.bad}
    assert lost, "expected some calls to run out of attempts"
    for i in lost:
        assert "gave up after 2 attempts" in (out.by_id[i].error or "")
    assert_engine_never_guesses(list(out.by_id.values()), unknown, setup_rooms(setup))


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_replies_slower_than_the_timeout(name: str) -> None:
    """A reply slower than the per-call timeout is a failed attempt; retried, or unknown."""
    setup = SETUPS[name]()
    ref = await reference(setup)
    slow = Faults(schedule=[Fault.SLOW] * 3, slow_seconds=2.0)
    out = await fetch(setup, policy(attempts=6, timeout=0.4), faults=slow)
    assert_sound(setup, out.by_id, ref)
    assert {i for i, a in out.by_id.items() if not a.known} == {full(setup, b) for b in setup.bad}
    assert out.fetcher.stats.retries >= 3

    every = Faults(schedule=[Fault.SLOW] * 200, slow_seconds=2.0)
    out = await fetch(setup, policy(attempts=1, timeout=0.3), faults=every)
    unknown = assert_sound(setup, out.by_id, ref)
    assert unknown == set(out.by_id)
    reasons = {a.error for a in out.by_id.values()}
    assert any("within 0.3 s" in (r or "") for r in reasons)


@pytest.mark.parametrize("name", ["feishu", "dingtalk"])
async def test_bodies_that_are_not_json(name: str) -> None:
    """Non-JSON bodies make exactly the affected ids unknown with a clear reason, no crash."""
    setup = SETUPS[name]()
    ref = await reference(setup)
    options: dict[str, Any] = {}
    if name == "dingtalk":
        options["malformed_status"] = 200  # a truncated JSON body; the 403 ban page is below
    faults = Faults(malformed=0.4, seed=2)
    out = await fetch(setup, faults=faults, **options)
    unknown = assert_sound(setup, out.by_id, ref)
    lost = unknown - {full(setup, b) for b in setup.bad}
    assert lost, "expected some malformed replies"
    for i in lost:
        error = out.by_id[i].error or ""
        assert "JSON" in error, error
    assert_engine_never_guesses(list(out.by_id.values()), unknown, setup_rooms(setup))


async def test_dingtalk_ban_page_stops_the_run() -> None:
    """DingTalk's HTML ban page (403) is fatal: later ids are unknown with the ban reason."""
    setup = dingtalk_setup()
    ref = await reference(setup)
    faults = Faults(schedule=[None, None, Fault.MALFORMED])
    out = await fetch(setup, faults=faults)
    unknown = assert_sound(setup, out.by_id, ref)
    banned = [i for i in unknown if "banned" in (out.by_id[i].error or "")]
    assert banned
    assert out.fetcher.stats.retries == 0


async def test_feishu_token_expiry_mid_run_is_refreshed_once() -> None:
    """Every token expires after a few calls: one refresh, and the answer is unchanged."""
    setup = feishu_setup()
    ref = await reference(setup)
    out = await fetch(setup, faults=Faults(expire_tokens_after=2))
    unknown = assert_sound(setup, out.by_id, ref)
    assert unknown == {full(setup, FEISHU_BAD)}
    assert out.fetcher.stats.token_requests == 2
    assert out.fetcher.stats.retries == 0


async def test_dingtalk_per_user_errors_mark_only_those_users() -> None:
    """A per-user ``error`` in querySchedule marks just that user unknown, with DingTalk's text."""
    setup = dingtalk_setup()
    ref = await reference(setup)
    victim = setup.targets[0].id
    out = await fetch(setup, user_errors={victim: "calendar not shared"})
    unknown = assert_sound(setup, out.by_id, ref)
    assert full(setup, victim) in unknown
    assert "calendar not shared" in (out.by_id[full(setup, victim)].error or "")
    assert out.app[DT_STATE].user_errors == {victim: "calendar not shared"}


async def test_suggest_end_to_end_across_both_simulators_under_faults() -> None:
    """``suggest`` over both faulty simulators: unknown ids are reported, never offered as free."""
    fs, dt = feishu_setup(users=12, rooms=1), dingtalk_setup(users=12, rooms=2)
    fs_faults = Faults(rate_limit=0.2, server_error=0.1, drop=0.05, malformed=0.15, seed=9)
    dt_faults = Faults(rate_limit=0.2, server_error=0.1, drop=0.05, seed=9)
    async with (
        serve(fs, faults=fs_faults) as (fs_url, _),
        serve(dt, faults=dt_faults) as (dt_url, _),
        aiohttp.ClientSession() as session,
    ):
        zone = {full(s, t.id): t.zone for s in (fs, dt) for t in s.targets}
        config = Config(
            tz="Asia/Shanghai",
            providers={
                "feishu": {
                    k: (v.reveal() if isinstance(v, Secret) else v)
                    for k, v in fs.config(fs_url, fs.simulator.tenant(SEED)).items()
                },
                "dingtalk": {
                    k: (v.reveal() if isinstance(v, Secret) else v)
                    for k, v in dt.config(dt_url, dt.simulator.tenant(SEED)).items()
                },
            },
            working_hours={"mon-fri": ["09:00-18:00"]},
            # Each person in their own zone, as the references were fetched (all-day items
            # block the attendee's local days).
            attendees={i: {"tz": z} for i, z in zone.items()},
            env={},
        )
        people = [full(s, t.id) for s in (fs, dt) for t in s.targets if t.kind == "user"]
        rooms = sorted(setup_rooms(fs) | setup_rooms(dt))
        request = MeetingRequest(
            attendees=[config.attendee(p, optional=n > 1) for n, p in enumerate(people)],
            rooms=[config.attendee(r, room=True) for r in rooms],
            window=WINDOW,
            duration=1800,
            unknown="flag",
            zone="Asia/Shanghai",
            now=WINDOW.start,
            max_results=30,
        )
        providers = {"feishu": fs.provider, "dingtalk": dt.provider}
        result = await asyncio.wait_for(
            suggest(request, config=config, providers=providers, session=session, policy=policy()),
            FETCH_TIMEOUT,
        )
    unknown = {a.id for a in result.availabilities if not a.known}
    bad = {full(fs, FEISHU_BAD), full(dt, DINGTALK_BAD_USER), full(dt, DINGTALK_BAD_ROOM)}
    assert bad <= unknown
    assert {u.id for u in result.unknown} >= unknown
    assert all(u.reason for u in result.unknown)
    assert result.retries > 0
    for slot in result.slots:
        assert not unknown & set(slot.available)
        assert not unknown & set(slot.tentative)
        assert slot.room not in unknown
    fs_ref, dt_ref = await reference(feishu_setup()), await reference(dingtalk_setup())
    for a in result.availabilities:
        if a.known:
            ref = fs_ref if a.id.startswith("feishu:") else dt_ref
            assert rows(a) == rows(ref[a.id]), a.id
