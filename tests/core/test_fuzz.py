"""Fuzzing the parsers: whatever a server or a file says, only slotfinder's own errors come out.

Every provider's ``parse`` and ``parse_token`` and the busy-file loader get random JSON (nested
dicts, lists, strings, numbers, booleans, nulls), valid replies mutated (a field deleted, a type
swapped, a huge number, a bad time) and random bytes, with random HTTP statuses and headers.
The contract (``slotfinder/errors.py``): callers catch :class:`SlotfinderError` and get nothing
else, never ``KeyError``, ``TypeError``, ``OverflowError``, ``RecursionError`` and the like.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from slotfinder.busyfile import load_busy_file
from slotfinder.errors import SlotfinderError
from slotfinder.model import Span, Status
from slotfinder.plugins import get_providers
from slotfinder.providers import Call, CallResult, HttpProvider, HttpResponse, Secret, Token

pytestmark = pytest.mark.timeout(120)

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

PROVIDERS = get_providers()
FEISHU = PROVIDERS["feishu"]
DINGTALK = PROVIDERS["dingtalk"]
assert isinstance(FEISHU, HttpProvider)
assert isinstance(DINGTALK, HttpProvider)

WINDOW = Span(1_795_363_200, 1_795_363_200 + 7 * 86_400)  # 2026-11-23T00:00+08:00, a week
ZONES = (("ou_a", "Asia/Shanghai"), ("ou_b", "Europe/Berlin"))
FEISHU_CONFIG = {
    "app_id": "cli_fuzz",
    "app_secret": Secret("fuzz-secret"),
    "base_url": "http://127.0.0.1:9",
    "user_id_type": "open_id",
}
DINGTALK_CONFIG = {
    "app_key": "dingfuzz",
    "app_secret": Secret("fuzz-secret"),
    "operator_union_id": "opiE",
    "base_url": "http://127.0.0.1:9",
    "max_days": 90,
}
FEISHU_CALLS = (
    Call("freebusy/list", ("ou_a",), WINDOW, "user", ZONES[:1]),
    Call("freebusy/batch", ("ou_a", "ou_b"), WINDOW, "user", ZONES),
    Call("freebusy/list:room", ("omm_r",), WINDOW, "room"),
)
DINGTALK_CALLS = (
    Call("querySchedule", ("u1", "u2"), WINDOW, "user", (("u1", "Asia/Shanghai"),)),
    Call("meetingRooms/schedules/query", ("r1", "r2"), WINDOW, "room"),
)

# --- valid replies, to be mutated ------------------------------------------------------------

ITEM = {
    "start_time": "2026-11-23T10:00:00+08:00",
    "end_time": "2026-11-23T11:00:00+08:00",
    "rsvp_status": "accept",
}
ALL_DAY = {"start_time": "2026-11-24", "end_time": "2026-11-25", "rsvp_status": "tentative"}
FEISHU_REPLIES: tuple[Any, ...] = (
    {"code": 0, "msg": "success", "data": {"freebusy_list": [ITEM, ALL_DAY]}},
    {
        "code": 0,
        "msg": "success",
        "data": {
            "freebusy_lists": [
                {"user_id": "ou_a", "freebusy_items": [ITEM, ALL_DAY]},
                {"user_id": "ou_b", "freebusy_items": []},
            ]
        },
    },
    {
        "code": 190014,
        "msg": "invalid request parameters",
        "error": {"field_violations": [{"field": "user_id", "description": "bad"}]},
    },
    {"code": 99991400, "msg": "request trigger frequency limit"},
)
FEISHU_TOKENS: tuple[Any, ...] = (
    {"code": 0, "msg": "ok", "tenant_access_token": "t-0123abcd", "expire": 7200},
    {"code": 10014, "msg": "app secret invalid"},
)
TIMED = {"dateTime": "2026-11-23T10:00:00+08:00", "timeZone": "Asia/Shanghai"}
DINGTALK_REPLIES: tuple[Any, ...] = (
    {
        "scheduleInformation": [
            {
                "userId": "u1",
                "scheduleItems": [
                    {"status": "BUSY", "start": TIMED, "end": {"dateTime": "2026-11-23T11:00:00"}},
                    {"status": "TENTATIVE", "start": {"date": "2026-11-24"}, "end": {}},
                ],
            },
            {"userId": "u2", "error": "user not found", "scheduleItems": []},
        ]
    },
    {
        "scheduleInformation": [
            {
                "roomId": "r1",
                "scheduleItems": [
                    {
                        "eventId": "e1",
                        "status": "TENTATIVE",
                        "organizer": {"id": "u1"},
                        "start": TIMED,
                        "end": {"dateTime": "2026-11-23T12:00:00+08:00", "timeZone": "UTC"},
                    }
                ],
            },
            {"roomId": "r2", "scheduleItems": []},
        ]
    },
    {"code": "paramIllegal", "message": "PARAM ILLEGAL", "requestid": "ABC"},
    {"code": "InvalidAuthentication", "message": "不合法的access_token"},
)
DINGTALK_TOKENS: tuple[Any, ...] = (
    {"accessToken": "0123abcd", "expireIn": 7200},
    {"code": "invalidClientIdOrSecret", "message": "无效的clientId或者clientSecret"},
)
BUSY_FILE: Any = {
    "_comment": "fuzz seed",
    "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
    "tz": "Asia/Shanghai",
    "attendees": [
        {
            "id": "alice",
            "tz": "Europe/Berlin",
            "optional": False,
            "working_hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "10:00-12:00"},
            "busy": [
                {"start": "2026-11-23T10:00:00+08:00", "end": "2026-11-23T11:00:00+08:00"},
                {
                    "start": "2026-11-24T10:00:00Z",
                    "end": "2026-11-24T11:00:00Z",
                    "status": "tentative",
                },
            ],
        },
        {"id": "alice", "optional": True, "busy": []},
    ],
}

# --- strategies --------------------------------------------------------------------------------

HUGE = (10**400, -(10**400), 2**63, -(2**63) - 1, 10**20, 1e308, -1e308, float("inf"), 0.5, -1)
BAD_TIMES = (
    "2026-13-01T00:00:00Z",
    "2026-02-30T00:00:00+08:00",
    "2026-11-23T25:00:00Z",
    "2026-11-23T24:00:00",
    "2026-11-23T10:00:60Z",
    "2026-11-23T10:00:00+99:99",
    "2026-11-23T10:00:00",
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "",
    " ",
    "yesterday",
    "2026-11-23T10:00:00.123456789+08:00",
)
ZONE_NAMES = (
    "Mars/Base",
    "Asia/Shanghai/",
    "",
    "UTC",
    "Etc/GMT+14",
    "../../etc/passwd",
    "America",
    "x" * 300,
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(HUGE)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(BAD_TIMES)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indexes) inside a JSON value, the value itself first."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def _swap(value: Any) -> Any:
    """A value of another JSON type that a careless parser might mistake for this one."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return [value] if not value.isdigit() else int(value)
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[Any, ...]) -> Any:
    """A valid document with one to three mutations: delete, swap, huge, bad time, random."""
    doc = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        op = draw(st.sampled_from(("delete", "swap", "huge", "time", "zone", "random")))
        if not path:
            doc = _swap(doc) if op == "swap" else draw(json_values)
            continue
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            old = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation moved things around
        if op == "delete":
            del parent[path[-1]]
        elif op == "swap":
            parent[path[-1]] = _swap(old)
        elif op == "huge":
            parent[path[-1]] = draw(st.sampled_from(HUGE))
        elif op == "time":
            parent[path[-1]] = draw(st.sampled_from(BAD_TIMES))
        elif op == "zone":
            parent[path[-1]] = draw(st.sampled_from(ZONE_NAMES))
        else:
            parent[path[-1]] = draw(json_values)
    return doc


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def bodies(seeds: tuple[Any, ...]) -> st.SearchStrategy[bytes]:
    """Reply bodies: mutated valid replies, random JSON, random bytes."""
    return st.one_of(
        mutated(seeds).map(_encode),
        json_values.map(_encode),
        st.binary(max_size=200),
    )


