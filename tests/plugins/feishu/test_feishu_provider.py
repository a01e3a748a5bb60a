"""Feishu provider without a network: limits, build, parse and tokens on captured replies."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import paths
import pytest
import time_texts as tt
from hypothesis import example, given
from hypothesis import strategies as st
from slotfinder_feishu import FeishuProvider
from slotfinder_feishu.provider import BATCH, ERROR_CODES, LIST, LIST_ROOM
from slotfinder_feishu.simulator import FeishuSimulator

from slotfinder.errors import ConfigError
from slotfinder.model import DAY, Span, Status
from slotfinder.plan import plan_calls
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
BUSY, TENTATIVE, UNANSWERED = Status.BUSY.code, Status.TENTATIVE.code, Status.UNANSWERED.code
LOGID = {"X-Tt-Logid": "202611230001"}

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


def epoch(text: str) -> int:
    """The standard library's reading of an RFC 3339 time (the oracle)."""
    return int(datetime.fromisoformat(text).timestamp())


SEED_START = epoch("2020-10-28T22:30:00+08:00")


def users(n: int) -> list[Target]:
    return [Target(f"ou_{i:032x}") for i in range(n)]


def plan(targets: list[Target], window: Span, config: Any = CONFIG) -> list[Call]:
    """The calls the fetcher makes for Feishu: the default planner over its limits."""
    return plan_calls(targets, window, P.limits(config))


def reply(body: object, status: int = 200, **headers: str) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers={k.lower(): v for k, v in headers.items()}, body=raw)


def list_call(id: str = "ou_x", kind: str = "user", zone: str | None = None) -> Call:
    endpoint = LIST_ROOM if kind == "room" else LIST
    zones = ((id, zone),) if zone else ()
    return Call(endpoint, (id,), Span(T0, T0 + DAY), kind=kind, zones=zones)  # type: ignore[arg-type]


def batch_call(*ids: str) -> Call:
    return Call(endpoint=BATCH, ids=ids or ("ou_a", "ou_b"), span=Span(T0, T0 + DAY))


def list_rows(*items: object, zone: str | None = None) -> CallResult:
    """What a list reply holding ``items`` parses to."""
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": list(items)}}
    return P.parse(list_call(zone=zone), reply(body, 200, **LOGID), CONFIG)


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
    calls = plan(users(15), WINDOW_90)
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
    calls = plan(users(n), Span(T0, T0 + days * DAY))
    counts: dict[str, int] = {}
    for c in calls:
        counts[c.endpoint] = counts.get(c.endpoint, 0) + 1
    assert counts == expected


def test_plan_rooms_use_the_room_list_endpoint() -> None:
    """Rooms go one per call to freebusy/list:room, chunked by 90 days."""
    calls = plan([Target("omm_1", "room"), Target("omm_2", "room")], Span(T0, T0 + 100 * DAY), {})
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
    """The seed's list reply parses to one unanswered row (needs_action) in epoch seconds."""
    result = P.parse(list_call("ou_x"), reply(SEED_LIST), CONFIG)
    assert result.busy == {"ou_x": [(SEED_START, SEED_START + 900, Status.UNANSWERED.code)]}
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
        ("needs_action", Status.UNANSWERED.code),
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


def test_room_pending_booking_is_unanswered() -> None:
    """A room booking pending approval (needs_action) is unanswered; a refused one is dropped."""
    items = [
        {"start_time": "2026-11-23T10:00:00+08:00", "end_time": "2026-11-23T11:00:00+08:00",
         "rsvp_status": "needs_action"},
        {"start_time": "2026-11-23T12:00:00+08:00", "end_time": "2026-11-23T13:00:00+08:00",
         "rsvp_status": "decline"},
    ]  # fmt: skip
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": items}}
    rows = P.parse(list_call("omm_1", "room"), reply(body), CONFIG).busy["omm_1"]
    assert [r[2] for r in rows] == [Status.UNANSWERED.code]


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
    """190002 for a room call names the room_id and says the room may be gone."""
    with pytest.raises(CallFailed) as info:
        P.parse(list_call("omm_9", "room"), reply({"code": 190002, "msg": "invalid"}, 400), CONFIG)
    assert "room_id omm_9" in info.value.reason
    assert "may not exist" in info.value.reason


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
        b'{"code": 0, "data": [1]}',
        b'{"code": 0, "data": {"freebusy_lists": [7]}}',
    ],
)
def test_unexpected_bodies_fail_clearly(body: bytes) -> None:
    """A body that is not a Feishu envelope with an object ``data`` fails the call with the
    status and log id, never a crash."""
    call = batch_call() if b"freebusy_lists" in body else list_call()
    with pytest.raises(CallFailed) as info:
        P.parse(call, reply(body, 200, **LOGID), CONFIG)
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


