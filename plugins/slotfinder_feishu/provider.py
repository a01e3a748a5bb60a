"""Feishu / Lark free/busy as a sans-I/O :class:`slotfinder.providers.HttpProvider`.

Two APIs answer "when is this person busy" (``seeds/002`` and ``seeds/003``):

* ``POST /open-apis/calendar/v4/freebusy/list`` — one user *or* one room, up to 90 days, with
  each item's ``rsvp_status`` when ``need_rsvp_status`` is true;
* ``POST /open-apis/calendar/v4/freebusy/batch`` — 1 to 10 users, up to 14 days.

Both are limited to 50 calls/s and 1000 calls/min per app (per API). The default planner
(:func:`slotfinder.plan.plan_calls`) picks the cheaper mix from :meth:`FeishuProvider.limits`
(one user over 60 days: 1 ``list`` call, not 5 ``batch`` calls); on a tie the ``list`` endpoint
wins because it comes first and only it reports RSVP replies.

Seed over ``providers.md``: the batch page (``seeds/003``) lists no ``need_rsvp_status`` request
field and no ``rsvp_status`` in reply items, although ``providers.md`` and the ``lark-oapi``
models have both. We follow the seed: the batch request does not ask for RSVP status and a
batch item without one counts as busy. Consequence: a *tentative* or unanswered invitation is
visible as such only through ``freebusy/list``; through ``freebusy/batch`` it blocks like
an accepted one (declined and removed events are not returned at all with ``only_busy=true``).

RSVP mapping (``rsvp_status`` → availability):

================  ====================================================================
``accept``        busy (for a room: booking confirmed)
``tentative``     tentative
``needs_action``  unanswered (no reply yet; for a room: booking pending approval), which
                  counts as the request's ``unanswered`` policy says (default: tentative)
``decline``       dropped — does not block (for a room: booking refused)
``removed``       dropped — the person or room was removed from the event
missing           busy (batch items never carry it)
other values      busy, logged at DEBUG (the safe side)
================  ====================================================================

Events shown as free and out-of-office leave have no mark of their own in a reply: with
``only_busy=true`` the first are left out, and leave comes back as a busy (often all-day) item.

Item times are RFC 3339, read by :mod:`slotfinder.times` (whose rules cover leap seconds,
fractions and impossible dates); a bare date ``YYYY-MM-DD`` (an all-day item) starts at the
attendee's local midnight. An item that cannot be read makes only its user (or room) unknown,
with a reason naming the field and the value; the other users of a batch are read as usual.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

from slotfinder import times
from slotfinder.errors import ConfigError, InputError
from slotfinder.model import DAY, Status
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
    ProviderError,
    RateWindow,
    RetryLater,
    Settings,
    Token,
    TokenExpired,
)

__all__ = [
    "BATCH",
    "DEFAULT_BASE_URL",
    "ERROR_CODES",
    "LARK_BASE_URL",
    "LIST",
    "LIST_ROOM",
    "RATE",
    "FeishuProvider",
]

log = logging.getLogger("slotfinder.feishu")

NAME: Final = "feishu"
DEFAULT_BASE_URL: Final = "https://open.feishu.cn"
LARK_BASE_URL: Final = "https://open.larksuite.com"
TOKEN_PATH: Final = "/open-apis/auth/v3/tenant_access_token/internal"
LIST_PATH: Final = "/open-apis/calendar/v4/freebusy/list"
BATCH_PATH: Final = "/open-apis/calendar/v4/freebusy/batch"

LIST: Final = "freebusy/list"
LIST_ROOM: Final = "freebusy/list:room"
BATCH: Final = "freebusy/batch"
_PATHS: Final = {LIST: LIST_PATH, LIST_ROOM: LIST_PATH, BATCH: BATCH_PATH}

RATE: Final = (RateWindow(50, 1.0), RateWindow(1000, 60.0))
"""Per app per API, from both seed pages: "1000 次/分钟、50 次/秒"."""

USER_ID_TYPES: Final = ("open_id", "union_id", "user_id")
JSON_CONTENT_TYPE: Final = "application/json; charset=utf-8"
REQUEST_ZONE: Final = "Asia/Shanghai"
"""Request times carry the +08:00 offset of Feishu's own examples (any offset is valid)."""
MAX_TOKEN_SECONDS: Final = 7200
"""A tenant token lives at most 2 hours; a longer ``expire`` is not believed."""
RESET_HEADER: Final = "x-ogw-ratelimit-reset"
"""Seconds until the rate window frees a place, sent with 99991400."""

