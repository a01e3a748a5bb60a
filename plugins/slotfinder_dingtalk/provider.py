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
  RFC 5545 style (``zoneinfo`` with ``fold=0``).
* ``BUSY`` is busy, ``TENTATIVE`` (for rooms: pending approval) is tentative, any other status is
  busy and logged on ``slotfinder.dingtalk``.
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

import calendar
import functools
import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slotfinder import memo
from slotfinder.errors import ConfigError
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
    Secret,
    Target,
    Token,
    TokenExpired,
)

from . import schema

__all__ = [
    "DEFAULT_BASE_URL",
    "ROOM_ENDPOINT",
    "USER_ENDPOINT",
    "DingTalkProvider",
    "format_time",
    "parse_time",
]

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

QPS_CODES = frozenset(
    {
        "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        "Forbidden.AccessDenied.QpsLimitForApi",
    }
)
QUOTA_CODE = "Forbidden.AccessDenied.ApiCountLimitForOrg"
TOKEN_CODES = frozenset({"InvalidAuthentication"})
PARAM_CODES = frozenset({"paramIllegal", "invalidParameter", "MissingParameter"})
MAX_TOKEN_LIFETIME = 7200
"""DingTalk tokens live 7200 s; a longer ``expireIn`` is not believed."""
QPS_WAIT = 1.0
"""DingTalk asks clients to sleep 1 s after a QPS error; never retry sooner."""

_BUSY = Status.BUSY.code
_TENTATIVE = Status.TENTATIVE.code
_STATUS = {"BUSY": _BUSY, "TENTATIVE": _TENTATIVE}

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --- time -----------------------------------------------------------------------------------


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _known_zone(name: str) -> bool:
    """True for an IANA zone name; never raises (a directory such as 'America' is not one)."""
    try:
        _zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _check_date(text: str, y: int, m: int, d: int) -> None:
    """Refuse a date that does not exist (2026-02-31, 2026-13-01), naming ``text``.

    Integer arithmetic would roll such a date into the next month, a silently wrong time.
    """
    if not (1 <= m <= 12 and 1 <= d <= calendar.monthrange(y, m)[1]):  # year 0: leap
        raise ValueError(f"impossible date in {text[:40]!r}")


def _check_civil(text: str, parts: tuple[int, int, int, int, int, int], fraction: str) -> None:
    """Refuse a date or clock time that does not exist, naming ``text``; never roll it over.

    Two clock times beyond ``23:59:59`` are accepted deliberately, as they always were, because
    each names one exact instant: ``24:00:00`` (no other minute, second or fraction) is ISO
    8601's end of a day, which *is* the next day's ``00:00:00`` (an event may well end so), and
    a leap second ``hh:mm:60`` is read as the next minute's ``:00`` (epoch seconds have no room
    for it). :func:`datetime.fromisoformat` refuses both, so only this path reads them; without
    an offset only a UTC wall clock can hold them (:func:`parse_time` refuses them elsewhere).
    """
    y, m, d, h, mi, s = parts
    _check_date(text, y, m, d)
    if h > 24 or mi > 59 or s > 60 or (h == 24 and (mi or s or fraction.strip("0"))):
        raise ValueError(f"impossible time of day in {text[:40]!r}")


def _offset_fields_ok(text: str) -> bool:
    """False when the UTC offset of a text :func:`datetime.fromisoformat` read has its minutes
    or seconds over 59.

    CPython 3.11's ``fromisoformat`` checks only that the whole offset is under 24 hours, so it
    reads ``+08:99`` as +09:39 and ``+08:60`` as +09:00. The offset is what follows the last
    sign after the date (``Z`` has none); its fields are two digits each, colons optional.
    The common endings, ``Z`` and ``±hh:mm``, are checked first, in a few character reads.
    """
    if text[-6] in "+-" and text[-3] == ":":
        return text[-2] < "6"
    if text[-1] in "Zz":
        return True
    at = max(text.rfind("+"), text.rfind("-"))
    if at < 11:
        return True
    digits = text[at + 1 :].replace(":", "")
    return digits[2:4] <= "59" and digits[4:6] <= "59"