@pytest.mark.parametrize(("code", "meaning"), sorted(ERROR_CODES.items()))
def test_every_listed_code_does_what_the_table_says(code: int, meaning: tuple[str, str]) -> None:
    """Each code of ERROR_CODES raises the error its kind names, quoting the code and log id;
    the token endpoint's credential codes are ConfigErrors naming the key."""
    kind, _ = meaning
    response = reply({"code": code, "msg": "x"}, 400, **LOGID)
    expected: dict[str, type[Exception]] = {
        "retry": RetryLater,
        "rate": RetryLater,
        "token": TokenExpired,
        "batch": BatchError,
        "fatal": CallFailed,
        "invalid": CallFailed,
        "app_id": CallFailed,
        "app_secret": CallFailed,
    }
    with pytest.raises(expected[kind]) as info:
        P.parse(batch_call(), response, CONFIG)
    assert f"code {code}" in str(info.value)
    assert "202611230001" in str(info.value)
    if kind in ("fatal", "invalid"):
        assert isinstance(info.value, CallFailed)
        assert info.value.fatal == (kind == "fatal")
    if kind in ("app_id", "app_secret"):
        with pytest.raises(ConfigError) as refused:
            P.parse_token(response, CONFIG)
        assert refused.value.key == f"providers.feishu.{kind}"


def test_token_lifetime_is_capped_and_must_be_positive() -> None:
    """A lifetime over two hours is capped; zero, negative, NaN or boolean ones are refused."""
    body = {"code": 0, "msg": "ok", "tenant_access_token": TOKEN, "expire": 10**400}
    assert P.parse_token(reply(body), CONFIG).expires_in == 7200.0
    for bad in (0, -5, True, "7200"):
        with pytest.raises(CallFailed, match="expire"):
            P.parse_token(reply({**body, "expire": bad}), CONFIG)
    with pytest.raises(CallFailed, match="expire"):
        P.parse_token(reply(b'{"code":0,"tenant_access_token":"t","expire":NaN}'), CONFIG)


# --- unreadable items: only their user is unknown ------------------------------------------


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
        "[1].start_time='2026-11-25T09:00:61+08:00': no such time of day",
        id="impossible-second",
    ),
    pytest.param(
        {"start_time": "2026-11-25T10:00:00+08:00", "end_time": "2026-11-25T09:59:59+08:00"},
        "[1].end_time='2026-11-25T09:59:59+08:00': before the start '2026-11-25T10:00:00+08:00'",
        id="end-before-start",
    ),
    pytest.param(
        {"start_time": "2026-02-30", "end_time": "2026-03-01"},
        "[1].start_time='2026-02-30': no such date",
        id="impossible-bare-date",
    ),
    pytest.param(
        {"start_time": 1795395600, "end_time": "2026-11-25T10:00:00+08:00"},
        "[1].start_time=1795395600: expected an RFC 3339 time",
        id="number-for-a-time",
    ),
    pytest.param(
        {"start_time": "2026-11-25T10:00:00", "end_time": "2026-11-25T11:00:00+08:00"},
        "[1].start_time='2026-11-25T10:00:00': no UTC offset",
        id="no-offset",
    ),
    pytest.param({"end_time": "2026-11-25T10:00:00+08:00"}, "[1].start_time=None", id="no-start"),
    pytest.param("an item", "[1]='an item': expected an object", id="not-an-object"),
]


@pytest.mark.parametrize(("bad", "message"), _UNREADABLE)
@pytest.mark.parametrize("where", [0, 1, 2])
def test_batch_unreadable_item_makes_only_its_user_unknown(
    bad: object, message: str, where: int
) -> None:
    """One unreadable item among three users' items makes that user unknown, naming the field
    and value; the other two get exactly the rows a reply without the bad user gives them."""
    ids = ("ou_a", "ou_b", "ou_c")
    items: dict[str, list[object]] = {uid: [_good(9, n), _good(13, n)] for n, uid in enumerate(ids)}
    sick = ids[where]
    items[sick].insert(1, bad)
    result = P.parse(batch_call(*ids), _batch_reply(list(items.items())), CONFIG)
    assert list(result.errors) == [sick]
    assert result.errors[sick].startswith(
        f"feishu freebusy/batch returned an unreadable busy item for user_id {sick}: "
        f"freebusy_lists[{where}].freebusy_items{message}"
    )
    assert result.errors[sick].endswith(", log id 202611230001")
    assert sick not in result.busy
    healthy = [uid for uid in ids if uid != sick]
    alone = P.parse(
        batch_call(*healthy), _batch_reply([(uid, items[uid]) for uid in healthy]), CONFIG
    )
    assert not alone.errors
    assert result.busy == alone.busy
    assert all(len(alone.busy[uid]) == 2 for uid in healthy)


