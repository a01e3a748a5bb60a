"""The official lark-oapi SDK pointed at the Feishu simulator gets replies it parses."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from slotfinder_feishu.simulator import STATS, TENANT, FeishuSimulator

from slotfinder.testing.simkit import running

lark = pytest.importorskip("lark_oapi")
from lark_oapi.api.calendar.v4 import (  # noqa: E402  (after the importorskip guard)
    BatchFreebusyRequest,
    BatchFreebusyRequestBody,
    ListFreebusyRequest,
    ListFreebusyRequestBody,
)
from lark_oapi.core.exception import ObtainAccessTokenException  # noqa: E402

pytestmark = pytest.mark.timeout(60)

T0 = 1_795_305_600  # 2026-11-22T00:00:00Z
DAY = 86_400
SHANGHAI = timezone(timedelta(hours=8))


def format_time(t: int) -> str:
    return datetime.fromtimestamp(t, SHANGHAI).isoformat()


def parse_time(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


class ThreadedSimulator:
    """The simulator on its own event loop in a daemon thread (the SDK's HTTP is blocking)."""

    def __init__(self, **options: Any) -> None:
        self.app = FeishuSimulator().app(**options)
        self.base = ""
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="feishu-sim", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with running(self.app) as base:
            self.base = base
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ThreadedSimulator:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the simulator did not start within 10 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def sdk() -> Iterator[tuple[Any, ThreadedSimulator]]:
    # A fresh app id per test: the SDK caches tenant tokens process-wide by app id.
    app_id = f"cli_sdk{uuid.uuid4().hex[:12]}"
    with ThreadedSimulator(seed=3, app_id=app_id, app_secret="sdk-secret") as sim:
        client = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret("sdk-secret")
            .domain(sim.base)
            .timeout(10)
            .log_level(lark.LogLevel.ERROR)
            .build()
        )
        yield client, sim


def test_sdk_list_gets_token_and_parses_items(sdk: tuple[Any, ThreadedSimulator]) -> None:
    """freebusy.list through the SDK: token fetched, success(), items with rsvp_status parsed."""
    client, sim = sdk
    tenant = sim.app[TENANT]
    person = tenant.people[0]
    body = (
        ListFreebusyRequestBody.builder()
        .time_min(format_time(T0))
        .time_max(format_time(T0 + 14 * DAY))
        .user_id(person.open_id)
        .include_external_calendar(True)
        .only_busy(True)
        .need_rsvp_status(True)
        .build()
    )
    request = ListFreebusyRequest.builder().user_id_type("open_id").request_body(body).build()
    response = client.calendar.v4.freebusy.list(request)
    assert response.success(), (response.code, response.msg)
    items = response.data.freebusy_list
    truth = tenant.ground_truth(person.open_id, T0, T0 + 14 * DAY)
    assert [(parse_time(i.start_time), parse_time(i.end_time), i.rsvp_status) for i in items] == [
        (e.start, e.end, e.rsvp) for e in truth
    ]
    assert sim.app[STATS].token_calls == 1


def test_sdk_batch_parses_every_user(sdk: tuple[Any, ThreadedSimulator]) -> None:
    """freebusy.batch through the SDK: one parsed entry per user, items without rsvp_status."""
    client, sim = sdk
    tenant = sim.app[TENANT]
    ids = [p.open_id for p in tenant.people[:10]]
    body = (
        BatchFreebusyRequestBody.builder()
        .time_min(format_time(T0))
        .time_max(format_time(T0 + 7 * DAY))
        .user_ids(ids)
        .include_external_calendar(True)
        .only_busy(True)
        .build()
    )
    request = BatchFreebusyRequest.builder().user_id_type("open_id").request_body(body).build()
    response = client.calendar.v4.freebusy.batch(request)
    assert response.success(), (response.code, response.msg)
    lists = response.data.freebusy_lists
    assert [entry.user_id for entry in lists] == ids
    for entry in lists:
        truth = tenant.ground_truth(entry.user_id, T0, T0 + 7 * DAY)
        got = [(parse_time(i.start_time), parse_time(i.end_time)) for i in entry.freebusy_items]
        assert got == [(e.start, e.end) for e in truth]
        assert all(i.rsvp_status is None for i in entry.freebusy_items)


def test_sdk_sees_error_codes(sdk: tuple[Any, ThreadedSimulator]) -> None:
    """Errors reach the SDK as parsed codes: 11 ids give 198001, an unknown user 195100."""
    client, sim = sdk
    tenant = sim.app[TENANT]
    body = (
        BatchFreebusyRequestBody.builder()
        .time_min(format_time(T0))
        .time_max(format_time(T0 + DAY))
        .user_ids([p.open_id for p in tenant.people[:11]])
        .build()
    )
    response = client.calendar.v4.freebusy.batch(
        BatchFreebusyRequest.builder().user_id_type("open_id").request_body(body).build()
    )
    assert not response.success()
    assert response.code == 198001
    body = (
        ListFreebusyRequestBody.builder()
        .time_min(format_time(T0))
        .time_max(format_time(T0 + DAY))
        .user_id("ou_" + "0" * 32)
        .build()
    )
    response = client.calendar.v4.freebusy.list(
        ListFreebusyRequest.builder().user_id_type("open_id").request_body(body).build()
    )
    assert response.code == 195100
    assert response.get_log_id()


def test_sdk_with_a_wrong_secret_fails_to_get_a_token() -> None:
    """The SDK reports the simulator's 10014 when the app secret is wrong."""
    app_id = f"cli_sdk{uuid.uuid4().hex[:12]}"
    with ThreadedSimulator(seed=3, app_id=app_id, app_secret="right") as sim:
        client = (
            lark.Client.builder()
            .app_id(app_id)
            .app_secret("wrong")
            .domain(sim.base)
            .timeout(10)
            .log_level(lark.LogLevel.CRITICAL)
            .build()
        )
        body = (
            ListFreebusyRequestBody.builder()
            .time_min(format_time(T0))
            .time_max(format_time(T0 + DAY))
            .user_id("ou_x")
            .build()
        )
        request = ListFreebusyRequest.builder().request_body(body).build()
        with pytest.raises(ObtainAccessTokenException) as info:
            client.calendar.v4.freebusy.list(request)
        assert info.value.code == 10014
