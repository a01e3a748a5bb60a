"""The HTTP seam: the only aiohttp client code in slotfinder.

The fetcher sends every request through a :class:`Transport`; tests may hand it another one.
:class:`AiohttpTransport` follows no redirect: a provider's requests carry its credentials
(app secrets in token requests, tokens in headers), and a redirect would hand them to a host
nobody configured. The 3xx reply comes back as it is and the fetcher fails the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import attrs

from slotfinder.errors import SlotfinderError
from slotfinder.providers import HttpRequest, HttpResponse

__all__ = ["AiohttpTransport", "NoReply", "Timeout", "Transport", "origin"]


@attrs.frozen
class Timeout:
    """Seconds to connect, and for the whole exchange (connecting included)."""

    total: float
    connect: float | None = None


class NoReply(SlotfinderError):
    """The request got no HTTP reply: refused, reset, timed out. ``reason`` names the host."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@runtime_checkable
class Transport(Protocol):
    """Sends one request and reads the whole reply, or raises :class:`NoReply`."""

    async def send(
        self,
        request: HttpRequest,
        *,
        timeout: Timeout,
        answered: Callable[[], None] | None = None,
    ) -> HttpResponse:
        """``answered`` is called once the status line is in (the server has seen the call),
        before the body is read. Redirects are returned, never followed."""
        ...


def origin(url: str) -> str:
    """``host:port`` of ``url``: what a message may name (never the path, query or userinfo)."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return "an unreadable address"
    host = parts.hostname or "an unnamed host"
    return f"{host}:{port}" if port else host


class AiohttpTransport:
    """:class:`Transport` over a caller-owned :class:`aiohttp.ClientSession`."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def send(
        self,
        request: HttpRequest,
        *,
        timeout: Timeout,
        answered: Callable[[], None] | None = None,
    ) -> HttpResponse:
        where = origin(request.url)
        try:
            async with self.session.request(
                request.method,
                request.url,
                headers=dict(request.headers),
                data=request.body,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout.total, sock_connect=timeout.connect),
            ) as reply:
                if answered is not None:
                    answered()
                body = await reply.read()
                headers = {k.lower(): v for k, v in reply.headers.items()}
                return HttpResponse(status=reply.status, headers=headers, body=body)
        except aiohttp.ConnectionTimeoutError as exc:
            seconds = timeout.connect or timeout.total
            raise NoReply(f"no connection to {where} within {seconds:g} s") from exc
        except TimeoutError as exc:
            raise NoReply(f"no reply from {where} within {timeout.total:g} s") from exc
        except aiohttp.ClientConnectorError as exc:
            raise NoReply(f"could not connect to {where} ({exc.strerror or 'refused'})") from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise NoReply(f"{type(exc).__name__} talking to {where}") from exc