@pytest.mark.parametrize(("bad", "message"), _UNREADABLE)
@pytest.mark.parametrize("endpoint", [LIST, LIST_ROOM])
def test_list_unreadable_item_makes_its_id_unknown(
    bad: object, message: str, endpoint: str
) -> None:
    """A list reply holds one user or room: an unreadable item makes that id unknown, naming
    the field and value (never free, never a shifted time)."""
    call = list_call("omm_a", "room") if endpoint == LIST_ROOM else list_call("ou_a")
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": [_good(9), bad]}}
    result = P.parse(call, reply(body, 200, **LOGID), CONFIG)
    who = "room_id omm_a" if endpoint == LIST_ROOM else "user_id ou_a"
    (reason,) = result.errors.values()
    assert reason.startswith(
        f"feishu {endpoint} returned an unreadable busy item for {who}: freebusy_list{message}"
    )
    assert reason.endswith(", log id 202611230001")
    assert not result.busy


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
    assert "end_time='2026-11-23T08:00:00+08:00': before the start" in result.errors["ou_a"]
    assert result.busy == {"ou_b": []}


@pytest.mark.parametrize("items", ["busy", {"start_time": "x"}, 7])
def test_items_that_are_not_a_list_make_their_user_unknown(items: object) -> None:
    """freebusy_items (or freebusy_list) that is not a list concerns its user only."""
    result = P.parse(
        batch_call("ou_a", "ou_b"), _batch_reply([("ou_a", items), ("ou_b", [_good(9)])]), CONFIG
    )
    assert "freebusy_lists[0].freebusy_items=" in result.errors["ou_a"]
    assert "expected a list" in result.errors["ou_a"]
    assert list(result.busy) == ["ou_b"]
    body = {"code": 0, "msg": "success", "data": {"freebusy_list": items}}
    assert "expected a list" in P.parse(list_call(), reply(body), CONFIG).errors["ou_x"]


def test_ids_not_asked_for_are_ignored() -> None:
    """A batch entry for an id the call did not name is dropped, not added to the result."""
    result = P.parse(batch_call("ou_a"), _batch_reply([("ou_a", []), ("ou_z", [_good(9)])]), CONFIG)
    assert result.busy == {"ou_a": []}
    assert not result.errors


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


# --- times follow slotfinder.times' rules ---------------------------------------------------


def test_a_leap_second_is_the_next_minute() -> None:
    """``:60`` is the next minute's first second (slotfinder.times' rule); ``:61`` is refused."""
    item = {"start_time": "2016-12-31T23:59:60Z", "end_time": "2017-01-01T07:59:60.5+08:00"}
    midnight = epoch("2017-01-01T00:00:00+00:00")
    assert list(list_rows(item).busy["ou_x"]) == [(midnight, midnight, BUSY)]
    bad = {"start_time": "2016-12-31T23:59:61Z", "end_time": "2017-01-01T00:00:00Z"}
    assert "start_time='2016-12-31T23:59:61Z'" in list_rows(bad).errors["ou_x"]


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("2020-10-28T14:30:00.999Z", "2020-10-28T14:30:00Z"),  # fractions truncated
        ("2020-10-28t14:30:00z", "2020-10-28T14:30:00Z"),
        ("2020-10-28 22:30:00+08:00", "2020-10-28T22:30:00+08:00"),
        ("2020-10-28T22:30+08:00", "2020-10-28T22:30:00+08:00"),
        ("2020-10-28T24:00:00+08:00", "2020-10-29T00:00:00+08:00"),  # ISO 8601's end of day
        ("1969-07-20T20:17:40Z", "1969-07-20T20:17:40+00:00"),
    ],
)
def test_odd_forms_follow_the_times_rules(text: str, same_as: str) -> None:
    """Lower-case letters, a space, no seconds, fractions and ``24:00`` read by the core's rules."""
    item = {"start_time": text, "end_time": "2030-01-01T00:00:00Z"}
    assert list_rows(item).busy["ou_x"][0][0] == epoch(same_as)


