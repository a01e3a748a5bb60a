"""The DingTalk simulator over loopback HTTP: replies, rejections, rate limit, faults, tenant."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from slotfinder_dingtalk.simulator import FAULTS, STATE, STATS, TENANT, TOKENS, DingTalkSimulator
from slotfinder_dingtalk.tenant import Tenant

from slotfinder.model import DAY
from slotfinder.testing import get_simulators, simkit
from slotfinder.testing.simulation import Simulator

pytestmark = pytest.mark.timeout(60)

SIM = DingTalkSimulator()
START = datetime(2026, 11, 23, tzinfo=UTC)
T0 = int(START.timestamp())


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Client:
    """A tiny DingTalk client over one session, for poking at the simulator directly."""

    def __init__(self, session: aiohttp.ClientSession, base: str, tenant: Tenant) -> None:
        self.session, self.base, self.tenant = session, base, tenant
        self.token = ""

    async def post(self, path: str, body: object, token: str | None = None) -> tuple[int, Any, str]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["x-acs-dingtalk-access-token"] = token
        async with self.session.post(
            self.base + path, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
        ) as reply:
            text = await reply.text()
            try:
                data = await reply.json(content_type=None)
            except ValueError:
                data = None
            return reply.status, data, text

    async def login(self) -> str:
        status, data, _ = await self.post(
            "/v1.0/oauth2/accessToken",
            {"appKey": self.tenant.app_key, "appSecret": self.tenant.app_secret},
        )
        assert status == 200, data
        self.token = data["accessToken"]
        return self.token

    async def users(self, ids: list[str], start: int = T0, days: float = 7) -> tuple[int, Any]:
        path = f"/v1.0/calendar/users/{self.tenant.operator}/querySchedule"
        body = {"userIds": ids, "startTime": iso(start), "endTime": iso(start + int(days * DAY))}
        status, data, _ = await self.post(path, body, self.token)
        return status, data

    async def rooms(self, ids: list[str], start: int = T0, days: float = 7) -> tuple[int, Any]:
        path = f"/v1.0/calendar/users/{self.tenant.operator}/meetingRooms/schedules/query"
        body = {"roomIds": ids, "startTime": iso(start), "endTime": iso(start + int(days * DAY))}
        status, data, _ = await self.post(path, body, self.token)
        return status, data


@asynccontextmanager
async def serve(seed: int = 0, **options: object) -> AsyncIterator[tuple[Client, Any]]:
    app = SIM.app(seed, **options)
    async with simkit.running(app) as base, aiohttp.ClientSession() as session:
        client = Client(session, base, app[TENANT])
        await client.login()
        yield client, app


def user_ids(tenant: Tenant, n: int) -> list[str]:
    return [p.union_id for p in tenant.people[:n]]


def room_ids(tenant: Tenant, n: int) -> list[str]:
    return [r.room_id for r in tenant.rooms[:n]]


def test_registered_through_the_entry_point() -> None:
    """The plugin's simulator is found through the ``slotfinder`` entry-point group."""
    sim = get_simulators()["dingtalk"]
    assert isinstance(sim, Simulator)
    assert isinstance(sim, DingTalkSimulator)


def test_tenant_is_large_varied_and_deterministic() -> None:
    """The seeded tenant has 200+ people across zones, 10+ rooms, and the same data every time."""
    a, b = Tenant(7), Tenant(7)
    assert len(a.people) >= 200
    assert len(a.rooms) >= 10
    zones = {p.zone for p in a.people}
    assert {"Asia/Shanghai", "Europe/Berlin", "America/New_York"} <= zones
    assert len(zones) >= 6
    assert len({p.union_id for p in a.people}) == len(a.people)
    uid = a.people[10].union_id
    assert a.events(uid, T0, T0 + 60 * DAY) == b.events(uid, T0, T0 + 60 * DAY)
    # The same day asked inside different windows gives the same events.
    day = [e for e in a.events(uid, T0, T0 + 60 * DAY) if T0 + 30 * DAY <= e.start < T0 + 31 * DAY]
    assert day == [
        e for e in b.events(uid, T0 + 30 * DAY, T0 + 31 * DAY) if e.start >= T0 + 30 * DAY
    ]
    assert Tenant(8).people[10].union_id != uid


