"""slotfinder-acme: busy time from the Acme Calendar API (made up for this example).

``POST /oauth/token`` {client_id, client_secret} -> {access_token, expires_in};
``POST /v1/freebusy`` {ids, start, end} with ``Authorization: Bearer`` ->
{"calendars": {id: [{start, end}, ...]}}: at most 10 ids and 14 days a call, 20 calls a second.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from slotfinder import (
    Call,
    CallFailed,
    CallResult,
    ConfigError,
    ConfigKey,
    Endpoint,
    HttpRequest,
    HttpResponse,
    Limits,
    Provider,
    ProviderConfig,
    RateWindow,
    RetryLater,
    Settings,
    Status,
    Token,
    TokenExpired,
    hookimpl,
    times,
)

JSON = {"Content-Type": "application/json"}


def _reply(response: HttpResponse, where: str) -> dict[str, object]:
    """The JSON object of a 200 reply; 429 and 5xx are worth another try, the rest is not."""
    status = response.status
    if status == 429 or status >= 500:
        after = response.headers.get("retry-after", "")
        hint = float(after) if after.isdecimal() else None
        raise RetryLater(f"{where}: HTTP {status}", hint, rate_limited=status == 429)
    try:
        reply = json.loads(response.body) if status == 200 else None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, absurdly nested
        reply = None
    if not isinstance(reply, dict):
        raise CallFailed(f"{where}: HTTP {status}, not a JSON object")
    return reply


class AcmeProvider:
    """``acme:ID``: one person's calendar at Acme."""

    name = "acme"
    description = "Acme Calendar (POST /v1/freebusy, client-credentials token): acme:ID"
    config_keys: tuple[ConfigKey, ...] = (
        ConfigKey("client_id", "the Acme app's client id", required=True),
        ConfigKey("client_secret", "the Acme app's client secret", secret=True, required=True),
        ConfigKey("base_url", "API root", default="https://api.acme.example"),
    )

    def limits(self, config: ProviderConfig) -> Limits:
        """No ``plan`` method: the default planner cuts ids and window to these limits."""
        rate = (RateWindow(calls=20, seconds=1.0),)
        return Limits((Endpoint("freebusy", "user", 10, max_span=14 * times.DAY, rate=rate),))

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        s = Settings(config, self.name)
        return (s.url(), s.text("client_id"))

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        s = Settings(config, self.name)
        body = {"client_id": s.text("client_id"), "client_secret": s.secret("client_secret")}
        return HttpRequest("POST", s.url() + "/oauth/token", JSON, json.dumps(body).encode())

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        if response.status == 401:
            raise ConfigError("providers.acme.client_secret", "Acme refused id or secret")
        reply = _reply(response, "acme token")
        value, lifetime = reply.get("access_token"), reply.get("expires_in")
        if not isinstance(value, str) or not isinstance(lifetime, int) or lifetime <= 0:
            raise CallFailed("acme token: the reply lacks access_token or expires_in")
        return Token(value, min(lifetime, 86_400))

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        url = Settings(config, self.name).url() + "/v1/freebusy"
        start, end = times.format_utc(call.span.start), times.format_utc(call.span.end)
        body = json.dumps({"ids": call.ids, "start": start, "end": end}).encode()
        return HttpRequest("POST", url, {**JSON, "Authorization": f"Bearer {token}"}, body)

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        """Rows per id; an id the reply leaves out becomes unknown, never free."""
        if response.status == 401:
            raise TokenExpired("acme freebusy: HTTP 401, token refused")
        calendars = _reply(response, "acme freebusy").get("calendars")
        if not isinstance(calendars, dict):
            raise CallFailed("acme freebusy: the reply has no 'calendars' object")
        busy: dict[str, list[tuple[int, int, int]]] = {}
        errors: dict[str, str] = {}
        for id in (i for i in call.ids if i in calendars):
            try:
                busy[id] = [
                    (times.instant(e["start"]), times.instant(e["end"]), Status.BUSY.code)
                    for e in calendars[id]
                ]
            except (ValueError, LookupError, TypeError) as exc:  # InputError is a ValueError
                errors[id] = f"acme freebusy: calendars.{id}: {exc}"
        return CallResult(busy, errors)


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    register(AcmeProvider())
