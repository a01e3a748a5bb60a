"""DingTalk's typed decoder (slotfinder_dingtalk.schema) reads every reply as the dict path does.

The provider reads a success body through msgspec first and falls back to ``json.loads`` and the
dict reader for any body or item off the canonical shape. These tests hold the two paths equal:
on drawn replies with every odd part mixed in, on bodies where the two JSON decoders could
differ (bad bytes in skipped fields, a byte order mark, surrogates, duplicate keys), and they
check that a canonical simulator reply really takes the typed path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from dingtalk_items import ABSENT, items, point
from hypothesis import given
from hypothesis import strategies as st
from slotfinder_dingtalk import DingTalkProvider, DingTalkSimulator, schema
from slotfinder_dingtalk import provider as dingtalk
from slotfinder_dingtalk.provider import ROOM_ENDPOINT, USER_ENDPOINT

from slotfinder.model import DAY, Span, Status
from slotfinder.providers import Call, HttpResponse

START = 1_795_564_800  # 2026-11-23T00:00:00Z
WINDOW = Span(START, START + 90 * DAY)
IDS = ("a", "b", "c")


def _call(kind: str) -> Call:
    if kind == "room":
        return Call(ROOM_ENDPOINT, IDS, WINDOW, kind="room", zones=(("a", "Asia/Shanghai"),))
    return Call(USER_ENDPOINT, IDS, WINDOW, zones=(("a", "America/New_York"), ("b", "UTC")))


def _outcome(call: Call, body: bytes, status: int = 200) -> tuple[object, ...]:
    """The parse's busy rows, errors and warnings, or the type and message of what it raised."""
    log = logging.getLogger("slotfinder.dingtalk")
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    log.addHandler(handler)
    try:
        result = DingTalkProvider().parse(call, HttpResponse(status, {}, body), {})
    except Exception as exc:
        return ("raised", type(exc), str(exc), seen)
    finally:
        log.removeHandler(handler)
    return ("read", result.busy, result.errors, seen)


def _dict_outcome(call: Call, body: bytes, status: int = 200) -> tuple[object, ...]:
    """:func:`_outcome` with the typed decoder switched off."""
    decode = schema.decode
    schema.decode = lambda body: None
    try:
        return _outcome(call, body, status)
    finally:
        schema.decode = decode


def _both(call: Call, body: bytes, status: int = 200) -> tuple[object, ...]:
    """Both paths' outcome, cold and warm, after checking they agree."""
    expected = _dict_outcome(call, body, status)
    dingtalk._forget()
    for _ in range(2):  # from empty memos, then from full ones
        assert _outcome(call, body, status) == expected
    return expected


_IDS = st.sampled_from(["a", "b", "c", "z", "", None, 7, ABSENT])
_ERRORS = st.sampled_from([ABSENT] * 6 + [None, "", "user not found", 0, 1, {"code": "x"}])
_ITEM_LISTS = st.one_of(
    st.lists(items(), max_size=5),
    st.sampled_from([None, ABSENT, "items", {}, [None], [[]]]),
)


@st.composite
def _infos(draw: st.DrawFn, kind: str) -> object:
    if draw(st.integers(0, 15)) == 0:
        return draw(st.sampled_from([None, "info", [], 3]))
    field = "roomId" if kind == "room" else "userId"
    other = "userId" if kind == "room" else "roomId"
    return point(
        {
            field: draw(_IDS),
            other: draw(st.sampled_from([ABSENT] * 5 + ["x", None, 5])),
            "error": draw(_ERRORS),
            "scheduleItems": draw(_ITEM_LISTS),
            "extra": draw(st.sampled_from([ABSENT, 1.5, {"deep": [1, None]}, "文字"])),
        }
    )


@st.composite
def _replies(draw: st.DrawFn) -> tuple[str, object]:
    kind = draw(st.sampled_from(["room", "user"]))
    infos = draw(st.lists(_infos(kind), max_size=4))
    if draw(st.integers(0, 15)) == 0:
        return kind, draw(st.sampled_from([[], None, {"scheduleInformation": None}, {}]))
    return kind, {"scheduleInformation": infos, "requestId": "r1"}


@given(_replies())
def test_typed_and_dict_paths_agree_on_drawn_replies(reply: tuple[str, object]) -> None:
    """Rows, per-id errors, call errors and warnings are the same whichever path reads them."""
    kind, data = reply
    _both(_call(kind), json.dumps(data, ensure_ascii=False).encode())


@given(_replies(), st.sampled_from([400, 403, 429, 500, 503]))
def test_error_statuses_never_take_the_typed_path(reply: tuple[str, object], status: int) -> None:
    """A body of the success shape under an error status is still an error."""
    kind, data = reply
    _both(_call(kind), json.dumps(data).encode(), status)


def _item(start: str = "2026-11-25T09:00:00+08:00", end: str = "2026-11-25T10:00:00+08:00") -> str:
    return json.dumps(
        {"eventId": "e1", "status": "BUSY", "start": {"dateTime": start}, "end": {"dateTime": end}}
    )


def _body(*infos: str) -> bytes:
    return ('{"scheduleInformation":[' + ",".join(infos) + "]}").encode()


GOOD = '{"roomId":"a","scheduleItems":[' + _item() + "]}"


