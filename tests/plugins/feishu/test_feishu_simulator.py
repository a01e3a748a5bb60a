"""The Feishu simulator over loopback HTTP: replies, validation, rate limits, faults, the tenant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from slotfinder_feishu.simulator import FAULTS, STATE, STATS, TENANT, TOKENS, FeishuSimulator
from slotfinder_feishu.tenant import BLOCKING, FeishuTenant

from slotfinder.model import DAY
from slotfinder.testing.simkit import Fault, Faults, running
from slotfinder.testing.simulation import Simulator

pytestmark = pytest.mark.timeout(60)

SIM = FeishuSimulator()
T0 = 1_795_305_600  # 2026-11-22T00:00:00Z, a Sunday
LIST = "/open-apis/calendar/v4/freebusy/list"
BATCH = "/open-apis/calendar/v4/freebusy/batch"
TOKEN = "/open-apis/auth/v3/tenant_access_token/internal"
CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=15)


class Client:
    """A tiny raw client: what a request returns, without any provider logic."""

    def __init__(self, session: aiohttp.ClientSession, base: str, tenant: FeishuTenant) -> None:
        self.session, self.base, self.tenant = session, base, tenant
        self.token = ""

    async def post(
        self, path: str, body: object, *, token: str | None = None, query: str = "open_id"
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        token = self.token if token is None else token
        if token:
            headers["Authorization"] = token if " " in token else f"Bearer {token}"
        url = f"{self.base}{path}" + (f"?user_id_type={query}" if path != TOKEN else "")
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        async with self.session.post(url, data=data, headers=headers) as r:
            raw = await r.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            return r.status, dict(r.headers), parsed

    async def login(self) -> str:
        status, _, body = await self.post(
            TOKEN, {"app_id": self.tenant.app_id, "app_secret": self.tenant.app_secret}, token=""
        )
        assert status == 200, body
        self.token = body["tenant_access_token"]
        return self.token


async def _serve(**options: Any) -> AsyncIterator[tuple[Client, Any]]:
    app = SIM.app(seed=options.pop("seed", 7), **options)
    async with running(app) as base, aiohttp.ClientSession(timeout=CLIENT_TIMEOUT) as session:
        client = Client(session, base, app[TENANT])
        await client.login()
        yield client, app


@pytest.fixture
async def sim() -> AsyncIterator[tuple[Client, Any]]:
    async for pair in _serve():
        yield pair


SHANGHAI = timezone(timedelta(hours=8))


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def format_time(t: int) -> str:
    return datetime.fromtimestamp(t, SHANGHAI).isoformat()


def span(item: dict[str, str]) -> tuple[int, int]:
    return epoch(item["start_time"]), epoch(item["end_time"])


def window(days: float, start: int = T0 + DAY) -> dict[str, str]:
    return {"time_min": format_time(start), "time_max": format_time(start + int(days * DAY))}


def test_simulator_satisfies_the_protocol() -> None:
    """FeishuSimulator is a Simulator named feishu."""
    assert isinstance(SIM, Simulator)
    assert SIM.name == "feishu"


async def test_token_endpoint_replies_at_top_level(sim: tuple[Client, Any]) -> None:
    """The token reply carries code, msg, tenant_access_token and expire at top level."""
    client, app = sim
    status, headers, body = await client.post(
        TOKEN, {"app_id": client.tenant.app_id, "app_secret": client.tenant.app_secret}
    )
    assert status == 200
    assert body["code"] == 0
    assert body["tenant_access_token"].startswith("t-")
    assert body["expire"] == 7200
    assert "X-Tt-Logid" in headers
    assert app[TOKENS].issued == 2


@pytest.mark.parametrize(
    ("creds", "code"),
    [({"app_secret": "wrong"}, 10014), ({"app_id": "cli_nobody"}, 10003), (None, 10003)],
)
async def test_token_endpoint_refuses_bad_credentials(
    sim: tuple[Client, Any], creds: dict[str, str] | None, code: int
) -> None:
    """A wrong secret gives 10014, an unknown app id or no body 10003, both HTTP 400."""
    client, _ = sim
    body: object = b"not json"
    if creds is not None:
        body = {"app_id": client.tenant.app_id, "app_secret": client.tenant.app_secret, **creds}
    status, _, reply = await client.post(TOKEN, body, token="")
    assert status == 400
    assert reply["code"] == code


async def test_list_returns_whole_sorted_events_with_rsvp(sim: tuple[Client, Any]) -> None:
    """freebusy/list returns blocking events overlapping the window, whole, sorted, with rsvp."""
    client, _ = sim
    person = client.tenant.people[0]
    start = T0 + DAY + 3 * 3600 + 1234  # an odd instant: events straddling it come back whole
    body = {**window(7, start), "user_id": person.open_id, "need_rsvp_status": True}
    status, headers, reply = await client.post(LIST, body)
    assert status == 200, reply
    assert reply["code"] == 0
    items = reply["data"]["freebusy_list"]
    got = [(*span(i), i["rsvp_status"]) for i in items]
    expected = [
        (e.start, e.end, e.rsvp)
        for e in client.tenant.ground_truth(person.open_id, start, start + 7 * DAY)
    ]
    assert got == expected
    assert got == sorted(got)
    assert items
    assert {i["rsvp_status"] for i in items} <= BLOCKING
    first = datetime.fromtimestamp(got[0][0], ZoneInfo(person.zone)).isoformat()
    assert items[0]["start_time"] == first  # in the owner's zone offset
    assert headers["X-Tt-Logid"]


async def test_list_without_need_rsvp_status_omits_it(sim: tuple[Client, Any]) -> None:
    """Without need_rsvp_status the list items carry only start_time and end_time."""
    client, _ = sim
    body = {**window(7), "user_id": client.tenant.people[1].open_id}
    _, _, reply = await client.post(LIST, body)
    items = reply["data"]["freebusy_list"]
    assert items
    assert all(set(i) == {"start_time", "end_time"} for i in items)


async def test_only_busy_false_includes_declined_events(sim: tuple[Client, Any]) -> None:
    """With only_busy=false, declined and removed events are returned too."""
    client, _ = sim
    person = client.tenant.people[2]
    body = {**window(60), "user_id": person.open_id, "need_rsvp_status": True, "only_busy": False}
    _, _, reply = await client.post(LIST, body)
    rsvps = {i["rsvp_status"] for i in reply["data"]["freebusy_list"]}
    assert rsvps & {"decline", "removed"}
    everything = client.tenant.events(person.open_id, T0 + DAY, T0 + 61 * DAY)
    assert len(reply["data"]["freebusy_list"]) == len(everything)


async def test_batch_returns_every_user_in_order_without_rsvp(sim: tuple[Client, Any]) -> None:
    """freebusy/batch returns one entry per requested id, in order, items without rsvp_status."""
    client, _ = sim
    ids = [p.open_id for p in client.tenant.people[:10]]
    status, _, reply = await client.post(BATCH, {**window(14), "user_ids": ids})
    assert status == 200, reply
    lists = reply["data"]["freebusy_lists"]
    assert [entry["user_id"] for entry in lists] == ids
    for entry in lists:
        truth = client.tenant.ground_truth(entry["user_id"], T0 + DAY, T0 + 15 * DAY)
        got = [span(i) for i in entry["freebusy_items"]]
        assert got == [(e.start, e.end) for e in truth]
        assert all("rsvp_status" not in i for i in entry["freebusy_items"])


@pytest.mark.parametrize("id_type", ["union_id", "user_id"])
async def test_other_id_types_name_the_same_people(sim: tuple[Client, Any], id_type: str) -> None:
    """union_id (on_…) and user_id forms give the same calendar as the open_id."""
    client, _ = sim
    person = client.tenant.people[3]
    other = person.union_id if id_type == "union_id" else person.user_id
    _, _, by_open = await client.post(BATCH, {**window(14), "user_ids": [person.open_id]})
    _, _, by_other = await client.post(BATCH, {**window(14), "user_ids": [other]}, query=id_type)
    assert by_other["data"]["freebusy_lists"][0]["user_id"] == other
    assert (
        by_other["data"]["freebusy_lists"][0]["freebusy_items"]
        == by_open["data"]["freebusy_lists"][0]["freebusy_items"]
    )
    # The open_id is not a valid id when the query says user_id_type=union_id/user_id.
    status, _, reply = await client.post(
        LIST, {**window(1), "user_id": person.open_id}, query=id_type
    )
    assert (status, reply["code"]) == (404, 195100)


async def test_rooms_are_served_by_list(sim: tuple[Client, Any]) -> None:
    """A room_id list call returns the room's bookings; pending ones are needs_action."""
    client, _ = sim
    room = client.tenant.rooms[0]
    body = {**window(30), "room_id": room.room_id, "need_rsvp_status": True}
    _, _, reply = await client.post(LIST, body)
    rsvps = [i["rsvp_status"] for i in reply["data"]["freebusy_list"]]
    assert "accept" in rsvps
    assert "needs_action" in rsvps
    assert "decline" not in rsvps


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (BATCH, {**window(1), "user_ids": [f"ou_{i}" for i in range(11)]}, 400, 198001),
        (BATCH, {**window(1), "user_ids": []}, 400, 198001),
        (BATCH, {**window(1)}, 400, 198001),
        (BATCH, {**window(14.01), "user_ids": ["X"]}, 400, 198003),
        (LIST, {**window(90.01), "user_id": "X"}, 400, 198003),
        (LIST, {**window(0), "user_id": "X"}, 400, 198003),
        (LIST, {"time_min": format_time(T0 + DAY), "time_max": format_time(T0), "user_id": "X"},
         400, 198003),
        (LIST, {"time_min": "2026-11-23 10:00", "time_max": format_time(T0), "user_id": "X"},
         400, 198002),
        (LIST, {"time_max": format_time(T0), "user_id": "X"}, 400, 198002),
        (LIST, {**window(1)}, 400, 190014),
        (LIST, {**window(1), "room_id": "omm_nothere"}, 400, 190002),
        (LIST, {**window(1), "user_id": "ou_nothere"}, 404, 195100),
        (BATCH, {**window(1), "user_ids": ["X", "ou_nothere"]}, 404, 195100),
        (LIST, b"{not json", 400, 190002),
        (LIST, {**window(1), "user_id": "X", "only_busy": "yes"}, 400, 190014),
    ],
)  # fmt: skip
async def test_requests_the_api_rejects(
    sim: tuple[Client, Any], path: str, body: Any, status: int, code: int
) -> None:
    """Bad counts, windows, times, ids and bodies get the real codes and HTTP statuses."""
    client, app = sim
    known = client.tenant.people[0].open_id
    if isinstance(body, dict):
        body = {k: known if v == "X" else v for k, v in body.items()}
        if isinstance(body.get("user_ids"), list):
            body["user_ids"] = [known if i == "X" else i for i in body["user_ids"]]
    got_status, headers, reply = await client.post(path, body)
    assert (got_status, reply["code"]) == (status, code), reply
    assert reply["error"]["log_id"] == headers["X-Tt-Logid"]
    assert app[STATS].errors == 1


