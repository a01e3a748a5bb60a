"""DingTalk provider without I/O: plans, request building, parsing and every error mapping."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_texts as tt
from dingtalk_items import ABSENT as _ABSENT
from dingtalk_items import items as _items
from dingtalk_items import point as _point
from dingtalk_items import time_pairs as _time_pairs
from hypothesis import example, given
from hypothesis import strategies as st
from slotfinder_dingtalk import provider as dingtalk
from slotfinder_dingtalk.provider import (
    ROOM_ENDPOINT,
    USER_ENDPOINT,
    DingTalkProvider,
    format_time,
    parse_time,
)
from slotfinder_dingtalk.simulator import DingTalkSimulator

import slotfinder.memo
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
        "2026-11-25T09:00:00+08:99",  # read as +09:39 before
        "2026-02-31T09:00:00+08:00",  # read as 3 March before
        "2026-11-25T24:30:00+08:00",  # read as 00:30 the next day before
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
    for _ in range(2):  # the second reply finds the good times in the memos
        result = P.parse(user_call("u1", "u2"), reply(200, body), CONFIG)
        assert set(result.errors) == {"u1"}
        assert "unreadable" in result.errors["u1"]
        assert repr(bad) in result.errors["u1"]
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


def test_parse_time_follows_rfc5545_in_gaps_and_folds() -> None:
    """Wall-clock times in a DST gap take the offset before it; repeated times the first one."""
    # 02:30 on the US spring-forward day does not exist: read with EST, it is 07:30 UTC.
    assert parse_time("2026-03-08T02:30:00", "America/New_York") == epoch(
        "2026-03-08T07:30:00+00:00"
    )
    # 01:30 on the fall-back day happens twice: the first (EDT) is 05:30 UTC.
    assert parse_time("2026-11-01T01:30:00", "America/New_York") == epoch(
        "2026-11-01T05:30:00+00:00"
    )
    assert parse_time("2026-11-23T10:00:00.500+05:30") == epoch("2026-11-23T04:30:00+00:00")
    assert format_time(START) == "2026-11-23T00:00:00Z"
    with pytest.raises(ValueError, match="ISO"):
        parse_time("23/11/2026")


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
    body = {"scheduleInformation": [{"userId": "u1", "scheduleItems": [item]}]}
    result = P.parse(user_call("u1"), reply(200, body), CONFIG)
    assert "unreadable" in result.errors["u1"]


def test_token_lifetime_is_sane() -> None:
    """An absurd ``expireIn`` is capped at 7200 s; a non-positive or non-finite one is retried."""
    huge = reply(200, b'{"accessToken":"t","expireIn":' + b"9" * 400 + b"}")
    assert P.parse_token(huge, CONFIG).expires_in == 7200.0
    for bad in (b"-1", b"0", b"NaN", b"Infinity", b'"7200"'):
        with pytest.raises(RetryLater):
            P.parse_token(reply(200, b'{"accessToken":"t","expireIn":' + bad + b"}"), CONFIG)


# --- the fast reader equals the reference reader ------------------------------------------------


def _outcome(read: Any) -> tuple[object, ...]:
    """A reader's rows and odd statuses, or the type and message of what it raised."""
    odd: set[str] = set()
    try:
        rows = read(odd)
    except Exception as exc:
        return ("raised", type(exc), str(exc), odd)
    return ("rows", rows, odd)


_DAY_ZONES = ("UTC", "Asia/Shanghai", "America/New_York")


@given(st.lists(_items(), max_size=6))
def test_fast_reader_equals_the_reference(items: list[Any]) -> None:
    """Rows, odd statuses and errors of the memoised reader equal the reference's, hits too."""
    for day_zone in _DAY_ZONES:  # the same all-day dates under three attendee zones
        expected = _outcome(lambda odd, z=day_zone: dingtalk._rows_reference(items, z, odd))
        for _ in range(2):  # the second read comes from the memos
            assert _outcome(lambda odd, z=day_zone: dingtalk._rows(items, z, odd)) == expected


@given(st.lists(_items(), max_size=6))
def test_fast_reader_from_cold_equals_the_reference(items: list[Any]) -> None:
    """With every memo emptied first, the fast reader still equals the reference."""
    dingtalk._forget()
    expected = _outcome(lambda odd: dingtalk._rows_reference(items, "UTC", odd))
    assert _outcome(lambda odd: dingtalk._rows(items, "UTC", odd)) == expected