@pytest.mark.parametrize(
    ("body", "read"),
    [
        # Text beyond ASCII in a skipped field is fine.
        (_body(GOOD, '{"roomId":"b","note":"会议室 ÿ"}'), True),
        # A byte json.loads refuses while msgspec would skip it: the whole body is not JSON.
        (_body(GOOD)[:-1] + b',"note":"\xff"}', False),
        # json.loads reads these, msgspec refuses them: the dict path reads the reply.
        (b"\xef\xbb\xbf" + _body(GOOD), True),
        (_body(GOOD)[:-1] + b',"note":"\\ud800"}', True),
        (_body(GOOD)[:-1] + b',"note":NaN}', True),
        (_body(GOOD)[:-1] + b',"note":-Infinity}', True),
        (json.dumps(json.loads(_body(GOOD))).encode("utf-16"), True),
        # Duplicate keys: the last one wins in both.
        (_body('{"roomId":"b","roomId":"a","scheduleItems":[' + _item() + "]}"), True),
        (_body('{"roomId":"a","scheduleItems":[],"scheduleItems":[' + _item() + "]}"), True),
        # Absurd nesting in a skipped field.
        (_body(GOOD)[:-1] + b',"note":' + b"[" * 100_000 + b"]" * 100_000 + b"}", False),
    ],
)
def test_bodies_the_two_decoders_could_read_differently(body: bytes, read: bool) -> None:
    """Each body reads the same both ways: ``read`` says whether room a's item comes out."""
    outcome = _both(_call("room"), body)
    if read:
        assert outcome[0] == "read"
        assert outcome[1]["a"] == [(1795568400, 1795572000, Status.BUSY.code)]  # type: ignore[index]
    else:
        assert outcome[0] == "raised"
        assert "non-JSON" in str(outcome[2])


@pytest.mark.parametrize(
    "info",
    [
        '{"roomId":"a","scheduleItems":[{"status":"BUSY","start":null,"end":null}]}',
        '{"roomId":"a","scheduleItems":[{"status":"BUSY","start":{},"end":{}}]}',
        '{"roomId":"a","scheduleItems":[{"status":"BUSY","start":{"dateTime":"2026-11-25T09:00:00'
        '+08:00"},"end":{}}]}',
        '{"roomId":"a","scheduleItems":[{"status":"BUSY","start":{"date":"2026-02-31"},"end":{}}]}',
        '{"roomId":"a","scheduleItems":[{"status":5,"start":{"date":"2026-11-25"},"end":{}}]}',
        '{"roomId":"a","scheduleItems":[{"status":"BUSY","start":{"dateTime":"2026-11-25T09:00:00'
        '","timeZone":"Mars/Olympus"},"end":{"dateTime":"2026-11-25T10:00:00Z"}}]}',
    ],
)
def test_items_off_the_fast_path_read_as_the_dict_path_reads_them(info: str) -> None:
    """An item the typed reader has no fast path for sends the reply the dict way, same result."""
    outcome = _both(_call("room"), _body(info, GOOD.replace('"a"', '"b"')))
    assert outcome[0] == "read"
    assert outcome[1]["b"]  # type: ignore[index]  # room b's good item is read either way


@pytest.fixture
def no_dict_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dict path fails loudly inside the test: a reply it reads did not take the typed path."""

    def refuse(*args: Any) -> Any:
        raise AssertionError("the dict reader was used")

    monkeypatch.setattr(dingtalk, "_rows", refuse)
    monkeypatch.setattr(dingtalk, "_json", refuse)


def _simulated(kind: str) -> tuple[Call, bytes, Callable[[str], list[tuple[int, int, int]]]]:
    tenant = DingTalkSimulator().tenant(11, users=40, rooms=10)
    keys = [r.room_id for r in tenant.rooms[:5]] if kind == "room" else tenant.people[:20]
    ids = [k if isinstance(k, str) else k.union_id for k in keys]
    field = "roomId" if kind == "room" else "userId"
    joined = [tenant.items_json(i, WINDOW.start, WINDOW.end) for i in ids]
    infos = [
        f'{{"{field}":{json.dumps(i)},"scheduleItems":[{j}]}}'
        for i, j in zip(ids, joined, strict=True)
    ]
    zones = tuple((p.union_id, p.zone) for p in tenant.people[:20])
    endpoint = ROOM_ENDPOINT if kind == "room" else USER_ENDPOINT
    call = Call(endpoint, tuple(ids), WINDOW, kind=kind, zones=zones)  # type: ignore[arg-type]

    def truth(key: str) -> list[tuple[int, int, int]]:
        return tenant.truth(key, WINDOW.start, WINDOW.end)

    return call, _body(*infos), truth


@pytest.mark.parametrize("kind", ["room", "user"])
def test_simulated_replies_take_the_typed_path(kind: str, no_dict_reader: None) -> None:
    """A simulator reply (all-day and timed items, several zones) is read without dicts at all,
    and every id's rows are its ground truth."""
    call, body, truth = _simulated(kind)
    assert schema.decode(body) is not None
    result = DingTalkProvider().parse(call, HttpResponse(200, {}, body), {})
    assert not result.errors
    for key in call.ids:
        assert sorted(set(result.busy[key])) == truth(key)


@pytest.mark.parametrize("kind", ["room", "user"])
def test_simulated_replies_read_the_same_both_ways(kind: str) -> None:
    call, body, _ = _simulated(kind)
    _both(call, body)