def test_tenant_calendars_have_every_kind_of_item() -> None:
    """Over a quarter the tenant shows all-day, tentative and timed items, and room bookings."""
    t = Tenant(0)
    events = [e for p in t.people[:60] for e in t.events(p.union_id, T0, T0 + 90 * DAY)]
    assert any(e.all_day for e in events)
    assert any(e.status == "TENTATIVE" for e in events)
    assert any(e.zone is None and not e.all_day for e in events)  # timeZone omitted
    bookings = [e for r in t.rooms for e in t.events(r.room_id, T0, T0 + 30 * DAY)]
    assert {e.status for e in bookings} == {"BUSY", "TENTATIVE"}
    item = bookings[0].room_item()
    assert set(item) == {"eventId", "status", "organizer", "start", "end"}
    assert t.person(item["organizer"]["id"]) is not None


def test_demo_matches_the_served_tenant() -> None:
    """``demo`` gives the app's credentials, people in three zones with hours, and rooms."""
    demo = SIM.demo("http://127.0.0.1:1", seed=3)
    t = Tenant(3)
    assert dict(demo.config) == {
        "base_url": "http://127.0.0.1:1",
        "app_key": t.app_key,
        "app_secret": t.app_secret,
        "operator_union_id": t.operator,
    }
    assert {p.zone for p in demo.people} == {"Asia/Shanghai", "Europe/Berlin", "America/New_York"}
    assert all(p.id.startswith("dingtalk:") and p.working_hours for p in demo.people)
    assert 2 <= len(demo.rooms) <= 3
    assert all(r.room for r in demo.rooms)


def test_unknown_option_is_refused() -> None:
    """A misspelt option fails loudly instead of being ignored."""
    with pytest.raises(TypeError, match="rate_limt"):
        SIM.app(0, rate_limt=False)


async def test_token_endpoint() -> None:
    """Right credentials get a token; wrong ones get 400 invalidClientIdOrSecret."""
    async with serve() as (client, app):
        assert app[TOKENS].valid(client.token)
        status, data, _ = await client.post(
            "/v1.0/oauth2/accessToken", {"appKey": client.tenant.app_key, "appSecret": "nope"}
        )
        assert status == 400
        assert data["code"] == "invalidClientIdOrSecret"
        assert set(data) == {"code", "message", "requestid"}
        assert app[STATS].token_calls == 2


async def test_query_schedule_reply() -> None:
    """querySchedule answers each user with scheduleItems equal to the tenant's events."""
    async with serve() as (client, app):
        ids = user_ids(client.tenant, 20)
        status, data = await client.users(ids, days=30)
        assert status == 200
        infos = data["scheduleInformation"]
        assert [i["userId"] for i in infos] == ids
        for info in infos:
            expected = client.tenant.events(info["userId"], T0, T0 + 30 * DAY)
            assert info["scheduleItems"] == [e.user_item() for e in expected]
            assert not info.get("error")
        assert app[STATS].calls == {"querySchedule": 1}


async def test_events_overlapping_the_window_come_back_whole() -> None:
    """An event crossing the window start is returned with its real start, not clipped."""
    tenant = Tenant(0)
    for p in tenant.people:
        crossing = [e for e in tenant.events(p.union_id, T0, T0 + 30 * DAY) if e.start < T0]
        if crossing:
            break
    else:  # pragma: no cover - the tenant always has some
        pytest.fail("no event crosses the window start")
    async with serve() as (client, _):
        status, data = await client.users([p.union_id], days=30)
    assert status == 200
    first = data["scheduleInformation"][0]["scheduleItems"][0]
    assert first == crossing[0].user_item()


async def test_unknown_user_is_a_per_user_error() -> None:
    """An unknown unionId gets its own ``error``; the other users are answered."""
    async with serve(user_errors={"broken": "no permission"}) as (client, _):
        good = user_ids(client.tenant, 2)
        status, data = await client.users([good[0], "nobody", "broken", good[1]])
    assert status == 200
    by_id = {i["userId"]: i for i in data["scheduleInformation"]}
    assert by_id["nobody"]["error"]
    assert by_id["broken"]["error"] == "no permission"
    assert not by_id[good[0]].get("error")
    assert not by_id[good[1]].get("error")