_RSVP: Final[Mapping[str, int | None]] = {
    "accept": Status.BUSY.code,
    "tentative": Status.TENTATIVE.code,
    "needs_action": Status.UNANSWERED.code,
    "decline": None,
    "removed": None,
}

_Kind = Literal["retry", "rate", "token", "batch", "fatal", "invalid", "app_id", "app_secret"]
ERROR_CODES: Final[Mapping[int, tuple[_Kind, str]]] = {
    # Transient: retry with backoff; "rate" also honours the x-ogw-ratelimit-reset header.
    190003: ("retry", "Feishu internal error"),
    190004: ("rate", "rate limited (method)"),
    190005: ("rate", "rate limited (app)"),
    190010: ("rate", "rate limited (operation)"),
    99991400: ("rate", "rate limited (request frequency)"),
    99991402: ("rate", "rate limited (request frequency)"),
    # The tenant token was refused: refresh it once and repeat the call.
    99991661: ("token", "the tenant access token is missing"),
    99991663: ("token", "the tenant access token was refused"),
    99991668: ("token", "the tenant access token was refused"),
    99991671: ("token", "the tenant access token is malformed"),
    # One id fails the whole call (there is no per-user error): split the batch to find it.
    195100: ("batch", "not in tenant: the user left the company or is not in this Feishu tenant"),
    # Every later call would fail the same way: stop calling Feishu for this run.
    190006: (
        "fatal",
        f"wrong unit for app tenant: check app_id and app_secret (providers.{NAME}.app_id, "
        "SLOTFINDER_FEISHU_APP_SECRET)",
    ),
    190007: (
        "fatal",
        "app bot not found: enable the bot capability of the app in the Feishu developer console",
    ),
    99991672: (
        "fatal",
        "the app lacks a calendar scope: grant one of calendar:calendar, "
        "calendar:calendar.free_busy:read, calendar:calendar:readonly",
    ),
    # The request was refused: this call's ids are unknown, with the reason.
    190002: (
        "invalid",
        "invalid parameters: check the ids match user_id_type; a room may not exist or was deleted",
    ),
    190014: ("invalid", "invalid request parameters"),
    198001: ("invalid", "user_ids: the number of ids is 0 or more than 10"),
    198002: ("invalid", "time_min/time_max: the time format is illegal (RFC 3339 expected)"),
    198003: (
        "invalid",
        "time_min/time_max: the time range is illegal (end after start, at most 14 days for "
        "freebusy/batch, 90 days for freebusy/list)",
    ),
    198004: ("invalid", "time_min/time_max: the time zone format is illegal"),
    # The token endpoint refused a credential: a ConfigError naming that key.
    10003: ("app_id", "Feishu refused the app id"),
    10014: ("app_secret", "Feishu refused the app secret"),
    99991543: ("app_id", "Feishu refused the app id or secret"),
}
"""What each Feishu error code means and what the fetcher should do about it.

A code not listed is retried when its HTTP status is 5xx and fails the call otherwise; any
HTTP 429 is a rate limit whatever its code.
"""

Row = tuple[int, int, int]


# --- reading busy items --------------------------------------------------------------------


BUSY: Final = Status.BUSY.code


def _time(item: dict[str, Any], key: str, zone: str) -> int:
    """Epoch seconds of an item time; a bare date is the attendee's local midnight.

    Errors name ``.start_time`` or ``.end_time`` inside the item; the caller adds the item's
    path, so nothing is formatted on the way through (a reply holds thousands of times).
    """
    text = item.get(key)
    try:
        if isinstance(text, str) and len(text) == 10:  # YYYY-MM-DD
            return times.midnight(times.read_date(text), zone)
        return times.instant(text)
    except InputError as exc:
        raise InputError(f".{key}", text, exc.problem) from None


