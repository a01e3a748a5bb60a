"""DingTalk provider without I/O: plans, request building, parsing and every error mapping."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import paths
import pytest
import time_texts as tt
from dingtalk_items import ABSENT, items, point
from hypothesis import example, given
from hypothesis import strategies as st
from slotfinder_dingtalk.provider import ROOM_ENDPOINT, USER_ENDPOINT, DingTalkProvider

from slotfinder.errors import ConfigError
from slotfinder.model import DAY, Span, Status
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    HttpProvider,
    HttpResponse,
    RetryLater,
    Secret,
    Target,
    TokenExpired,
)

SECRET = "s3cr3t-VALUE-never-shown"
TOKEN = "tok-abcdef0123456789"
CONFIG: dict[str, Any] = {
    "app_key": "dingappkey",
    "app_secret": Secret(SECRET),
    "operator_union_id": "operatorUnionIdiE",
}
START = int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
WINDOW = Span(START, START + 7 * DAY)
BUSY, TENTATIVE = Status.BUSY.code, Status.TENTATIVE.code


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def reply(status: int, body: object, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=headers or {}, body=raw)


def error(status: int, code: str, message: str) -> HttpResponse:
    return reply(status, {"code": code, "message": message, "requestid": "REQ-1"})


def user_call(*ids: str) -> Call:
    return Call(endpoint=USER_ENDPOINT, ids=ids or ("u1",), span=WINDOW, kind="user")


def room_call(*ids: str) -> Call:
    return Call(endpoint=ROOM_ENDPOINT, ids=ids or ("r1",), span=WINDOW, kind="room")


P = DingTalkProvider()


def timed(start: str, end: str, zone: object = ABSENT, status: object = "BUSY") -> dict[str, Any]:
    """A timed item, ``zone`` as both points' timeZone (left out when ABSENT)."""
    return {
        "status": status,
        "start": point({"dateTime": start, "timeZone": zone}),
        "end": point({"dateTime": end, "timeZone": zone}),
    }


def parse_items(items: list[Any], zone: str | None = None) -> Any:
    """The parse of a querySchedule reply giving ``items`` to user u1 (in ``zone``, if any)."""
    body = {"scheduleInformation": [{"userId": "u1", "scheduleItems": items}]}
    zones = (("u1", zone),) if zone else ()
    call = Call(endpoint=USER_ENDPOINT, ids=("u1",), span=WINDOW, zones=zones)
    return P.parse(call, reply(200, body), CONFIG)


def rows(*items: Any, zone: str | None = None) -> list[tuple[int, int, int]]:
    """u1's rows; fails with the reason when u1 is unknown."""
    result = parse_items(list(items), zone)
    assert result.errors == {}, result.errors
    return list(result.busy["u1"])


def test_is_an_http_provider() -> None:
    """The provider satisfies the HttpProvider protocol under the name ``dingtalk``."""
    assert isinstance(P, HttpProvider)
    assert P.name == "dingtalk"
    keys = {k.name: k for k in P.config_keys}
    assert keys["app_secret"].secret
    assert all(keys[k].required for k in ("app_key", "app_secret", "operator_union_id"))


def test_limits_match_the_documented_endpoints() -> None:
    """querySchedule takes 20 users and max_days; rooms take 5 ids and 90 days; 20 calls/s."""
    limits = P.limits(CONFIG)
    users, rooms = limits.endpoint(USER_ENDPOINT), limits.endpoint(ROOM_ENDPOINT)
    assert (users.kind, users.max_ids, users.max_span) == ("user", 20, 90 * DAY)
    assert (rooms.kind, rooms.max_ids, rooms.max_span) == ("room", 5, 90 * DAY)
    assert users.rate[0].calls == rooms.rate[0].calls == 20
    assert users.rate[0].seconds == 1.0
    assert P.limits({**CONFIG, "max_days": 30}).endpoint(USER_ENDPOINT).max_span == 30 * DAY


def test_plan_45_users_over_30_days_is_3_calls() -> None:
    """45 users over 30 days need three querySchedule calls (20 + 20 + 5)."""
    targets = [Target(f"u{i}") for i in range(45)]
    calls = P.plan(targets, Span(START, START + 30 * DAY), CONFIG)
    assert [len(c.ids) for c in calls] == [20, 20, 5]
    assert {c.endpoint for c in calls} == {USER_ENDPOINT}


def test_plan_12_rooms_over_100_days_is_6_calls() -> None:
    """12 rooms over 100 days are 3 groups (5, 5, 2) times 2 chunks of at most 90 days."""
    targets = [Target(f"r{i}", "room") for i in range(12)]
    calls = P.plan(targets, Span(START, START + 100 * DAY), CONFIG)
    assert len(calls) == 6
    assert sorted(len(c.ids) for c in calls) == [2, 2, 5, 5, 5, 5]
    assert all(c.endpoint == ROOM_ENDPOINT and c.span.seconds <= 90 * DAY for c in calls)