async def test_batch_of_exactly_14_days_and_list_of_90_days_are_allowed(
    sim: tuple[Client, Any],
) -> None:
    """The limits are inclusive: 14 days for batch and 90 days for list pass."""
    client, _ = sim
    ids = [p.open_id for p in client.tenant.people[:10]]
    assert (await client.post(BATCH, {**window(14), "user_ids": ids}))[0] == 200
    assert (await client.post(LIST, {**window(90), "user_id": ids[0]}))[0] == 200


async def test_bad_user_id_type_lists_the_field_violation(sim: tuple[Client, Any]) -> None:
    """An unknown user_id_type is 190014 with field_violations naming it."""
    client, _ = sim
    body = {**window(1), "user_id": client.tenant.people[0].open_id}
    status, _, reply = await client.post(LIST, body, query="email")
    assert (status, reply["code"]) == (400, 190014)
    assert reply["error"]["field_violations"][0]["field"] == "user_id_type"


@pytest.mark.parametrize(
    ("token", "code"),
    [("", 99991661), ("t-0123456789abcdef", 99991663), ("Basic abc", 99991671)],
)
async def test_missing_invalid_and_malformed_tokens(
    sim: tuple[Client, Any], token: str, code: int
) -> None:
    """No token, an unknown token and a non-Bearer header are refused with HTTP 400."""
    client, _ = sim
    body = {**window(1), "user_id": client.tenant.people[0].open_id}
    status, _, reply = await client.post(LIST, body, token=token)
    assert (status, reply["code"]) == (400, code)


