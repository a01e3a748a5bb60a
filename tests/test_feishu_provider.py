"""Feishu provider without a network: plan, build, parse and token handling on captured replies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import pytest
import time_texts as tt
from hypothesis import example, given
from hypothesis import strategies as st
from slotfinder_feishu import FeishuProvider, _times
from slotfinder_feishu import provider as feishu
from slotfinder_feishu._times import format_time, parse_date, parse_time, read_date, read_time
from slotfinder_feishu.provider import BATCH, LIST, LIST_ROOM
from slotfinder_feishu.simulator import FeishuSimulator, _answer

import slotfinder.memo
from slotfinder.errors import ConfigError
from slotfinder.model import DAY, Span, Status
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    CallResult,
    HttpProvider,
    HttpResponse,
    RetryLater,
    Secret,
    Target,
    TokenExpired,
)

SECRET = "s3cr3t-app-secret-value"
TOKEN = "t-g1044qeGEDXTB6NDJOXL5SJJOFTMBPKSHQXMTKZA"
CONFIG: dict[str, Any] = {
    "app_id": "cli_a1b2c3d4e5f60718",
    "app_secret": Secret(SECRET),
    "base_url": "https://open.feishu.cn",
    "user_id_type": "open_id",
}
T0 = 1_795_305_600  # 2026-11-22T00:00:00Z, a Sunday
WINDOW_90 = Span(T0, T0 + 90 * DAY)
P = FeishuProvider()

# The response examples of seeds/002 (freebusy/list) and seeds/003 (freebusy/batch), verbatim.
SEED_LIST = {
    "code": 0,
    "msg": "success",
    "data": {
        "freebusy_list": [
            {
                "start_time": "2020-10-28T22:30:00+08:00",
                "end_time": "2020-10-28T22:45:00+08:00",
                "rsvp_status": "needs_action",
            }
        ]
    },
}
SEED_BATCH = {
    "code": 0,
    "msg": "success",
    "data": {
        "freebusy_lists": [
            {
                "freebusy_items": [
                    {
                        "start_time": "2020-10-28T22:30:00+08:00",
                        "end_time": "2020-10-28T22:45:00+08:00",
                    }
                ],
                "user_id": "ou_c186b6833e2d5faf2bc587e71ddabcef",
            }
        ]
    },
}
SEED_START = int(datetime.fromisoformat("2020-10-28T22:30:00+08:00").timestamp())


def users(n: int) -> list[Target]:
    return [Target(f"ou_{i:032x}") for i in range(n)]


def reply(body: object, status: int = 200, **headers: str) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers={k.lower(): v for k, v in headers.items()}, body=raw)


def list_call(id: str = "ou_x", kind: str = "user") -> Call:
    endpoint = LIST_ROOM if kind == "room" else LIST
    return Call(endpoint=endpoint, ids=(id,), span=Span(T0, T0 + DAY), kind=kind)  # type: ignore[arg-type]


def batch_call(*ids: str) -> Call:
    return Call(endpoint=BATCH, ids=ids or ("ou_a", "ou_b"), span=Span(T0, T0 + DAY))


def test_provider_implements_the_http_protocol() -> None:
    """FeishuProvider satisfies the HttpProvider protocol and declares its four config keys."""
    assert isinstance(P, HttpProvider)
    keys = {k.name: k for k in P.config_keys}
    assert set(keys) == {"app_id", "app_secret", "base_url", "user_id_type"}
    assert keys["app_secret"].secret
    assert keys["app_secret"].required
    assert keys["app_id"].required
    assert keys["base_url"].default == "https://open.feishu.cn"
    assert keys["app_secret"].env_var("feishu") == "SLOTFINDER_FEISHU_APP_SECRET"


def test_plugin_hooks_register_provider_and_simulator() -> None:
    """The package's hookimpls register one FeishuProvider and one FeishuSimulator."""
    import slotfinder_feishu

    got: list[object] = []
    slotfinder_feishu.slotfinder_register_providers(got.append)
    slotfinder_feishu.slotfinder_register_simulators(got.append)
    assert [type(x) for x in got] == [FeishuProvider, FeishuSimulator]


def test_limits_endpoints_are_unique_and_follow_the_seeds() -> None:
    """Endpoints: list (1 user, 90 d), batch (10 users, 14 d), list:room; 50/s and 1000/min each."""
    limits = P.limits(CONFIG)
    names = [e.name for e in limits.endpoints]
    assert len(names) == len(set(names))
    batch, lst, room = limits.endpoint(BATCH), limits.endpoint(LIST), limits.endpoint(LIST_ROOM)
    assert (batch.kind, batch.max_ids, batch.max_span) == ("user", 10, 1_209_600)
    assert (lst.kind, lst.max_ids, lst.max_span) == ("user", 1, 90 * DAY)
    assert (room.kind, room.max_ids, room.max_span) == ("room", 1, 90 * DAY)
    for e in limits.endpoints:
        assert {(w.calls, w.seconds) for w in e.rate} == {(50, 1.0), (1000, 60.0)}