def parse_time(text: object, zone: str | None = None) -> int:
    """Epoch seconds of an ISO 8601 time, without building an aware datetime when possible.

    An offset (``Z``, ``+08:00``) in the text wins; otherwise the wall-clock time is read in
    ``zone`` (``Asia/Shanghai`` when ``None``) with the RFC 5545 rule (``fold=0``).
    Raises :class:`ValueError` on anything else, naming the text when a date, clock time or
    offset is out of range (``2026-02-31``, ``09:60``, ``+08:99``): such a time is refused, never
    rolled into a neighbouring day, minute or offset (see :func:`_check_civil` for ``24:00:00``
    and leap seconds).
    """
    if not isinstance(text, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(text).__name__}")
    # Fast path (C parser, ~4x quicker): a full time with its offset, the common reply form.
    if len(text) >= 20 and text[10:11] == "T":
        try:
            aware = datetime.fromisoformat(text)
        except ValueError:
            aware = None
        if aware is not None and aware.tzinfo is not None:
            if not _offset_fields_ok(text):
                raise ValueError(f"impossible UTC offset in {text[:40]!r}")
            return math.floor(aware.timestamp())
    match = _ISO_RE.match(text)
    if match is None:
        raise ValueError(f"not an ISO 8601 time: {text[:40]!r}")
    y, m, d = int(match[1]), int(match[2]), int(match[3])
    h, mi, s = int(match[4] or 0), int(match[5] or 0), int(match[6] or 0)
    _check_civil(text, (y, m, d, h, mi, s), match[7] or "")
    local = _days_from_civil(y, m, d) * DAY + h * 3600 + mi * 60 + s
    offset = match[8]
    if offset is not None:
        if offset in ("Z", "z"):
            return local
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), (int(digits[2:4]) if len(digits) > 2 else 0)
        if hours > 23 or minutes > 59:  # +08:99 is no offset, not +09:39
            raise ValueError(f"impossible UTC offset in {text[:40]!r}")
        east = hours * 3600 + minutes * 60
        return local + east if offset[0] == "-" else local - east
    name = zone or DEFAULT_ZONE
    if name in ("UTC", "Etc/UTC", "GMT", "Z"):
        return local
    if h == 24 or s == 60:
        # A wall clock in a zone is read through datetime, which has neither.
        raise ValueError(f"24:00 and leap seconds need a UTC offset: {text[:40]!r}")
    if not _known_zone(name):
        raise ValueError(f"unknown time zone {name[:40]!r}")
    try:
        return math.floor(datetime(y, m, d, h, mi, s, tzinfo=_zone(name)).timestamp())
    except (OverflowError, OSError, ValueError) as exc:  # ValueError: year 0
        raise ValueError(f"time out of range: {text[:40]!r}") from exc


def _parse_date(text: object, zone: str) -> int:
    """Epoch seconds of local midnight starting ``yyyy-MM-dd`` in ``zone``."""
    if not isinstance(text, str):
        raise ValueError(f"expected a yyyy-MM-dd date, got {type(text).__name__}")
    match = _DATE_RE.match(text)
    if match is None:
        raise ValueError(f"not a yyyy-MM-dd date: {text[:40]!r}")
    _check_date(text, int(match[1]), int(match[2]), int(match[3]))
    return parse_time(f"{match[1]}-{match[2]}-{match[3]}T00:00:00", zone)


def _next_day(text: str) -> str:
    try:
        return (date.fromisoformat(text.strip()) + timedelta(days=1)).isoformat()
    except OverflowError as exc:
        raise ValueError(f"no day after {text[:40]!r}") from exc