def test_plan_respects_max_days() -> None:
    """A smaller ``max_days`` splits the user window into more chunks."""
    calls = P.plan([Target("u1")], Span(START, START + 30 * DAY), {**CONFIG, "max_days": 7})
    assert len(calls) == 5


def test_build_user_request() -> None:
    """querySchedule is a POST under the operator with the bare token and ISO 8601 times."""
    req = P.build(user_call("a", "b"), TOKEN, CONFIG)
    assert req.method == "POST"
    assert req.url == "https://api.dingtalk.com/v1.0/calendar/users/operatorUnionIdiE/querySchedule"
    assert req.headers["x-acs-dingtalk-access-token"] == TOKEN
    assert req.headers["Content-Type"] == "application/json"
    body = json.loads(req.body or b"")
    assert body == {
        "userIds": ["a", "b"],
        "startTime": "2026-11-23T00:00:00Z",
        "endTime": "2026-11-30T00:00:00Z",
    }
    assert TOKEN not in repr(req)


def test_build_room_request_and_base_url() -> None:
    """The room query goes to meetingRooms/schedules/query with roomIds on the configured base."""
    config = {**CONFIG, "base_url": "http://127.0.0.1:9/"}
    req = P.build(room_call("r1"), TOKEN, config)
    assert req.url == (
        "http://127.0.0.1:9/v1.0/calendar/users/operatorUnionIdiE/meetingRooms/schedules/query"
    )
    assert json.loads(req.body or b"")["roomIds"] == ["r1"]


def test_missing_operator_names_the_key() -> None:
    """A missing required key fails with a ConfigError naming the environment variable."""
    config = {k: v for k, v in CONFIG.items() if k != "operator_union_id"}
    with pytest.raises(ConfigError, match="SLOTFINDER_DINGTALK_OPERATOR_UNION_ID") as info:
        P.build(user_call(), TOKEN, config)
    assert info.value.key == "providers.dingtalk.operator_union_id"


def test_parse_timed_items_with_offsets_and_zones() -> None:
    """Timed items honour an offset, else their timeZone, else Asia/Shanghai."""
    body = {
        "scheduleInformation": [
            {
                "userId": "u1",
                "error": "",
                "scheduleItems": [
                    {
                        "status": "BUSY",
                        "start": {"dateTime": "2026-11-23T10:00:00+08:00", "timeZone": "UTC"},
                        "end": {"dateTime": "2026-11-23T11:00:00+08:00", "timeZone": "UTC"},
                    },
                    {
                        "status": "TENTATIVE",
                        "start": {"dateTime": "2026-11-24T09:00:00", "timeZone": "Europe/Berlin"},
                        "end": {"dateTime": "2026-11-24T09:30:00", "timeZone": "Europe/Berlin"},
                    },
                    {
                        "status": "BUSY",
                        "start": {"dateTime": "2026-11-25T14:00:00"},
                        "end": {"dateTime": "2026-11-25T15:00:00"},
                    },
                    {
                        "status": "BUSY",
                        "start": {"dateTime": "2026-11-26T14:55Z"},
                        "end": {"dateTime": "2026-11-26T15:55Z"},
                    },
                ],
            }
        ]
    }
    result = P.parse(user_call("u1"), reply(200, body), CONFIG)
    assert result.errors == {}
    assert list(result.busy["u1"]) == [
        (epoch("2026-11-23T10:00:00+08:00"), epoch("2026-11-23T11:00:00+08:00"), BUSY),
        (epoch("2026-11-24T09:00:00+01:00"), epoch("2026-11-24T09:30:00+01:00"), TENTATIVE),
        (epoch("2026-11-25T14:00:00+08:00"), epoch("2026-11-25T15:00:00+08:00"), BUSY),
        (epoch("2026-11-26T14:55:00+00:00"), epoch("2026-11-26T15:55:00+00:00"), BUSY),
    ]
    assert all(isinstance(v, int) for row in result.busy["u1"] for v in row)


def test_parse_all_day_items_without_a_zone_are_utc_days() -> None:
    """Without a zone for the attendee, an all-day ``{date}`` item blocks whole UTC days."""
    body = {
        "scheduleInformation": [
            {
                "userId": "u1",
                "scheduleItems": [
                    {
                        "status": "BUSY",
                        "start": {"date": "2026-11-23"},
                        "end": {"date": "2026-11-24"},
                    },
                    {
                        "status": "BUSY",
                        "start": {"date": "2026-11-26"},
                        "end": {"date": "2026-11-26"},
                    },
                    {
                        "status": "BUSY",
                        "start": {"date": "2026-11-27"},
                        "end": {"date": "2026-11-30"},
                    },
                ],
            }
        ]
    }
    rows = list(P.parse(user_call("u1"), reply(200, body), CONFIG).busy["u1"])
    assert rows == [
        (START, START + DAY, BUSY),
        (START + 3 * DAY, START + 4 * DAY, BUSY),
        (START + 4 * DAY, START + 7 * DAY, BUSY),
    ]