statuses = st.sampled_from((200, 400, 403, 404, 429, 500))
headers = st.dictionaries(
    st.sampled_from(
        ("retry-after", "x-ogw-ratelimit-reset", "x-tt-logid", "content-type", "x-request-id")
    ),
    st.text(max_size=12) | st.sampled_from(("1", "0.5", "-3", "nan", "inf", "1e400")),
    max_size=3,
)


def responses(seeds: tuple[Any, ...]) -> st.SearchStrategy[HttpResponse]:
    return st.builds(HttpResponse, status=statuses, headers=headers, body=bodies(seeds))


# --- checks ------------------------------------------------------------------------------------


def _only_ours(fn: Callable[[], Any]) -> Any:
    """Run ``fn``; a slotfinder error is fine and returns ``None``, anything else fails."""
    try:
        return fn()
    except SlotfinderError:
        return None


def _check_result(call: Call, result: CallResult) -> None:
    """A parse result names only asked-for ids and gives well-formed integer rows."""
    assert isinstance(result, CallResult)
    assert set(result.busy) | set(result.errors) <= set(call.ids)
    codes = {s.code for s in Status}
    for rows in result.busy.values():
        for start, end, code in rows:
            assert type(start) is int
            assert type(end) is int
            assert start <= end
            assert code in codes