def test_parse_bare_dates_in_new_york_across_the_dst_change() -> None:
    """An all-day item over the autumn change is 25 hours of New York local days."""
    item = {"start_time": "2026-11-01", "end_time": "2026-11-02"}
    rows = list_rows(item, zone="America/New_York").busy["ou_x"]
    assert list(rows) == [
        (epoch("2026-11-01T00:00:00-04:00"), epoch("2026-11-02T00:00:00-05:00"), BUSY)
    ]


_ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia"]


@given(
    st.lists(
        st.tuples(
            st.datetimes(datetime(1900, 1, 1), datetime(2200, 12, 31)),
            st.integers(0, 3 * DAY),
            st.integers(-14 * 60, 14 * 60),
            st.sampled_from(["accept", "tentative", "needs_action", None]),
        ),
        max_size=5,
    )
)
def test_timed_items_read_as_the_standard_library_reads_them(
    drawn: list[tuple[datetime, int, int, str | None]],
) -> None:
    """RFC 3339 times with any offset give what ``datetime.fromisoformat`` gives."""
    items, expected = [], []
    for moment, seconds, minutes, rsvp in drawn:
        tz = timezone(timedelta(minutes=minutes))
        start = moment.replace(microsecond=0, tzinfo=tz)
        end = start + timedelta(seconds=seconds)
        item = {"start_time": start.isoformat(), "end_time": end.isoformat()}
        if rsvp is not None:
            item["rsvp_status"] = rsvp
        items.append(item)
        status = {"tentative": TENTATIVE, "needs_action": Status.UNANSWERED.code}.get(rsvp, BUSY)
        expected.append((epoch(item["start_time"]), epoch(item["end_time"]), status))
    assert list(list_rows(*items).busy["ou_x"]) == expected


@given(st.dates(date(1900, 1, 1), date(2200, 12, 20)), st.integers(0, 4), st.sampled_from(_ZONES))
@example(date(2026, 3, 8), 1, "America/New_York")  # a 23-hour day
@example(date(2011, 12, 29), 2, "Pacific/Apia")  # 2011-12-30 never happened in Samoa
def test_bare_dates_are_the_attendees_local_midnights(day: date, length: int, zone: str) -> None:
    """An all-day item ``[date, end date)`` spans the attendee's local midnights (zoneinfo's)."""
    end = day + timedelta(days=length)

    def midnight(d: date) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(zone)).timestamp())

    item = {"start_time": day.isoformat(), "end_time": end.isoformat()}
    assert list(list_rows(item, zone=zone).busy["ou_x"]) == [(midnight(day), midnight(end), BUSY)]


@given(tt.impossible_date_times())
@example("2026-11-25T09:00:61+08:00")
@example("2026-11-25T09:00:99.5+08:00")
@example("2026-11-25T24:00:01+08:00")
@example("2026-11-25T09:60:00+08:00")
@example("2026-11-25T09:00:00+08:60")
@example("2026-11-25T09:00:00+24:00")
@example("2026-02-29T09:00:00Z")
@example("2026-13-01T09:00:00Z")
def test_impossible_times_are_refused_naming_field_and_value(text: str) -> None:
    """A date, clock time or offset out of range makes the id unknown, naming the field and the
    text: never a clamped or rolled-over time."""
    item = {"start_time": "2026-11-25T08:00:00Z", "end_time": text}
    assert f"freebusy_list[0].end_time={text!r}" in list_rows(item).errors["ou_x"]


@given(tt.IMPOSSIBLE_DATES, st.sampled_from(_ZONES))
@example("2026-02-29", "UTC")
def test_impossible_bare_dates_are_refused(text: str, zone: str) -> None:
    """An all-day date out of range makes the id unknown, naming it."""
    item = {"start_time": text, "end_time": "2026-03-02"}
    reason = list_rows(item, zone=zone).errors["ou_x"]
    assert f"freebusy_list[0].start_time={text!r}" in reason


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
    if draw(st.integers(0, 3)) == 0:
        first, last = draw(tt.DATE_TIMES), draw(tt.DATE_TIMES)
    else:
        start, end = draw(tt.meetings())
        offset = draw(tt.OFFSETS)
        first, last = (t.strftime("%Y-%m-%dT%H:%M:%S") + offset for t in (start, end))
    fields = {"start_time": first, "end_time": last, "rsvp_status": draw(_RSVPS)}
    if draw(st.integers(0, 9)) == 0:
        fields[draw(st.sampled_from(["start_time", "end_time"]))] = _ABSENT
    return {k: v for k, v in fields.items() if v is not _ABSENT}