def _exact_agrees(text: str) -> None:
    for zone in ("America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"):
        value = dingtalk._exact(text, zone)
        if value is not None:
            assert value == parse_time(text, zone)


@given(st.one_of(tt.DATE_TIMES, _time_pairs().map(lambda pair: pair[0])))
def test_exact_reader_never_disagrees_with_parse_time(text: str) -> None:
    """The canonical-form reader either declines a text or reads what parse_time reads."""
    _exact_agrees(text)


@given(
    st.datetimes(datetime(1000, 1, 1), datetime(8999, 12, 31)),
    st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tehran"]),
)
@example(datetime(2026, 3, 8, 2, 30), "America/New_York")  # in the spring-forward gap
@example(datetime(2026, 11, 1, 1, 30), "America/New_York")  # repeated in the fall back
@example(datetime(2026, 4, 5, 1, 45), "Australia/Lord_Howe")  # a 30-minute fall back
def test_exact_reader_reads_wall_clock_times_like_parse_time(moment: datetime, zone: str) -> None:
    """Wall-clock times, DST gaps and folds too, read as parse_time reads them (RFC 5545)."""
    text = moment.replace(microsecond=0).isoformat()
    assert dingtalk._exact(text, zone) == parse_time(text, zone)


def _near_misses() -> st.SearchStrategy[str]:
    """A canonical time with one character replaced, inserted or deleted."""
    return tt.one_edit(_time_pairs().map(lambda pair: pair[0]))


@given(_near_misses())
@example("2026- 1-25T09:00:00+08:00")
@example("2026-+1-25T09:00:00+08:00")
@example("+026-11-25T09:00:00+08:00")
@example("2026-11-2\u0663T09:00:00+08:00")
@example("2026-11-25T09:00:00+08:\u0663\u0663")
@example("2026-11-25T 9:00:00+08:00")
@example("2026-11-25T09:00:00+ 8:00")
def test_exact_reader_declines_near_misses_parse_time_refuses(text: str) -> None:
    """One edit away from the canonical form, the reader still agrees with parse_time."""
    _exact_agrees(text)


@given(st.one_of(tt.impossible_date_times(), tt.impossible_date_times(offset=False)))
@example("2026-11-25T09:00:00+08:99")  # fromisoformat reads it as +09:39
@example("2026-11-25T09:00:00+08:60")  # ... and this as +09:00
@example("2026-11-25T09:00:00+0899")
@example("2026-11-25T09:00:00+08:00:60")
@example("2026-11-25T09:00:00-00:99")
@example("2026-11-25 09:00:00+08:99")  # the regex path, as are the next ones
@example("2026-11-25T09:00+24:00")
@example("2026-11-25T09:00:00+99")
@example("2026-02-31T09:00:00")  # read as 3 March in UTC before
@example("2026-02-29T09:00:00Z")
@example("2100-02-29T09:00:00Z")
@example("2026-04-31T09:00:00")
@example("2026-11-25T24:30:00+08:00")
@example("2026-11-25T24:00:01Z")
@example("2026-11-25T24:00:00.5Z")
@example("2026-11-25T24:00:60Z")
def test_impossible_times_are_refused_by_both_readers(text: str) -> None:
    """A date, clock time or offset out of range raises ValueError naming the text, from
    parse_time and from the fast reader alike, in any zone, cold or warm: never a time rolled
    into a neighbouring day, minute or offset."""
    for zone in (_ABSENT, "UTC", "Asia/Shanghai", "America/New_York"):
        name = zone if isinstance(zone, str) else None
        with pytest.raises(ValueError) as raised:
            parse_time(text, name)
        assert repr(text) in str(raised.value)
        assert dingtalk._exact(text, name or dingtalk.DEFAULT_ZONE) is None
        start = _point({"dateTime": text, "timeZone": zone})
        items = [{"status": "BUSY", "start": start, "end": {"dateTime": "2026-11-25T10:00:00Z"}}]
        expected = _outcome(lambda odd, i=items: dingtalk._rows_reference(i, "UTC", odd))
        assert expected == ("raised", ValueError, str(raised.value), set())
        for _ in range(2):  # nothing was remembered: the second read raises the same
            assert _outcome(lambda odd, i=items: dingtalk._rows(i, "UTC", odd)) == expected