def test_all_day_items_block_the_attendees_local_days() -> None:
    """With the attendee's zone in the call, an all-day date is that zone's local day, DST too."""
    items = [
        {"status": "BUSY", "start": {"date": "2026-11-23"}, "end": {"date": "2026-11-24"}},
        {"status": "TENTATIVE", "start": {"date": "2026-03-08"}, "end": {"date": "2026-03-08"}},
    ]
    body = {
        "scheduleInformation": [
            {"userId": "sh", "scheduleItems": items[:1]},
            {"userId": "ny", "scheduleItems": items[1:]},
        ]
    }
    call = Call(
        endpoint=USER_ENDPOINT,
        ids=("sh", "ny"),
        span=WINDOW,
        zones=(("sh", "Asia/Shanghai"), ("ny", "America/New_York")),
    )
    result = P.parse(call, reply(200, body), CONFIG)
    assert list(result.busy["sh"]) == [(START - 8 * 3600, START + DAY - 8 * 3600, BUSY)]
    # The US spring-forward day is 23 hours long.
    assert list(result.busy["ny"]) == [
        (epoch("2026-03-08T00:00:00-05:00"), epoch("2026-03-09T00:00:00-04:00"), TENTATIVE)
    ]


def test_unknown_status_is_busy_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A status other than BUSY/TENTATIVE counts as busy and is logged as a warning."""
    item = {
        "status": "OOF",
        "start": {"dateTime": "2026-11-23T10:00:00+08:00"},
        "end": {"dateTime": "2026-11-23T11:00:00+08:00"},
    }
    body = {"scheduleInformation": [{"userId": "u1", "scheduleItems": [item]}]}
    with caplog.at_level(logging.WARNING, logger="slotfinder.dingtalk"):
        result = P.parse(user_call("u1"), reply(200, body), CONFIG)
    assert result.busy["u1"][0][2] == BUSY
    assert "OOF" in caplog.text


def test_per_user_error_makes_only_that_user_unknown() -> None:
    """A non-empty per-user ``error`` marks that id unknown and keeps the others."""
    body = {
        "scheduleInformation": [
            {"userId": "u1", "scheduleItems": []},
            {"userId": "u2", "error": "user not found", "scheduleItems": []},
        ]
    }
    result = P.parse(user_call("u1", "u2", "u3"), reply(200, body), CONFIG)
    assert dict(result.busy) == {"u1": []}
    assert result.errors["u2"] == "DingTalk: user not found"
    assert "no schedule" in result.errors["u3"]


def test_unreadable_item_makes_that_id_unknown() -> None:
    """An item with an unreadable time makes its id unknown rather than free."""
    bad = {"status": "BUSY", "start": {"dateTime": "soon"}, "end": {"dateTime": "later"}}
    body = {
        "scheduleInformation": [
            {"userId": "u1", "scheduleItems": [bad]},
            {"userId": "u2", "scheduleItems": []},
        ]
    }
    result = P.parse(user_call("u1", "u2"), reply(200, body), CONFIG)
    assert "unreadable" in result.errors["u1"]
    assert dict(result.busy) == {"u2": []}


@pytest.mark.parametrize(
    "bad",
    [
        "2026-11-25T09:00:00+08:99",  # not +09:39
        "2026-02-31T09:00:00+08:00",  # not 3 March
        "2026-11-25T24:30:00+08:00",  # not 00:30 the next day
    ],
)
def test_impossible_time_makes_only_that_id_unknown(bad: str) -> None:
    """An impossible time makes its id unknown with a reason naming it; the others are read."""
    good = {
        "status": "BUSY",
        "start": {"dateTime": "2026-11-25T09:00:00+08:00"},
        "end": {"dateTime": "2026-11-25T10:00:00+08:00"},
    }
    wrong = {
        "status": "BUSY",
        "start": {"dateTime": bad},
        "end": {"dateTime": "2026-12-31T10:00:00+08:00"},  # after any reading of the start
    }
    body = {
        "scheduleInformation": [
            {"userId": "u1", "scheduleItems": [good, wrong]},
            {"userId": "u2", "scheduleItems": [good]},
        ]
    }
    result = P.parse(user_call("u1", "u2"), reply(200, body), CONFIG)
    assert set(result.errors) == {"u1"}
    assert "unreadable" in result.errors["u1"]
    assert f"scheduleItems[1].start.dateTime={bad!r}" in result.errors["u1"]
    row = (epoch("2026-11-25T09:00:00+08:00"), epoch("2026-11-25T10:00:00+08:00"), BUSY)
    assert dict(result.busy) == {"u2": [row]}


def test_parse_room_reply() -> None:
    """Room items (BUSY, TENTATIVE pending approval) become rows; empty items mean free."""
    body = {
        "scheduleInformation": [
            {
                "roomId": "r1",
                "scheduleItems": [
                    {
                        "eventId": "ev1",
                        "status": "TENTATIVE",
                        "organizer": {"id": "u9"},
                        "start": {"dateTime": "2022-07-29T14:55Z", "timeZone": "UTC"},
                        "end": {"dateTime": "2022-07-29T15:55Z", "timeZone": "UTC"},
                    }
                ],
            },
            {"roomId": "r2", "scheduleItems": []},
        ]
    }
    result = P.parse(room_call("r1", "r2"), reply(200, body), CONFIG)
    t0 = epoch("2022-07-29T14:55:00+00:00")
    assert dict(result.busy) == {"r1": [(t0, t0 + 3600, TENTATIVE)], "r2": []}


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize(
    "code",
    ["Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "Forbidden.AccessDenied.QpsLimitForApi"],
)
def test_qps_limits_retry_after_at_least_one_second(status: int, code: str) -> None:
    """Both QPS codes, with 403 or 429, ask for a retry after at least one second."""
    with pytest.raises(RetryLater) as info:
        P.parse(user_call(), error(status, code, "flow controlled"), CONFIG)
    assert info.value.after is not None
    assert info.value.after >= 1.0


def test_monthly_quota_is_fatal() -> None:
    """ApiCountLimitForOrg stops the provider with a clear monthly-quota reason."""
    response = error(403, "Forbidden.AccessDenied.ApiCountLimitForOrg", "quota")
    with pytest.raises(CallFailed, match="monthly quota") as info:
        P.parse(user_call(), response, CONFIG)
    assert info.value.fatal


@pytest.mark.parametrize(
    ("call", "code", "message", "field"),
    [
        (
            room_call("r1"),
            "invalidParameter",
            "Cannot query schedule for more than 90 days.",
            "window",
        ),
        (
            room_call("r1"),
            "invalidParameter",
            "Cannot get schedule information for more than limit.",
            "roomIds",
        ),
        (room_call("r1"), "invalidParameter", "roomId invalid", "roomIds"),
        (room_call("r1"), "invalidParameter", "query ids cannot be empty", "roomIds"),
        (user_call("u1"), "paramIllegal", "PARAM ILLEGAL", "userIds"),
    ],
)
def test_parameter_errors_name_the_field(call: Call, code: str, message: str, field: str) -> None:
    """paramIllegal/invalidParameter fail the call with a reason naming the request field."""
    with pytest.raises(CallFailed) as info:
        P.parse(call, error(400, code, message), CONFIG)
    assert field in info.value.reason
    assert message in info.value.reason
    assert not info.value.fatal


def test_invalid_room_in_a_batch_asks_for_a_split() -> None:
    """``roomId invalid`` on several rooms raises BatchError so the bad room can be isolated."""
    with pytest.raises(BatchError, match="roomIds"):
        P.parse(room_call("r1", "r2"), error(400, "invalidParameter", "roomId invalid"), CONFIG)


@pytest.mark.parametrize("status", [400, 401])
def test_bad_token_asks_for_a_refresh(status: int) -> None:
    """InvalidAuthentication (HTTP 400 in the wild, or 401) means refresh the token."""
    response = error(status, "InvalidAuthentication", "不合法的access_token")
    with pytest.raises(TokenExpired):
        P.parse(user_call(), response, CONFIG)


@pytest.mark.parametrize(
    "response",
    [
        error(500, "ServiceUnavailable", "temporary failure"),
        error(503, "InternalError", "busy"),
        reply(502, b"<html>Bad Gateway</html>"),
    ],
)
def test_server_errors_retry(response: HttpResponse) -> None:
    """5xx replies, JSON or not, are transient."""
    with pytest.raises(RetryLater):
        P.parse(user_call(), response, CONFIG)


def test_ip_ban_page_is_a_clear_fatal_error() -> None:
    """A non-JSON 403 (the IP-ban page) fails clearly, naming the likely ban, and stops calling."""
    response = reply(403, b"<!DOCTYPE html><html><body>Access denied</body></html>")
    with pytest.raises(CallFailed) as info:
        P.parse(user_call(), response, CONFIG)
    assert info.value.reason == (
        "DingTalk replied with a non-JSON body (HTTP 403) — the IP may be banned for 5 minutes "
        "after >10,000 calls in 20 s"
    )
    assert info.value.fatal


@pytest.mark.parametrize(
    "response",
    [reply(200, b'{"scheduleInformation": [{"userId": "'), reply(200, {"result": []})],
)
def test_malformed_success_fails_only_that_call(response: HttpResponse) -> None:
    """A 200 whose body is not the expected JSON fails the call without crashing."""
    with pytest.raises(CallFailed) as info:
        P.parse(user_call(), response, CONFIG)
    assert "DingTalk" in info.value.reason
    assert not info.value.fatal


def test_unknown_error_code_fails_with_code_and_message() -> None:
    """An undocumented error code fails the call, quoting code and message."""
    with pytest.raises(CallFailed, match=r"Forbidden\.AccessDenied.*no permission"):
        P.parse(user_call(), error(403, "Forbidden.AccessDenied", "no permission"), CONFIG)


def test_token_request_and_reply() -> None:
    """The token is asked with appKey/appSecret and read from accessToken/expireIn."""
    req = P.token_request(CONFIG)
    assert req.url == "https://api.dingtalk.com/v1.0/oauth2/accessToken"
    assert json.loads(req.body or b"") == {"appKey": "dingappkey", "appSecret": SECRET}
    assert SECRET not in repr(req)
    token = P.parse_token(reply(200, {"accessToken": TOKEN, "expireIn": 7200}), CONFIG)
    assert (token.value, token.expires_in) == (TOKEN, 7200.0)
    assert TOKEN not in repr(token)
    assert P.token_key(CONFIG) == ("https://api.dingtalk.com", "dingappkey")


def test_refused_credentials_are_a_config_error() -> None:
    """invalidClientIdOrSecret names the app_secret key and its variable, never the secret."""
    response = error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    with pytest.raises(ConfigError) as info:
        P.parse_token(response, CONFIG)
    assert info.value.key == "providers.dingtalk.app_secret"
    assert "SLOTFINDER_DINGTALK_APP_SECRET" in str(info.value)
    assert SECRET not in str(info.value)


@pytest.mark.parametrize(
    "response",
    [
        error(500, "ServiceUnavailable", "x"),
        error(403, "Forbidden.AccessDenied.QpsLimitForApi", "x"),
    ],
)
def test_token_transient_errors_retry(response: HttpResponse) -> None:
    """A 5xx or a QPS error from the token endpoint is retried."""
    with pytest.raises(RetryLater):
        P.parse_token(response, CONFIG)


def test_wall_clock_times_follow_rfc5545_in_gaps_and_folds() -> None:
    """Wall-clock times in a DST gap take the offset before it; repeated times the first one;
    fractions of a second are dropped."""
    got = rows(
        timed("2026-03-08T02:30:00", "2026-11-01T01:30:00", "America/New_York"),
        timed("2026-11-23T10:00:00.500+05:30", "2026-11-23T10:00:00.999+05:30"),
    )
    assert got == [
        # 02:30 on the US spring-forward day does not exist: read with EST, it is 07:30 UTC.
        # 01:30 on the fall-back day happens twice: the first (EDT) is 05:30 UTC.
        (epoch("2026-03-08T07:30:00+00:00"), epoch("2026-11-01T05:30:00+00:00"), BUSY),
        (epoch("2026-11-23T04:30:00+00:00"), epoch("2026-11-23T04:30:00+00:00"), BUSY),
    ]


def test_deeply_nested_body_is_a_typed_error() -> None:
    """100 000 opening brackets are a non-JSON body, not a RecursionError."""
    deep = reply(200, b"[" * 100_000)
    with pytest.raises(CallFailed, match="non-JSON"):
        P.parse(user_call(), deep, CONFIG)
    with pytest.raises(RetryLater, match="non-JSON"):
        P.parse_token(deep, CONFIG)


@pytest.mark.parametrize(
    "item",
    [
        {"status": "BUSY", "start": {"date": "9999-12-31"}, "end": {"date": "9999-12-31"}},
        {
            "status": "BUSY",
            "start": {"dateTime": "2026-11-23T10:00:00", "timeZone": "America"},
            "end": {"dateTime": "2026-11-23T11:00:00+08:00"},
        },
        {
            "status": "BUSY",
            "start": {"dateTime": "2026-11-23T10:00:00", "timeZone": "A" * 300},
            "end": {"dateTime": "2026-11-23T11:00:00+08:00"},
        },
    ],
)
def test_out_of_range_items_make_the_id_unknown(item: dict[str, Any]) -> None:
    """A date past 9999 or a zone naming a tzdata directory makes that id unknown, no crash."""
    result = parse_items([item])
    assert "unreadable" in result.errors["u1"]
    assert "scheduleItems[0]" in result.errors["u1"]


def test_token_lifetime_is_sane() -> None:
    """An absurd ``expireIn`` is capped at 7200 s; a non-positive or non-finite one is retried."""
    huge = reply(200, b'{"accessToken":"t","expireIn":' + b"9" * 400 + b"}")
    assert P.parse_token(huge, CONFIG).expires_in == 7200.0
    for bad in (b"-1", b"0", b"NaN", b"Infinity", b'"7200"'):
        with pytest.raises(RetryLater):
            P.parse_token(reply(200, b'{"accessToken":"t","expireIn":' + bad + b"}"), CONFIG)


# --- odd forms follow slotfinder.times ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "same"),
    [
        ("2026-11-25T24:00:00+08:00", ABSENT, "2026-11-26T00:00:00+08:00"),
        ("2026-12-31T24:00Z", ABSENT, "2027-01-01T00:00:00+00:00"),
        ("2026-11-25T24:00:00.000-03:30", ABSENT, "2026-11-26T00:00:00-03:30"),
        ("2026-11-25T24:00:00", "Asia/Shanghai", "2026-11-26T00:00:00+08:00"),
        ("2026-11-25T24:00:00", ABSENT, "2026-11-26T00:00:00+08:00"),  # default zone
        ("2016-12-31T23:59:60Z", ABSENT, "2017-01-01T00:00:00+00:00"),
        ("2017-01-01T07:59:60+08:00", ABSENT, "2017-01-01T00:00:00+00:00"),
        ("2016-12-31T23:59:60", "UTC", "2017-01-01T00:00:00+00:00"),
        ("2017-01-01T07:59:60", "Asia/Shanghai", "2017-01-01T00:00:00+00:00"),
    ],
)
def test_24_00_and_leap_seconds_follow_the_times_rules(text: str, zone: object, same: str) -> None:
    """``24:00`` is the next midnight and ``:60`` the next minute's ``:00``, offset or zone."""
    end = "2027-01-02T00:00:00Z"
    assert rows(timed(text, end, zone)) == [(epoch(same), epoch("2027-01-02T00:00:00+00:00"), BUSY)]