def test_plan_15_users_90_days_is_7_batch_and_5_list_calls() -> None:
    """15 users over 90 days: one batch of 10 in 7 chunks plus 5 single list calls, 12 in all."""
    calls = P.plan(users(15), WINDOW_90, CONFIG)
    assert len(calls) == 12
    assert sum(c.endpoint == BATCH for c in calls) == 7
    assert sum(c.endpoint == LIST for c in calls) == 5
    assert {len(c.ids) for c in calls if c.endpoint == BATCH} == {10}


@pytest.mark.parametrize(
    ("n", "days", "expected"),
    [
        (1, 60, {LIST: 1}),
        (1, 14, {LIST: 1}),  # a tie: list wins because it reports RSVP replies
        (2, 14, {BATCH: 1}),
        (10, 14, {BATCH: 1}),
        (11, 14, {BATCH: 1, LIST: 1}),
        (3, 90, {LIST: 3}),
        (30, 28, {BATCH: 6}),
    ],
)
def test_plan_call_counts(n: int, days: int, expected: dict[str, int]) -> None:
    """The planner picks the cheapest endpoint mix for users over a window."""
    calls = P.plan(users(n), Span(T0, T0 + days * DAY), CONFIG)
    counts: dict[str, int] = {}
    for c in calls:
        counts[c.endpoint] = counts.get(c.endpoint, 0) + 1
    assert counts == expected


def test_plan_rooms_use_the_room_list_endpoint() -> None:
    """Rooms go one per call to freebusy/list:room, chunked by 90 days."""
    calls = P.plan([Target("omm_1", "room"), Target("omm_2", "room")], Span(T0, T0 + 100 * DAY), {})
    assert [(c.endpoint, c.ids, c.kind) for c in calls] == [
        (LIST_ROOM, ("omm_1",), "room"),
        (LIST_ROOM, ("omm_1",), "room"),
        (LIST_ROOM, ("omm_2",), "room"),
        (LIST_ROOM, ("omm_2",), "room"),
    ]


def test_build_list_request() -> None:
    """A list call is a POST with the bearer token, JSON content type, query and seed fields."""
    req = P.build(list_call("ou_abc"), TOKEN, CONFIG)
    assert req.method == "POST"
    assert (
        req.url == "https://open.feishu.cn/open-apis/calendar/v4/freebusy/list?user_id_type=open_id"
    )
    assert req.headers["Authorization"] == f"Bearer {TOKEN}"
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(req.body or b"")
    assert body == {
        "time_min": "2026-11-22T08:00:00+08:00",
        "time_max": "2026-11-23T08:00:00+08:00",
        "user_id": "ou_abc",
        "include_external_calendar": True,
        "only_busy": True,
        "need_rsvp_status": True,
    }
    assert TOKEN not in repr(req)


def test_build_batch_request_follows_the_seed_without_rsvp_field() -> None:
    """A batch call sends user_ids and no need_rsvp_status (the batch seed page lists none)."""
    config = {**CONFIG, "base_url": "https://open.larksuite.com/", "user_id_type": "union_id"}
    req = P.build(batch_call("on_1", "on_2"), TOKEN, config)
    assert req.url == (
        "https://open.larksuite.com/open-apis/calendar/v4/freebusy/batch?user_id_type=union_id"
    )
    body = json.loads(req.body or b"")
    assert body["user_ids"] == ["on_1", "on_2"]
    assert "need_rsvp_status" not in body
    assert body["only_busy"] is True
    assert body["include_external_calendar"] is True


def test_build_room_request() -> None:
    """A room call puts the id in room_id, not user_id."""
    body = json.loads(P.build(list_call("omm_1", "room"), TOKEN, CONFIG).body or b"")
    assert body["room_id"] == "omm_1"
    assert "user_id" not in body


def test_user_id_type_is_validated() -> None:
    """An unknown user_id_type is a ConfigError naming providers.feishu.user_id_type."""
    with pytest.raises(ConfigError) as info:
        P.build(list_call(), TOKEN, {**CONFIG, "user_id_type": "email"})
    assert info.value.key == "providers.feishu.user_id_type"


def test_parse_seed_list_example() -> None:
    """The seed's list reply parses to one tentative row (needs_action) in epoch seconds."""
    result = P.parse(list_call("ou_x"), reply(SEED_LIST), CONFIG)
    assert result.busy == {"ou_x": [(SEED_START, SEED_START + 900, Status.TENTATIVE.code)]}
    assert not result.errors


def test_parse_seed_batch_example_counts_missing_rsvp_as_busy() -> None:
    """The seed's batch reply (no rsvp_status) parses to a busy row for the named user."""
    uid = "ou_c186b6833e2d5faf2bc587e71ddabcef"
    result = P.parse(batch_call(uid), reply(SEED_BATCH), CONFIG)
    assert result.busy == {uid: [(SEED_START, SEED_START + 900, Status.BUSY.code)]}


def test_parse_batch_missing_user_is_unknown_not_free() -> None:
    """A requested id absent from the batch reply becomes a per-id error, never free time."""
    result = P.parse(
        batch_call("ou_c186b6833e2d5faf2bc587e71ddabcef", "ou_gone"), reply(SEED_BATCH), CONFIG
    )
    assert "ou_gone" in result.errors
    assert "ou_gone" not in result.busy


