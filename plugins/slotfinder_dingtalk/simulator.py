"""An aiohttp imitation of the DingTalk endpoints slotfinder uses, over a seeded organisation.

Paths, fields, error codes and HTTP statuses follow the seed pages (``seeds/000_*.txt``,
``seeds/001_*.txt``) and ``providers.md``:

* ``POST /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` → ``{accessToken, expireIn}``;
  wrong credentials → 400 ``invalidClientIdOrSecret``.
* ``POST /v1.0/calendar/users/{operator}/querySchedule`` ``{userIds, startTime, endTime}`` →
  ``{scheduleInformation: [{userId, error?, scheduleItems}]}``; more than 20 ids → 400
  ``paramIllegal``; an unknown user → a per-user ``error`` (the others are answered).
* ``POST /v1.0/calendar/users/{operator}/meetingRooms/schedules/query`` ``{roomIds, ...}`` →
  ``{scheduleInformation: [{roomId, scheduleItems: [{eventId, status, organizer, start,
  end}]}]}``; more than 5 rooms, more than 90 days, no ids or an unknown room → 400
  ``invalidParameter`` with the seed's messages (an unknown room fails the whole call).
* A missing, unknown or expired token → 400 ``InvalidAuthentication`` "不合法的access_token", the
  reply DingTalk gives in the wild (HTTP 400, not 401).
* More than 20 calls/s per API → 403 ``Forbidden.AccessDenied.QpsLimitForAppkeyAndApi``; an
  exhausted ``quota`` → 403 ``Forbidden.AccessDenied.ApiCountLimitForOrg``.
* Faults (:class:`slotfinder.testing.simkit.Faults`): ``RATE_LIMIT`` → the QPS reply,
  ``SERVER_ERROR`` → 500 ``ServiceUnavailable``, ``DROP`` → the socket is closed, ``SLOW`` → the
  reply waits ``slow_seconds``, ``MALFORMED`` → an HTML ban page with ``malformed_status`` (403
  by default; 200 gives a truncated JSON body); ``expire_tokens_after`` expires every token mid-run.

Events overlapping the query window are returned whole, not clipped, as DingTalk does. Error
replies are ``{"code", "message", "requestid"}``. Request times are read by
:func:`slotfinder.testing.simkit.instant` (an offset required), never by the client's reader.

Tests reach the live state through the app keys :data:`TENANT` (ground truth), :data:`FAULTS`,
:data:`TOKENS`, :data:`STATS` and :data:`STATE`; aiohttp deprecates replacing app state once
the app runs, so change them in place (``app[FAULTS].server_error = 1.0``,
``app[TOKENS].expire_all()``, ``app[STATE].quota = 10``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from typing import Any

import attrs
from aiohttp import web

from slotfinder.testing import simkit
from slotfinder.testing.simulation import DemoPerson, DemoTenant
from slotfinder_dingtalk.provider import ROOM_ENDPOINT, USER_ENDPOINT
from slotfinder_dingtalk.tenant import Tenant

__all__ = [
    "FAULTS",
    "LIMITERS",
    "STATE",
    "STATS",
    "TENANT",
    "TOKENS",
    "DingTalkSimulator",
    "SimState",
]

MAX_USERS = 20
MAX_ROOMS = 5
ROOM_MAX_SECONDS = 90 * 86_400
RATE = (20, 1.0)
TOKEN_PATH = "/v1.0/oauth2/accessToken"
BAD_TOKEN = ("InvalidAuthentication", "不合法的access_token")
QPS_CODE = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
UNKNOWN_USER = "user not found in this organization"
BAN_PAGE = (
    "<!DOCTYPE html><html><head><title>403 Forbidden</title></head><body>"
    "<h1>Access denied</h1><p>Your IP has been temporarily blocked because of too many "
    "requests. Please try again in 5 minutes.</p></body></html>"
)


@attrs.define
class SimState:
    """Mutable knobs a test may change mid-run (besides faults, tokens and stats)."""

    rate_limit: bool = True
    quota: int | None = None
    """Data calls allowed before every call answers ``ApiCountLimitForOrg`` (None: unlimited)."""
    user_errors: dict[str, str] = attrs.field(factory=dict)
    """Per-user ``error`` strings to report for these unionIds."""
    malformed_status: int = 403
    data_calls: int = 0


TENANT = web.AppKey("dingtalk_tenant", Tenant)
FAULTS = web.AppKey("dingtalk_faults", simkit.Faults)
TOKENS = web.AppKey("dingtalk_tokens", simkit.TokenStore)
STATS = web.AppKey("dingtalk_stats", simkit.SimStats)
STATE = web.AppKey("dingtalk_state", SimState)
LIMITERS = web.AppKey("dingtalk_limiters", dict[str, simkit.WindowLimiter])


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "requestid": str(uuid.uuid4()).upper()},
        status=status,
    )


class _Reject(Exception):
    """A request DingTalk refuses with HTTP 400: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code, self.message = code, message

    def response(self) -> web.Response:
        return _error(400, self.code, self.message)