def format_time(epoch: int) -> str:
    """``2026-11-23T02:00:00Z``: ISO 8601 in UTC, the form the seed's examples use."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


# --- configuration --------------------------------------------------------------------------


def _key(name: str) -> str:
    return f"providers.{NAME}.{name}"


def _env(name: str) -> str:
    return f"SLOTFINDER_{NAME.upper()}_{name.upper()}"


def _text(config: ProviderConfig, name: str, default: str | None = None) -> str:
    value = config.get(name, default)
    if value is None or value == "":
        raise ConfigError(_key(name), f"is required; set it in the config file or as {_env(name)}")
    if isinstance(value, Secret):
        return value.reveal()
    return str(value)


def _max_days(config: ProviderConfig) -> int:
    value = config.get("max_days", DEFAULT_MAX_DAYS)
    try:
        days = int(value) if not isinstance(value, Secret | bool) else 0
    except (TypeError, ValueError):
        days = 0
    if days < 1:
        raise ConfigError(_key("max_days"), f"must be a positive number of days, got {value!r}")
    return days


def _base_url(config: ProviderConfig) -> str:
    return _text(config, "base_url", DEFAULT_BASE_URL).rstrip("/")


# --- replies --------------------------------------------------------------------------------


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
        return Limits(
            endpoints=(
                Endpoint(USER_ENDPOINT, "user", MAX_USERS, _max_days(config) * DAY, rate=RATE),
                Endpoint(ROOM_ENDPOINT, "room", MAX_ROOMS, ROOM_MAX_DAYS * DAY, rate=RATE),
            ),
            # As many calls in flight as one second's budget: the limiter, not the connection
            # count, should decide the pace (benchmarks/fetch.py).
            concurrency=20,
        )

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        """The fewest calls: users in groups of 20, rooms in groups of 5, window in chunks."""
        return plan_calls(targets, window, self.limits(config))

    # -- requests ---------------------------------------------------------------------------

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        """``POST .../users/{operator}/querySchedule`` or ``.../meetingRooms/schedules/query``."""
        operator = _text(config, "operator_union_id")
        ids_field, path = (
            ("roomIds", ROOM_ENDPOINT)
            if call.endpoint == ROOM_ENDPOINT
            else ("userIds", USER_ENDPOINT)
        )
        body = {
            ids_field: list(call.ids),
            "startTime": format_time(call.span.start),
            "endTime": format_time(call.span.end),
        }
        return HttpRequest(
            method="POST",
            url=f"{_base_url(config)}/v1.0/calendar/users/{operator}/{path}",
            headers={
                "x-acs-dingtalk-access-token": token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    # -- replies ----------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        """Busy rows per id from ``scheduleInformation``, or the error the reply stands for.

        A success body of the canonical shape is read from typed records (:mod:`.schema`, about
        twice as fast); any other body, and any item without a fast path, is read again through
        ``json.loads`` and the dict reader, which decide every rule and message.
        """
        if 200 <= response.status < 300:
            reply = schema.decode(response.body)
            if reply is not None:
                room = call.kind == "room"
                try:
                    return _collect(
                        call,
                        (
                            (i.room_id if room else i.user_id, i.error, i.schedule_items)
                            for i in reply.schedule_information
                        ),
                        _rows_typed,
                    )
                except _NotCanonical:
                    pass
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
        id_field = "roomId" if call.kind == "room" else "userId"
        return _collect(
            call,
            (
                (i.get(id_field), i.get("error"), i.get("scheduleItems"))
                for i in infos
                if isinstance(i, Mapping)
            ),
            _rows,
        )

    def _error(self, call: Call, response: HttpResponse, data: Any) -> Exception:
        status = response.status
        code, message, request_id = _error_parts(data)
        where = f"HTTP {status}" + (f", requestid {request_id}" if request_id else "")
        if code in QPS_CODES:
            hint = _retry_after(response.headers)
            return RetryLater(
                f"DingTalk rate limit {code} ({where})",
                after=max(QPS_WAIT, hint or 0.0),
                rate_limited=True,
            )
        if code == QUOTA_CODE:
            return CallFailed(
                f"DingTalk monthly quota of API calls for this organisation is used up ({code}, "
                f"{where}); calls work again next month or after an edition upgrade",
                fatal=True,
            )
        if code in TOKEN_CODES or status == 401:
            return TokenExpired(f"DingTalk refused the access token ({code or status}, {where})")
        if status >= 500:
            return RetryLater(
                f"DingTalk server error {code or status} ({where})",
                after=_retry_after(response.headers),
            )
        if data is None or not isinstance(data, Mapping):
            return CallFailed(_non_json(status), fatal=status in (403, 429))
        if status == 429:
            return RetryLater(
                f"DingTalk rate limit {code} ({where})", after=QPS_WAIT, rate_limited=True
            )
        if code in PARAM_CODES:
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
        return (_base_url(config), _text(config, "app_key"))

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        """``POST /v1.0/oauth2/accessToken`` with ``{appKey, appSecret}`` (internal app)."""
        body = {"appKey": _text(config, "app_key"), "appSecret": _text(config, "app_secret")}
        return HttpRequest(
            method="POST",
            url=f"{_base_url(config)}/v1.0/oauth2/accessToken",
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        """``{accessToken, expireIn}``; refused credentials are a :class:`ConfigError`."""
        status = response.status
        data = _json(response.body)
        code, message, request_id = _error_parts(data)
        where = f"HTTP {status}" + (f", requestid {request_id}" if request_id else "")
        if 200 <= status < 300 and isinstance(data, Mapping):
            token = data.get("accessToken")
            expire = data.get("expireIn", 7200)
            seconds = _lifetime(expire)
            if isinstance(token, str) and token and seconds is not None:
                return Token(value=token, expires_in=seconds)
            raise RetryLater(f"DingTalk token reply without accessToken/expireIn ({where})")
        if status >= 500 or status == 429 or code in QPS_CODES:
            raise RetryLater(
                f"DingTalk token endpoint busy: {code or status} ({where})",
                after=QPS_WAIT if code in QPS_CODES or status == 429 else None,
            )
        if code == QUOTA_CODE:
            raise CallFailed(f"DingTalk monthly quota used up ({code}, {where})", fatal=True)
        if data is None:
            if 200 <= status < 300:
                raise RetryLater(_non_json(status))
            raise CallFailed(_non_json(status), fatal=True)
        raise ConfigError(
            _key("app_secret"),
            f"DingTalk refused the app credentials ({code or 'no code'}: {message!r}, {where}); "
            f"check {_key('app_key')} and set {_env('app_secret')}",
        )


_Rows = list[tuple[int, int, int]]


def _collect(
    call: Call,
    infos: Iterable[tuple[object, object, Any]],
    read: Callable[[Any, str, set[str]], _Rows],
) -> CallResult:
    """The call's result from ``(id, error, scheduleItems)`` per info, items read by ``read``.

    Infos for ids the call did not ask for are ignored; an id with an ``error``, or with an item
    ``read`` finds unreadable, is unknown with the reason; an id the reply leaves out is unknown.
    """
    id_field = "roomId" if call.kind == "room" else "userId"
    wanted = set(call.ids)
    busy: dict[str, _Rows] = {}
    errors: dict[str, str] = {}
    odd: set[str] = set()
    for key, error, items in infos:
        if not isinstance(key, str) or key not in wanted:
            continue
        if error:
            errors[key] = f"DingTalk: {error}"
            busy.pop(key, None)
            continue
        if key in errors:
            continue
        try:
            rows = busy.setdefault(key, [])
            rows.extend(read(items, _day_zone(call, key), odd))
        except ValueError as exc:
            busy.pop(key, None)
            errors[key] = f"DingTalk returned an unreadable schedule item: {exc}"
    for status in sorted(odd):
        log.warning("unknown DingTalk schedule status %r counted as busy", status)
    for key in call.ids:
        if key not in busy and key not in errors:
            errors[key] = f"DingTalk returned no schedule for {id_field} {key}"
    return CallResult(busy=busy, errors=errors)


def _lifetime(expire: object) -> float | None:
    """``expireIn`` as seconds: positive and finite, at most DingTalk's 7200 (else ``None``)."""
    if isinstance(expire, bool) or not isinstance(expire, int | float):
        return None
    if expire <= 0:  # compared before any float conversion: a huge int would overflow
        return None
    if isinstance(expire, int) and expire > MAX_TOKEN_LIFETIME:
        return float(MAX_TOKEN_LIFETIME)
    if not math.isfinite(expire):
        return None
    return float(min(expire, MAX_TOKEN_LIFETIME))