def _parse(provider: HttpProvider, call: Call, response: HttpResponse, config: Any) -> None:
    result = _only_ours(lambda: provider.parse(call, response, config))
    if result is not None:
        _check_result(call, result)


def _parse_token(provider: HttpProvider, response: HttpResponse, config: Any) -> None:
    token = _only_ours(lambda: provider.parse_token(response, config))
    if token is not None:
        assert isinstance(token, Token)
        assert isinstance(token.value, str)
        assert token.value
        assert isinstance(token.expires_in, float)


# --- providers ---------------------------------------------------------------------------------


@FUZZ
@given(call=st.sampled_from(FEISHU_CALLS), response=responses(FEISHU_REPLIES))
def test_feishu_parse_raises_only_slotfinder_errors(call: Call, response: HttpResponse) -> None:
    """FeishuProvider.parse turns any reply into a CallResult or a slotfinder error."""
    _parse(FEISHU, call, response, FEISHU_CONFIG)


@FUZZ
@given(
    response=st.builds(HttpResponse, status=statuses, headers=headers, body=bodies(FEISHU_TOKENS))
)
@example(
    response=HttpResponse(
        200, {}, b'{"code":0,"msg":"ok","tenant_access_token":"t","expire":' + b"9" * 400 + b"}"
    )
)
def test_feishu_parse_token_raises_only_slotfinder_errors(response: HttpResponse) -> None:
    """FeishuProvider.parse_token turns any reply into a Token or a slotfinder error."""
    _parse_token(FEISHU, response, FEISHU_CONFIG)


@FUZZ
@given(call=st.sampled_from(DINGTALK_CALLS), response=responses(DINGTALK_REPLIES))
@example(
    call=DINGTALK_CALLS[0],
    response=HttpResponse(
        200,
        {},
        b'{"scheduleInformation":[{"userId":"u1","scheduleItems":[{"status":"BUSY",'
        b'"start":{"date":"9999-12-31"},"end":{"date":"9999-12-31"}}]}]}',
    ),
)
@example(
    call=DINGTALK_CALLS[0],
    response=HttpResponse(
        200,
        {},
        b'{"scheduleInformation":[{"userId":"u1","scheduleItems":[{"status":"BUSY",'
        b'"start":{"dateTime":"2026-11-23T10:00:00","timeZone":"America"},'
        b'"end":{"dateTime":"2026-11-23T11:00:00+08:00"}}]}]}',
    ),
)
def test_dingtalk_parse_raises_only_slotfinder_errors(call: Call, response: HttpResponse) -> None:
    """DingTalkProvider.parse turns any reply into a CallResult or a slotfinder error."""
    _parse(DINGTALK, call, response, DINGTALK_CONFIG)


@FUZZ
@given(
    response=st.builds(HttpResponse, status=statuses, headers=headers, body=bodies(DINGTALK_TOKENS))
)
@example(response=HttpResponse(200, {}, b'{"accessToken":"t","expireIn":' + b"9" * 400 + b"}"))
def test_dingtalk_parse_token_raises_only_slotfinder_errors(response: HttpResponse) -> None:
    """DingTalkProvider.parse_token turns any reply into a Token or a slotfinder error."""
    _parse_token(DINGTALK, response, DINGTALK_CONFIG)


