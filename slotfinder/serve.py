"""``slotfinder serve``: the suggest command as an HTTP JSON service for applications.

``POST /v1/suggest`` takes the request as a JSON object whose keys are the ``suggest`` command
line's flags (``attendee``, ``optional``, ``room``, ``start``, ``end``, ``duration``,
``granularity``, ``buffer``, ``min_notice``, ``quorum``, ``max``, ``order``, ``tz``, ...; a list
for the repeatable ones, ``true`` for a switch such as ``full_lists``; ``groups`` a list of
``{"name", "members", "required"}`` objects, each one ``--group``), read by the very same
parser, so a field means exactly what its flag means; it answers exactly what ``suggest --format
json`` prints with those flags. ``GET /v1/providers`` lists the providers, ``GET /healthz`` says
the service is up, ``GET /openapi.json`` describes it all.

Every ``/v1`` call needs ``Authorization: Bearer <token>`` with the token from
``SLOTFINDER_SERVE_TOKEN``; bodies are limited in size and requests in time; file providers
(``ics:``, ``json:``) are off unless switched on, since ids come from the service's callers.
Several ``serve`` processes given the same ``redis_url`` share one cache, one rate limit and
one token per app, so they behave as one.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from aiohttp import web

from slotfinder.api import default_store, suggest
from slotfinder.config import Config
from slotfinder.errors import ConfigError, InputError, SlotfinderError
from slotfinder.fetch.store import Store
from slotfinder.groups import from_json, parse_spec
from slotfinder.model import MeetingRequest
from slotfinder.output import render
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, LocalProvider, Provider

__all__ = ["OPENAPI", "ServeOptions", "make_app"]

log = logging.getLogger("slotfinder.serve")

TOKEN_ENV = "SLOTFINDER_SERVE_TOKEN"
_REPEATED = ("attendee", "optional", "room")
_SINGLE = (
    "start",
    "end",
    "duration",
    "granularity",
    "buffer",
    "buffer_before",
    "buffer_after",
    "min_notice",
    "quorum",
    "tentative",
    "unanswered",
    "unknown",
    "max",
    "order",
    "tz",
    "max_meetings_per_day",
    "max_busy_hours_per_day",
    "max_meetings_per_week",
    "max_busy_hours_per_week",
    "repeat",
    "allow_conflicts",
)
_SWITCHES = ("full_lists",)
_OBJECTS = ("groups",)  # lists of objects, each one flag (see _group_flags)


def _group_flags(value: object) -> list[str]:
    """The ``--group NAME=N:ID,...`` flags a ``groups`` list stands for; a name or id the flag
    cannot carry (``:``/``=`` in a name, ``,`` in an id) is refused, not garbled."""
    argv: list[str] = []
    for i, g in enumerate(from_json(value)):
        spec = f"{g.name}={g.required}:{','.join(g.members)}"
        if parse_spec(spec, i + 1) != g:
            raise InputError(f"groups[{i}]", g.name, "names may not hold ':' or '=', nor ids ','")
        argv += ["--group", spec]
    return argv


@attrs.frozen
class ServeOptions:
    """What one service process allows: its token, limits and whether files may be read."""

    token: str = attrs.field(repr=False)
    max_body: int = 64 * 1024
    time_limit: float = 60.0
    allow_files: bool = False


_CONFIG = web.AppKey("config", Config)
_OPTIONS = web.AppKey("options", ServeOptions)
_PROVIDERS = web.AppKey("providers", dict[str, Provider])
_STORE = web.AppKey("store", Store)
_OFF = web.AppKey("files_off", frozenset[str])
"""The file providers this service leaves out, so an id naming one is told why."""
ReadRequest = Callable[[list[str]], MeetingRequest]
"""The suggest command line's reader: flags in, request out (``slotfinder.cli``)."""
_READ: web.AppKey[ReadRequest] = web.AppKey("read")