@pytest.mark.parametrize(
    ("rsvp", "expected"),
    [
        ("accept", Status.BUSY.code),
        ("tentative", Status.TENTATIVE.code),
        ("needs_action", Status.TENTATIVE.code),
        ("decline", None),
        ("removed", None),
        (None, Status.BUSY.code),
        ("something_new", Status.BUSY.code),
    ],
)
def test_rsvp_mapping(rsvp: str | None, expected: int | None) -> None:
    """Each rsvp_status maps to busy, tentative or nothing (declined/removed do not block)."""
    item = {"start_time": "2026-11-23T10:00:00Z", "end_time": "2026-11-23T11:00:00Z"}
    if rsvp is not None:
        item["rsvp_status"] = rsvp
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": [item]}}
    rows = P.parse(list_call(), reply(body), CONFIG).busy["ou_x"]
    start = T0 + DAY + 10 * 3600
    assert list(rows) == ([] if expected is None else [(start, start + 3600, expected)])


def test_room_pending_booking_is_tentative() -> None:
    """A room booking pending approval (needs_action) is tentative; a refused one is dropped."""
    items = [
        {"start_time": "2026-11-23T10:00:00+08:00", "end_time": "2026-11-23T11:00:00+08:00",
         "rsvp_status": "needs_action"},
        {"start_time": "2026-11-23T12:00:00+08:00", "end_time": "2026-11-23T13:00:00+08:00",
         "rsvp_status": "decline"},
    ]  # fmt: skip
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": items}}
    rows = P.parse(list_call("omm_1", "room"), reply(body), CONFIG).busy["omm_1"]
    assert [r[2] for r in rows] == [Status.TENTATIVE.code]


def test_parse_empty_data_is_free() -> None:
    """A success reply without items (Feishu omits empty arrays) means no busy time."""
    assert P.parse(list_call(), reply({"code": 0, "msg": "success", "data": {}}), CONFIG).busy == {
        "ou_x": []
    }


def test_parse_bare_date_is_the_attendees_local_day() -> None:
    """An all-day item given as a bare date blocks the attendee's local day, not UTC's."""
    call = Call(
        endpoint=LIST, ids=("ou_x",), span=Span(T0, T0 + DAY), zones=(("ou_x", "Asia/Shanghai"),)
    )
    body = {
        "code": 0,
        "data": {"freebusy_list": [{"start_time": "2026-11-23", "end_time": "2026-11-24"}]},
    }
    rows = P.parse(call, reply(body), CONFIG).busy["ou_x"]
    assert list(rows) == [(T0 + DAY - 8 * 3600, T0 + 2 * DAY - 8 * 3600, Status.BUSY.code)]


RATE_CODES = [99991400, 99991402, 190004, 190005, 190010]


@pytest.mark.parametrize("code", RATE_CODES)
def test_rate_limit_codes_retry_after_the_reset_header(code: int) -> None:
    """Rate-limit codes raise RetryLater with the x-ogw-ratelimit-reset wait."""
    resp = reply({"code": code, "msg": "frequency limit"}, 429, **{"x-ogw-ratelimit-reset": "3"})
    with pytest.raises(RetryLater) as info:
        P.parse(list_call(), resp, CONFIG)
    assert info.value.after == 3.0
    assert info.value.rate_limited


def test_rate_limit_without_header_has_no_hint() -> None:
    """Without the reset header the wait is left to the fetcher's backoff."""
    with pytest.raises(RetryLater) as info:
        P.parse(list_call(), reply({"code": 190005, "msg": "app rate limited"}, 429), CONFIG)
    assert info.value.after is None


@pytest.mark.parametrize(("code", "status"), [(190003, 500), (1234567, 502), (0, 503)])
def test_server_errors_retry(code: int, status: int) -> None:
    """190003 and unknown codes with HTTP 5xx are transient."""
    body = {"code": code, "msg": "internal service error"} if code else b"<html>oops</html>"
    with pytest.raises(RetryLater):
        P.parse(list_call(), reply(body, status), CONFIG)


def test_195100_is_a_batch_error_naming_not_in_tenant() -> None:
    """195100 raises BatchError so the fetcher splits the batch; the reason says 'not in tenant'."""
    body = {"code": 195100, "msg": "user is dismiss or not exist in the tenant"}
    with pytest.raises(BatchError) as info:
        P.parse(batch_call("ou_a", "ou_b"), reply(body, 404), CONFIG)
    assert "not in tenant" in info.value.reason


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        (198001, "user_ids"),
        (198002, "time format"),
        (198003, "time range"),
        (198004, "time zone"),
        (190002, "user_ids ou_a, ou_b"),
    ],
)
def test_request_errors_fail_the_call_naming_the_field(code: int, needle: str) -> None:
    """Validation codes fail the call (ids unknown) with a reason naming the field and ids."""
    with pytest.raises(CallFailed) as info:
        P.parse(batch_call("ou_a", "ou_b"), reply({"code": code, "msg": "bad"}, 400), CONFIG)
    assert needle in info.value.reason
    assert not info.value.fatal
    assert f"code {code}" in info.value.reason


