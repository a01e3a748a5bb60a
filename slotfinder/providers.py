"""The provider contract: what a calendar plugin implements.

A provider is *sans-I/O* (the gidgethub pattern): it plans calls, builds each call as a plain
:class:`HttpRequest` and deciphers a plain :class:`HttpResponse`; it never owns a socket.
:mod:`slotfinder.fetch` runs every provider's requests through one transport, with rate
limiting, retries and token caching done once for all. That keeps each provider testable
without a network and keeps the hard parts of I/O in one place.

Two shapes exist:

* :class:`HttpProvider` — a web API (Feishu, DingTalk, ...): ``limits``, ``build``, ``parse``,
  and token methods. A provider whose calls the planner cannot derive from ``limits`` may add
  ``plan(targets, window, config) -> list[Call]``; without it the fetcher uses
  :func:`slotfinder.plan.plan_calls`.
* :class:`LocalProvider` — data on this machine (``ics:``, ``json:``): one ``read`` call.

Parsers report what went wrong by raising the typed errors below; the fetcher decides what to
do (wait and retry, refresh the token, split the batch, or mark the ids unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol, runtime_checkable

import attrs

from slotfinder.errors import ConfigError, SlotfinderError
from slotfinder.model import Attendee, Availability, Span

__all__ = [
    "BatchError",
    "Call",
    "CallFailed",
    "CallResult",
    "ConfigError",
    "ConfigKey",
    "Endpoint",
    "HttpProvider",
    "HttpRequest",
    "HttpResponse",
    "Kind",
    "Limits",
    "LocalProvider",
    "Provider",
    "ProviderConfig",
    "ProviderError",
    "RateWindow",
    "RetryLater",
    "Secret",
    "Settings",
    "Target",
    "Token",
    "TokenExpired",
]

Kind = Literal["user", "room"]
"""What an id names: a person or a meeting room. Endpoints serve one kind."""

_SENSITIVE_HEADERS = frozenset(
    {"authorization", "x-acs-dingtalk-access-token", "cookie", "x-api-key"}
)


class Secret:
    """A string that never shows itself: ``repr``/``str`` give ``'***'``.

    Configuration values of secret keys are wrapped in it on load, so a secret cannot leak into
    a log line, a repr or an exception by accident; ``reveal()`` is the one deliberate way out.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


ProviderConfig = Mapping[str, "str | int | float | bool | Secret"]
"""A provider's settings: ``[providers.NAME]`` of the config file plus
``SLOTFINDER_NAME_KEY`` variables, secret keys already wrapped in :class:`Secret`."""


@attrs.frozen
class ConfigKey:
    """One configuration key a provider reads.

    ``secret`` keys are wrapped in :class:`Secret` and shown only as set/unset.
    ``required`` keys missing from the configuration fail before any call, naming the
    environment variable to set.
    """

    name: str
    help: str
    secret: bool = False
    required: bool = False
    default: str | int | float | bool | None = None

    def env_var(self, provider: str) -> str:
        return f"SLOTFINDER_{provider.upper()}_{self.name.upper()}"


@attrs.frozen
class Settings:
    """Typed access to a provider's settings, with errors that say what to set and where.

    ``Settings(config, "feishu").text("app_id")`` returns the string or raises
    :class:`ConfigError` naming ``providers.feishu.app_id`` and ``SLOTFINDER_FEISHU_APP_ID``;
    :meth:`secret` reveals a secret only to the caller that asked for it.
    """

    config: ProviderConfig
    provider: str

    def _missing(self, key: str) -> ConfigError:
        env = f"SLOTFINDER_{self.provider.upper()}_{key.upper()}"
        return ConfigError(
            f"providers.{self.provider}.{key}",
            f"is required; set it in [providers.{self.provider}] or as {env}",
        )

    def text(self, key: str, default: str | None = None) -> str:
        """A required plain string (``default`` when unset)."""
        value = self.config.get(key, default)
        if value is None or value == "":
            raise self._missing(key)
        if isinstance(value, Secret):
            raise ConfigError(f"providers.{self.provider}.{key}", "expected a plain setting")
        return str(value)

    def secret(self, key: str) -> str:
        """A required secret, revealed for the one request that sends it."""
        value = self.config.get(key)
        raw = value.reveal() if isinstance(value, Secret) else value
        if not isinstance(raw, str) or not raw:
            raise self._missing(key)
        return raw

    def integer(self, key: str, default: int, minimum: int = 1) -> int:
        """A whole number of at least ``minimum``."""
        value = self.config.get(key, default)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ConfigError(
                f"providers.{self.provider}.{key}",
                f"expected a whole number of at least {minimum}, got {value!r}",
            )
        return value

    def url(self, key: str = "base_url", default: str | None = None) -> str:
        """A base URL without its trailing slash."""
        return self.text(key, default).rstrip("/")


@attrs.frozen
class RateWindow:
    """At most ``calls`` calls in any ``seconds``-long sliding window."""

    calls: int
    seconds: float


@attrs.frozen
class Endpoint:
    """One API endpoint able to return busy time for ``kind`` ids.

    ``max_ids`` ids per call (``min_ids`` at least), ``max_span`` seconds of window per call.
    ``rate`` windows are enforced per endpoint (APIs limit per app per API); the provider's
    :attr:`Limits.rate` windows are shared by all its endpoints.
    """

    name: str
    kind: Kind
    max_ids: int
    max_span: int
    rate: tuple[RateWindow, ...] = ()
    min_ids: int = 1
    rate_group: str | None = None
    """Endpoints with the same ``rate_group`` share one set of ``rate`` windows (one API
    serving users and rooms under two endpoint names); ``None`` means the endpoint's name."""

    @property
    def limiter_key(self) -> str:
        return self.rate_group or self.name


