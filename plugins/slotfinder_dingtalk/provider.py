"""DingTalk (钉钉) free/busy as a sans-I/O :class:`slotfinder.providers.HttpProvider`.

Two endpoints, both under the *operator's* unionId (the ``{userId}`` path parameter names the
user on whose behalf the app asks, not an attendee, so it is configuration):

* ``POST /v1.0/calendar/users/{operator}/querySchedule`` — body ``{userIds, startTime, endTime}``,
  1-20 user unionIds; no longest window is documented, so chunks are ``max_days`` long (90).
* ``POST /v1.0/calendar/users/{operator}/meetingRooms/schedules/query`` — body
  ``{roomIds, startTime, endTime}``, 1-5 roomIds, at most 90 days.

Both are limited to 20 calls/s per app per API. Calls carry the bare token in
``x-acs-dingtalk-access-token`` (no ``Bearer``); the token comes from
``POST /v1.0/oauth2/accessToken`` with ``{appKey, appSecret}``.

Decisions (see the seed pages ``seeds/000_*.txt`` and ``seeds/001_*.txt``; where the seed and
``providers.md`` differ the seed wins):

* All-day items are ``{"date": "yyyy-MM-dd"}``; the seed says their zone "is fixed to UTC",
  i.e. the date carries no zone of its own. An all-day item blocks the attendee's *local* days
  ``[date, end date)``: the planner puts each attendee's zone in the call
  (:meth:`~slotfinder.providers.Call.zone_of`), and UTC is used only when no zone is known.
  An end date not after the start date still blocks one day.
* Timed items are ``{"dateTime", "timeZone"}``; an offset inside ``dateTime`` wins, otherwise the
  wall-clock time is read in ``timeZone`` (default ``Asia/Shanghai``, as the seed documents),
  RFC 5545 style; every text is read by :mod:`slotfinder.times`, whose rules cover leap
  seconds, ``24:00`` and impossible dates.
* An item that cannot be read makes only its id unknown, with a reason naming the field and
  value; a per-id ``error`` does the same with DingTalk's text.
* ``BUSY`` is busy, ``TENTATIVE`` (for rooms: pending approval) is tentative, any other status is
  busy and logged on ``slotfinder.dingtalk``. The seeds document no unanswered, declined,
  out-of-office or free status, so none is read: an unanswered invitation is whatever the service
  reports (never ``unanswered``), and declined, removed and free items are not in the reply.
* A bad access token comes back as ``{"code": "InvalidAuthentication", "message":
  "不合法的access_token"}`` — observed in the wild with HTTP 400 (not 401), so the code decides,
  whatever the status; HTTP 401 is treated the same.
* ``roomId invalid`` fails the whole room call (it is a 400 in the seed), so it raises
  :class:`~slotfinder.providers.BatchError` and the fetcher splits the batch to find the bad room;
  an unknown *user* comes back as a per-user ``error`` and only that user is unknown.
* A reply that is not JSON with a 4xx status is the IP-ban page DingTalk serves for 5 minutes
  after more than 10,000 calls in 20 s from one IP: every further call would fail the same way,
  so it is fatal for the run. A non-JSON 2xx reply fails only that call; a 5xx is retried.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from slotfinder import times
from slotfinder.errors import ConfigError, InputError
from slotfinder.model import DAY, Span, Status
from slotfinder.plan import plan_calls
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    CallResult,
    ConfigKey,
    Endpoint,
    HttpRequest,
    HttpResponse,
    Limits,
    ProviderConfig,
    RateWindow,
    RetryLater,
    Settings,
    Target,
    Token,
    TokenExpired,
)

__all__ = ["DEFAULT_BASE_URL", "ROOM_ENDPOINT", "USER_ENDPOINT", "DingTalkProvider"]

log = logging.getLogger("slotfinder.dingtalk")

NAME = "dingtalk"
DEFAULT_BASE_URL = "https://api.dingtalk.com"
USER_ENDPOINT = "querySchedule"
ROOM_ENDPOINT = "meetingRooms/schedules/query"
MAX_USERS = 20
MAX_ROOMS = 5
ROOM_MAX_DAYS = 90
DEFAULT_MAX_DAYS = 90
DEFAULT_ZONE = "Asia/Shanghai"
RATE = (RateWindow(calls=20, seconds=1.0),)
"""20 calls/s per app per API (standard edition), enforced per endpoint."""
MAX_TOKEN_LIFETIME = 7200
"""DingTalk tokens live 7200 s; a longer ``expireIn`` is not believed."""
QPS_WAIT = 1.0
"""DingTalk asks clients to sleep 1 s after a QPS error; never retry sooner."""

_Kind = Literal["rate", "quota", "token", "param"]
ERROR_CODES: Mapping[str, _Kind] = {
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi": "rate",  # per app per API
    "Forbidden.AccessDenied.QpsLimitForApi": "rate",  # global per API
    "Forbidden.AccessDenied.ApiCountLimitForOrg": "quota",  # monthly: never retried
    "InvalidAuthentication": "token",
    "paramIllegal": "param",
    "invalidParameter": "param",
    "MissingParameter": "param",
}
"""What each documented error code means; the code decides, not the HTTP status."""

BUSY = Status.BUSY.code
_STATUS = {"BUSY": BUSY, "TENTATIVE": Status.TENTATIVE.code}

Row = tuple[int, int, int]


# --- reading schedule items ----------------------------------------------------------------


_LAST_DAY = 2_932_896
"""Epoch day number of 9999-12-31, the last day that has a following midnight."""


def _timed(point: dict[str, Any], field: str) -> int:
    """Epoch seconds of a ``{dateTime, timeZone}`` point; an offset in the text wins.

    ``field`` (``.start`` or ``.end``) is only used to name an error; it is not formatted
    on the way through, as every reply holds thousands of points.
    """
    zone = point.get("timeZone") or DEFAULT_ZONE
    try:
        times.zone_info(zone if isinstance(zone, str) else "")
    except InputError:
        raise InputError(f"{field}.timeZone", zone, "unknown IANA time zone") from None
    try:
        return times.instant(point.get("dateTime"), "dateTime", zone)
    except InputError as exc:
        raise InputError(f"{field}.dateTime", exc.value, exc.problem) from None


def _midnight(day: int, point: dict[str, Any], field: str, zone: str) -> int:
    try:
        return times.midnight(day, zone)
    except InputError:
        raise InputError(field, point.get("date"), "outside the years 1-9999") from None


def _all_day(start: dict[str, Any], end: dict[str, Any], zone: str) -> tuple[int, int]:
    """The local days ``[start date, end date)`` in ``zone``; at least the start date."""
    first = times.read_date(start.get("date"), ".start.date")
    last = times.read_date(end["date"], ".end.date") if end.get("date") else first
    if last <= first:
        if first >= _LAST_DAY:
            raise InputError(".start.date", start.get("date"), "no day after it")
        return _midnight(first, start, ".start.date", zone), _midnight(
            first + 1, start, ".start.date", zone
        )
    return _midnight(first, start, ".start.date", zone), _midnight(last, end, ".end.date", zone)


def _row(item: object, day_zone: str, odd: set[str]) -> Row:
    """One ``scheduleItems`` entry as ``(start, end, status code)``; unknown statuses go in
    ``odd`` and count as busy. Raises :class:`InputError` naming the field inside the item
    (``.start.dateTime``; empty for the item itself) and what it cannot read."""
    if not isinstance(item, dict):
        raise InputError("", item, "expected an object")
    raw = item.get("status")
    status = _STATUS.get(raw.upper()) if isinstance(raw, str) else None
    if status is None:
        odd.add(str(raw))
        status = BUSY
    start, end = item.get("start"), item.get("end")
    if not isinstance(start, dict):
        raise InputError(".start", start, "expected an object")
    if not isinstance(end, dict):
        raise InputError(".end", end, "expected an object")
    if start.get("date") and not start.get("dateTime"):
        first, last = _all_day(start, end, day_zone)
        return first, last, status
    first, last = _timed(start, ".start"), _timed(end, ".end")
    if last < first:
        if not _gap_only(start, end):
            raise InputError(
                ".end.dateTime", end.get("dateTime"), f"before the start {start['dateTime']!r}"
            )
        last = first
    return first, last, status


def _gap_only(start: dict[str, Any], end: dict[str, Any]) -> bool:
    """Whether an end read before its start is in order on the wall clock of one zone.

    RFC 5545 reads a start skipped by a spring-forward gap with the offset before the gap, so
    a span such as 02:30-03:00 on the day New York skips 02:00-03:00 ends before it starts. It
    names no time that happened, so it covers none; it is not a broken item.
    """
    if (start.get("timeZone") or DEFAULT_ZONE) != (end.get("timeZone") or DEFAULT_ZONE):
        return False
    try:  # an offset in either text wins, and then the order holds as read
        wall = [times.instant(p.get("dateTime"), "dateTime", "UTC") for p in (start, end)]
    except InputError:
        return False
    return wall[0] <= wall[1]


def _rows(items: object, day_zone: str, odd: set[str]) -> list[Row]:
    """Busy rows of one id's ``scheduleItems`` (``null`` or absent: free)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError("scheduleItems", items, "expected a list")
    rows: list[Row] = []
    for n, item in enumerate(items):
        try:
            rows.append(_row(item, day_zone, odd))
        except InputError as exc:
            raise InputError(f"scheduleItems[{n}]{exc.field}", exc.value, exc.problem) from None
    return rows