@given(tt.IMPOSSIBLE_DATES, st.sampled_from(_DAY_ZONES), st.booleans())
@example("2026-02-30", "UTC", False)  # read as 2 March before
@example("2026-02-31", "UTC", True)
def test_impossible_all_day_dates_are_refused_by_both_readers(
    day: str, zone: str, at_end: bool
) -> None:
    """An all-day item with an impossible start or end date raises ValueError naming it."""
    first, last = ("2026-02-01", day) if at_end else (day, "2026-03-05")
    items = [{"status": "BUSY", "start": {"date": first}, "end": {"date": last}}]
    expected = _outcome(lambda odd: dingtalk._rows_reference(items, zone, odd))
    assert expected[:2] == ("raised", ValueError)
    assert repr(day) in str(expected[2])
    for _ in range(2):
        assert _outcome(lambda odd: dingtalk._rows(items, zone, odd)) == expected


def test_24_00_with_an_offset_is_the_next_midnight() -> None:
    """``24:00:00`` is accepted on purpose: ISO 8601 makes it the end of a day, exactly the next
    day's ``00:00:00``, so no guess is involved. A wall clock in a zone other than UTC is read
    through datetime, which has no hour 24, so there it needs an offset."""
    cases = [
        ("2026-11-25T24:00:00+08:00", None, "2026-11-26T00:00:00+08:00"),
        ("2026-12-31T24:00:00Z", None, "2027-01-01T00:00:00+00:00"),
        ("2026-11-25T24:00:00.000-03:30", None, "2026-11-26T00:00:00-03:30"),
        ("2026-11-25T24:00:00", "UTC", "2026-11-26T00:00:00+00:00"),
    ]
    for text, zone, same in cases:
        assert parse_time(text, zone) == epoch(same)
        start = _point({"dateTime": text, "timeZone": zone or _ABSENT})
        items = [{"status": "BUSY", "start": start, "end": {"dateTime": "2027-01-02T00:00:00Z"}}]
        for _ in range(2):
            assert dingtalk._rows(items, "UTC", set()) == [
                (epoch(same), epoch("2027-01-02T00:00:00+00:00"), BUSY)
            ]
    with pytest.raises(ValueError, match="need a UTC offset: '2026-11-25T24:00:00'"):
        parse_time("2026-11-25T24:00:00", "Asia/Shanghai")


def test_a_leap_second_is_the_next_minute() -> None:
    """``:60`` (refused by fromisoformat) is read as the next minute's ``:00``, as it always was;
    ``:61`` is refused."""
    new_year = epoch("2017-01-01T00:00:00+00:00")
    assert parse_time("2016-12-31T23:59:60Z") == new_year
    assert parse_time("2017-01-01T07:59:60+08:00") == new_year
    assert parse_time("2016-12-31T23:59:60", "UTC") == new_year
    for text, zone in [("2016-12-31T23:59:60", "Asia/Shanghai"), ("2016-12-31T23:59:61Z", None)]:
        with pytest.raises(ValueError, match="2016-12-31T23:59:6"):
            parse_time(text, zone)