async def _body(request: web.Request) -> Mapping[str, Any]:
    if not await request.read():
        raise _Reject("MissingBody", "body is mandatory for this action.")
    data = await simkit.json_body(request)
    if not isinstance(data, Mapping):
        raise _Reject("paramIllegal", "PARAM ILLEGAL")
    return data


def _window(data: Mapping[str, Any], code: str) -> tuple[int, int]:
    start, end = simkit.instant(data.get("startTime")), simkit.instant(data.get("endTime"))
    if start is None or end is None:
        message = "PARAM ILLEGAL" if code == "paramIllegal" else "startTime or endTime invalid"
        raise _Reject(code, message)
    if end <= start:
        message = "PARAM ILLEGAL" if code == "paramIllegal" else "endTime must be after startTime"
        raise _Reject(code, message)
    return start, end


def _ids(data: Mapping[str, Any], field: str, code: str) -> list[str]:
    ids = data.get(field)
    if ids is None or ids == []:
        raise _Reject("invalidParameter", "query ids cannot be empty")
    if not isinstance(ids, list) or not all(isinstance(i, str) and i for i in ids):
        raise _Reject(code, "PARAM ILLEGAL" if code == "paramIllegal" else field)
    return ids


async def _gate(request: web.Request, endpoint: str) -> web.StreamResponse | None:
    """Token, quota, faults and rate limit, in that order; ``None`` lets the call through."""
    app = request.app
    stats, state, faults, tokens = app[STATS], app[STATE], app[FAULTS], app[TOKENS]
    stats.count(endpoint)
    state.data_calls += 1
    if faults.token_expiry_due():
        tokens.expire_all()
    if not tokens.valid(request.headers.get("x-acs-dingtalk-access-token")):
        stats.errors += 1
        return _error(400, *BAD_TOKEN)
    fault = faults.pick()
    if fault is not None:
        stats.faults += 1
        if fault is simkit.Fault.RATE_LIMIT:
            stats.rate_limited += 1
            return _error(403, QPS_CODE, "请求被流控，请稍后重试")
        if fault is simkit.Fault.SERVER_ERROR:
            stats.errors += 1
            return _error(
                500,
                "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.",
            )
        if fault is simkit.Fault.DROP:
            return await simkit.drop_connection(request)
        if fault is simkit.Fault.SLOW:
            await asyncio.sleep(faults.slow_seconds)
        elif fault is simkit.Fault.MALFORMED:
            if state.malformed_status == 200:
                return web.Response(
                    status=200,
                    body=b'{"scheduleInformation": [{"userId": "',
                    content_type="application/json",
                )
            return web.Response(
                status=state.malformed_status, text=BAN_PAGE, content_type="text/html"
            )
    if state.quota is not None and state.data_calls > state.quota:
        stats.errors += 1
        return _error(
            403, QUOTA_CODE, "API调用次数已超过本月额度 (monthly API call quota exceeded)"
        )
    if state.rate_limit:
        limiter = app[LIMITERS].setdefault(endpoint, simkit.WindowLimiter([RATE]))
        if limiter.check() is not None:
            stats.rate_limited += 1
            return _error(403, QPS_CODE, "请求被流控，请稍后重试")
    return None


async def _token(request: web.Request) -> web.StreamResponse:
    app = request.app
    app[STATS].token_calls += 1
    faults = app[FAULTS]
    if faults.tokens:
        fault = faults.pick()
        if fault is simkit.Fault.SERVER_ERROR or fault is simkit.Fault.RATE_LIMIT:
            app[STATS].faults += 1
            return _error(500, "ServiceUnavailable", "temporary failure")
        if fault is simkit.Fault.DROP:
            app[STATS].faults += 1
            return await simkit.drop_connection(request)
    try:
        data = await _body(request)
    except _Reject as reject:
        return reject.response()
    tenant = app[TENANT]
    if data.get("appKey") != tenant.app_key or data.get("appSecret") != tenant.app_secret:
        app[STATS].errors += 1
        return _error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    token, ttl = app[TOKENS].issue()
    return web.json_response({"accessToken": token, "expireIn": ttl})


def _operator(request: web.Request) -> None:
    if request.app[TENANT].person(request.match_info["user_id"]) is None:
        raise _Reject("invalidParameter", "operator userId invalid")


async def _query_schedule(request: web.Request) -> web.StreamResponse:
    gate = await _gate(request, USER_ENDPOINT)
    if gate is not None:
        return gate
    app = request.app
    tenant, state = app[TENANT], app[STATE]
    try:
        _operator(request)
        data = await _body(request)
        ids = _ids(data, "userIds", "paramIllegal")
        if len(ids) > MAX_USERS:
            raise _Reject("paramIllegal", "PARAM ILLEGAL")
        start, end = _window(data, "paramIllegal")
    except _Reject as reject:
        app[STATS].errors += 1
        return reject.response()
    infos: list[dict[str, Any]] = []
    for uid in ids:
        error = state.user_errors.get(uid)
        if error is None and tenant.person(uid) is None:
            error = UNKNOWN_USER
        if error is not None:
            infos.append({"userId": uid, "error": error, "scheduleItems": []})
        else:
            items = [e.user_item() for e in tenant.events(uid, start, end)]
            infos.append({"userId": uid, "scheduleItems": items})
    return web.json_response({"scheduleInformation": infos})


