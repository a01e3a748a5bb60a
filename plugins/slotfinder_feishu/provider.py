"""Feishu / Lark free/busy as a sans-I/O :class:`slotfinder.providers.HttpProvider`.

Two APIs answer "when is this person busy" (``seeds/002`` and ``seeds/003``):

* ``POST /open-apis/calendar/v4/freebusy/list`` — one user *or* one room, up to 90 days, with
  each item's ``rsvp_status`` when ``need_rsvp_status`` is true;
* ``POST /open-apis/calendar/v4/freebusy/batch`` — 1 to 10 users, up to 14 days.

Both are limited to 50 calls/s and 1000 calls/min per app (per API). The planner picks the
cheaper mix (one user over 60 days: 1 ``list`` call, not 5 ``batch`` calls); on a tie the
``list`` endpoint wins because only it reports RSVP replies.

Seed over ``providers.md``: the batch page (``seeds/003``, updated 2025-09-02) lists no
``need_rsvp_status`` request field and no ``rsvp_status`` in reply items, although
``providers.md`` and the ``lark-oapi`` models have both. We follow the seed: the batch request
does not ask for RSVP status and a batch item without one counts as busy. Consequence: a
*tentative* or unanswered invitation is visible as tentative only through ``freebusy/list``;
through ``freebusy/batch`` it blocks like an accepted one (declined and removed events are not
returned at all with ``only_busy=true``).

RSVP mapping (``rsvp_status`` → availability):

==============  ======================================================================
``accept``      busy (for a room: booking confirmed)
``tentative``   tentative
``needs_action`` tentative (no reply yet; for a room: booking pending approval)
``decline``     dropped — does not block (for a room: booking refused)
``removed``     dropped — the person or room was removed from the event
missing         busy (batch items never carry it)
other values    busy, logged at DEBUG (the safe side)
==============  ======================================================================
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final

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
from slotfinder_feishu._times import (
    TIME_MEMO,
    format_time,
    parse_date,
    parse_time,
    read_date,
    read_time,
)

__all__ = [
    "BATCH",
    "DEFAULT_BASE_URL",
    "LARK_BASE_URL",
    "LIST",
    "LIST_ROOM",
    "RATE",
    "FeishuProvider",
]

log = logging.getLogger("slotfinder.feishu")

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

_BUSY: Final = Status.BUSY.code
_TENTATIVE: Final = Status.TENTATIVE.code
_RSVP: Final[Mapping[str | None, int | None]] = {
    None: _BUSY,
    "accept": _BUSY,
    "tentative": _TENTATIVE,
    "needs_action": _TENTATIVE,
    "decline": None,
    "removed": None,
}

RATE_LIMIT_CODES: Final = frozenset({99991400, 99991402, 190004, 190005, 190010})
TOKEN_CODES: Final = frozenset({99991661, 99991663, 99991668, 99991671})
_FIELD_CODES: Final = {
    198001: "user_ids: the number of ids is 0 or more than 10",
    198002: "time_min/time_max: the time format is illegal (RFC 3339 expected)",
    198003: "time_min/time_max: the time range is illegal (end after start, at most "
    "14 days for freebusy/batch, 90 days for freebusy/list)",
    198004: "time_min/time_max: the time zone format is illegal",
}
_KEY: Final = "providers.feishu"


def _text(config: ProviderConfig, key: str, default: str | None = None) -> str:
    value = config.get(key, default)
    if value is None or value == "":
        raise ConfigError(
            f"{_KEY}.{key}",
            f"missing: set it in [providers.feishu] or SLOTFINDER_FEISHU_{key.upper()}",
        )
    if isinstance(value, Secret):
        raise ConfigError(f"{_KEY}.{key}", "expected a plain setting, not a secret")
    return str(value)


def _base_url(config: ProviderConfig) -> str:
    return _text(config, "base_url", DEFAULT_BASE_URL).rstrip("/")


def _user_id_type(config: ProviderConfig) -> str:
    value = _text(config, "user_id_type", "open_id")
    if value not in USER_ID_TYPES:
        raise ConfigError(
            f"{_KEY}.user_id_type", f"{value!r}: expected one of {', '.join(USER_ID_TYPES)}"
        )
    return value


def _secret(config: ProviderConfig) -> str:
    value = config.get("app_secret")
    raw = value.reveal() if isinstance(value, Secret) else value
    if not isinstance(raw, str) or not raw:
        raise ConfigError(
            f"{_KEY}.app_secret",
            "missing: set the environment variable SLOTFINDER_FEISHU_APP_SECRET",
        )
    return raw


def _logid(response: HttpResponse) -> str:
    logid = response.headers.get("x-tt-logid") or response.headers.get("X-Tt-Logid")
    return f", log id {logid}" if logid else ""


def _header_seconds(response: HttpResponse, name: str) -> float | None:
    value = response.headers.get(name)
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def _snippet(body: bytes, limit: int = 60) -> str:
    text = body[:limit].decode("utf-8", "replace").replace("\n", " ").strip()
    return repr(text + ("..." if len(body) > limit else ""))


def _who(call: Call) -> str:
    field = (
        "room_id" if call.kind == "room" else ("user_ids" if call.endpoint == BATCH else "user_id")
    )
    return f"{field} {', '.join(call.ids)}"


def _details(error: object) -> str:
    """The useful part of Feishu's ``error`` object: field violations and details."""
    if not isinstance(error, Mapping):
        return ""
    parts: list[str] = []
    for key in ("field_violations", "details", "permission_violations"):
        items = error.get(key)
        if not isinstance(items, Sequence) or isinstance(items, str):
            continue
        for item in items:
            if isinstance(item, Mapping):
                name = item.get("field") or item.get("key") or item.get("subject") or ""
                desc = item.get("description") or item.get("value") or item.get("type") or ""
                parts.append(f"{name}: {desc}".strip(": "))
            else:
                parts.append(str(item))
    return "; ".join(p for p in parts if p)