def _rows_reference(items: object, day_zone: str, odd: set[str]) -> list[tuple[int, int, int]]:
    """``scheduleItems`` as ``(start, end, status_code)`` rows; raises ValueError if unreadable.

    The plain reader, one :func:`parse_time` per time: :func:`_rows` must give exactly its rows,
    errors and ``odd`` statuses (tests/test_dingtalk_provider.py, benchmarks/parse.py), and
    hands it every item it has no fast path for.
    """
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError("scheduleItems is not a list")
    rows: list[tuple[int, int, int]] = []
    for item in items:
        if not isinstance(item, Mapping):
            raise ValueError("schedule item is not an object")
        raw = item.get("status")
        status = _STATUS.get(str(raw).upper()) if raw is not None else None
        if status is None:
            odd.add(str(raw))
            status = _BUSY
        start, end = item.get("start"), item.get("end")
        if not isinstance(start, Mapping) or not isinstance(end, Mapping):
            raise ValueError("schedule item without start/end objects")
        if start.get("date") and not start.get("dateTime"):
            s = _parse_date(start["date"], day_zone)
            e = _parse_date(end.get("date") or start["date"], day_zone)
            if e <= s:  # a one-day item given as [date, date]: up to the next local midnight
                e = _parse_date(_next_day(start["date"]), day_zone)
        else:
            s = parse_time(start.get("dateTime"), _zone_name(start))
            e = parse_time(end.get("dateTime"), _zone_name(end))
            if e < s:
                raise ValueError(
                    f"end {end.get('dateTime')!r} before start {start.get('dateTime')!r}"
                )
        rows.append((s, e, status))
    return rows