@pytest.mark.parametrize("bad", ["2016-12-31T23:59:61Z", "2026-11-25T24:00:01Z", "23/11/2026"])
def test_past_the_odd_forms_times_are_refused(bad: str) -> None:
    """A second of 61, 24:00 with any second, or no ISO 8601 form at all: the id is unknown."""
    result = parse_items([timed(bad, "2027-01-02T00:00:00Z")])
    assert repr(bad) in result.errors["u1"]


@pytest.mark.parametrize("seconds", [1, 0])
def test_an_end_before_its_start_is_unreadable(seconds: int) -> None:
    """An end one second before the start makes the id unknown; equal times are fine."""
    item = timed("2026-11-23T10:00:01+08:00", f"2026-11-23T10:00:0{1 - seconds}+08:00")
    result = parse_items([item])
    if seconds:
        assert "scheduleItems[0].end.dateTime" in result.errors["u1"]
        assert "before the start" in result.errors["u1"]
    else:
        assert result.errors == {}


def test_statuses_in_any_case_and_odd_ones_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """``busy``/``Tentative`` in any case are read; every other status is busy, logged once."""
    t = "2026-11-23T10:00:00Z"
    statuses = ["busy", "Tentative", "OOF", "OOF", None, 3, ABSENT]
    items = [point({**timed(t, t), "status": s}) for s in statuses]
    with caplog.at_level(logging.WARNING, logger="slotfinder.dingtalk"):
        got = rows(*items)
    assert [r[2] for r in got] == [BUSY, TENTATIVE, BUSY, BUSY, BUSY, BUSY, BUSY]
    assert caplog.text.count("'OOF'") == 1
    assert "'None'" in caplog.text
    assert "'3'" in caplog.text