def _row(item: object, zone: str) -> Row | None:
    """One item as ``(start, end, status code)``; ``None`` when it does not block. Raises
    :class:`InputError` naming the field inside the item (empty for the item itself)."""
    if not isinstance(item, dict):
        raise InputError("", item, "expected an object")
    rsvp = item.get("rsvp_status")
    status: int | None = BUSY
    if isinstance(rsvp, str) and rsvp in _RSVP:
        status = _RSVP[rsvp]
    elif rsvp is not None:
        log.debug("feishu: unknown rsvp_status %r counted as busy", rsvp)
    if status is None:
        return None
    start = _time(item, "start_time", zone)
    end = _time(item, "end_time", zone)
    if end < start:
        raise InputError(".end_time", item["end_time"], f"before the start {item['start_time']!r}")
    return start, end, status


def _rows(items: object, field: str, zone: str) -> list[Row]:
    """Busy rows of one user's or room's items (``null`` or absent: free)."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise InputError(field, items, "expected a list")
    rows: list[Row] = []
    for n, item in enumerate(items):
        try:
            row = _row(item, zone)
        except InputError as exc:
            raise InputError(f"{field}[{n}]{exc.field}", exc.value, exc.problem) from None
        if row is not None:
            rows.append(row)
    return rows


def _id_field(call: Call) -> str:
    if call.kind == "room":
        return "room_id"
    return "user_ids" if call.endpoint == BATCH else "user_id"


def _collect(call: Call, entries: Sequence[tuple[object, object, str]], logid: str) -> CallResult:
    """Rows per id from ``(id, items, field)`` entries; every other id of the call is unknown.

    Entries for ids the call did not ask for are ignored. An id with an unreadable item is
    unknown with the reason, even if another entry of it was read.
    """
    busy: dict[str, list[Row]] = {}
    errors: dict[str, str] = {}
    who = "room_id" if call.kind == "room" else "user_id"
    for key, items, field in entries:
        if key not in call.ids:
            log.debug("feishu %s reply names an id not asked for; ignored", call.endpoint)
            continue
        uid = str(key)
        if uid in errors:
            continue
        try:
            rows = _rows(items, field, call.zone_of(uid))
        except InputError as exc:
            busy.pop(uid, None)
            errors[uid] = (
                f"feishu {call.endpoint} returned an unreadable busy item for {who} {uid}: "
                f"{exc}{logid}"
            )
            continue
        busy.setdefault(uid, []).extend(rows)
    for uid in call.ids:
        if uid not in busy and uid not in errors:
            errors[uid] = f"feishu {call.endpoint} reply has no entry for {who} {uid}{logid}"
    return CallResult(busy=busy, errors=errors)


# --- replies -------------------------------------------------------------------------------


def _logid(response: HttpResponse) -> str:
    logid = response.headers.get("x-tt-logid") or response.headers.get("X-Tt-Logid")
    return f", log id {logid}" if logid else ""


def _reset(response: HttpResponse) -> float | None:
    """The ``x-ogw-ratelimit-reset`` wait in seconds, when it is a usable number."""
    try:
        seconds = float(response.headers.get(RESET_HEADER, ""))
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def _snippet(body: bytes, limit: int = 60) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(body) > limit else ""))


def _details(error: object) -> str:
    """The useful part of Feishu's ``error`` object: field violations and details."""
    if not isinstance(error, Mapping):
        return ""
    parts: list[str] = []
    for key in ("field_violations", "details", "permission_violations"):
        items = error.get(key)
        if not isinstance(items, list):
            continue
        for item in items:
            if isinstance(item, Mapping):
                name = item.get("field") or item.get("key") or item.get("subject") or ""
                desc = item.get("description") or item.get("value") or item.get("type") or ""
                parts.append(f"{name}: {desc}".strip(": "))
            else:
                parts.append(str(item))
    return "; ".join(p for p in parts if p)


def _envelope(where: str, response: HttpResponse) -> Mapping[str, Any]:
    """The ``{code, msg, ...}`` reply; a body that is not one fails or retries the call."""
    try:
        envelope = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurd nesting
        envelope = None
    if isinstance(envelope, Mapping) and isinstance(envelope.get("code"), int):
        return envelope
    what = "is not JSON" if envelope is None else "is not a Feishu {code, msg} envelope"
    reason = (
        f"{where}: HTTP {response.status}: reply {what} "
        f"(starts {_snippet(response.body)}){_logid(response)}"
    )
    if response.status == 429:
        raise RetryLater(reason, after=_reset(response), rate_limited=True)
    if response.status >= 500:
        raise RetryLater(reason)
    raise CallFailed(reason)