def _error(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if field is not None:
        body["error"]["field"] = field
    return web.json_response(body, status=status)


def _argv(body: Mapping[str, Any]) -> list[str]:
    """The ``suggest`` command line a request body stands for (``format`` is always json)."""
    argv: list[str] = []
    for key, value in body.items():
        name = key.rstrip("s") if key in {"attendees", "rooms"} else key
        if name in _OBJECTS:
            argv += _group_flags(value)
        elif name in _REPEATED:
            values = value if isinstance(value, list) else [value]
            for v in values:
                if not isinstance(v, str):
                    raise InputError(key, "<not a string>", "expected ids as strings")
                argv += [f"--{name}", v]
        elif name in _SWITCHES:
            if not isinstance(value, bool):
                raise InputError(key, "<not true or false>", "expected true or false")
            argv += [f"--{name.replace('_', '-')}"] if value else []
        elif name in _SINGLE:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InputError(key, "<not text>", "expected a string or a number")
            argv += [f"--{name.replace('_', '-')}", str(value)]
        else:
            known = ", ".join((*_REPEATED, *_SINGLE, *_SWITCHES, *_OBJECTS))
            raise InputError(key, "<field>", f"unknown field; expected one of {known}")
    return argv


@web.middleware
async def _auth(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.startswith("/v1/"):
        token = request.app[_OPTIONS].token
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return _error(401, "unauthorized", f"send Authorization: Bearer <{TOKEN_ENV}>")
    response: web.StreamResponse = await handler(request)
    return response


async def _suggest(request: web.Request) -> web.StreamResponse:
    options, config = request.app[_OPTIONS], request.app[_CONFIG]
    try:
        body = await request.json()
    except web.HTTPRequestEntityTooLarge:
        return _error(413, "too_large", f"a request body is at most {options.max_body} bytes")
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        return _error(400, "bad_json", "the body is not a JSON object")
    try:
        meeting = request.app[_READ](_argv(body))
        result = await asyncio.wait_for(
            suggest(
                meeting,
                config=config,
                providers=request.app[_PROVIDERS],
                store=request.app[_STORE],
            ),
            options.time_limit,
        )
    except InputError as exc:
        field = exc.field.removeprefix("--").replace("-", "_")
        problem = exc.problem
        named = field.startswith(("attendees[", "rooms["))
        if named and str(exc.value).partition(":")[0] in request.app[_OFF]:
            problem = "file providers are off in this service (slotfinder serve --allow-files)"
        return _error(400, "bad_input", problem, field)
    except ConfigError as exc:
        return _error(502, "provider_config", str(exc))
    except TimeoutError:
        return _error(504, "time_limit", f"not answered within {options.time_limit:g} s")
    except SlotfinderError as exc:
        return _error(500, "failed", str(exc))
    text = render(result, "json", stats=True, full_lists=body.get("full_lists") is True)
    return web.Response(text=text, content_type="application/json")


async def _providers(request: web.Request) -> web.StreamResponse:
    out = [
        {
            "name": name,
            "description": provider.description,
            "kind": "http" if isinstance(provider, HttpProvider) else "local",
        }
        for name, provider in request.app[_PROVIDERS].items()
    ]
    return web.json_response({"providers": out})


async def _health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"status": "ok"})


async def _openapi(request: web.Request) -> web.StreamResponse:
    return web.json_response(OPENAPI)


def make_app(
    config: Config,
    options: ServeOptions,
    *,
    read: ReadRequest,
    providers: Mapping[str, Provider] | None = None,
    store: Store | None = None,
) -> web.Application:
    """The service's aiohttp application (``slotfinder serve`` runs it on a TCP site).

    ``read`` turns the body's fields, as ``suggest`` flags, into the request.
    """
    if not options.token:
        raise ConfigError(TOKEN_ENV, "set a bearer token for the service's callers")
    chosen = dict(providers if providers is not None else get_providers())
    off: frozenset[str] = frozenset()
    if not options.allow_files:
        off = frozenset(n for n, p in chosen.items() if isinstance(p, LocalProvider))
        chosen = {n: p for n, p in chosen.items() if n not in off}
    app = web.Application(middlewares=[_auth], client_max_size=options.max_body)
    app[_CONFIG] = config
    app[_OPTIONS] = options
    app[_PROVIDERS] = chosen
    app[_OFF] = off
    app[_STORE] = store or default_store(config)
    app[_READ] = read
    app.router.add_post("/v1/suggest", _suggest)
    app.router.add_get("/v1/providers", _providers)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/openapi.json", _openapi)
    return app


