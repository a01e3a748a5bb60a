"""An aiohttp imitation of the Feishu free/busy API, for tests, ``simulate`` and ``demo``.

Same paths, fields, envelopes, codes and HTTP statuses as the real service (``seeds/002``,
``seeds/003``, ``providers.md``):

* ``POST /open-apis/auth/v3/tenant_access_token/internal`` ``{app_id, app_secret}`` →
  ``{code: 0, msg: "ok", tenant_access_token, expire}`` at top level; an unknown app id gives
  10003 ``invalid param``, a wrong secret 10014 ``app secret invalid`` (HTTP 400). Each call
  issues a fresh token and the old ones stay valid (the real service may hand back the current
  one while more than 30 minutes remain; clients cannot tell the difference).
* ``POST /open-apis/calendar/v4/freebusy/list`` and ``/freebusy/batch`` behind
  ``Authorization: Bearer <token>``: no header → 99991661, not ``Bearer …`` → 99991671, an
  unknown or expired token → 99991663, all with HTTP 400 (what clients of the real API report:
  ``http 400: {"code":99991663,"msg":"Invalid access token for authorization"}`` in
  multica-ai/multica#7611, ``Bad Request ... {"code":99991661,"msg":"Need a token"}`` in
  go-lark/lark#28).

Checks, in order: the token; the per-API rate limit (50 calls/s and 1000 calls/min for each of
list and batch; HTTP 429, code 99991400, headers ``x-ogw-ratelimit-limit`` and
``x-ogw-ratelimit-reset``); the injected fault; then the request: ``user_id_type`` not one of
open_id/union_id/user_id → 190014 with ``field_violations``; a body that is not a JSON object →
190002; a missing time or one without an offset → 198002; ``time_max <= time_min``, more than
14 days (batch) or 90 days (list) → 198003; 0 or more than 10 ``user_ids`` → 198001; a list call
with neither ``user_id`` nor ``room_id`` → 190014; an unknown user → 195100 (HTTP 404; in a
batch one unknown id fails the whole call, as the seed has no per-user error); an unknown room
→ 190002 (HTTP 400; the seed's advice for 190002 is "check the resource was not deleted", and
no room-specific code is documented — our choice). Request times are read by
:func:`slotfinder.testing.simkit.instant` (an offset required), never by the client's reader.

Replies: events overlapping the window, whole (not clipped, so chunk seams repeat them as the
real API does), sorted by start, times in the owner's zone offset. With ``only_busy`` (default
true) declined and removed events, and events shown as free, are left out. ``freebusy/list``
adds ``rsvp_status`` when ``need_rsvp_status`` is true; ``freebusy/batch`` never does (its seed
page has neither the request field nor the reply field), so tentative and unanswered replies
are only visible through list.

Options of :meth:`FeishuSimulator.app`: ``latency`` and ``jitter`` (seconds, on every reply),
``faults`` (:class:`slotfinder.testing.simkit.Faults`: rate limits, 500s with 190003, dropped
connections, slow replies, HTML bodies, token expiry), ``rate_limit`` (enforce the limits),
``token_ttl``, ``users``, ``rooms``, ``fault_reset`` (the reset header of injected 429s), and
``app_id``/``app_secret`` to override the seeded credentials. The state lives on the app under
:data:`STATE` (mutable: ``app[STATE].faults = Faults(...)`` mid-run) and, for convenience,
:data:`TENANT`, :data:`TOKENS`, :data:`STATS` and :data:`FAULTS` (the initial Faults object,
an empty one when none was given, so fields can be switched on in place).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import attrs
from aiohttp import web

from slotfinder.testing import simkit
from slotfinder.testing.simkit import Fault, Faults, SimStats, TokenStore, WindowLimiter
from slotfinder.testing.simulation import DemoPerson, DemoTenant
from slotfinder_feishu.tenant import Event, FeishuTenant

__all__ = ["FAULTS", "STATE", "STATS", "TENANT", "TOKENS", "FeishuSimState", "FeishuSimulator"]

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"
LIST_PATH = "/open-apis/calendar/v4/freebusy/list"
BATCH_PATH = "/open-apis/calendar/v4/freebusy/batch"
USER_ID_TYPES = ("open_id", "union_id", "user_id")

Api = Literal["list", "batch"]
_MAX_SPAN: dict[str, int] = {"list": 90 * 86_400, "batch": 14 * 86_400}
_RATE = ((50, 1.0), (1000, 60.0))


@attrs.define
class FeishuSimState:
    """Everything a running simulator holds; tests may read and change it mid-run."""

    tenant: FeishuTenant
    tokens: TokenStore
    stats: SimStats
    faults: Faults
    limiters: dict[str, WindowLimiter]
    rate_limit: bool = True
    fault_reset: float = 1.0
    app_id: str = ""
    app_secret: str = attrs.field(default="", repr=False)
    _logids: itertools.count[int] = attrs.field(factory=itertools.count)

    def logid(self) -> str:
        return f"20261123{self.tenant.seed % 1000:03d}{next(self._logids):012d}"


STATE = web.AppKey("feishu_state", FeishuSimState)
TENANT = web.AppKey("feishu_tenant", FeishuTenant)
TOKENS = web.AppKey("feishu_tokens", TokenStore)
STATS = web.AppKey("feishu_stats", SimStats)
FAULTS = web.AppKey("feishu_faults", Faults)


class _Reject(Exception):
    """A request the real API refuses: HTTP status, code, message, extra ``error`` fields."""

    def __init__(
        self, status: int, code: int, msg: str, extra: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg, self.extra = status, code, msg, dict(extra or {})


def _reply(
    state: FeishuSimState,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """A JSON reply with its log id; an error reply also carries it in ``error``."""
    logid = state.logid()
    if body.get("code", 0) != 0:
        state.stats.errors += 1
        error = body.setdefault("error", {})
        error.setdefault("log_id", logid)
        error.setdefault(
            "troubleshooter",
            "排查建议查看(Troubleshooting suggestions): https://open.feishu.cn/search?"
            f"from=openapi&log_id={logid}&code={body['code']}",
        )
    return web.json_response(
        body,
        status=status,
        dumps=lambda data: json.dumps(data, ensure_ascii=False),
        content_type="application/json",
        headers={"X-Tt-Logid": logid, **(headers or {})},
    )


def _error(
    state: FeishuSimState, reject: _Reject, headers: Mapping[str, str] | None = None
) -> web.Response:
    body = {"code": reject.code, "msg": reject.msg, "error": dict(reject.extra)}
    return _reply(state, reject.status, body, headers)


def _rate_limited(state: FeishuSimState, limit: int, reset: float) -> web.Response:
    state.stats.rate_limited += 1
    return _error(
        state,
        _Reject(429, 99991400, "request trigger frequency limit"),
        {"x-ogw-ratelimit-limit": str(limit), "x-ogw-ratelimit-reset": f"{reset:g}"},
    )


async def _apply_fault(
    state: FeishuSimState, fault: Fault | None, request: web.Request
) -> web.StreamResponse | None:
    """The faulty reply for ``fault``, or ``None`` to go on (after a delay for SLOW)."""
    if fault is None:
        return None
    state.stats.faults += 1
    if fault is Fault.RATE_LIMIT:
        return _rate_limited(state, 50, state.fault_reset)
    if fault is Fault.SERVER_ERROR:
        return _error(state, _Reject(500, 190003, "internal service error"))
    if fault is Fault.DROP:
        return await simkit.drop_connection(request)
    if fault is Fault.MALFORMED:
        return web.Response(
            status=200,
            text="<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>",
            content_type="text/html",
            headers={"X-Tt-Logid": state.logid()},
        )
    if fault is Fault.SLOW:
        await asyncio.sleep(state.faults.slow_seconds)
    return None


def _check_token(state: FeishuSimState, request: web.Request) -> None:
    auth = request.headers.get("Authorization")
    if not auth:
        raise _Reject(
            400,
            99991661,
            "Missing access token for authorization. Please make a request with token attached.",
        )
    scheme, _, token = auth.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise _Reject(400, 99991671, "Invalid access token format, expected 'Bearer <token>'.")
    if not state.tokens.valid(token.strip()):
        raise _Reject(
            400,
            99991663,
            "Invalid access token for authorization. Please make a request with token attached.",
        )


def _violation(field: str, description: str) -> _Reject:
    return _Reject(
        400,
        190014,
        "invalid request parameters. check details for more info.",
        {"field_violations": [{"field": field, "description": description}]},
    )


def _window(body: Mapping[str, Any], api: Api) -> tuple[int, int]:
    start = simkit.instant(body.get("time_min"))
    end = simkit.instant(body.get("time_max"))
    if start is None or end is None:
        raise _Reject(400, 198002, "the time format is illegal")
    if end <= start or end - start > _MAX_SPAN[api]:
        raise _Reject(400, 198003, "the time range is illegal")
    return start, end


def _rfc3339(epoch: int, zone: str) -> str:
    """An item time as the real API writes it: RFC 3339 on the owner's wall clock."""
    return datetime.fromtimestamp(epoch, ZoneInfo(zone)).isoformat()