def _kind(code: int, status: int) -> tuple[_Kind, str]:
    """What a non-zero code means (see :data:`ERROR_CODES`)."""
    kind, meaning = ERROR_CODES.get(code, ("retry" if status >= 500 else "invalid", "Feishu error"))
    return ("rate" if status == 429 else kind), meaning


def _error(where: str, envelope: Mapping[str, Any], response: HttpResponse) -> ProviderError:
    """The exception a reply with a non-zero code stands for."""
    code = envelope["code"]
    kind, meaning = _kind(code, response.status)
    said = f"code {code} {str(envelope.get('msg', ''))!r}, HTTP {response.status}"
    reason = f"{where}: {meaning} ({said}{_logid(response)})"
    if kind == "rate":
        return RetryLater(reason, after=_reset(response), rate_limited=True)
    if kind == "retry":
        return RetryLater(reason)
    if kind == "token":
        return TokenExpired(reason)
    if kind == "batch":
        return BatchError(reason)
    if kind == "fatal":
        return CallFailed(reason, fatal=True)
    details = _details(envelope.get("error"))
    return CallFailed(f"{reason}: {details}" if details else reason)


def _lifetime(expire: object) -> float | None:
    """``expire`` as seconds: positive, at most :data:`MAX_TOKEN_SECONDS` (else ``None``)."""
    if isinstance(expire, bool) or not isinstance(expire, int | float) or not expire > 0:
        return None
    return float(min(expire, MAX_TOKEN_SECONDS))  # min first: a huge int overflows a float