def _day_zone(call: Call, key: str) -> str:
    """The attendee's zone for all-day items (UTC, as DingTalk documents, when unknown)."""
    name = call.zone_of(key, "UTC")
    return name if _known_zone(name) else "UTC"


def _zone_name(point: Mapping[str, Any]) -> str:
    return _zone_text(point.get("timeZone"))


def _zone_text(zone: object) -> str:
    """The zone a ``timeZone`` value names (Asia/Shanghai when empty); ValueError if unknown."""
    if not zone:
        return DEFAULT_ZONE
    name = str(zone)
    if not _known_zone(name):
        raise ValueError(f"unknown timeZone {name[:40]!r}")
    return name


# --- the fast reader ------------------------------------------------------------------------
#
# A 20-person, 90-day querySchedule reply holds ~2500 items, ~5000 times, and the same date,
# clock time and offset recur across people, items and replies. `_rows` reads the common shape
# (plain dicts, BUSY/TENTATIVE, timed points with string dateTime/timeZone, all-day pairs of
# string dates) through memos of values already read, with a canonical-form reader for memo
# misses; every other item goes whole to `_rows_reference`. Only successful reads are
# remembered, so an unreadable item raises from the reference code, with its message, on every
# reply. The memos follow slotfinder.memo's rules (thread-safe by construction, bounded), and
# dates, clocks and offsets are read through its shared part memos.