def _items(events: list[Event], zone: str, only_busy: bool, rsvp: bool) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for e in events:
        if only_busy and not e.blocks:
            continue
        item = {"start_time": _rfc3339(e.start, zone), "end_time": _rfc3339(e.end, zone)}
        if rsvp:
            item["rsvp_status"] = e.rsvp
        out.append(item)
    return out


def _flag(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise _violation(key, "must be a boolean")
    return value


def _answer(tenant: FeishuTenant, id_type: str, body: object, api: Api) -> dict[str, Any]:
    """The ``data`` of the success reply to ``body``, or the :class:`_Reject` it earns."""
    if id_type not in USER_ID_TYPES:
        raise _violation("user_id_type", f"must be one of {', '.join(USER_ID_TYPES)}")
    if not isinstance(body, dict):
        raise _Reject(400, 190002, "invalid parameters in request")
    start, end = _window(body, api)
    only_busy = _flag(body, "only_busy", True)
    _flag(body, "include_external_calendar", True)
    if api == "batch":
        ids = body.get("user_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 10:
            raise _Reject(400, 198001, "the number of user IDs exceeds the limit")
        if not all(isinstance(i, str) for i in ids):
            raise _Reject(400, 190002, "invalid parameters in request")
        lists = []
        for uid in ids:
            person = tenant.user(uid, id_type)
            if person is None:
                raise _Reject(404, 195100, "user is dismiss or not exist in the tenant")
            events = tenant.events(person.open_id, start, end)
            items = _items(events, person.zone, only_busy, rsvp=False)
            lists.append({"freebusy_items": items, "user_id": uid})
        return {"freebusy_lists": lists}
    rsvp = _flag(body, "need_rsvp_status", False)
    user_id, room_id = body.get("user_id"), body.get("room_id")
    if isinstance(user_id, str) and user_id:
        person = tenant.user(user_id, id_type)
        if person is None:
            raise _Reject(404, 195100, "user is dismiss or not exist in the tenant")
        key, zone = person.open_id, person.zone
    elif isinstance(room_id, str) and room_id:
        room = tenant.room(room_id)
        if room is None:
            raise _Reject(400, 190002, "invalid parameters in request")
        key, zone = room.room_id, room.zone
    else:
        raise _violation("user_id", "one of user_id or room_id is required")
    return {"freebusy_list": _items(tenant.events(key, start, end), zone, only_busy, rsvp)}


async def _freebusy(request: web.Request, api: Api) -> web.StreamResponse:
    state = request.app[STATE]
    body = await simkit.json_body(request)
    if api == "batch":
        endpoint = "freebusy/batch"
    elif isinstance(body, dict) and not body.get("user_id") and body.get("room_id"):
        endpoint = "freebusy/list:room"
    else:
        endpoint = "freebusy/list"
    state.stats.count(endpoint)

    faults = state.faults
    if faults.token_expiry_due():
        state.tokens.expire_all()
    fault = faults.pick()
    try:
        _check_token(state, request)
    except _Reject as reject:
        return _error(state, reject)
    if state.rate_limit:
        wait = state.limiters[api].check()
        if wait is not None:
            return _rate_limited(state, 50 if wait <= 1.0 else 1000, math.ceil(wait))
    faulty = await _apply_fault(state, fault, request)
    if faulty is not None:
        return faulty
    try:
        data = _answer(state.tenant, request.query.get("user_id_type", "open_id"), body, api)
    except _Reject as reject:
        return _error(state, reject)
    return _reply(state, 200, {"code": 0, "msg": "success", "data": data})


async def _token(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.stats.token_calls += 1
    faults = state.faults
    if faults.tokens:
        faulty = await _apply_fault(state, faults.pick(), request)
        if faulty is not None:
            return faulty
    body = await simkit.json_body(request)
    if not isinstance(body, dict) or body.get("app_id") != state.app_id:
        return _error(state, _Reject(400, 10003, "invalid param"))
    if body.get("app_secret") != state.app_secret:
        return _error(state, _Reject(400, 10014, "app secret invalid"))
    token, ttl = state.tokens.issue()
    return _reply(state, 200, {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": ttl})


_OPTIONS = frozenset({"fault_reset", "app_id", "app_secret"})


class FeishuSimulator:
    """The registered :class:`slotfinder.testing.simulation.Simulator` for ``feishu``."""

    name = "feishu"

    def __repr__(self) -> str:
        return "FeishuSimulator()"

    def tenant(self, seed: int = 0, users: int = 200, rooms: int = 6) -> FeishuTenant:
        """The organisation ``app(seed, users=..., rooms=...)`` serves."""
        return FeishuTenant(seed, users=users, rooms=rooms)

    def app(self, seed: int = 0, **options: object) -> web.Application:
        simkit.check_options(options, _OPTIONS, "Feishu")
        faults = simkit.faults_option(options)
        tenant = self.tenant(
            seed,
            users=int(simkit.number_option(options, "users", 200)),
            rooms=int(simkit.number_option(options, "rooms", 6)),
        )
        app_id, app_secret = options.get("app_id"), options.get("app_secret")
        state = FeishuSimState(
            tenant=tenant,
            tokens=TokenStore(ttl=simkit.number_option(options, "token_ttl", 7200.0)),
            stats=SimStats(),
            faults=faults,
            limiters={"list": WindowLimiter(_RATE), "batch": WindowLimiter(_RATE)},
            rate_limit=bool(options.get("rate_limit", True)),
            fault_reset=simkit.number_option(options, "fault_reset", 1.0),
            app_id=str(app_id) if app_id is not None else tenant.app_id,
            app_secret=str(app_secret) if app_secret is not None else tenant.app_secret,
        )
        app = simkit.application(options, seed, state.stats)
        app[STATE] = state
        app[TENANT] = tenant
        app[TOKENS] = state.tokens
        app[STATS] = state.stats
        app[FAULTS] = faults
        app.router.add_post(TOKEN_PATH, _token)
        app.router.add_post(LIST_PATH, functools.partial(_freebusy, api="list"))
        app.router.add_post(BATCH_PATH, functools.partial(_freebusy, api="batch"))
        return app

    def demo(self, base_url: str, seed: int = 0) -> DemoTenant:
        tenant = self.tenant(seed)
        people = tuple(
            DemoPerson(
                id=f"feishu:{p.open_id}",
                name=p.name,
                zone=p.zone,
                working_hours=p.working_hours(),
            )
            for p in tenant.people[:4]
        )
        rooms = tuple(
            DemoPerson(id=f"feishu:{r.room_id}", name=r.name, zone=r.zone, room=True)
            for r in tenant.rooms[:2]
        )
        return DemoTenant(
            config={
                "base_url": base_url.rstrip("/"),
                "app_id": tenant.app_id,
                "app_secret": tenant.app_secret,
                "user_id_type": "open_id",
            },
            people=people,
            rooms=rooms,
        )