def test_a_date_beside_a_non_text_date_time_is_a_timed_item() -> None:
    """A start with a date and a dateTime is timed: a dateTime of 5 is unreadable, named."""
    item = {"status": "BUSY", "start": {"date": "2026-11-25", "dateTime": 5}, "end": {}}
    result = parse_items([item])
    assert "scheduleItems[0].start.dateTime=5" in result.errors["u1"]


@pytest.mark.parametrize(
    ("items", "field"),
    [
        ("not a list", "scheduleItems="),
        (["item"], "scheduleItems[0]="),
        ([{"status": "BUSY", "start": None, "end": {}}], "scheduleItems[0].start="),
        ([{"status": "BUSY", "start": {}, "end": []}], "scheduleItems[0].end="),
        (
            [{"status": "BUSY", "start": {"date": "2026-11-25"}, "end": {"date": 20261126}}],
            "scheduleItems[0].end.date=20261126",
        ),
    ],
)
def test_odd_shapes_name_the_field(items: object, field: str) -> None:
    """Items of the wrong shape make the id unknown with the field and value named."""
    body = {"scheduleInformation": [{"userId": "u1", "scheduleItems": items}]}
    result = P.parse(user_call("u1"), reply(200, body), CONFIG)
    assert field in result.errors["u1"]