async def test_rejections() -> None:
    """Too many ids, too long a room window, no ids and unknown rooms get the seed's 400s."""
    async with serve() as (client, app):
        tenant = client.tenant
        status, data = await client.users(user_ids(tenant, 21))
        assert (status, data["code"]) == (400, "paramIllegal")
        status, data = await client.users([])
        assert (status, data["code"], data["message"]) == (
            400,
            "invalidParameter",
            "query ids cannot be empty",
        )
        status, data = await client.rooms(room_ids(tenant, 6))
        assert (status, data["code"], data["message"]) == (
            400,
            "invalidParameter",
            "Cannot get schedule information for more than limit.",
        )
        status, data = await client.rooms(room_ids(tenant, 2), days=91)
        assert (status, data["message"]) == (400, "Cannot query schedule for more than 90 days.")
        status, data = await client.rooms([])
        assert (status, data["message"]) == (400, "query ids cannot be empty")
        status, data = await client.rooms([*room_ids(tenant, 1), "no-such-room"])
        assert (status, data["code"], data["message"]) == (
            400,
            "invalidParameter",
            "roomId invalid",
        )
        status, data = await client.rooms(room_ids(tenant, 5), days=90)
        assert status == 200
        assert len(data["scheduleInformation"]) == 5
        assert app[STATS].errors == 6


async def test_request_times_are_checked_with_the_standard_library() -> None:
    """Times without an offset, impossible or not ISO 8601, or an end not after the start, are
    refused with the seed's 400s; the seed's own short form ``2022-07-29T14:55Z`` is accepted."""
    async with serve() as (client, _):
        users = f"/v1.0/calendar/users/{client.tenant.operator}/querySchedule"
        rooms = f"/v1.0/calendar/users/{client.tenant.operator}/meetingRooms/schedules/query"
        ids = {"userIds": user_ids(client.tenant, 1), "roomIds": room_ids(client.tenant, 1)}
        for start, end in [
            ("2026-11-23T00:00:00", "2026-11-24T00:00:00Z"),  # no offset
            ("2026-11-23T00:00:00Z", "2026-02-30T00:00:00Z"),  # no such date
            ("23/11/2026", "2026-11-24T00:00:00Z"),
            ("2026-11-24T00:00:00Z", "2026-11-24T00:00:00Z"),  # empty window
        ]:
            window = {"startTime": start, "endTime": end}
            status, data, _ = await client.post(users, {**ids, **window}, client.token)
            assert (status, data["code"]) == (400, "paramIllegal"), start
            status, data, _ = await client.post(rooms, {**ids, **window}, client.token)
            assert (status, data["code"]) == (400, "invalidParameter"), start
        window = {"startTime": "2022-07-29T14:55Z", "endTime": "2022-07-30T14:55+08:00"}
        status, _, _ = await client.post(rooms, {**ids, **window}, client.token)
        assert status == 200


async def test_bad_missing_and_expired_tokens() -> None:
    """Without a valid token every data call gets 400 InvalidAuthentication."""
    async with serve() as (client, app):
        ids = user_ids(client.tenant, 1)
        client.token = "forged"
        status, data = await client.users(ids)
        assert (status, data["code"]) == (400, "InvalidAuthentication")
        status, data, _ = await client.post(
            f"/v1.0/calendar/users/{client.tenant.operator}/querySchedule", {"userIds": ids}
        )
        assert (status, data["code"]) == (400, "InvalidAuthentication")
        await client.login()
        app[TOKENS].expire_all()
        status, data = await client.users(ids)
        assert (status, data["message"]) == (400, "不合法的access_token")


async def test_token_ttl_expires_tokens() -> None:
    """A token older than ``token_ttl`` is refused."""
    async with serve(token_ttl=0.2) as (client, _):
        await asyncio.sleep(0.3)
        status, data = await client.users(user_ids(client.tenant, 1))
    assert (status, data["code"]) == (400, "InvalidAuthentication")


async def test_rate_limit_per_api() -> None:
    """More than 20 calls in a second on one API get the QPS error; the other API is separate."""
    async with serve() as (client, app):
        ids = user_ids(client.tenant, 1)
        replies = await asyncio.gather(*(client.users(ids, days=1) for _ in range(25)))
        codes = [data.get("code") for status, data in replies if status != 200]
        assert sum(status == 200 for status, _ in replies) == 20
        assert codes == ["Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"] * 5
        assert all(status == 403 for status, _ in replies if status != 200)
        status, _ = await client.rooms(room_ids(client.tenant, 1), days=1)
        assert status == 200
        assert app[STATS].rate_limited == 5