def test_fast_reader_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound a memo is emptied and refilled, and the rows stay right."""
    monkeypatch.setattr(slotfinder.memo, "MEMO_MAX", 8)
    dingtalk._forget()
    items = [
        {
            "status": "BUSY",
            "start": {"dateTime": f"2026-11-{d:02d}T09:00:00+08:00", "timeZone": "Asia/Shanghai"},
            "end": {"dateTime": f"2026-11-{d:02d}T10:00:00+08:00", "timeZone": "Asia/Shanghai"},
        }
        for d in range(1, 31)
    ]
    for _ in range(2):
        assert dingtalk._rows(items, "UTC", set()) == dingtalk._rows_reference(items, "UTC", set())
        assert all(len(m) <= 8 for m in (*dingtalk._MEMOS, *slotfinder.memo._PART_MEMOS))


def test_fast_reader_reads_simulated_replies_like_the_reference() -> None:
    """Every person's and room's 90-day items from the simulator read the same both ways."""
    tenant = DingTalkSimulator().tenant(11, users=40, rooms=5)
    start, end = 1_795_564_800, 1_795_564_800 + 90 * DAY
    zone = "Asia/Shanghai"
    for key in [p.union_id for p in tenant.people[:20]] + [r.room_id for r in tenant.rooms]:
        room = tenant.room(key) is not None
        items = [
            json.loads(e.room_json() if room else e.user_json())
            for e in tenant.events(key, start, end)
        ]
        expected = _outcome(lambda odd, i=items: dingtalk._rows_reference(i, zone, odd))
        assert expected[0] == "rows"
        for _ in range(2):
            assert _outcome(lambda odd, i=items: dingtalk._rows(i, zone, odd)) == expected


_WALL = "2026-11-23T10:00:00"


@pytest.mark.parametrize(
    "zones",
    [
        [_ABSENT, "Europe/Berlin", "", None, "America/New_York", "Mars/Olympus", _ABSENT],
        ["Mars/Olympus", "Asia/Shanghai", "America", "Asia/Shanghai", "UTC", 8, "UTC"],
    ],
)
def test_fast_reader_keys_a_time_on_its_zone(zones: list[object]) -> None:
    """One wall-clock text under several timeZones: each read as the reference reads it."""
    dingtalk._forget()
    for zone in zones * 2:
        start = _point({"dateTime": _WALL, "timeZone": zone})
        items = [{"status": "BUSY", "start": start, "end": {"dateTime": "2026-11-24T10:00:00Z"}}]
        expected = _outcome(lambda odd, i=items: dingtalk._rows_reference(i, "UTC", odd))
        assert _outcome(lambda odd, i=items: dingtalk._rows(i, "UTC", odd)) == expected


def test_fast_reader_keys_all_day_items_on_the_attendee_zone() -> None:
    """The same all-day dates block different instants for attendees in different zones."""
    dingtalk._forget()
    for end in ({"date": "2026-11-26"}, {"date": "2026-11-25"}, {}, {"date": ""}):
        items = [{"status": "BUSY", "start": {"date": "2026-11-25"}, "end": end}]
        for zone in (*_DAY_ZONES, *_DAY_ZONES):
            expected = dingtalk._rows_reference(items, zone, set())
            assert dingtalk._rows(items, zone, set()) == expected


@pytest.mark.parametrize("seconds", [1, 0])
def test_fast_reader_refuses_an_end_before_its_start(seconds: int) -> None:
    """An end one second before the start raises the reference message; equal times are fine."""
    item = {
        "status": "BUSY",
        "start": {"dateTime": "2026-11-23T10:00:01+08:00"},
        "end": {"dateTime": f"2026-11-23T10:00:0{1 - seconds}+08:00"},
    }
    for _ in range(2):
        expected = _outcome(lambda odd: dingtalk._rows_reference([item], "UTC", odd))
        assert _outcome(lambda odd: dingtalk._rows([item], "UTC", odd)) == expected
        assert expected[0] == ("raised" if seconds else "rows")


def test_fast_reader_collects_odd_statuses_like_the_reference() -> None:
    """Unknown statuses count as busy and are collected for the warning, from the fast path too."""
    items = [
        {"status": s, "start": {"dateTime": "2026-11-23T10:00:00Z"}, "end": {"dateTime": t}}
        for s, t in [("OOF", "2026-11-23T11:00:00Z"), ("free", "2026-11-23T12:00:00Z"),
                     (None, "2026-11-23T13:00:00Z"), ("busy", "2026-11-23T09:00:00Z")]
    ]  # fmt: skip
    odd: set[str] = set()
    with pytest.raises(ValueError, match="before start"):
        dingtalk._rows(items, "UTC", odd)
    assert odd == {"OOF", "free", "None"}


def test_fast_reader_reads_a_date_beside_a_non_text_date_time_as_timed() -> None:
    """A start with a date and a non-string dateTime is a timed item, as the reference says."""
    item = {"status": "BUSY", "start": {"date": "2026-11-25", "dateTime": 5}, "end": {}}
    for _ in range(2):
        with pytest.raises(ValueError, match="expected an ISO 8601 string, got int"):
            dingtalk._rows([item], "UTC", set())


@given(
    st.dates(date(1000, 1, 1), date(8999, 12, 20)),
    st.integers(-2, 4),
    st.sampled_from(["UTC", "America/New_York", "America/Sao_Paulo", "Pacific/Apia", "Asia/Gaza"]),
)
@example(date(2026, 3, 8), 1, "America/New_York")  # a 23-hour day
@example(date(2018, 11, 4), 0, "America/Sao_Paulo")  # midnight skipped by DST
@example(date(2011, 12, 29), 1, "Pacific/Apia")  # 2011-12-30 never happened in Samoa
def test_all_day_reader_equals_the_reference(day: date, length: int, zone: str) -> None:
    """Local midnights of all-day items, DST and skipped days included, match the reference."""
    first, last = day.isoformat(), (day + timedelta(days=length)).isoformat()
    item = {"status": "BUSY", "start": {"date": first}, "end": {"date": last}}
    s, e, _ = dingtalk._rows_reference([item], zone, set())[0]
    assert dingtalk._all_day(first, last, zone) == (s, e)