# --- properties: the reader agrees with the standard library ---------------------------------

ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata",
         "Australia/Lord_Howe", "America/Sao_Paulo", "Pacific/Apia"]  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.datetimes(datetime(1900, 1, 1), datetime(2200, 12, 31)),
            st.integers(0, 3 * DAY),
            st.one_of(st.sampled_from(ZONES), st.integers(-14 * 60, 14 * 60), st.none()),
            st.sampled_from(["BUSY", "TENTATIVE"]),
        ),
        max_size=5,
    )
)
@example([(datetime(2026, 3, 8, 2, 30), 60, "America/New_York", "BUSY")])  # in the gap
@example([(datetime(2026, 11, 1, 1, 30), 60, "America/New_York", "BUSY")])  # in the fold
@example([(datetime(2026, 4, 5, 1, 45), 60, "Australia/Lord_Howe", "BUSY")])  # 30-minute fold
@example([(datetime(2026, 3, 8, 2, 30), 1800, "America/New_York", "BUSY")])  # gap to its end
@example([(datetime(1919, 4, 13, 0, 30), 1800, "Asia/Shanghai", "BUSY")])  # the same in 1919
@example([(datetime(1959, 4, 26, 2, 0, fold=1), 0, "America/New_York", "BUSY")])  # a drawn fold
def test_timed_items_read_as_the_standard_library_reads_them(
    drawn: list[tuple[datetime, int, str | int | None, str]],
) -> None:
    """Offsets (in minutes), zones and the default zone give what ``datetime`` gives (fold 0)."""
    items, expected = [], []
    for moment, seconds, how, status in drawn:
        start = moment.replace(microsecond=0, fold=0)  # the text carries no fold
        end = start + timedelta(seconds=seconds)
        tz: tzinfo = (
            timezone(timedelta(minutes=how))
            if isinstance(how, int)
            else ZoneInfo(how or "Asia/Shanghai")
        )
        if isinstance(how, int):  # the offset is in the text; no timeZone
            items.append(
                timed(start.replace(tzinfo=tz).isoformat(), end.replace(tzinfo=tz).isoformat())
            )
        else:  # wall-clock text in timeZone, or in the default zone when left out
            items.append(timed(start.isoformat(), end.isoformat(), how or ABSENT))
        items[-1]["status"] = status
        first, last = (int(t.replace(tzinfo=tz).timestamp()) for t in (start, end))
        # a start skipped by a gap reads after an end just past it: the span covers no time
        expected.append((first, max(first, last), BUSY if status == "BUSY" else TENTATIVE))
    assert rows(*items) == expected