def _collect(call: Call, infos: list[Any]) -> CallResult:
    """Rows per id of the call from ``scheduleInformation``; every other id is unknown.

    Entries for ids the call did not ask for are ignored. An id with an ``error``, with an item
    that cannot be read, or missing from the reply is unknown with the reason.
    """
    id_field = "roomId" if call.kind == "room" else "userId"
    busy: dict[str, list[Row]] = {}
    errors: dict[str, str] = {}
    odd: set[str] = set()
    for info in infos:
        key = info.get(id_field) if isinstance(info, dict) else None
        if key not in call.ids or key in errors:
            continue
        if info.get("error"):
            errors[key] = f"DingTalk: {info['error']}"
            busy.pop(key, None)
            continue
        try:
            rows = _rows(info.get("scheduleItems"), call.zone_of(key, "UTC"), odd)
        except InputError as exc:
            errors[key] = f"DingTalk returned an unreadable schedule item: {exc}"
            busy.pop(key, None)
            continue
        busy.setdefault(key, []).extend(rows)
    for status in sorted(odd):
        log.warning("unknown DingTalk schedule status %r counted as busy", status)
    for key in call.ids:
        if key not in busy and key not in errors:
            errors[key] = f"DingTalk returned no schedule for {id_field} {key}"
    return CallResult(busy=busy, errors=errors)