class FeishuProvider:
    """Feishu/Lark busy time for ``feishu:ou_…`` users and ``feishu:omm_…`` rooms."""

    name: str = "feishu"
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

    # -- planning -------------------------------------------------------------------------

    def limits(self, config: ProviderConfig) -> Limits:
        """List first: on a tie (one user, ≤ 14 days) it wins, since only it reports RSVPs.

        The user and room variants of ``freebusy/list`` are one API on the server (one rate
        budget), but Endpoint names must be unique, so each carries the full 50/s, 1000/min.
        """
        return Limits(
            endpoints=(
                # list serves users and rooms under two names but is one API: one budget.
                Endpoint(LIST, "user", max_ids=1, max_span=90 * DAY, rate=RATE, rate_group=LIST),
                Endpoint(BATCH, "user", max_ids=10, max_span=14 * DAY, rate=RATE),
                Endpoint(
                    LIST_ROOM, "room", max_ids=1, max_span=90 * DAY, rate=RATE, rate_group=LIST
                ),
            ),
            # As many calls in flight as one second's budget allows to start at once: the
            # limiter, not the connection count, sets the pace (benchmarks/fetch.py), and 50
            # rooms (50 list calls) go out in one round instead of three.
            concurrency=50,
            timeout=10.0,
        )

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        return plan_calls(targets, window, self.limits(config))

    # -- requests -------------------------------------------------------------------------

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        path = _PATHS.get(call.endpoint)
        if path is None:
            raise KeyError(f"feishu has no endpoint {call.endpoint!r}")
        body: dict[str, Any] = {
            "time_min": format_time(call.span.start),
            "time_max": format_time(call.span.end),
        }
        if call.endpoint == BATCH:
            body["user_ids"] = list(call.ids)
        elif call.kind == "room":
            body["room_id"] = call.ids[0]
        else:
            body["user_id"] = call.ids[0]
        body["include_external_calendar"] = True
        body["only_busy"] = True
        if call.endpoint != BATCH:
            # The batch seed page has no such field (see the module doc).
            body["need_rsvp_status"] = True
        url = f"{_base_url(config)}{path}?user_id_type={_user_id_type(config)}"
        log.debug(
            "feishu build %s ids=%d span=%d..%d",
            call.endpoint, len(call.ids), call.span.start, call.span.end,
        )  # fmt: skip
        return HttpRequest(
            method="POST",
            url=url,
            headers={"Authorization": f"Bearer {token}", "Content-Type": JSON_CONTENT_TYPE},
            body=json.dumps(body, separators=(",", ":")).encode(),
        )

    # -- replies --------------------------------------------------------------------------

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        where = f"feishu {call.endpoint} ({_who(call)})"
        envelope = self._envelope(where, response)
        code = envelope["code"]
        log.debug(
            "feishu reply %s status=%d code=%s%s", call.endpoint, response.status, code,
            _logid(response),
        )  # fmt: skip
        if code != 0:
            self._raise_for_code(call, where, code, envelope, response)
        data = envelope.get("data")
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise CallFailed(
                f"{where}: HTTP {response.status}: 'data' is not an object{_logid(response)}"
            )
        try:
            if call.endpoint == BATCH:
                return self._parse_batch(call, data, _logid(response))
            items = data.get("freebusy_list")
            return CallResult(busy={call.ids[0]: _rows(items, call.zone_of(call.ids[0]))})
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise CallFailed(
                f"{where}: HTTP {response.status}: unexpected reply shape: {exc}{_logid(response)}"
            ) from None

    @staticmethod
    def _envelope(where: str, response: HttpResponse) -> Mapping[str, Any]:
        status = response.status
        try:
            envelope = json.loads(response.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            envelope = None
        if not isinstance(envelope, Mapping) or not isinstance(envelope.get("code"), int):
            what = "is not JSON" if envelope is None else "is not a Feishu {code, msg} envelope"
            reason = (
                f"{where}: HTTP {status}: reply {what} "
                f"(starts {_snippet(response.body)}){_logid(response)}"
            )
            if status == 429:
                raise RetryLater(
                    reason,
                    after=_header_seconds(response, "x-ogw-ratelimit-reset"),
                    rate_limited=True,
                )
            if status >= 500:
                raise RetryLater(reason)
            raise CallFailed(reason)
        return envelope

    @staticmethod
    def _raise_for_code(
        call: Call, where: str, code: int, envelope: Mapping[str, Any], response: HttpResponse
    ) -> None:
        msg = str(envelope.get("msg", ""))
        status = response.status
        said = f"code {code} {msg!r}, HTTP {status}{_logid(response)}"
        if code in RATE_LIMIT_CODES or status == 429:
            raise RetryLater(
                f"{where}: rate limited ({said})",
                after=_header_seconds(response, "x-ogw-ratelimit-reset"),
                rate_limited=True,
            )
        if code == 190003:
            raise RetryLater(f"{where}: Feishu internal error ({said})")
        if code in TOKEN_CODES:
            raise TokenExpired(f"{where}: the tenant access token was refused ({said})")
        if code == 195100:
            who = "user" if len(call.ids) == 1 else "one of the users"
            raise BatchError(
                f"not in tenant: {who} {', '.join(call.ids)} left the company or is not in "
                f"this Feishu tenant ({said})"
            )
        if code == 190006:
            raise CallFailed(
                f"{where}: wrong unit for app tenant: check app_id and app_secret "
                f"({_KEY}.app_id, SLOTFINDER_FEISHU_APP_SECRET) ({said})",
                fatal=True,
            )
        if code == 190007:
            raise CallFailed(
                f"{where}: app bot not found: enable the bot capability of the app in the "
                f"Feishu developer console ({said})",
                fatal=True,
            )
        if code == 99991672:
            raise CallFailed(
                f"{where}: the app lacks a calendar scope: grant one of calendar:calendar, "
                f"calendar:calendar.free_busy:read, calendar:calendar:readonly ({said})",
                fatal=True,
            )
        if code in _FIELD_CODES:
            raise CallFailed(f"{where}: {_FIELD_CODES[code]} ({said})")
        if code == 190002:
            hint = (
                "the room does not exist or was deleted"
                if call.kind == "room"
                else "check the ids match user_id_type"
            )
            raise CallFailed(f"{where}: invalid parameters: {hint} ({said})")
        if code == 190014:
            details = _details(envelope.get("error"))
            raise CallFailed(
                f"{where}: invalid request parameters: {details or 'no details given'} ({said})"
            )
        if status >= 500:
            raise RetryLater(f"{where}: server error ({said})")
        raise CallFailed(f"{where}: Feishu error ({said})")

    @staticmethod
    def _parse_batch(call: Call, data: Mapping[str, Any], logid: str = "") -> CallResult:
        """Rows per user of a batch reply; a user whose items cannot be read is unknown.

        The reply's shape (``freebusy_lists`` a list of objects) concerns every user and fails
        the call (``parse`` turns the error into :class:`CallFailed`). An unreadable item (an
        impossible time, an end before its start, a missing or mistyped field) concerns only
        the user whose ``freebusy_items`` hold it: that user goes into ``errors`` with the
        reason, any rows already read for them (from an earlier entry) are dropped, and the
        other users are read as usual.
        """
        lists = data.get("freebusy_lists") or []
        if not isinstance(lists, list):
            raise TypeError("'freebusy_lists' is not a list")
        wanted = set(call.ids)
        busy: dict[str, list[tuple[int, int, int]]] = {}
        errors: dict[str, str] = {}
        for entry in lists:
            if not isinstance(entry, Mapping):
                raise TypeError("a 'freebusy_lists' entry is not an object")
            uid = entry.get("user_id")
            if uid not in wanted:
                log.debug("feishu batch reply names an id not asked for; ignored")
                continue
            uid = str(uid)
            if uid in errors:  # an earlier entry of this user was unreadable
                continue
            try:
                rows = _rows(entry.get("freebusy_items"), call.zone_of(uid))
            except (TypeError, ValueError, KeyError, AttributeError) as exc:
                busy.pop(uid, None)
                errors[uid] = (
                    f"feishu {BATCH} returned an unreadable busy item for user_id {uid}: "
                    f"{_unreadable(exc)}{logid}"
                )
                continue
            busy.setdefault(uid, []).extend(rows)
        for i in call.ids:
            if i not in busy and i not in errors:
                errors[i] = "feishu freebusy/batch reply has no entry for this user"
        return CallResult(busy=busy, errors=errors)

    # -- token ----------------------------------------------------------------------------

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        return (_base_url(config), _text(config, "app_id"))

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        body = {"app_id": _text(config, "app_id"), "app_secret": _secret(config)}
        return HttpRequest(
            method="POST",
            url=_base_url(config) + TOKEN_PATH,
            headers={"Content-Type": JSON_CONTENT_TYPE},
            body=json.dumps(body).encode(),
        )

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        where = "feishu tenant_access_token"
        status = response.status
        try:
            reply = json.loads(response.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            reply = None
        if not isinstance(reply, Mapping) or not isinstance(reply.get("code"), int):
            reason = (
                f"{where}: HTTP {status}: reply is not the expected JSON "
                f"(starts {_snippet(response.body)}){_logid(response)}"
            )
            if status == 429 or status >= 500:
                raise RetryLater(reason, after=_header_seconds(response, "x-ogw-ratelimit-reset"))
            raise CallFailed(reason, fatal=True)
        code = reply["code"]
        said = f"code {code} {str(reply.get('msg', ''))!r}, HTTP {status}{_logid(response)}"
        if code == 10014:
            raise ConfigError(
                f"{_KEY}.app_secret",
                f"Feishu refused the app secret ({said}); set the right one in "
                "SLOTFINDER_FEISHU_APP_SECRET",
            )
        if code in (99991543, 10003):
            raise ConfigError(
                f"{_KEY}.app_id",
                f"Feishu refused the app id or secret ({said}); check {_KEY}.app_id and "
                "SLOTFINDER_FEISHU_APP_SECRET",
            )
        if code in RATE_LIMIT_CODES or code == 190003 or status == 429 or status >= 500:
            raise RetryLater(
                f"{where}: transient failure ({said})",
                after=_header_seconds(response, "x-ogw-ratelimit-reset"),
            )
        if code != 0:
            raise CallFailed(f"{where}: {said}", fatal=True)
        value = reply.get("tenant_access_token")
        expire = reply.get("expire")
        if not isinstance(value, str) or not value or not isinstance(expire, int | float):
            raise CallFailed(
                f"{where}: HTTP {status}: reply lacks tenant_access_token/expire{_logid(response)}",
                fatal=True,
            )
        # A token lives at most 2 hours; an absurd or non-finite lifetime must not be cached
        # for ever (or overflow a float).
        if not expire > 0:  # before any float conversion: a huge int would overflow
            shown = str(expire)[:20]
            raise CallFailed(f"{where}: HTTP {status}: token lifetime {shown} is not positive")
        try:
            lifetime = min(float(expire), 7200.0)
        except OverflowError:
            lifetime = 7200.0
        return Token(value=value, expires_in=lifetime)


def _unreadable(exc: Exception) -> str:
    """What was wrong with an item: the reader's message; a missing field is named as such.

    Only a plain KeyError is a missing field (a ZoneInfoNotFoundError is a KeyError too).
    """
    return f"missing field {exc}" if type(exc) is KeyError else str(exc)


def _rows_reference(items: object, zone: str) -> list[tuple[int, int, int]]:
    """Busy rows of one person's items; declined and removed ones are dropped.

    The plain reader, one :func:`parse_time` per time: :func:`_rows` must give exactly its rows,
    errors and debug log lines (tests/test_feishu_provider.py, benchmarks/parse.py), and hands
    it every item it has no fast path for.
    """
    if items is None:
        return []
    if not isinstance(items, list):
        raise TypeError("busy items are not a list")
    rows: list[tuple[int, int, int]] = []
    for item in items:
        try:
            rsvp = item.get("rsvp_status")
        except AttributeError:  # a try, not a check: nothing added to the reader's per-item work
            raise ValueError(f"busy item is not an object: {item!r:.60}") from None
        status = _RSVP.get(rsvp, _BUSY)
        if rsvp not in _RSVP:
            log.debug("feishu: unknown rsvp_status %r counted as busy", rsvp)
        if status is None:
            continue
        start, end = _instant(item["start_time"], zone), _instant(item["end_time"], zone)
        if end < start:
            raise ValueError(f"item ends before it starts: {item['start_time']!r}")
        rows.append((start, end, status))
    return rows


def _instant(text: str, zone: str) -> int:
    """An item time: RFC 3339 date-time; a bare date (all-day) is the attendee's local day.

    A value without a length (a number, ``None``) goes to :func:`parse_time`, whose ValueError
    names it.
    """
    try:
        size = len(text)
    except TypeError:
        return parse_time(text)
    if size == 10:
        return parse_date(text, zone)
    return parse_time(text)


def _rows(items: object, zone: str) -> list[tuple[int, int, int]]:
    """:func:`_rows_reference`, several times faster: same rows, errors and debug log lines.

    Items that are plain dicts with string times and a string or missing ``rsvp_status`` are
    read here, their times through the memos of :mod:`slotfinder_feishu._times`; any other item
    goes whole to the reference reader, before anything is logged for it.
    """
    if type(items) is not list:
        return _rows_reference(items, zone)
    rows: list[tuple[int, int, int]] = []
    append = rows.append
    known = TIME_MEMO.get
    status_of = _RSVP.get
    for item in items:
        if type(item) is dict:
            rsvp = item.get("rsvp_status")
            first, last = item.get("start_time"), item.get("end_time")
            if (rsvp is None or type(rsvp) is str) and type(first) is str and type(last) is str:
                status = status_of(rsvp, -1)
                if status == -1:
                    log.debug("feishu: unknown rsvp_status %r counted as busy", rsvp)
                    status = _BUSY
                if status is None:
                    continue
                start = known(first)
                if start is None:
                    start = read_date(first, zone) if len(first) == 10 else read_time(first)
                end = known(last)
                if end is None:
                    end = read_date(last, zone) if len(last) == 10 else read_time(last)
                if end < start:
                    raise ValueError(f"item ends before it starts: {first!r}")
                append((start, end, status))
                continue
        rows.extend(_rows_reference([item], zone))
    return rows