@given(
    st.dates(date(1900, 1, 1), date(2200, 12, 20)),
    st.integers(-2, 4),
    st.sampled_from(ZONES),
    st.booleans(),
)
@example(date(2026, 3, 8), 1, "America/New_York", False)  # a 23-hour day
@example(date(2018, 11, 4), 0, "America/Sao_Paulo", False)  # midnight skipped by DST
@example(date(2011, 12, 29), 1, "Pacific/Apia", False)  # 2011-12-30 never happened in Samoa
def test_all_day_items_block_local_days(day: date, length: int, zone: str, no_end: bool) -> None:
    """``[date, end date)`` in the attendee's zone, at least one day: ``datetime`` midnights."""
    end_day = day + timedelta(days=length)
    end = {} if no_end else {"date": end_day.isoformat()}
    item = {"status": "BUSY", "start": {"date": day.isoformat()}, "end": end}
    last = day + timedelta(days=1) if no_end else max(end_day, day + timedelta(days=1))

    def midnight(d: date) -> int:
        return int(datetime(d.year, d.month, d.day, tzinfo=ZoneInfo(zone)).timestamp())

    assert rows(item, zone=zone) == [(midnight(day), midnight(last), BUSY)]


@given(st.lists(items(), max_size=6))
def test_any_items_give_rows_or_a_reason_for_that_user_only(drawn: list[Any]) -> None:
    """Whatever the items, u1 gets sane rows or a reason naming an item; u2 is still read."""
    good = timed("2026-11-23T10:00:00+08:00", "2026-11-23T11:00:00+08:00")
    body = {
        "scheduleInformation": [
            {"userId": "u1", "scheduleItems": drawn},
            {"userId": "u2", "scheduleItems": [good]},
        ]
    }
    call = Call(USER_ENDPOINT, ("u1", "u2"), WINDOW, zones=(("u1", "America/New_York"),))
    result = P.parse(call, reply(200, body), CONFIG)
    assert list(result.busy["u2"]) == rows(good)
    if "u1" in result.errors:
        assert "u1" not in result.busy
        assert "unreadable schedule item: scheduleItems[" in result.errors["u1"]
    else:
        assert len(result.busy["u1"]) == len(drawn)
        assert all(s <= e and code in (BUSY, TENTATIVE) for s, e, code in result.busy["u1"])