# --- replies -------------------------------------------------------------------------------


def _json(body: bytes) -> Any:
    """The decoded JSON body, or ``None`` when it is not JSON at all."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurd nesting
        return None


def _error_parts(data: Any) -> tuple[str, str, str]:
    if not isinstance(data, Mapping):
        return "", "", ""
    return (
        str(data.get("code") or ""),
        str(data.get("message") or ""),
        str(data.get("requestid") or data.get("requestId") or ""),
    )


def _where(status: int, request_id: str) -> str:
    return f"HTTP {status}" + (f", requestid {request_id}" if request_id else "")


def _non_json(status: int) -> str:
    reason = f"DingTalk replied with a non-JSON body (HTTP {status})"
    if status in (403, 429):
        reason += " — the IP may be banned for 5 minutes after >10,000 calls in 20 s"
    return reason


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = headers.get("retry-after")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) and value >= 0 else None


def _param_field(call: Call, message: str) -> str:
    """Which request field a ``paramIllegal``/``invalidParameter`` message is about."""
    ids = "roomIds" if call.kind == "room" else "userIds"
    low = message.lower()
    if "days" in low or "time" in low:
        return "window (startTime-endTime)"
    if "roomid" in low:
        return "roomIds"
    if "limit" in low or "ids" in low:
        return ids
    if "userid" in low:
        return f"{ids} or operator_union_id"
    return f"{ids}/startTime/endTime"


def _lifetime(expire: object) -> float | None:
    """``expireIn`` as seconds: positive and finite, at most DingTalk's 7200 (else ``None``)."""
    if isinstance(expire, bool) or not isinstance(expire, int | float):
        return None
    if expire <= 0 or (isinstance(expire, float) and not math.isfinite(expire)):
        return None
    return float(min(expire, MAX_TOKEN_LIFETIME))