DEEP = b"[" * 100_000


@pytest.mark.parametrize(
    "target",
    [
        pytest.param("feishu.parse"),
        pytest.param("feishu.parse_token"),
        "dingtalk.parse",
        "dingtalk.parse_token",
        "busyfile",
    ],
)
def test_deeply_nested_json_is_refused_with_a_slotfinder_error(target: str) -> None:
    """A body of 100 000 opening brackets is a typed error for every parser, not RecursionError."""
    response = HttpResponse(200, {}, DEEP)
    run: dict[str, Callable[[], Any]] = {
        "feishu.parse": lambda: FEISHU.parse(FEISHU_CALLS[0], response, FEISHU_CONFIG),
        "feishu.parse_token": lambda: FEISHU.parse_token(response, FEISHU_CONFIG),
        "dingtalk.parse": lambda: DINGTALK.parse(DINGTALK_CALLS[0], response, DINGTALK_CONFIG),
        "dingtalk.parse_token": lambda: DINGTALK.parse_token(response, DINGTALK_CONFIG),
        "busyfile": lambda: load_busy_file(DEEP),
    }
    with pytest.raises(SlotfinderError):
        run[target]()


# --- busy files ----------------------------------------------------------------------------------


def _load(source: str | bytes) -> None:
    bf = _only_ours(lambda: load_busy_file(source))
    if bf is not None:
        assert bf.window.end > bf.window.start
        assert [a.id for a in bf.attendees] == [a.id for a in bf.availabilities]
        assert len({a.id for a in bf.attendees}) == len(bf.attendees)


@FUZZ
@given(doc=mutated((BUSY_FILE,)) | json_values)
@example(doc={**BUSY_FILE, "tz": "America"})
def test_busy_file_json_raises_only_slotfinder_errors(doc: Any) -> None:
    """load_busy_file on random and mutated JSON text gives a BusyFile or an InputError."""
    text = json.dumps(doc, ensure_ascii=False)
    _load(text)
    _load(text.encode())


@FUZZ
@given(data=st.binary(max_size=300))
def test_busy_file_random_bytes_raise_only_slotfinder_errors(data: bytes) -> None:
    """load_busy_file on random bytes gives an InputError (or, rarely, a valid file)."""
    _load(data)


@FUZZ
@given(text=st.text(max_size=200).map(lambda t: "{" + t))
def test_busy_file_random_text_raise_only_slotfinder_errors(text: str) -> None:
    """load_busy_file on random text that looks like JSON gives an InputError."""
    _load(text)


def test_busy_file_path_with_nul_byte_is_an_input_error() -> None:
    """A path argument containing a NUL byte is refused with an InputError naming busy_file."""
    with pytest.raises(SlotfinderError, match="busy_file"):
        load_busy_file("busy\x00.json")


HUGE = b"9" * 400


@pytest.mark.parametrize(
    ("provider", "config", "body"),
    [
        (FEISHU, FEISHU_CONFIG, b'{"code":0,"tenant_access_token":"t","expire":-' + HUGE + b"}"),
        (FEISHU, FEISHU_CONFIG, b'{"code":0,"tenant_access_token":"t","expire":' + HUGE + b"}"),
        (DINGTALK, DINGTALK_CONFIG, b'{"accessToken":"t","expireIn":-' + HUGE + b"}"),
        (DINGTALK, DINGTALK_CONFIG, b'{"accessToken":"t","expireIn":' + HUGE + b"}"),
    ],
    ids=["feishu-negative", "feishu-positive", "dingtalk-negative", "dingtalk-positive"],
)
def test_token_lifetimes_too_large_for_a_float(provider: Any, config: Any, body: bytes) -> None:
    """A token lifetime beyond float range is capped or refused, never an OverflowError."""
    try:
        token = provider.parse_token(HttpResponse(200, {}, body), config)
    except SlotfinderError:
        return
    assert 0 < token.expires_in <= 7200