@given(st.lists(_items(), max_size=6))
def test_any_items_give_rows_or_a_reason_for_that_user_only(drawn: list[Any]) -> None:
    """Whatever the items, ou_a gets sane rows or a reason naming an item; ou_b is still read."""
    ids = ("ou_a", "ou_b")
    result = P.parse(
        batch_call(*ids), _batch_reply([("ou_a", drawn), ("ou_b", [_good(9)])]), CONFIG
    )
    assert list(result.busy["ou_b"]) == [
        (epoch("2026-11-23T09:00:00+08:00"), epoch("2026-11-23T10:00:00+08:00"), BUSY)
    ]
    if "ou_a" in result.errors:
        assert "ou_a" not in result.busy
        assert "freebusy_lists[0].freebusy_items[" in result.errors["ou_a"]
    else:
        assert all(
            s <= e and code in (BUSY, TENTATIVE, UNANSWERED) for s, e, code in result.busy["ou_a"]
        )
        blocking = [i for i in drawn if i.get("rsvp_status") not in ("decline", "removed")]
        assert len(result.busy["ou_a"]) == len(blocking)


# --- captured replies (tests/samples/feishu) ------------------------------------------------

SAMPLES = paths.SAMPLES / "feishu"


def sample(name: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, headers=LOGID_LOWER, body=(SAMPLES / name).read_bytes())


LOGID_LOWER = {"x-tt-logid": "202611230001"}


def test_sample_batch_reply() -> None:
    """A batch reply of three users: offsets kept, a two-day leave, a free user; all busy."""
    ids = (
        "ou_c186b6833e2d5faf2bc587e71ddabcef",
        "ou_7d8a6e6df7621556ce0d21922b676706",
        "ou_0f6d1f2b9c8e4a7d5b3c2e1f0a9b8c7d",
    )
    result = P.parse(batch_call(*ids), sample("batch.json"), CONFIG)
    assert not result.errors
    assert {k: list(v) for k, v in result.busy.items()} == {
        ids[0]: [
            (epoch("2026-11-23T10:00:00+08:00"), epoch("2026-11-23T11:00:00+08:00"), BUSY),
            (epoch("2026-11-24T14:00:00+08:00"), epoch("2026-11-24T14:30:00+08:00"), BUSY),
        ],
        ids[1]: [
            (epoch("2026-11-23T09:00:00+01:00"), epoch("2026-11-23T09:45:00+01:00"), BUSY),
            (epoch("2026-11-26T00:00:00+01:00"), epoch("2026-11-28T00:00:00+01:00"), BUSY),
        ],
        ids[2]: [],
    }


def test_sample_list_reply_with_every_rsvp_status() -> None:
    """accept is busy, tentative tentative, needs_action unanswered, decline/removed dropped."""
    result = P.parse(list_call("ou_x"), sample("list.json"), CONFIG)
    assert list(result.busy["ou_x"]) == [
        (epoch("2026-11-23T09:30:00+08:00"), epoch("2026-11-23T10:00:00+08:00"), BUSY),
        (epoch("2026-11-23T11:00:00+08:00"), epoch("2026-11-23T12:00:00+08:00"), TENTATIVE),
        (
            epoch("2026-11-23T14:00:00+08:00"),
            epoch("2026-11-23T14:45:00+08:00"),
            Status.UNANSWERED.code,
        ),
    ]


def test_sample_not_in_tenant_error() -> None:
    """The 195100 envelope (HTTP 404) asks the fetcher to split the batch, with the log id."""
    with pytest.raises(BatchError) as info:
        P.parse(batch_call("ou_a", "ou_b"), sample("error_not_in_tenant.json", 404), CONFIG)
    assert "not in tenant" in info.value.reason
    assert "code 195100" in info.value.reason
    assert "202611230001" in info.value.reason


def test_sample_field_violations_error() -> None:
    """The 190014 envelope fails the call, quoting its field violation."""
    with pytest.raises(CallFailed) as info:
        P.parse(list_call(), sample("error_field_violations.json", 400), CONFIG)
    assert "time_min: time_min is required" in info.value.reason
    assert not info.value.fatal


def test_sample_token_reply() -> None:
    """The token reply gives the token and its remaining lifetime."""
    token = P.parse_token(sample("token.json"), CONFIG)
    assert token.value == TOKEN
    assert token.expires_in == 6923.0