def test_190002_on_a_room_says_the_room_may_not_exist() -> None:
    """190002 for a room call names the room_id and suggests it was deleted."""
    with pytest.raises(CallFailed) as info:
        P.parse(list_call("omm_9", "room"), reply({"code": 190002, "msg": "invalid"}, 400), CONFIG)
    assert "room_id omm_9" in info.value.reason
    assert "does not exist" in info.value.reason


def test_190014_includes_field_violations() -> None:
    """190014's reason carries error.field_violations and error.details."""
    body = {
        "code": 190014,
        "msg": "invalid request parameters. check details for more info.",
        "error": {
            "field_violations": [{"field": "time_min", "description": "required"}],
            "details": [{"key": "hint", "value": "see docs"}],
        },
    }
    with pytest.raises(CallFailed) as info:
        P.parse(list_call(), reply(body, 400), CONFIG)
    assert "time_min: required" in info.value.reason
    assert "hint: see docs" in info.value.reason


@pytest.mark.parametrize(
    ("code", "status", "needle"),
    [(190006, 403, "app_id"), (190007, 404, "bot capability"), (99991672, 400, "scope")],
)
def test_app_misconfiguration_is_fatal(code: int, status: int, needle: str) -> None:
    """190006, 190007 and a missing scope stop the provider, saying what to fix."""
    with pytest.raises(CallFailed) as info:
        P.parse(list_call(), reply({"code": code, "msg": "x"}, status), CONFIG)
    assert info.value.fatal
    assert needle in info.value.reason


@pytest.mark.parametrize("code", [99991661, 99991663, 99991671])
def test_token_codes_ask_for_a_new_token(code: int) -> None:
    """Missing, invalid and malformed token codes raise TokenExpired."""
    with pytest.raises(TokenExpired):
        P.parse(list_call(), reply({"code": code, "msg": "Invalid access token"}, 400), CONFIG)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        b"[1, 2]",
        b'{"msg": "no code"}',
        b'{"code": 0, "data": {"freebusy_list": "nope"}}',
        b'{"code": 0, "data": {"freebusy_list": [{"start_time": "yesterday"}]}}',
        b'{"code": 0, "data": [1]}',
        b'{"code": 0, "data": {"freebusy_lists": [7]}}',
    ],
)
def test_unexpected_bodies_fail_clearly(body: bytes) -> None:
    """A body that is not the expected JSON fails the call with status and log id, never crashes."""
    call = batch_call() if b"freebusy_lists" in body else list_call()
    with pytest.raises(CallFailed) as info:
        P.parse(call, reply(body, 200, **{"X-Tt-Logid": "202611230001"}), CONFIG)
    assert "HTTP 200" in info.value.reason
    assert "202611230001" in info.value.reason


def test_html_429_is_still_a_rate_limit() -> None:
    """A 429 with a non-JSON body retries, honouring the reset header."""
    resp = reply(b"<html>slow down</html>", 429, **{"x-ogw-ratelimit-reset": "2"})
    with pytest.raises(RetryLater) as info:
        P.parse(list_call(), resp, CONFIG)
    assert info.value.after == 2.0


def test_token_request_reveals_the_secret_only_in_the_body() -> None:
    """The token request posts app_id/app_secret as JSON; its repr shows no secret."""
    req = P.token_request(CONFIG)
    assert req.url == "https://open.feishu.cn/open-apis/auth/v3/tenant_access_token/internal"
    assert json.loads(req.body or b"") == {"app_id": CONFIG["app_id"], "app_secret": SECRET}
    assert SECRET not in repr(req)
    assert SECRET not in repr(P)
    assert P.token_key(CONFIG) == ("https://open.feishu.cn", CONFIG["app_id"])


def test_missing_secret_names_the_environment_variable() -> None:
    """Without app_secret the token request fails with a ConfigError naming the variable."""
    with pytest.raises(ConfigError, match="SLOTFINDER_FEISHU_APP_SECRET") as info:
        P.token_request({"app_id": "cli_x"})
    assert info.value.key == "providers.feishu.app_secret"


def test_parse_token_success() -> None:
    """The token reply is read from the top level (no data envelope)."""
    body = {"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 7200}
    token = P.parse_token(reply(body), CONFIG)
    assert token.value == TOKEN
    assert token.expires_in == 7200.0
    assert TOKEN not in repr(token)


@pytest.mark.parametrize(
    ("code", "key"),
    [(10014, "providers.feishu.app_secret"), (99991543, "providers.feishu.app_id"),
     (10003, "providers.feishu.app_id")],
)  # fmt: skip
def test_bad_credentials_are_config_errors(code: int, key: str) -> None:
    """Refused credentials raise ConfigError naming the key and the secret's env var."""
    with pytest.raises(ConfigError) as info:
        P.parse_token(reply({"code": code, "msg": "app secret invalid"}, 400), CONFIG)
    assert info.value.key == key
    assert "SLOTFINDER_FEISHU_APP_SECRET" in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    ("body", "status"), [(b"<html>bad gateway</html>", 502), ({"code": 190003, "msg": "x"}, 500)]
)
def test_token_server_errors_retry(body: object, status: int) -> None:
    """A 5xx from the token endpoint is transient."""
    with pytest.raises(RetryLater):
        P.parse_token(reply(body, status), CONFIG)