@given(st.one_of(tt.impossible_date_times(), tt.impossible_date_times(offset=False)))
@example("2026-11-25T09:00:00+08:99")  # fromisoformat reads it as +09:39
@example("2026-11-25T09:00:00+08:60")  # ... and this as +09:00
@example("2026-11-25T09:00:00+0899")
@example("2026-11-25T09:00:00-00:99")
@example("2026-11-25 09:00:00+08:99")
@example("2026-11-25T09:00:00+99")
@example("2026-02-31T09:00:00")
@example("2100-02-29T09:00:00Z")
@example("2026-11-25T24:30:00+08:00")
@example("2026-11-25T24:00:60Z")
def test_impossible_times_are_refused(text: str) -> None:
    """A date, clock time or offset out of range makes the id unknown, naming the text, in any
    zone: never a time rolled into a neighbouring day, minute or offset."""
    for zone in (ABSENT, "UTC", "Asia/Shanghai", "America/New_York"):
        result = parse_items([timed(text, "2026-11-25T10:00:00Z", zone)])
        assert f"scheduleItems[0].start.dateTime={text!r}" in result.errors["u1"]


@given(tt.IMPOSSIBLE_DATES, st.sampled_from(["UTC", "Asia/Shanghai"]), st.booleans())
@example("2026-02-30", "UTC", False)
@example("2026-02-31", "UTC", True)
def test_impossible_all_day_dates_are_refused(day: str, zone: str, at_end: bool) -> None:
    """An all-day item with an impossible start or end date makes the id unknown, naming it."""
    first, last = ("2026-02-01", day) if at_end else (day, "2026-03-05")
    item = {"status": "BUSY", "start": {"date": first}, "end": {"date": last}}
    result = parse_items([item], zone)
    field = "end" if at_end else "start"
    assert f"scheduleItems[0].{field}.date={day!r}" in result.errors["u1"]


# --- captured replies (tests/samples/dingtalk) -------------------------------------------------

SAMPLES = paths.SAMPLES / "dingtalk"


def sample(name: str, status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, headers={}, body=(SAMPLES / name).read_bytes())


def test_sample_query_schedule() -> None:
    """A querySchedule reply: timed, default-zone, all-day and tentative items, a per-user error."""
    ids = ("0wN2rSiPdhXJ7rE8cw9n2qQiEiE", "7BsvEc4ZuHbLAJnWsTiPaPgiEiE", "nobodyiE")
    call = Call(USER_ENDPOINT, ids, WINDOW, zones=((ids[1], "Europe/Berlin"),))
    result = P.parse(call, sample("query_schedule.json"), CONFIG)
    assert result.errors == {ids[2]: "DingTalk: user not found in this organization"}
    assert list(result.busy[ids[0]]) == [
        (epoch("2026-11-23T10:00:00+08:00"), epoch("2026-11-23T11:00:00+08:00"), BUSY),
        (epoch("2026-11-24T14:00:00+08:00"), epoch("2026-11-24T14:30:00+08:00"), TENTATIVE),
        (epoch("2026-11-25T09:30:00+08:00"), epoch("2026-11-25T10:00:00+08:00"), BUSY),
    ]
    assert list(result.busy[ids[1]]) == [
        (epoch("2026-11-23T09:00:00+01:00"), epoch("2026-11-23T09:45:00+01:00"), BUSY),
        (epoch("2026-11-26T00:00:00+01:00"), epoch("2026-11-28T00:00:00+01:00"), BUSY),
        (epoch("2026-11-27T14:55:00+00:00"), epoch("2026-11-27T15:55:00+00:00"), TENTATIVE),
    ]


def test_sample_rooms_schedule() -> None:
    """A meeting-room reply: bookings with eventId and organizer, pending approval, a free room."""
    ids = ("a6bf3e2c4d5f46b7a8c9d0e1f2a3b4c5", "f0e1d2c3b4a5968778695a4b3c2d1e0f")
    result = P.parse(Call(ROOM_ENDPOINT, ids, WINDOW, kind="room"), sample("rooms.json"), CONFIG)
    assert result.errors == {}
    assert dict(result.busy) == {
        ids[0]: [
            (epoch("2026-11-23T10:00:00+08:00"), epoch("2026-11-23T11:30:00+08:00"), BUSY),
            (epoch("2026-11-24T15:00:00+08:00"), epoch("2026-11-24T16:00:00+08:00"), TENTATIVE),
        ],
        ids[1]: [],
    }


def test_sample_error_reply() -> None:
    """A 90-day room window refused with invalidParameter fails the call, naming the window."""
    response = sample("error_room_window.json", status=400)
    with pytest.raises(CallFailed, match=r"window \(startTime-endTime\)") as info:
        P.parse(room_call("r1"), response, CONFIG)
    assert "Cannot query schedule for more than 90 days." in info.value.reason
    assert "requestid 8E8F2A3C-7B1D-4C5E-9F60-1A2B3C4D5E6F" in info.value.reason