async def test_rate_limit_is_enforced_per_api() -> None:
    """The 51st list call within a second is refused with 429, 99991400 and the ratelimit headers;
    batch, a separate API, still answers."""
    async for client, app in _serve():
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        replies = await asyncio.gather(*(client.post(LIST, body) for _ in range(60)))
        limited = [r for r in replies if r[0] == 429]
        assert len(limited) == 10
        _status, headers, reply = limited[0]
        assert reply["code"] == 99991400
        assert headers["x-ogw-ratelimit-limit"] == "50"
        assert int(headers["x-ogw-ratelimit-reset"]) >= 1
        assert app[STATS].rate_limited == 10
        ids = [client.tenant.people[0].open_id]
        assert (await client.post(BATCH, {**window(1), "user_ids": ids}))[0] == 200


async def test_rate_limit_can_be_switched_off() -> None:
    """rate_limit=False serves any burst."""
    async for client, _ in _serve(rate_limit=False):
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        replies = await asyncio.gather(*(client.post(LIST, body) for _ in range(80)))
        assert {r[0] for r in replies} == {200}


async def test_scheduled_faults_are_injected_in_order() -> None:
    """Faults come as scheduled: 429 with headers, 500/190003, HTML, a dropped socket, a reply
    that does not come within the client's timeout."""
    schedule = [Fault.RATE_LIMIT, Fault.SERVER_ERROR, Fault.MALFORMED, Fault.DROP, Fault.SLOW, None]
    faults = Faults(schedule=schedule, slow_seconds=30.0)
    async for client, app in _serve(faults=faults, fault_reset=0):
        assert app[FAULTS] is faults
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        status, headers, reply = await client.post(LIST, body)
        assert (status, reply["code"]) == (429, 99991400)
        assert headers["x-ogw-ratelimit-reset"] == "0"
        status, _, reply = await client.post(LIST, body)
        assert (status, reply["code"]) == (500, 190003)
        status, headers, reply = await client.post(LIST, body)
        assert status == 200
        assert headers["Content-Type"].startswith("text/html")
        assert isinstance(reply, bytes)
        with pytest.raises(aiohttp.ClientError):
            await client.post(LIST, body)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.post(LIST, body), 0.5)
        assert (await client.post(LIST, body))[0] == 200
        assert app[STATS].faults == 5
        assert app[STATS].calls == {"freebusy/list": 6}