_TIMES: dict[tuple[str, str | None], int] = {}
"""Epoch seconds by ``(dateTime, timeZone)`` (``None``: the point has no timeZone)."""
_DAYS: dict[tuple[str, str | None, str], tuple[int, int]] = {}
"""``(start, end)`` of all-day items by ``(start date, end date or None, attendee zone)``."""
_ZONE_NAMES: dict[str, None] = {}
"""timeZone strings :func:`_zone_name` accepted (IANA names only: a few hundred at most)."""
_MEMOS: tuple[dict[Any, Any], ...] = (_TIMES, _DAYS, _ZONE_NAMES)
_SAFE_FIRST = date(1000, 1, 1).toordinal() - _EPOCH_ORDINAL
_SAFE_LAST = date(8999, 12, 31).toordinal() - _EPOCH_ORDINAL
"""Days the integer readers handle; dates nearer year 1 or 9999 go to the reference reader."""


def _forget() -> None:
    """Empty every memo of the fast reader (benchmarks/parse.py times a cold start)."""
    for table in _MEMOS:
        table.clear()
    memo.forget()


def _exact(text: str, name: str) -> int | None:
    """What :func:`parse_time` reads ``text`` in zone ``name`` as, for canonical texts only.

    ``yyyy-MM-ddTHH:mm:ss`` with ``Z`` or ``±HH:mm`` (read by ``datetime.fromisoformat``, whole
    seconds, an offset in whole minutes: the same exact integer), or without an offset in a known
    zone (``datetime(..., tzinfo=zone).timestamp()`` with the same ``utcoffset``, fold 0, in
    integers; years 1000-8999 only, far from its overflow checks). ``None`` for anything else,
    which goes to :func:`parse_time`.
    """
    size = len(text)
    if size not in (19, 20, 25) or text[10] != "T":
        return None
    days = memo.day_number(text[:10])
    clock = memo.clock_seconds(text[11:19])
    if days is None or clock is None:
        return None
    if size == 25:
        east = memo.offset_seconds(text[19:])
        return None if east is None else days * DAY + clock - east
    if size == 20:
        return days * DAY + clock if text[19] == "Z" else None
    if not _SAFE_FIRST <= days <= _SAFE_LAST:
        return None
    offset = _zone(name).utcoffset(datetime.fromisoformat(text))
    return None if offset is None else days * DAY + clock - (offset.days * DAY + offset.seconds)


def _midnight(days: int, zone: str) -> int:
    """Epoch seconds of local midnight starting day ``days`` (since 1970) in a known zone."""
    offset = _zone(zone).utcoffset(datetime.fromordinal(days + _EPOCH_ORDINAL))
    return days * DAY - (offset.days * DAY + offset.seconds if offset is not None else 0)


def _all_day(first: str, last: str | None, zone: str) -> tuple[int, int] | None:
    """The reference's all-day ``(start, end)`` for canonical dates in a known zone, or ``None``.

    ``[first, last or first)`` in local midnights, one day when the end is not after the start.
    """
    start = memo.day_number(first)
    end = memo.day_number(last) if last else start
    if start is None or end is None:
        return None
    if not (_SAFE_FIRST <= start <= _SAFE_LAST and _SAFE_FIRST <= end <= _SAFE_LAST):
        return None
    s, e = _midnight(start, zone), _midnight(end, zone)
    if e <= s:
        e = _midnight(start + 1, zone)
    return s, e


def _timed(text: str, zone: str | None) -> int:
    """Epoch seconds of a timed point missing from the memo, read as the reference reads it."""
    if zone and zone in _ZONE_NAMES:
        name = zone
    else:
        name = _zone_text(zone)  # the reference check and message for an unknown timeZone
        if zone:
            memo.remember(_ZONE_NAMES, zone, None)
    value = _exact(text, name)
    if value is None:
        value = parse_time(text, name)
    memo.remember(_TIMES, (text, zone), value)
    return value


def _odd_status(raw: object, odd: set[str]) -> int:
    """A status the memo does not know, read as the reference reads it (before the times):
    any case of BUSY or TENTATIVE, anything else busy and collected in ``odd`` for the
    warning."""
    status = _STATUS.get(str(raw).upper()) if raw is not None else None
    if status is None:
        odd.add(str(raw))
        status = _BUSY
    return status