def test_token_reply_without_token_fails() -> None:
    """A code-0 token reply lacking the token fails clearly instead of crashing."""
    with pytest.raises(CallFailed, match="tenant_access_token"):
        P.parse_token(reply({"code": 0, "msg": "ok"}), CONFIG)


def test_debug_logs_never_carry_the_token(caplog: pytest.LogCaptureFixture) -> None:
    """Building and parsing at DEBUG logs the call but never the token or the secret."""
    caplog.set_level(logging.DEBUG, logger="slotfinder.feishu")
    P.build(list_call(), TOKEN, CONFIG)
    P.parse(list_call(), reply(SEED_LIST), CONFIG)
    P.token_request(CONFIG)
    assert caplog.records
    assert TOKEN not in caplog.text
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "2020-10-28T22:30:00+08:00",
        "2020-10-28T14:30:00Z",
        "2020-10-28T14:30:00.123456Z",
        "1999-12-31T23:59:59-05:30",
        "2024-02-29T00:00:00+14:00",
        "1969-07-20T20:17:40Z",
    ],
)
def test_parse_time_matches_datetime(text: str) -> None:
    """The fast RFC 3339 reader agrees with datetime.fromisoformat."""
    assert parse_time(text) == int(datetime.fromisoformat(text).timestamp() // 1)


@pytest.mark.parametrize(
    "text",
    ["2020-02-30T00:00:00Z", "2020-10-28 12:00", "2020-10-28T25:00:00Z", "", "2020-10-28T12:00:00"],
)
def test_parse_time_refuses_non_rfc3339(text: str) -> None:
    """Invalid dates, missing offsets and out-of-range times are ValueErrors."""
    with pytest.raises(ValueError):
        parse_time(text)


def test_a_leap_second_reads_as_its_minute_s_last_second() -> None:
    """``:60`` is RFC 3339's leap second and reads as ``:59`` (documented); ``:61`` is refused."""
    last = int(datetime.fromisoformat("2016-12-31T23:59:59+00:00").timestamp())
    for read in (parse_time, read_time, read_time):
        assert read("2016-12-31T23:59:60Z") == last
        assert read("2017-01-01T07:59:60.5+08:00") == last
        with pytest.raises(ValueError, match="'2016-12-31T23:59:61Z'"):
            read("2016-12-31T23:59:61Z")


@pytest.mark.parametrize("endpoint", [LIST, LIST_ROOM])
def test_impossible_time_fails_the_call_naming_it(endpoint: str) -> None:
    """A time with seconds 99 (read as :59 before) fails a list reply with a reason naming it.

    A list reply holds one id, so the whole call fails and the fetcher marks that id unknown
    with the reason (never free, never shifted). A batch reply makes only the user whose items
    hold the bad time unknown (test_batch_unreadable_item_makes_only_its_user_unknown).
    """
    bad = "2026-11-23T10:00:99+08:00"
    items = [{"start_time": bad, "end_time": "2026-11-23T11:00:00+08:00"}]
    call = list_call("omm_a", "room") if endpoint == LIST_ROOM else list_call("ou_a")
    data = {"freebusy_list": items}
    with pytest.raises(CallFailed) as failed:
        P.parse(call, reply({"code": 0, "msg": "success", "data": data}, 200, **LOGID), CONFIG)
    who = "room_id omm_a" if endpoint == LIST_ROOM else "user_id ou_a"
    assert failed.value.reason == (
        f"feishu {endpoint} ({who}): HTTP 200: unexpected reply shape: "
        f"not an RFC 3339 date-time: {bad!r} (time out of range), log id 202611230001"
    )
    assert not failed.value.fatal


LOGID = {"X-Tt-Logid": "202611230001"}


def _good(hour: int, user: int = 0) -> dict[str, str]:
    """A clean one-hour item on 2026-11-23 (minute ``user`` tells the users' items apart)."""
    return {
        "start_time": f"2026-11-23T{hour:02d}:{user:02d}:00+08:00",
        "end_time": f"2026-11-23T{hour + 1:02d}:{user:02d}:00+08:00",
    }


def _batch_reply(entries: list[tuple[str, object]]) -> HttpResponse:
    lists = [{"freebusy_items": items, "user_id": uid} for uid, items in entries]
    return reply({"code": 0, "msg": "success", "data": {"freebusy_lists": lists}}, 200, **LOGID)


_UNREADABLE = [
    pytest.param(
        {"start_time": "2026-11-25T09:00:61+08:00", "end_time": "2026-11-25T10:00:00+08:00"},
        "not an RFC 3339 date-time: '2026-11-25T09:00:61+08:00' (time out of range)",
        id="impossible-second",
    ),
    pytest.param(
        {"start_time": "2026-11-25T10:00:00+08:00", "end_time": "2026-11-25T09:59:59+08:00"},
        "item ends before it starts: '2026-11-25T10:00:00+08:00'",
        id="end-before-start",
    ),
    pytest.param(
        {"start_time": "2026-02-30", "end_time": "2026-03-01"},
        "not a date: '2026-02-30' (day is out of range for month)",
        id="impossible-bare-date",
    ),
    pytest.param(
        {"start_time": 1795395600, "end_time": "2026-11-25T10:00:00+08:00"},
        "not an RFC 3339 date-time: 1795395600",
        id="number-for-a-time",
    ),
    pytest.param(
        {"end_time": "2026-11-25T10:00:00+08:00"}, "missing field 'start_time'", id="no-start"
    ),
    pytest.param("an item", "busy item is not an object: 'an item'", id="not-an-object"),
]


@pytest.mark.parametrize(("bad", "message"), _UNREADABLE)
@pytest.mark.parametrize("where", [0, 1, 2])
def test_batch_unreadable_item_makes_only_its_user_unknown(
    bad: object, message: str, where: int
) -> None:
    """One unreadable item among three users' items makes that user unknown, naming the text;
    the other two get exactly the rows a reply without the bad user gives them."""
    ids = ("ou_a", "ou_b", "ou_c")
    items: dict[str, list[object]] = {uid: [_good(9, n), _good(13, n)] for n, uid in enumerate(ids)}
    sick = ids[where]
    items[sick].insert(1, bad)
    result = P.parse(batch_call(*ids), _batch_reply(list(items.items())), CONFIG)
    assert result.errors == {
        sick: f"feishu freebusy/batch returned an unreadable busy item for user_id {sick}: "
        f"{message}, log id 202611230001"
    }
    assert sick not in result.busy
    healthy = [uid for uid in ids if uid != sick]
    alone = P.parse(
        batch_call(*healthy), _batch_reply([(uid, items[uid]) for uid in healthy]), CONFIG
    )
    assert not alone.errors
    assert result.busy == alone.busy
    assert all(len(alone.busy[uid]) == 2 for uid in healthy)


@pytest.mark.parametrize("bad_first", [True, False])
def test_batch_user_listed_twice_with_one_bad_entry_is_unknown(bad_first: bool) -> None:
    """Rows of a user read from a good entry are dropped when another entry of theirs is
    unreadable, in either order; the user stays unknown and the other user is kept."""
    bad = {"start_time": "2026-11-23T09:00:00+08:00", "end_time": "2026-11-23T08:00:00+08:00"}
    entries: list[tuple[str, object]] = [("ou_a", [bad]), ("ou_a", [_good(9)])]
    if not bad_first:
        entries.reverse()
    result = P.parse(batch_call("ou_a", "ou_b"), _batch_reply([*entries, ("ou_b", [])]), CONFIG)
    assert list(result.errors) == ["ou_a"]
    assert "item ends before it starts: '2026-11-23T09:00:00+08:00'" in result.errors["ou_a"]
    assert result.busy == {"ou_b": []}


def test_batch_user_whose_items_are_not_a_list_is_unknown() -> None:
    """freebusy_items that is not a list concerns its user only."""
    result = P.parse(
        batch_call("ou_a", "ou_b"), _batch_reply([("ou_a", "busy"), ("ou_b", [_good(9)])]), CONFIG
    )
    assert result.errors == {
        "ou_a": "feishu freebusy/batch returned an unreadable busy item for user_id ou_a: "
        "busy items are not a list, log id 202611230001"
    }
    assert list(result.busy) == ["ou_b"]


@pytest.mark.parametrize(
    "data",
    [
        {"freebusy_lists": "nope"},
        {"freebusy_lists": [{"user_id": "ou_a", "freebusy_items": []}, 7]},
        {"freebusy_lists": {"ou_a": []}},
    ],
)
def test_batch_reply_of_the_wrong_shape_still_fails_the_call(data: object) -> None:
    """A batch reply whose freebusy_lists is not a list of objects fails the whole call."""
    body = {"code": 0, "msg": "success", "data": data}
    with pytest.raises(CallFailed) as failed:
        P.parse(batch_call("ou_a", "ou_b"), reply(body, 200, **LOGID), CONFIG)
    assert "HTTP 200: unexpected reply shape" in failed.value.reason
    assert "202611230001" in failed.value.reason


def test_format_time_round_trips() -> None:
    """Formatting with the +08:00 offset reads back to the same second."""
    for t in (0, T0, T0 + 12345, 2_000_000_000):
        assert parse_time(format_time(t)) == t
    assert parse_date("2026-11-23", "Europe/Berlin") == T0 + DAY - 3600


# --- the fast reader equals the reference reader ------------------------------------------------


@st.composite
def _time_pairs(draw: st.DrawFn) -> tuple[object, object]:
    """Start and end, mostly one clean meeting (end a little before, at or after start)."""
    choice = draw(st.integers(0, 7))
    if choice == 0:
        return draw(tt.DATE_TIMES), draw(tt.DATE_TIMES)
    if choice == 1:
        odd = st.sampled_from([None, 5, ["2026-11-25"], list("2026-11-25"), "2026-11-25"])
        return draw(st.one_of(odd, tt.DATE_TIMES)), draw(st.one_of(odd, tt.DATE_TIMES))
    start, end = draw(tt.meetings())
    if choice == 2:  # an all-day item: bare dates
        return start.date().isoformat(), end.date().isoformat()
    offset = draw(tt.OFFSETS)
    other = offset if draw(st.integers(0, 3)) else draw(tt.OFFSETS)
    text = "%Y-%m-%d" + draw(tt.SEPARATORS) + "%H:%M:%S"
    return start.strftime(text) + draw(tt.FRACTIONS) + offset, end.strftime(text) + other


_ABSENT = object()
_RSVPS = st.sampled_from(
    [_ABSENT] * 4 + ["accept"] * 3
    + ["tentative", "needs_action", "decline", "removed", "maybe", "", None, 3, ["accept"]]
)  # fmt: skip


@st.composite
def _items(draw: st.DrawFn) -> object:
    """A freebusy item: mostly well formed, with every odd part mixed in."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, "item", [], 7, {}]))
    first, last = draw(_time_pairs())
    fields = {"start_time": first, "end_time": last, "rsvp_status": draw(_RSVPS)}
    if draw(st.integers(0, 9)) == 0:
        fields[draw(st.sampled_from(["start_time", "end_time"]))] = _ABSENT
    return {k: v for k, v in fields.items() if v is not _ABSENT}


@contextmanager
def _log_lines() -> Iterator[list[str]]:
    """Level and message of each line logged on slotfinder.feishu inside the block."""
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda r: lines.append(f"{r.levelname} {r.getMessage()}")  # type: ignore[method-assign]
    logger = logging.getLogger("slotfinder.feishu")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _outcome(read: Callable[[], object]) -> tuple[object, ...]:
    """What a reader returned or the type and message of what it raised, and what it logged."""
    with _log_lines() as lines:
        try:
            result: tuple[object, ...] = ("rows", read())
        except Exception as exc:
            result = ("raised", type(exc), str(exc))
    return (*result, lines)


_ZONES = ("UTC", "Asia/Shanghai", "America/New_York")


@given(st.lists(_items(), max_size=6))
def test_fast_reader_equals_the_reference(items: list[Any]) -> None:
    """Rows, errors and log lines of the memoised reader equal the reference's, hits too."""
    for zone in _ZONES:  # the same bare dates under three attendee zones
        expected = _outcome(lambda z=zone: feishu._rows_reference(items, z))
        for _ in range(2):  # the second read comes from the memos
            assert _outcome(lambda z=zone: feishu._rows(items, z)) == expected


@given(st.lists(_items(), max_size=6))
def test_fast_reader_from_cold_equals_the_reference(items: list[Any]) -> None:
    """With every memo emptied first, the fast reader still equals the reference."""
    _times.forget()
    expected = _outcome(lambda: feishu._rows_reference(items, "Asia/Shanghai"))
    assert _outcome(lambda: feishu._rows(items, "Asia/Shanghai")) == expected


@contextmanager
def _reference_rows() -> Iterator[None]:
    """The provider's parse reads items with ``_rows_reference`` inside the block."""
    fast = feishu._rows
    setattr(feishu, "_rows", feishu._rows_reference)  # noqa: B010
    try:
        yield
    finally:
        setattr(feishu, "_rows", fast)  # noqa: B010


@given(st.lists(st.lists(_items(), max_size=4), min_size=1, max_size=4))
def test_batch_parse_with_the_fast_reader_equals_the_reference(lists: list[list[Any]]) -> None:
    """A batch reply gives the same rows, per-user errors and log lines with either reader;
    every user is in busy or in errors, never both."""
    ids = tuple(f"ou_{n}" for n in range(len(lists)))
    call, response = batch_call(*ids), _batch_reply(list(zip(ids, lists, strict=True)))
    with _reference_rows():
        expected = _outcome(lambda: P.parse(call, response, CONFIG))
    assert expected[0] == "rows"
    for _ in range(2):
        assert _outcome(lambda: P.parse(call, response, CONFIG)) == expected
    result = expected[1]
    assert isinstance(result, CallResult)
    assert sorted([*result.busy, *result.errors]) == sorted(ids)


def _near_misses() -> st.SearchStrategy[str]:
    """A time with one character replaced, inserted or deleted."""
    texts = _time_pairs().map(lambda pair: pair[0]).filter(lambda t: isinstance(t, str))
    return tt.one_edit(cast("st.SearchStrategy[str]", texts))


def _read(fn: Callable[..., int], *args: object) -> tuple[object, ...]:
    try:
        return ("value", fn(*args))
    except Exception as exc:
        return ("raised", type(exc), str(exc))


@given(st.one_of(tt.DATE_TIMES, _near_misses()))
@example("2026-11-25T09:00:00+08:00")
@example("2026-11-25t09:00:00z")
@example("2026-11-25 09:00:60+08:00")
@example("2026-11-25T09:00:99Z")
@example("2026-11-25T09:00:00+08:60")
@example("2026- 1-25T09:00:00+08:00")
@example("2026-+1-25T09:00:00+08:00")
@example("2026-11-2\u0663T09:00:00+08:00")
@example("2026-11-25T09:00:00+ 8:00")
def test_read_time_equals_parse_time(text: str) -> None:
    """read_time gives parse_time's value or error, first and from its memo."""
    expected = _read(parse_time, text)
    assert _read(read_time, text) == expected
    assert _read(read_time, text) == expected
    value = _times._canonical(text)
    assert value is None or expected == ("value", value)


@given(tt.impossible_date_times())
@example("2026-11-25T09:00:61+08:00")  # read as :59 before, as were the next two
@example("2026-11-25T09:00:99Z")
@example("2026-11-25T09:00:99.5+08:00")
@example("2026-11-25T24:00:00+08:00")  # RFC 3339 has no 24:00
@example("2026-11-25T09:60:00+08:00")
@example("2026-11-25T09:00:00+08:60")
@example("2026-11-25T09:00:00+24:00")
@example("2026-02-29T09:00:00Z")
@example("2026-13-01T09:00:00Z")
def test_impossible_times_are_refused_by_both_readers(text: str) -> None:
    """A date, clock time or offset out of range raises ValueError naming the text from
    parse_time and read_time, first and again (nothing is remembered), and from both item
    readers: never a clamped or rolled-over time."""
    with pytest.raises(ValueError) as raised:
        parse_time(text)
    assert repr(text) in str(raised.value)
    expected = ("raised", ValueError, str(raised.value))
    assert _read(read_time, text) == expected
    assert _read(read_time, text) == expected
    assert _times._canonical(text) is None
    items = [{"start_time": text, "end_time": "2026-11-25T10:00:00Z"}]
    assert _outcome(lambda: feishu._rows_reference(items, "UTC")) == (*expected, [])
    for _ in range(2):
        assert _outcome(lambda: feishu._rows(items, "UTC")) == (*expected, [])


@given(tt.IMPOSSIBLE_DATES)
@example("2026-02-29")
def test_impossible_bare_dates_are_refused_by_both_readers(text: str) -> None:
    """An all-day date out of range raises ValueError naming it, from both readers."""
    for zone in _ZONES:
        with pytest.raises(ValueError) as raised:
            parse_date(text, zone)
        assert repr(text) in str(raised.value)
        expected = ("raised", ValueError, str(raised.value))
        assert _read(read_date, text, zone) == expected
        assert _read(read_date, text, zone) == expected


@given(st.one_of(tt.DATE_TEXTS, st.sampled_from([None, 5, list("2026-11-25")])))
def test_read_date_equals_parse_date(text: Any) -> None:
    """read_date gives parse_date's value or error in each zone, first and from its memo."""
    for zone in (*_ZONES, "Mars/Olympus"):
        expected = _read(parse_date, text, zone)
        assert _read(read_date, text, zone) == expected
        assert _read(read_date, text, zone) == expected


def test_fast_reader_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound a memo is emptied and refilled, and the rows stay right."""
    monkeypatch.setattr(slotfinder.memo, "MEMO_MAX", 8)
    _times.forget()
    items = [
        {"start_time": f"2026-11-{d:02d}T09:00:00+08:00", "end_time": f"2026-11-{d + 1:02d}"}
        for d in range(1, 30)
    ]
    for _ in range(2):
        assert feishu._rows(items, "UTC") == feishu._rows_reference(items, "UTC")
        assert all(len(m) <= 8 for m in (*_times._MEMOS, *slotfinder.memo._PART_MEMOS))


def test_fast_reader_reads_simulated_replies_like_the_reference() -> None:
    """Batch and list replies of the simulator read the same both ways, for every person."""
    tenant = FeishuSimulator().tenant(11, users=30, rooms=3)
    window = {"time_min": format_time(T0), "time_max": format_time(T0 + 14 * DAY)}
    ids = [p.open_id for p in tenant.people[:10]]
    batch = json.loads(_answer(tenant, "open_id", {**window, "user_ids": ids}, "batch"))
    lists = [entry["freebusy_items"] for entry in batch["freebusy_lists"]]
    for key in [*ids, *(r.room_id for r in tenant.rooms)]:
        id_field = "room_id" if key.startswith("omm_") else "user_id"
        body = {**window, id_field: key, "need_rsvp_status": True}
        lists.append(json.loads(_answer(tenant, "open_id", body, "list"))["freebusy_list"])
    assert sum(map(len, lists)) > 100
    for items in lists:
        expected = _outcome(lambda i=items: feishu._rows_reference(i, "Asia/Shanghai"))
        assert expected[0] == "rows"
        for _ in range(2):
            assert _outcome(lambda i=items: feishu._rows(i, "Asia/Shanghai")) == expected


@pytest.mark.parametrize("seconds", [1, 0])
def test_fast_reader_refuses_an_end_before_its_start(seconds: int) -> None:
    """An end one second before the start raises the reference message; equal times are fine."""
    item = {
        "start_time": "2026-11-23T10:00:01+08:00",
        "end_time": f"2026-11-23T10:00:0{1 - seconds}+08:00",
        "rsvp_status": "mystery",
    }
    for _ in range(2):
        expected = _outcome(lambda: feishu._rows_reference([item], "UTC"))
        assert _outcome(lambda: feishu._rows([item], "UTC")) == expected
        assert expected[0] == ("raised" if seconds else "rows")
        assert expected[-1] == ["DEBUG feishu: unknown rsvp_status 'mystery' counted as busy"]