async def test_rate_limit_can_be_switched_off() -> None:
    """``rate_limit=False`` serves bursts without QPS errors."""
    async with serve(rate_limit=False) as (client, app):
        ids = user_ids(client.tenant, 1)
        replies = await asyncio.gather(*(client.users(ids, days=1) for _ in range(30)))
    assert all(status == 200 for status, _ in replies)
    assert app[STATS].rate_limited == 0


async def test_scheduled_faults() -> None:
    """Rate-limit, server-error and malformed faults give DingTalk's replies, then clean ones."""
    faults = simkit.Faults(
        schedule=[simkit.Fault.RATE_LIMIT, simkit.Fault.SERVER_ERROR, simkit.Fault.MALFORMED, None]
    )
    async with serve(faults=faults) as (client, app):
        path = f"/v1.0/calendar/users/{client.tenant.operator}/querySchedule"
        body = {
            "userIds": user_ids(client.tenant, 1),
            "startTime": iso(T0),
            "endTime": iso(T0 + DAY),
        }
        got = [await client.post(path, body, client.token) for _ in range(4)]
        assert app[STATS].faults == 3
    assert (got[0][0], got[0][1]["code"]) == (403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
    assert (got[1][0], got[1][1]["code"]) == (500, "ServiceUnavailable")
    assert got[2][0] == 403
    assert got[2][1] is None
    assert "<html>" in got[2][2]
    assert got[3][0] == 200


async def test_malformed_success_body() -> None:
    """With ``malformed_status=200`` a malformed fault is a truncated JSON body with HTTP 200."""
    faults = simkit.Faults(schedule=[simkit.Fault.MALFORMED])
    async with serve(faults=faults, malformed_status=200) as (client, _):
        status, data = await client.users(user_ids(client.tenant, 1))
    assert status == 200
    assert data is None


async def test_dropped_connection() -> None:
    """A drop fault closes the socket without a reply."""
    faults = simkit.Faults(schedule=[simkit.Fault.DROP])
    async with serve(faults=faults) as (client, _):
        with pytest.raises(aiohttp.ClientError):
            await client.users(user_ids(client.tenant, 1))
        status, _ = await client.users(user_ids(client.tenant, 1))
        assert status == 200


async def test_slow_reply() -> None:
    """A slow fault delays the reply by ``slow_seconds``."""
    faults = simkit.Faults(schedule=[simkit.Fault.SLOW], slow_seconds=0.3)
    async with serve(faults=faults) as (client, _):
        started = time.monotonic()
        status, _ = await client.users(user_ids(client.tenant, 1))
    assert status == 200
    assert time.monotonic() - started >= 0.3


async def test_token_expiry_and_fault_changes_mid_run() -> None:
    """``expire_tokens_after`` expires tokens once; a test may change the faults of a live app."""
    async with serve(faults=simkit.Faults(expire_tokens_after=2)) as (client, app):
        ids = user_ids(client.tenant, 1)
        assert [(await client.users(ids))[0] for _ in range(2)] == [200, 200]
        status, data = await client.users(ids)
        assert (status, data["code"]) == (400, "InvalidAuthentication")
        await client.login()
        assert (await client.users(ids))[0] == 200
        app[FAULTS].server_error = 1.0
        assert (await client.users(ids))[0] == 500
        app[FAULTS].server_error = 0.0
        assert (await client.users(ids))[0] == 200


async def test_monthly_quota() -> None:
    """Past ``quota`` data calls every call gets ApiCountLimitForOrg; it can be lifted mid-run."""
    async with serve(quota=1) as (client, app):
        ids = user_ids(client.tenant, 1)
        assert (await client.users(ids))[0] == 200
        status, data = await client.users(ids)
        assert (status, data["code"]) == (403, "Forbidden.AccessDenied.ApiCountLimitForOrg")
        app[STATE].quota = None
        assert (await client.users(ids))[0] == 200


async def test_room_reply_fields() -> None:
    """Room replies carry eventId, status, organizer and zoned start/end per booking."""
    async with serve() as (client, _):
        ids = room_ids(client.tenant, 5)
        status, data = await client.rooms(ids, days=14)
    assert status == 200
    infos = data["scheduleInformation"]
    assert [i["roomId"] for i in infos] == ids
    items = [item for info in infos for item in info["scheduleItems"]]
    assert items
    assert all(set(item["start"]) == {"dateTime", "timeZone"} for item in items)