async def test_faults_can_be_switched_on_mid_run() -> None:
    """Changing app[STATE].faults while serving takes effect on the next call."""
    async for client, app in _serve():
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        assert (await client.post(LIST, body))[0] == 200
        app[STATE].faults = Faults(server_error=1.0)
        assert (await client.post(LIST, body))[0] == 500


async def test_tokens_expire_after_n_data_calls() -> None:
    """expire_tokens_after=2 lets two calls through, refuses the third with 99991663, once."""
    async for client, _ in _serve(faults=Faults(expire_tokens_after=2)):
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        assert (await client.post(LIST, body))[0] == 200
        assert (await client.post(LIST, body))[0] == 200
        status, _, reply = await client.post(LIST, body)
        assert (status, reply["code"]) == (400, 99991663)
        await client.login()
        assert (await client.post(LIST, body))[0] == 200


async def test_tokens_expire_after_their_ttl() -> None:
    """A token older than token_ttl is refused."""
    async for client, _ in _serve(token_ttl=0.2):
        body = {**window(1), "user_id": client.tenant.people[0].open_id}
        assert (await client.post(LIST, body))[0] == 200
        await asyncio.sleep(0.3)
        assert (await client.post(LIST, body))[2]["code"] == 99991663


async def test_token_faults_when_asked() -> None:
    """With Faults(tokens=True) the token endpoint gets faults too (here a 500 after a login)."""
    faults = Faults(schedule=[None, Fault.SERVER_ERROR], tokens=True)
    async for client, _ in _serve(faults=faults):
        creds = {"app_id": client.tenant.app_id, "app_secret": client.tenant.app_secret}
        status, _, reply = await client.post(TOKEN, creds)
        assert (status, reply["code"]) == (500, 190003)


async def test_latency_option_delays_replies() -> None:
    """latency=0.2, jitter=0.05 delays every reply, the token call included, by 0.15-0.25 s."""
    async for client, app in _serve(latency=0.2, jitter=0.05):
        await client.post(LIST, {**window(1), "user_id": client.tenant.people[0].open_id})
        delays = app[STATS].delays
        assert [path for path, _ in delays] == [TOKEN, LIST]
        assert all(0.15 <= seconds <= 0.25 for _, seconds in delays)


def test_unknown_options_are_refused() -> None:
    """A misspelt option fails loudly instead of being ignored."""
    with pytest.raises(TypeError, match="latncy"):
        SIM.app(latncy=1.0)