class FeishuProvider:
    """Feishu/Lark busy time for ``feishu:ou_…`` users and ``feishu:omm_…`` rooms."""

    name: str = NAME
    description: str = "Feishu / Lark calendars (freebusy/list and freebusy/batch, tenant token)"
    config_keys: tuple[ConfigKey, ...] = (
        ConfigKey("app_id", "the app's App ID (cli_…), from the developer console", required=True),
        ConfigKey(
            "app_secret",
            "the app's App Secret (keep it in the environment, not in the config file)",
            secret=True,
            required=True,
        ),
        ConfigKey(
            "base_url",
            f"API root: {DEFAULT_BASE_URL} (Feishu) or {LARK_BASE_URL} (Lark)",
            default=DEFAULT_BASE_URL,
        ),
        ConfigKey(
            "user_id_type",
            "what the ids are: open_id (ou_…), union_id (on_…) or user_id",
            default="open_id",
        ),
    )

    def __repr__(self) -> str:
        return "FeishuProvider()"

    # -- planning ---------------------------------------------------------------------------

    def limits(self, config: ProviderConfig) -> Limits:
        """List first: on a tie (one user, ≤ 14 days) it wins, since only it reports RSVPs.

        The user and room variants of ``freebusy/list`` are one API on the server, so they
        share one rate budget (``rate_group``).
        """
        return Limits(
            endpoints=(
                Endpoint(LIST, "user", max_ids=1, max_span=90 * DAY, rate=RATE, rate_group=LIST),
                Endpoint(BATCH, "user", max_ids=10, max_span=14 * DAY, rate=RATE),
                Endpoint(
                    LIST_ROOM, "room", max_ids=1, max_span=90 * DAY, rate=RATE, rate_group=LIST
                ),
            ),
            # As many calls in flight as one second's budget: the limiter sets the pace.
            concurrency=50,
            timeout=10.0,
        )

    # -- requests ---------------------------------------------------------------------------

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        """``POST`` the list or batch body, ``user_id_type`` in the query."""
        path = _PATHS.get(call.endpoint)
        if path is None:
            raise KeyError(f"feishu has no endpoint {call.endpoint!r}")
        settings = Settings(config, NAME)
        id_type = settings.text("user_id_type", "open_id")
        if id_type not in USER_ID_TYPES:
            raise ConfigError(
                f"providers.{NAME}.user_id_type",
                f"{id_type!r}: expected one of {', '.join(USER_ID_TYPES)}",
            )
        body: dict[str, Any] = {
            "time_min": times.format_in(call.span.start, REQUEST_ZONE),
            "time_max": times.format_in(call.span.end, REQUEST_ZONE),
        }
        if call.endpoint == BATCH:
            body["user_ids"] = list(call.ids)
        else:
            body["room_id" if call.kind == "room" else "user_id"] = call.ids[0]
        body["include_external_calendar"] = True
        body["only_busy"] = True
        if call.endpoint != BATCH:
            body["need_rsvp_status"] = True  # the batch seed page has no such field
        log.debug(
            "feishu build %s ids=%d span=%d..%d",
            call.endpoint, len(call.ids), call.span.start, call.span.end,
        )  # fmt: skip
        return HttpRequest(
            method="POST",
            url=f"{settings.url('base_url', DEFAULT_BASE_URL)}{path}?user_id_type={id_type}",
            headers={"Authorization": f"Bearer {token}", "Content-Type": JSON_CONTENT_TYPE},
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    # -- replies ----------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        """Busy rows per id, or the error the reply's code stands for."""
        where = f"feishu {call.endpoint} ({_id_field(call)} {', '.join(call.ids)})"
        logid = _logid(response)
        envelope = _envelope(where, response)
        log.debug(
            "feishu reply %s status=%d code=%s%s",
            call.endpoint, response.status, envelope["code"], logid,
        )  # fmt: skip
        if envelope["code"] != 0:
            raise _error(where, envelope, response)
        data = envelope.get("data")
        data = {} if data is None else data
        if not isinstance(data, Mapping):
            raise CallFailed(f"{where}: HTTP {response.status}: 'data' is not an object{logid}")
        if call.endpoint != BATCH:
            return _collect(
                call, [(call.ids[0], data.get("freebusy_list"), "freebusy_list")], logid
            )
        lists = data.get("freebusy_lists") or []
        if not isinstance(lists, list) or not all(isinstance(e, Mapping) for e in lists):
            raise CallFailed(
                f"{where}: HTTP {response.status}: unexpected reply shape: 'freebusy_lists' "
                f"is not a list of objects{logid}"
            )
        entries = [
            (e.get("user_id"), e.get("freebusy_items"), f"freebusy_lists[{n}].freebusy_items")
            for n, e in enumerate(lists)
        ]
        return _collect(call, entries, logid)

    # -- token ------------------------------------------------------------------------------

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        """Tokens are per app: ``(base_url, app_id)``."""
        settings = Settings(config, NAME)
        return (settings.url("base_url", DEFAULT_BASE_URL), settings.text("app_id"))

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        """``POST`` ``{app_id, app_secret}`` to the internal-app tenant token endpoint."""
        settings = Settings(config, NAME)
        body = {"app_id": settings.text("app_id"), "app_secret": settings.secret("app_secret")}
        return HttpRequest(
            method="POST",
            url=settings.url("base_url", DEFAULT_BASE_URL) + TOKEN_PATH,
            headers={"Content-Type": JSON_CONTENT_TYPE},
            body=json.dumps(body).encode(),
        )

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        """``{code: 0, tenant_access_token, expire}`` at top level; refused credentials are a
        :class:`ConfigError` naming the key."""
        where = "feishu tenant_access_token"
        status = response.status
        try:
            reply = _envelope(where, response)
        except CallFailed as exc:
            raise CallFailed(exc.reason, fatal=True) from None
        code = reply["code"]
        said = f"code {code} {str(reply.get('msg', ''))!r}, HTTP {status}{_logid(response)}"
        if code != 0:
            kind, meaning = _kind(code, status)
            if kind in ("app_id", "app_secret"):
                raise ConfigError(
                    f"providers.{NAME}.{kind}",
                    f"{meaning} ({said}); check providers.{NAME}.app_id and set "
                    "SLOTFINDER_FEISHU_APP_SECRET",
                )
            if kind in ("rate", "retry"):
                raise RetryLater(f"{where}: {meaning} ({said})", after=_reset(response))
            raise CallFailed(f"{where}: {meaning} ({said})", fatal=True)
        value = reply.get("tenant_access_token")
        lifetime = _lifetime(reply.get("expire"))
        if not isinstance(value, str) or not value or lifetime is None:
            raise CallFailed(
                f"{where}: HTTP {status}: reply lacks tenant_access_token or a positive expire"
                f"{_logid(response)}",
                fatal=True,
            )
        return Token(value=value, expires_in=lifetime)