@attrs.frozen
class Limits:
    """Everything the planner and the fetcher must respect for one provider."""

    endpoints: tuple[Endpoint, ...]
    rate: tuple[RateWindow, ...] = ()
    concurrency: int = 8
    timeout: float = 10.0

    def endpoint(self, name: str) -> Endpoint:
        for e in self.endpoints:
            if e.name == name:
                return e
        raise KeyError(name)


@attrs.frozen
class Target:
    """An id as the provider knows it (the part after ``PROVIDER:``), its kind and zone.

    ``zone`` is the attendee's IANA zone (the request's when the attendee has none): some APIs
    return all-day events as bare dates, which block the attendee's *local* day.
    """

    id: str
    kind: Kind = "user"
    zone: str = "UTC"


@attrs.frozen(order=True)
class Call:
    """One planned API call: an endpoint, the ids it asks about and the time chunk.

    ``zones`` maps each id to its attendee's zone, for parsing all-day items.
    """

    endpoint: str
    ids: tuple[str, ...]
    span: Span
    kind: Kind = "user"
    zones: tuple[tuple[str, str], ...] = ()

    def zone_of(self, id: str, default: str = "UTC") -> str:
        """The zone of ``id`` (``default`` when the planner was not told)."""
        return dict(self.zones).get(id, default)

    def subset(self, ids: tuple[str, ...]) -> Call:
        """The same call for fewer ids (splitting a batch to isolate a bad id)."""
        zones = dict(self.zones)
        return attrs.evolve(self, ids=ids, zones=tuple((i, zones[i]) for i in ids if i in zones))


def _redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: ("***" if k.lower() in _SENSITIVE_HEADERS else v) for k, v in headers.items()}


@attrs.frozen(repr=False)
class HttpRequest:
    """A request to send: built by the provider, sent by the fetcher. Its repr hides tokens."""

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    body: bytes | None = None

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={self.url!r}, "
            f"headers={_redact_headers(self.headers)!r}, body=<{len(self.body or b'')} bytes>)"
        )


@attrs.frozen
class HttpResponse:
    """What came back: status, headers (lower-case names) and the raw body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@attrs.frozen(repr=False)
class Token:
    """An access token and how many seconds it lives. Its repr hides the value."""

    value: str
    expires_in: float

    def __repr__(self) -> str:
        return f"Token(value='***', expires_in={self.expires_in!r})"


BusyRows = Sequence[tuple[int, int, int]]
"""``(start, end, status_code)`` rows in epoch seconds (see :attr:`slotfinder.Status.code`)."""


@attrs.frozen
class CallResult:
    """A successful call deciphered: busy rows per id, and per-id errors (those ids unknown).

    Every id of the call must appear in ``busy`` (an empty list when free) or in ``errors``;
    an id in neither is marked unknown ("no data in the reply"), never assumed free.
    """

    busy: Mapping[str, BusyRows]
    errors: Mapping[str, str] = attrs.field(factory=dict)


class ProviderError(SlotfinderError):
    """Base of the errors a provider's ``parse`` raises to steer the fetcher."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RetryLater(ProviderError):
    """Transient: rate limited, 5xx, internal error. ``after`` is the server's wait hint.

    ``rate_limited`` marks a rate-limit reply (counted apart from other retries, since a
    well-behaved run should get none); a reply with HTTP 429 counts as one either way.
    """

    def __init__(
        self, reason: str, after: float | None = None, *, rate_limited: bool = False
    ) -> None:
        self.after = after
        self.rate_limited = rate_limited
        super().__init__(reason)


class TokenExpired(ProviderError):
    """The token was refused: refresh it once and repeat the call."""


class BatchError(ProviderError):
    """One of several ids made the whole call fail (Feishu 195100): split the batch to find it.

    For a call with a single id, the fetcher marks that id unknown with ``reason``.
    """


class CallFailed(ProviderError):
    """Give up on this call: its ids become unknown with ``reason`` (which names the field).

    ``fatal`` means every later call of this provider would fail the same way (a monthly quota,
    a disabled bot): the fetcher stops calling the provider and marks all its ids unknown.
    """

    def __init__(self, reason: str, *, fatal: bool = False) -> None:
        self.fatal = fatal
        super().__init__(reason)


@runtime_checkable
class HttpProvider(Protocol):
    """A provider backed by a web API. Implementations stay free of I/O.

    An optional ``plan(targets, window, config) -> list[Call]`` replaces the default planner
    (:func:`slotfinder.plan.plan_calls` over :meth:`limits`); it is not part of the checked
    protocol, so a provider that needs none leaves it out.
    """

    name: str
    """The id prefix: ``feishu`` serves ``feishu:ou_x``."""
    description: str
    config_keys: tuple[ConfigKey, ...]

    def limits(self, config: ProviderConfig) -> Limits:
        """The endpoints and rate limits (they may depend on configuration)."""
        ...

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        """The HTTP request for ``call``, authorised with ``token``."""
        ...

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        """Decipher the reply, or raise :class:`ProviderError` subclasses."""
        ...

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        """What a token is cached under, e.g. ``(base_url, app_id)``."""
        ...

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        """The request that obtains a token."""
        ...

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        """The token from the reply; :class:`ConfigError` naming the key on bad credentials,
        :class:`RetryLater` on transient failures."""
        ...


@runtime_checkable
class LocalProvider(Protocol):
    """A provider reading data on this machine; no planning, no tokens."""

    name: str
    description: str
    config_keys: tuple[ConfigKey, ...]

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        """Availability for each attendee (ids still prefixed), errors as unknown entries.

        ``zone`` is the request's zone, for attendees without one (all-day events are the
        attendee's local day).
        """
        ...


Provider = HttpProvider | LocalProvider