def test_tenant_is_deterministic_for_any_window() -> None:
    """The same seed gives the same people and events for any date; another seed differs."""
    a, b, c = FeishuTenant(3), FeishuTenant(3), FeishuTenant(4)
    far = 2_000_000_000  # 2033
    for t in (T0, far):
        assert a.events(a.people[5].open_id, t, t + 30 * DAY) == b.events(
            b.people[5].open_id, t, t + 30 * DAY
        )
    assert a.people[0].open_id != c.people[0].open_id
    assert a.events(a.people[5].open_id, far, far + 30 * DAY)


def test_tenant_shape() -> None:
    """At least 200 people with ou_/on_ ids over several zones; rooms omm_; mostly in-hours."""
    tenant = FeishuTenant(0)
    assert len(tenant.people) >= 200
    assert all(p.open_id.startswith("ou_") and p.union_id.startswith("on_") for p in tenant.people)
    assert all(r.room_id.startswith("omm_") for r in tenant.rooms)
    zones = {p.zone for p in tenant.people}
    assert {"Asia/Shanghai", "Europe/Berlin", "America/New_York"} <= zones
    assert len(zones) >= 6
    inside = total = 0
    for p in tenant.people[:40]:
        tz = ZoneInfo(p.zone)
        for e in tenant.events(p.open_id, T0, T0 + 28 * DAY):
            if e.all_day:
                continue
            local = datetime.fromtimestamp(e.start, tz)
            minute = local.hour * 60 + local.minute
            total += 1
            inside += local.weekday() in p.weekdays and p.day_start <= minute < p.day_end
    assert inside / total > 0.85
    rsvps = {
        e.rsvp for p in tenant.people[:40] for e in tenant.events(p.open_id, T0, T0 + 28 * DAY)
    }
    assert rsvps == {"accept", "tentative", "needs_action", "decline", "removed"}
    assert any(
        e.all_day for p in tenant.people[:40] for e in tenant.events(p.open_id, T0, T0 + 90 * DAY)
    )


def test_demo_tenant_points_at_the_simulator() -> None:
    """demo() names people in Shanghai, Berlin and New York with working hours, and rooms."""
    demo = SIM.demo("http://127.0.0.1:9999/", seed=5)
    assert demo.config["base_url"] == "http://127.0.0.1:9999"
    tenant = SIM.tenant(5)
    assert demo.config["app_id"] == tenant.app_id
    assert demo.config["app_secret"] == tenant.app_secret
    assert {"Asia/Shanghai", "Europe/Berlin", "America/New_York"} <= {p.zone for p in demo.people}
    assert all(p.id.startswith("feishu:ou_") and p.working_hours for p in demo.people)
    assert demo.rooms
    assert all(r.room and r.id.startswith("feishu:omm_") for r in demo.rooms)


@pytest.mark.parametrize(
    "text",
    ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+08:00", "2026-11-23T02:00:00-00:00"],
)
async def test_request_times_in_any_rfc3339_form_are_read(
    sim: tuple[Client, Any], text: str
) -> None:
    """Any offset form of RFC 3339 is accepted for time_min (read with the standard library)."""
    client, _ = sim
    person = client.tenant.people[0].open_id
    body = {"time_min": text, "time_max": format_time(T0 + 3 * DAY), "user_id": person}
    status, _, reply = await client.post(LIST, body)
    assert (status, reply["code"]) == (200, 0)


@pytest.mark.parametrize(
    "text", ["2026-11-23T10:00:00", "2026-11-23", "soon", "2026-02-30T10:00:00Z", 1795305600]
)
async def test_request_times_without_an_offset_or_impossible_are_refused(
    sim: tuple[Client, Any], text: object
) -> None:
    """A wall-clock time, a bare date, a number or an impossible date is 198002."""
    client, _ = sim
    person = client.tenant.people[0].open_id
    body = {"time_min": text, "time_max": format_time(T0 + 3 * DAY), "user_id": person}
    status, _, reply = await client.post(LIST, body)
    assert (status, reply["code"]) == (400, 198002)


async def test_replies_are_utf8_json(sim: tuple[Client, Any]) -> None:
    """Replies are ``application/json; charset=utf-8`` with Feishu's troubleshooter text."""
    client, _ = sim
    status, headers, reply = await client.post(LIST, {**window(1)}, token="t-unknown")
    assert status == 400
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert "排查建议" in reply["error"]["troubleshooter"]