async def _rooms_schedule(request: web.Request) -> web.StreamResponse:
    gate = await _gate(request, ROOM_ENDPOINT)
    if gate is not None:
        return gate
    app = request.app
    tenant = app[TENANT]
    try:
        _operator(request)
        data = await _body(request)
        ids = _ids(data, "roomIds", "invalidParameter")
        if len(ids) > MAX_ROOMS:
            raise _Reject(
                "invalidParameter", "Cannot get schedule information for more than limit."
            )
        start, end = _window(data, "invalidParameter")
        if end - start > ROOM_MAX_SECONDS:
            raise _Reject("invalidParameter", "Cannot query schedule for more than 90 days.")
        if any(tenant.room(rid) is None for rid in ids):
            raise _Reject("invalidParameter", "roomId invalid")
    except _Reject as reject:
        app[STATS].errors += 1
        return reject.response()
    infos = [
        {"roomId": rid, "scheduleItems": [e.room_item() for e in tenant.events(rid, start, end)]}
        for rid in ids
    ]
    return web.json_response({"scheduleInformation": infos})


_OPTIONS = frozenset({"quota", "user_errors", "malformed_status"})


class DingTalkSimulator:
    """The DingTalk simulator: :meth:`app` serves the API, :meth:`demo` describes a tenant."""

    name: str = "dingtalk"

    def __repr__(self) -> str:
        return "DingTalkSimulator()"

    def tenant(self, seed: int = 0, users: int = 240, rooms: int = 12) -> Tenant:
        """The organisation ``app(seed, users=..., rooms=...)`` serves (ground truth for tests)."""
        return Tenant(seed, users=users, rooms=rooms)

    def app(self, seed: int = 0, **options: object) -> web.Application:
        """A fresh application. Options: ``latency``, ``jitter`` (seconds), ``faults``
        (:class:`simkit.Faults`), ``rate_limit`` (True), ``token_ttl`` (7200 s), ``users``
        (240), ``rooms`` (12), ``quota`` (data calls before ``ApiCountLimitForOrg``),
        ``user_errors`` ({unionId: error}), ``malformed_status`` (403)."""
        simkit.check_options(options, _OPTIONS, "DingTalk")
        quota = options.get("quota")
        if quota is not None and not isinstance(quota, int):
            raise TypeError("option quota must be an int")
        user_errors = options.get("user_errors") or {}
        if not isinstance(user_errors, Mapping):
            raise TypeError("option user_errors must map unionIds to error strings")
        stats = simkit.SimStats()
        app = simkit.application(options, seed, stats)
        app[TENANT] = Tenant(
            seed,
            users=int(simkit.number_option(options, "users", 240)),
            rooms=int(simkit.number_option(options, "rooms", 12)),
        )
        app[FAULTS] = simkit.faults_option(options)
        app[TOKENS] = simkit.TokenStore(
            ttl=simkit.number_option(options, "token_ttl", 7200.0), prefix=""
        )
        app[STATS] = stats
        app[STATE] = SimState(
            rate_limit=bool(options.get("rate_limit", True)),
            quota=quota,
            user_errors={str(k): str(v) for k, v in user_errors.items()},
            malformed_status=int(simkit.number_option(options, "malformed_status", 403)),
        )
        app[LIMITERS] = {}
        app.router.add_post(TOKEN_PATH, _token)
        app.router.add_post("/v1.0/calendar/users/{user_id}/querySchedule", _query_schedule)
        app.router.add_post(
            "/v1.0/calendar/users/{user_id}/meetingRooms/schedules/query", _rooms_schedule
        )
        return app

    def demo(self, base_url: str, seed: int = 0) -> DemoTenant:
        """Credentials, four people in Shanghai, Berlin and New York, and three rooms."""
        tenant = Tenant(seed)
        people = tuple(
            DemoPerson(
                id=f"dingtalk:{p.union_id}",
                name=p.name,
                zone=p.zone,
                working_hours={k: list(v) for k, v in p.working_hours.items()},
            )
            for p in tenant.people[:4]
        )
        rooms = tuple(
            DemoPerson(id=f"dingtalk:{r.room_id}", name=r.name, zone=r.zone, room=True)
            for r in tenant.rooms
            if r.zone == "Asia/Shanghai"
        )[:3]
        return DemoTenant(
            config={
                "base_url": base_url,
                "app_key": tenant.app_key,
                "app_secret": tenant.app_secret,
                "operator_union_id": tenant.operator,
            },
            people=people,
            rooms=rooms,
        )
