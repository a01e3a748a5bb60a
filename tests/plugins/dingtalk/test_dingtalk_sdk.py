"""The official alibabacloud-dingtalk SDK pointed at the simulator parses its replies."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from slotfinder_dingtalk.simulator import TENANT, DingTalkSimulator
from slotfinder_dingtalk.tenant import Tenant

from slotfinder.model import DAY
from slotfinder.testing import simkit

pytest.importorskip("alibabacloud_dingtalk")

from alibabacloud_dingtalk.calendar_1_0 import models as cal_models
from alibabacloud_dingtalk.calendar_1_0.client import Client as CalendarClient
from alibabacloud_dingtalk.oauth2_1_0 import models as oauth_models
from alibabacloud_dingtalk.oauth2_1_0.client import Client as OAuthClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

pytestmark = pytest.mark.timeout(60)

T0 = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
START, END = "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z"


class Server:
    """The simulator served from a background thread with its own event loop (the SDK is sync)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = simkit.free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )

    async def _start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def __enter__(self) -> Server:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server(DingTalkSimulator().app(0, rate_limit=False)) as running:
        yield running


def sdk_config(server: Server) -> Any:
    return open_api_models.Config(
        protocol="http", region_id="central", endpoint=f"127.0.0.1:{server.port}"
    )


def runtime() -> Any:
    return util_models.RuntimeOptions(read_timeout=10_000, connect_timeout=5_000, autoretry=False)


def token(server: Server) -> str:
    tenant: Tenant = server.app[TENANT]
    request = oauth_models.GetAccessTokenRequest(
        app_key=tenant.app_key, app_secret=tenant.app_secret
    )
    reply = OAuthClient(sdk_config(server)).get_access_token_with_options(request, {}, runtime())
    assert reply.status_code == 200
    assert reply.body.expire_in == 7200
    value: str = reply.body.access_token
    return value


def test_sdk_gets_a_token(server: Server) -> None:
    """GetAccessToken parses accessToken and expireIn from the simulator."""
    assert token(server)


def test_sdk_queries_user_schedules(server: Server) -> None:
    """GetSchedule (querySchedule) parses users, timed and all-day items, and per-user errors."""
    tenant: Tenant = server.app[TENANT]
    ids = [p.union_id for p in tenant.people[:20]]
    client = CalendarClient(sdk_config(server))
    headers = cal_models.GetScheduleHeaders(x_acs_dingtalk_access_token=token(server))
    request = cal_models.GetScheduleRequest(
        user_ids=[*ids[:19], "nobody"], start_time=START, end_time=END
    )
    reply = client.get_schedule_with_options(tenant.operator, request, headers, runtime())
    assert reply.status_code == 200
    infos = reply.body.schedule_information
    assert [i.user_id for i in infos] == [*ids[:19], "nobody"]
    assert infos[-1].error
    items = [item for info in infos[:-1] for item in info.schedule_items]
    expected = sum(len(tenant.events(u, T0, T0 + 14 * DAY)) for u in ids[:19])
    assert len(items) == expected
    assert {item.status for item in items} == {"BUSY", "TENTATIVE"}
    assert any(item.start.date for item in items)  # all-day
    assert any(item.start.date_time and item.start.time_zone for item in items)


def test_sdk_queries_room_schedules(server: Server) -> None:
    """GetMeetingRoomsSchedule parses eventId, organizer, status and times of room bookings."""
    tenant: Tenant = server.app[TENANT]
    ids = [r.room_id for r in tenant.rooms[:5]]
    client = CalendarClient(sdk_config(server))
    headers = cal_models.GetMeetingRoomsScheduleHeaders(x_acs_dingtalk_access_token=token(server))
    request = cal_models.GetMeetingRoomsScheduleRequest(
        room_ids=ids, start_time=START, end_time=END
    )
    reply = client.get_meeting_rooms_schedule_with_options(
        tenant.operator, request, headers, runtime()
    )
    infos = reply.body.schedule_information
    assert [i.room_id for i in infos] == ids
    first = infos[0].schedule_items[0]
    truth = tenant.events(ids[0], T0, T0 + 14 * DAY)[0]
    assert (first.event_id, first.status, first.organizer.id) == (
        truth.event_id,
        truth.status,
        truth.organizer,
    )
    assert first.start.date_time == truth.room_item()["start"]["dateTime"]


def test_sdk_reads_error_replies(server: Server) -> None:
    """The SDK raises with the simulator's error code and message on a rejected call."""
    tenant: Tenant = server.app[TENANT]
    client = CalendarClient(sdk_config(server))
    headers = cal_models.GetMeetingRoomsScheduleHeaders(x_acs_dingtalk_access_token=token(server))
    request = cal_models.GetMeetingRoomsScheduleRequest(
        room_ids=[r.room_id for r in tenant.rooms[:6]], start_time=START, end_time=END
    )
    with pytest.raises(Exception) as info:
        client.get_meeting_rooms_schedule_with_options(tenant.operator, request, headers, runtime())
    assert getattr(info.value, "code", None) == "invalidParameter"
    assert "more than limit" in str(getattr(info.value, "message", ""))