class DingTalkProvider:
    """DingTalk calendar free/busy for users (``dingtalk:UNIONID``) and meeting rooms."""

    name: str = NAME
    description: str = "DingTalk calendar free/busy (querySchedule) and meeting-room schedules"
    config_keys: tuple[ConfigKey, ...] = (
        ConfigKey("app_key", "the app's AppKey (Client ID)", required=True),
        ConfigKey("app_secret", "the app's AppSecret (Client Secret)", secret=True, required=True),
        ConfigKey(
            "operator_union_id",
            "unionId of the user on whose behalf the app asks (the {userId} path parameter)",
            required=True,
        ),
        ConfigKey(
            "base_url",
            "API base URL (international: https://api.dingtalk.io)",
            default=DEFAULT_BASE_URL,
        ),
        ConfigKey(
            "max_days",
            "longest querySchedule chunk in days (none is documented)",
            default=DEFAULT_MAX_DAYS,
        ),
    )

    def __repr__(self) -> str:
        return "DingTalkProvider()"

    # -- planning ---------------------------------------------------------------------------

    def limits(self, config: ProviderConfig) -> Limits:
        """querySchedule: 1-20 users, ``max_days``; rooms: 1-5 rooms, 90 days; 20 calls/s each."""
        max_days = Settings(config, NAME).integer("max_days", DEFAULT_MAX_DAYS)
        return Limits(
            endpoints=(
                Endpoint(USER_ENDPOINT, "user", MAX_USERS, max_days * DAY, rate=RATE),
                Endpoint(ROOM_ENDPOINT, "room", MAX_ROOMS, ROOM_MAX_DAYS * DAY, rate=RATE),
            ),
            # As many calls in flight as one second's budget: the limiter sets the pace.
            concurrency=20,
        )

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        """The fewest calls: users in groups of 20, rooms in groups of 5, window in chunks."""
        return plan_calls(targets, window, self.limits(config))

    # -- requests ---------------------------------------------------------------------------

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        """``POST .../users/{operator}/querySchedule`` or ``.../meetingRooms/schedules/query``."""
        settings = Settings(config, NAME)
        operator = settings.text("operator_union_id")
        base = settings.url("base_url", DEFAULT_BASE_URL)
        ids_field = "roomIds" if call.endpoint == ROOM_ENDPOINT else "userIds"
        path = ROOM_ENDPOINT if call.endpoint == ROOM_ENDPOINT else USER_ENDPOINT
        body = {
            ids_field: list(call.ids),
            "startTime": times.format_utc(call.span.start),
            "endTime": times.format_utc(call.span.end),
        }
        return HttpRequest(
            method="POST",
            url=f"{base}/v1.0/calendar/users/{operator}/{path}",
            headers={
                "x-acs-dingtalk-access-token": token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    # -- replies ----------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        """Busy rows per id from ``scheduleInformation``, or the error the reply stands for."""
        data = _json(response.body)
        if not 200 <= response.status < 300:
            raise self._error(call, response, data)
        if data is None:
            raise CallFailed(_non_json(response.status))
        infos = data.get("scheduleInformation") if isinstance(data, Mapping) else None
        if not isinstance(infos, list):
            raise CallFailed(
                f"DingTalk reply (HTTP {response.status}) has no scheduleInformation list"
            )
        return _collect(call, infos)

    def _error(self, call: Call, response: HttpResponse, data: Any) -> Exception:
        """The exception an error reply stands for: its code's kind first, then its status."""
        status = response.status
        code, message, request_id = _error_parts(data)
        where = _where(status, request_id)
        kind = ERROR_CODES.get(code)
        wait = max(QPS_WAIT, _retry_after(response.headers) or 0.0)
        limited = RetryLater(f"DingTalk rate limit {code} ({where})", after=wait, rate_limited=True)
        if kind == "rate":
            return limited
        if kind == "quota":
            return CallFailed(
                f"DingTalk monthly quota of API calls for this organisation is used up ({code}, "
                f"{where}); calls work again next month or after an edition upgrade",
                fatal=True,
            )
        if kind == "token" or status == 401:
            return TokenExpired(f"DingTalk refused the access token ({code or status}, {where})")
        if status >= 500:
            return RetryLater(
                f"DingTalk server error {code or status} ({where})",
                after=_retry_after(response.headers),
            )
        if not isinstance(data, Mapping):
            return CallFailed(_non_json(status), fatal=status in (403, 429))
        if status == 429:
            return limited
        if kind == "param":
            reason = (
                f"DingTalk rejected {_param_field(call, message)}: {code} {message!r} ({where})"
            )
            if "roomid invalid" in message.lower() and len(call.ids) > 1:
                return BatchError(reason)
            return CallFailed(reason)
        return CallFailed(f"DingTalk error {code or 'without code'}: {message!r} ({where})")

    # -- tokens -----------------------------------------------------------------------------

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        """Tokens are per app: ``(base_url, app_key)``."""
        settings = Settings(config, NAME)
        return (settings.url("base_url", DEFAULT_BASE_URL), settings.text("app_key"))

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        """``POST /v1.0/oauth2/accessToken`` with ``{appKey, appSecret}`` (internal app)."""
        settings = Settings(config, NAME)
        body = {"appKey": settings.text("app_key"), "appSecret": settings.secret("app_secret")}
        return HttpRequest(
            method="POST",
            url=f"{settings.url('base_url', DEFAULT_BASE_URL)}/v1.0/oauth2/accessToken",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        """``{accessToken, expireIn}``; refused credentials are a :class:`ConfigError`."""
        status = response.status
        data = _json(response.body)
        code, message, request_id = _error_parts(data)
        where = _where(status, request_id)
        kind = ERROR_CODES.get(code)
        if 200 <= status < 300 and isinstance(data, Mapping):
            token = data.get("accessToken")
            seconds = _lifetime(data.get("expireIn", MAX_TOKEN_LIFETIME))
            if isinstance(token, str) and token and seconds is not None:
                return Token(value=token, expires_in=seconds)
            raise RetryLater(f"DingTalk token reply without accessToken/expireIn ({where})")
        if status >= 500 or status == 429 or kind == "rate":
            raise RetryLater(
                f"DingTalk token endpoint busy: {code or status} ({where})",
                after=QPS_WAIT if kind == "rate" or status == 429 else None,
            )
        if kind == "quota":
            raise CallFailed(f"DingTalk monthly quota used up ({code}, {where})", fatal=True)
        if data is None:
            if 200 <= status < 300:
                raise RetryLater(_non_json(status))
            raise CallFailed(_non_json(status), fatal=True)
        raise ConfigError(
            f"providers.{NAME}.app_secret",
            f"DingTalk refused the app credentials ({code or 'no code'}: {message!r}, {where}); "
            f"check providers.{NAME}.app_key and set SLOTFINDER_{NAME.upper()}_APP_SECRET",
        )