def _day_span(first: str, last: str | None, zone: str) -> tuple[int, int] | None:
    """An all-day item's ``(start, end)`` through the memo, or ``None`` off the canonical form
    (only canonical reads are remembered here)."""
    key = (first, last, zone)
    span = _DAYS.get(key)
    if span is None:
        span = _all_day(first, last, zone)
        if span is not None:
            memo.remember(_DAYS, key, span)
    return span


def _rows(items: object, day_zone: str, odd: set[str]) -> list[tuple[int, int, int]]:
    """:func:`_rows_reference`, several times faster: same rows, errors and ``odd`` statuses."""
    if type(items) is not list:
        return _rows_reference(items, day_zone, odd)
    rows: list[tuple[int, int, int]] = []
    append = rows.append
    known_time = _TIMES.get
    status_of = _STATUS.get
    for item in items:
        if type(item) is dict:
            raw = item.get("status")
            status = status_of(raw) if type(raw) is str else None
            if status is None:
                status = _odd_status(raw, odd)
            start, end = item.get("start"), item.get("end")
            if type(start) is dict and type(end) is dict:
                first = start.get("dateTime")
                if first and type(first) is str:
                    zone = start.get("timeZone")
                    last, last_zone = end.get("dateTime"), end.get("timeZone")
                    if (
                        type(last) is str
                        and (zone is None or type(zone) is str)
                        and (last_zone is None or type(last_zone) is str)
                    ):
                        s = known_time((first, zone))
                        if s is None:
                            s = _timed(first, zone)
                        e = known_time((last, last_zone))
                        if e is None:
                            e = _timed(last, last_zone)
                        if e < s:
                            raise ValueError(f"end {last!r} before start {first!r}")
                        append((s, e, status))
                        continue
                else:
                    day = start.get("date")
                    if day and not first and type(day) is str:
                        last_day = end.get("date")
                        if last_day is None or type(last_day) is str:
                            span = _day_span(day, last_day, day_zone)
                            if span is None:
                                s, e, _ = _rows_reference([item], day_zone, odd)[0]
                                span = (s, e)
                                memo.remember(_DAYS, (day, last_day, day_zone), span)
                            append((span[0], span[1], status))
                            continue
        append(_rows_reference([item], day_zone, odd)[0])
    return rows


class _NotCanonical(Exception):
    """An item :func:`_rows_typed` has no fast path for: the reply is read again as dicts."""


def _rows_typed(
    items: list[schema.Item] | None, day_zone: str, odd: set[str]
) -> list[tuple[int, int, int]]:
    """:func:`_rows` on typed records: the same rows, errors and ``odd`` statuses.

    Its fast paths are :func:`_rows`'s, step for step; where :func:`_rows` would hand an item to
    the reference reader, this raises :class:`_NotCanonical` and the whole reply goes the dict
    way (a canonical reply never does).
    """
    if items is None:
        return []
    rows: list[tuple[int, int, int]] = []
    append = rows.append
    known_time = _TIMES.get
    status_of = _STATUS.get
    for item in items:
        raw = item.status
        status = status_of(raw) if raw is not None else None
        if status is None:
            status = _odd_status(raw, odd)
        start, end = item.start, item.end
        if start is None or end is None:
            raise _NotCanonical
        first = start.date_time
        if first:
            last = end.date_time
            if last is None:
                raise _NotCanonical
            zone, last_zone = start.time_zone, end.time_zone
            s = known_time((first, zone))
            if s is None:
                s = _timed(first, zone)
            e = known_time((last, last_zone))
            if e is None:
                e = _timed(last, last_zone)
            if e < s:
                raise ValueError(f"end {last!r} before start {first!r}")
            append((s, e, status))
            continue
        day = start.date
        if not day:
            raise _NotCanonical
        span = _day_span(day, end.date, day_zone)
        if span is None:
            raise _NotCanonical
        append((span[0], span[1], status))
    return rows