def _string(description: str, example: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string", "description": description}
    if example is not None:
        out["example"] = example
    return out


_IDLIST = {"type": "array", "items": {"type": "string"}}
_IDS = {"oneOf": [{"type": "string"}, _IDLIST]}
_SLOT = {
    "type": "object",
    "description": "Compact by default: who is free is counted, and `people` lists only those "
    "who are not; with `full_lists` also the `available` ids and everyone in `people`.",
    "required": [
        "start", "end", "score", "available_count", "tentative", "unavailable", "unknown",
        "room", "room_name", "people",
    ],
    "properties": {
        "start": _string("RFC 3339 in the request's zone"),
        "end": _string("RFC 3339 in the request's zone"),
        "score": {"type": "number"},
        "available": {**_IDLIST, "description": "the free attendees; only with full_lists"},
        "available_count": {"type": "integer", "description": "how many attendees are free"},
        "tentative": _IDLIST,
        "unavailable": _IDLIST,
        "unknown": _IDLIST,
        "room": {"type": ["string", "null"]},
        "room_name": {"type": ["string", "null"]},
        "groups": {
            "type": "array",
            "description": "only when the request has groups: who of each is free for the slot",
            "items": {
                "type": "object",
                "required": ["name", "required", "size", "available"],
                "properties": {
                    "name": {"type": "string"},
                    "required": {"type": "integer"},
                    "size": {"type": "integer"},
                    "available": _IDLIST,
                },
            },
        },
        "conflicts": {"type": "integer", "description": "with repeat: occurrences that fail"},
        "occurrences": {
            "type": "array",
            "description": "with repeat: every occurrence of the series, this slot first",
            "items": {
                "type": "object",
                "required": ["start", "end", "passes", "room", "blocked_by"],
                "properties": {
                    "start": _string("RFC 3339 in the request's zone"),
                    "end": _string("RFC 3339 in the request's zone"),
                    "passes": {"type": "boolean"},
                    "room": {"type": ["string", "null"]},
                    "blocked_by": {**_IDLIST, "description": "who blocks a failing one"},
                },
            },
        },
        "people": {
            "type": "array",
            "description": "attendees not free (everyone with full_lists), in request order",
            "items": {
                "type": "object",
                "required": ["id", "name", "state"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "state": {
                        "enum": ["free", "tentative", "busy", "outside_hours", "unknown"]
                    },
                },
            },
        },
    },
}  # fmt: skip
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
            },
        }
    },
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad input, naming the field",
        401: "missing or wrong bearer token",
        413: "body too large",
        502: "a provider refused the service's credentials",
        504: "not answered within the time limit",
    }
    return {
        str(c): {
            "description": text[c],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for c in codes
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "slotfinder",
        "version": "1",
        "description": "Meeting slots across DingTalk, Feishu/Lark and other calendars.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Slot": _SLOT,
            "Error": _ERROR,
            "SuggestRequest": {
                "type": "object",
                "description": "The suggest command line's flags as fields, same meaning.",
                "required": ["attendee", "start", "end", "duration"],
                "additionalProperties": False,
                "properties": {
                    "attendee": {**_IDS, "description": "required attendees, PROVIDER:ID"},
                    "optional": {**_IDS, "description": "optional attendees"},
                    "room": {**_IDS, "description": "rooms, one of which must be free"},
                    "start": _string("window start: RFC 3339, a date, today, +3d", "tomorrow"),
                    "end": _string("window end, as start", "+7d"),
                    "duration": _string("meeting length", "30m"),
                    "granularity": _string("slot start grid", "15m"),
                    "buffer": _string("free time before and after", "10m"),
                    "buffer_before": _string("free time before"),
                    "buffer_after": _string("free time after"),
                    "min_notice": _string("no slot sooner than this from now", "2h"),
                    "quorum": _string("required attendees needed: 3, 0.6 or 60%"),
                    "groups": {
                        "type": "array",
                        "description": "groups of required attendees, each needing all or N",
                        "items": {
                            "type": "object",
                            "required": ["members"],
                            "additionalProperties": False,
                            "properties": {
                                "name": {"type": "string"},
                                "members": _IDS,
                                "required": {
                                    "oneOf": [
                                        {"type": "integer", "minimum": 1},
                                        {"enum": ["all"]},
                                    ]
                                },
                            },
                        },
                    },
                    "tentative": {"enum": ["busy", "free"]},
                    "unanswered": {"enum": ["busy", "tentative", "free"]},
                    "unknown": {"enum": ["exclude", "flag"]},
                    "max": {"type": "integer", "minimum": 1},
                    "order": {"enum": ["score", "start"]},
                    "tz": _string("the request's IANA zone", "Asia/Shanghai"),
                    **{
                        f"max_{what}_per_{unit}": {
                            "type": "number",
                            "minimum": 0,
                            "description": f"default load cap: {what.replace('_', ' ')} per "
                            f"local {unit} (an attendee's own setting wins)",
                        }
                        for what in ("meetings", "busy_hours")
                        for unit in ("day", "week")
                    },
                    "repeat": _string("a recurring series: RFC 5545 RRULE", "FREQ=WEEKLY;COUNT=8"),
                    "allow_conflicts": {
                        "type": "integer",
                        "minimum": 0,
                        "description": "with repeat: occurrences that may fail",
                    },
                    "full_lists": {
                        "type": "boolean",
                        "default": False,
                        "description": "list every attendee in each slot (--full-lists)",
                    },
                },
            },
            "SuggestResult": {
                "type": "object",
                "description": "Exactly what `slotfinder suggest --format json` prints.",
                "required": ["slots", "periods", "unknown", "explanation", "calls", "retries"],
                "properties": {
                    "slots": {"type": "array", "items": {"$ref": "#/components/schemas/Slot"}},
                    "periods": {"type": "array", "items": {"type": "object"}},
                    "unknown": {"type": "array", "items": {"type": "object"}},
                    "explanation": {"type": ["object", "null"]},
                    "calls": {"type": "object", "additionalProperties": {"type": "integer"}},
                    "retries": {"type": "integer"},
                },
            },
        },
    },
    "paths": {
        "/v1/suggest": {
            "post": {
                "summary": "Find meeting slots",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/SuggestRequest"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "slots, or an explanation when none fits",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/SuggestResult"}
                            }
                        },
                    },
                    **_errors(400, 401, 413, 502, 504),
                },
            }
        },
        "/v1/providers": {
            "get": {
                "summary": "The providers this service can read",
                "security": [{"bearer": []}],
                "responses": {"200": {"description": "providers"}, **_errors(401)},
            }
        },
        "/healthz": {"get": {"summary": "Liveness", "responses": {"200": {"description": "ok"}}}},
        "/openapi.json": {
            "get": {"summary": "This description", "responses": {"200": {"description": "it"}}}
        },
    },
}
