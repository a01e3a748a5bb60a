"""The fetcher's generic promises, over real loopback sockets.

Most tests use the smallest HttpProvider there is (one endpoint, JSON in and out) against a
server each test scripts; the rate-limit sharing test runs against the Feishu simulator, which
enforces the real API's limits. Provider-specific paths live in the providers' own test files.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

import slotfinder
from slotfinder.config import Config
from slotfinder.fetch import (
    Fetcher,
    NoReply,
    RateLimiter,
    RetryPolicy,
    Timeout,
    TokenCache,
    merge_rows,
)
from slotfinder.model import Attendee, MeetingRequest, Span, Status
from slotfinder.providers import (
    BatchError,
    Call,
    CallFailed,
    CallResult,
    ConfigKey,
    Endpoint,
    HttpProvider,
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
from slotfinder.testing import simkit

pytestmark = pytest.mark.timeout(60)

BUSY = Status.BUSY.code
WINDOW = Span(1_800_000_000, 1_800_000_000 + 10 * 86_400)
FAST = RateWindow(1000, 1.0)


class ToyProvider:
    """Asks POST /busy {ids, start, end}; replies {busy: {id: [[s, e]]}} or {error: ...}.

    It has no ``plan``: the fetcher plans its calls from ``limits``.
    """

    name = "toy"
    description = "test provider"
    config_keys = (
        ConfigKey("base_url", "server"),
        ConfigKey("secret", "app secret", secret=True),
    )

    def __init__(self, max_ids: int = 3, max_days: int = 4, rate: RateWindow = FAST) -> None:
        self._limits = Limits(
            endpoints=(Endpoint("busy", "user", max_ids, max_days * 86_400, (rate,)),),
            concurrency=4,
        )

    def limits(self, config: ProviderConfig) -> Limits:
        return self._limits

    def build(self, call: Call, token: str, config: ProviderConfig) -> HttpRequest:
        body = {"ids": list(call.ids), "start": call.span.start, "end": call.span.end}
        return HttpRequest(
            "POST",
            f"{config['base_url']}/busy",
            {"authorization": f"Bearer {token}"},
            json.dumps(body).encode(),
        )

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        data = json.loads(response.body)
        error = data.get("error")
        if error == "rate":
            raise RetryLater("rate limited", after=data.get("after"), rate_limited=True)
        if error == "token":
            raise TokenExpired("token refused")
        if error == "bad_id":
            raise BatchError(f"{data['id']} is not in the tenant")
        if error == "quota":
            raise CallFailed("monthly quota used up", fatal=True)
        if response.status >= 500:
            raise RetryLater(f"HTTP {response.status}")
        return CallResult(
            busy={k: [(s, e, BUSY) for s, e in v] for k, v in data["busy"].items()},
            errors=data.get("errors", {}),
        )

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        return (str(config["base_url"]),)

    def token_request(self, config: ProviderConfig) -> HttpRequest:
        secret = config["secret"]
        value = secret.reveal() if isinstance(secret, Secret) else str(secret)
        return HttpRequest(
            "POST", f"{config['base_url']}/token", {"appSecret": value}, json.dumps(value).encode()
        )

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        data = json.loads(response.body)
        return Token(data["token"], data["ttl"])


class Server:
    """A scriptable toy API: busy per id, a queue of misbehaviours, an optional rate limit."""

    def __init__(self, rate: tuple[int, float] | None = None) -> None:
        self.busy: dict[str, list[list[int]]] = {}
        self.script: list[dict[str, Any]] = []
        self.bad_ids: set[str] = set()
        self.failing_ids: set[str] = set()
        self.calls: list[dict[str, Any]] = []
        self.tokens = 0
        self.valid_token = ""
        self.redirect_token_to: str | None = None
        self.limiter = simkit.WindowLimiter([rate]) if rate else None
        self.rate_limited = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/token", self.token)
        app.router.add_post("/busy", self.handle)
        return app

    async def token(self, request: web.Request) -> web.Response:
        if self.redirect_token_to is not None:
            raise web.HTTPTemporaryRedirect(self.redirect_token_to + "/token?appSecret=s3cret")
        self.tokens += 1
        self.valid_token = f"tok{self.tokens}"
        return web.json_response({"token": self.valid_token, "ttl": 7200})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.limiter is not None and self.limiter.check() is not None:
            self.rate_limited += 1
            return web.json_response({"error": "rate", "after": 0.1}, status=429)
        body = await request.json()
        self.calls.append(body)
        if request.headers.get("authorization") != f"Bearer {self.valid_token}":
            return web.json_response({"error": "token"}, status=401)
        if self.script:
            step = self.script.pop(0)
            if step.get("drop"):
                await simkit.drop_connection(request)
            if step.get("redirect"):
                raise web.HTTPTemporaryRedirect(step["redirect"] + "/busy?token=tok")
            if step.get("sleep"):
                await asyncio.sleep(step["sleep"])
            else:
                return web.json_response(step, status=step.get("status", 200))
        if self.failing_ids & set(body["ids"]):
            return web.json_response({}, status=500)
        bad = [i for i in body["ids"] if i in self.bad_ids]
        if bad:
            return web.json_response({"error": "bad_id", "id": bad[0]}, status=404)
        out = {}
        for i in body["ids"]:
            out[i] = [
                [s, e] for s, e in self.busy.get(i, []) if s < body["end"] and e > body["start"]
            ]
        return web.json_response({"busy": out})


class Sink:
    """A second host that must never be asked anything: it records whatever reaches it."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.record)
        return app

    async def record(self, request: web.Request) -> web.Response:
        self.requests.append((request.path_qs, dict(request.headers)))
        return web.json_response({"token": "stolen", "ttl": 7200, "busy": {}})


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    srv = Server()
    async with simkit.running(srv.app()) as url:
        yield srv, url


def config(url: str) -> dict[str, Any]:
    return {"base_url": url, "secret": Secret("s3cret")}


async def run(
    url: str,
    ids: Sequence[str],
    provider: HttpProvider | None = None,
    policy: RetryPolicy | None = None,
    tokens: TokenCache | None = None,
    **options: Any,
) -> tuple[dict[str, Any], Fetcher]:
    provider = provider or ToyProvider()
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(
            session,
            policy=policy or RetryPolicy(base=0.0, attempts=4),
            tokens=tokens or TokenCache(),
            **options,
        )
        avails = await asyncio.wait_for(
            fetcher.fetch(provider, [Target(i) for i in ids], WINDOW, config(url)), 30
        )
    return {a.id: a for a in avails}, fetcher


# -- the plan, retries, tokens, batches -----------------------------------------------------


async def test_calls_follow_the_plan_and_seams_merge(server: tuple[Server, str]) -> None:
    """Without a plan of its own a provider's calls come from its limits; each is made once,
    an event across a chunk seam counts once, and progress reaches every call and id."""
    srv, url = server
    seam = WINDOW.start + 4 * 86_400
    srv.busy["a"] = [[seam - 3600, seam + 3600]]
    seen: list[slotfinder.Progress] = []
    assert isinstance(ToyProvider(), HttpProvider)  # plan is optional
    result, fetcher = await run(url, ["a", "b", "c", "d"], progress=seen.append)
    assert len(srv.calls) == 6  # 2 groups x 3 chunks
    assert fetcher.stats.calls == fetcher.stats.planned == {"toy/busy": 6}
    busy = result["toy:a"].busy
    assert list(busy.starts) == [seam - 3600]
    assert list(busy.ends) == [seam + 3600]
    assert srv.tokens == 1
    assert seen[-1] == slotfinder.Progress(6, 6, 4, 4)


class ForgetfulProvider(ToyProvider):
    """A provider with its own plan, which leaves out its last target (a plugin bug)."""

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        from slotfinder.plan import plan_calls

        return plan_calls(targets[:-1], window, self.limits(config))


async def test_a_provider_plan_is_used_and_an_uncovered_id_is_unknown(
    server: tuple[Server, str],
) -> None:
    """A provider's own plan is followed; an id no call covered is unknown, never free."""
    _, url = server
    result, _ = await run(url, ["a", "b"], ForgetfulProvider(max_days=10))
    assert result["toy:a"].known
    assert not result["toy:b"].known
    assert "no toy call was planned" in (result["toy:b"].error or "")


async def test_rate_limit_reply_is_waited_out(server: tuple[Server, str]) -> None:
    """A rate-limit reply is retried after the server's hint and counted."""
    srv, url = server
    srv.script = [{"error": "rate", "after": 0.2, "status": 429}]
    result, fetcher = await run(url, ["a"])
    assert result["toy:a"].known
    assert fetcher.stats.rate_limited == 1
    assert fetcher.stats.retries == 1


async def test_server_errors_and_drops_are_retried(server: tuple[Server, str]) -> None:
    """5xx replies and dropped connections are retried until the data comes."""
    srv, url = server
    srv.script = [{"status": 500}, {"drop": True}, {"status": 503}]
    result, fetcher = await run(url, ["a"])
    assert result["toy:a"].known
    assert fetcher.stats.retries == 3


async def test_giving_up_marks_exactly_the_call_unknown(server: tuple[Server, str]) -> None:
    """After the last attempt the ids of that call are unknown with the reason; others kept."""
    srv, url = server
    srv.failing_ids = {"a"}
    result, fetcher = await run(url, ["a", "b", "c", "d"], ToyProvider(max_days=10))
    unknown = {k for k, v in result.items() if not v.known}
    assert unknown == {"toy:a", "toy:b", "toy:c"}
    assert "gave up after 4 attempts" in (result["toy:a"].error or "")
    assert result["toy:d"].known
    assert fetcher.stats.retries == 3


async def test_slow_reply_is_reported_not_free(server: tuple[Server, str]) -> None:
    """A reply slower than the call timeout, from a host that answers nothing else, makes the
    ids unknown with the host and the timeout named, never free."""
    srv, url = server
    srv.script = [{"sleep": 5}] * 2
    policy = RetryPolicy(base=0.0, attempts=2, timeout=0.3)
    result, _ = await run(url, ["a"], ToyProvider(max_days=10), policy)
    assert not result["toy:a"].known
    assert f"no reply from {url.removeprefix('http://')} within 0.3 s" in (
        result["toy:a"].error or ""
    )


async def test_token_refreshed_once_on_refusal(server: tuple[Server, str]) -> None:
    """A token is cached across fetches, and a refused one is refreshed once and the call
    repeated."""
    srv, url = server
    cache = TokenCache()
    await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    assert srv.tokens == 1
    srv.valid_token = "rotated"  # the server forgets the token
    result, fetcher = await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    assert result["toy:a"].known
    assert srv.tokens == 2
    assert fetcher.stats.token_requests == 1
    assert fetcher.stats.retries == 0


async def test_bad_id_in_batch_is_isolated(server: tuple[Server, str]) -> None:
    """One bad id fails the batch; splitting finds it and keeps the others."""
    srv, url = server
    srv.bad_ids = {"b"}
    srv.busy["c"] = [[WINDOW.start + 100, WINDOW.start + 200]]
    result, fetcher = await run(url, ["a", "b", "c"], ToyProvider(max_days=10))
    assert not result["toy:b"].known
    assert "not in the tenant" in (result["toy:b"].error or "")
    assert result["toy:a"].known
    assert result["toy:c"].known
    assert len(result["toy:c"].busy) == 1
    assert fetcher.stats.splits >= 1


async def test_fatal_failure_stops_the_provider(server: tuple[Server, str]) -> None:
    """A fatal error (quota) is not retried and marks the provider's ids unknown."""
    srv, url = server
    srv.script = [{"error": "quota", "status": 403}]
    result, fetcher = await run(url, list("abc"), ToyProvider(max_ids=1, max_days=10))
    avails = result.values()
    # the first call fails fatally; calls already in flight may finish, none is retried
    assert all("quota" in (a.error or "") or a.known for a in avails)
    assert any("quota" in (a.error or "") for a in avails)
    assert fetcher.stats.retries == 0


async def test_per_id_errors_and_missing_ids(server: tuple[Server, str]) -> None:
    """A per-id error or an id absent from the reply makes that id unknown, never free."""
    srv, url = server
    srv.script = [{"busy": {"a": []}, "errors": {"b": "calendar hidden"}}]
    result, _ = await run(url, ["a", "b", "c"], ToyProvider(max_days=10))
    assert result["toy:a"].known
    assert result["toy:b"].error == "calendar hidden"
    assert "no data" in (result["toy:c"].error or "")


class CannedTransport:
    """A Transport that answers from memory: the seam a test may replace."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(
        self, request: HttpRequest, *, timeout: Timeout, answered: Any = None
    ) -> HttpResponse:
        self.sent.append(request.url)
        if answered is not None:
            answered()
        if request.url.endswith("/token"):
            return HttpResponse(200, {}, b'{"token": "t", "ttl": 60}')
        ids = json.loads(request.body or b"{}")["ids"]
        return HttpResponse(200, {}, json.dumps({"busy": {i: [] for i in ids}}).encode())


async def test_any_transport_can_carry_the_calls() -> None:
    """The fetcher needs nothing of aiohttp: a replacement Transport carries every call."""
    transport = CannedTransport()
    fetcher = Fetcher(transport, tokens=TokenCache())
    got = await fetcher.fetch(ToyProvider(), [Target("a")], WINDOW, config("http://canned"))
    assert got[0].known
    assert transport.sent == ["http://canned/token"] + ["http://canned/busy"] * 3


# -- credentials stay on their host -----------------------------------------------------------


async def test_a_redirected_data_call_is_not_followed(server: tuple[Server, str]) -> None:
    """A 307 to another host fails the call's ids with the status and that host named (not the
    URL's query), and the other host receives nothing: no token header ever reaches it."""
    srv, url = server
    sink = Sink()
    async with simkit.running(sink.app()) as elsewhere:
        srv.script = [{"redirect": elsewhere}]
        result, fetcher = await run(url, ["a"], ToyProvider(max_days=10))
    error = result["toy:a"].error or ""
    assert "307" in error
    assert elsewhere.removeprefix("http://") in error
    assert "token=" not in error
    assert "/busy" not in error
    assert sink.requests == []
    assert fetcher.stats.retries == 0


async def test_a_redirected_token_request_is_a_base_url_error(server: tuple[Server, str]) -> None:
    """A 307 on the token request is a configuration error naming base_url, the app secret
    never reaches the other host, and no data call is sent."""
    srv, url = server
    sink = Sink()
    async with simkit.running(sink.app()) as elsewhere:
        srv.redirect_token_to = elsewhere
        result, fetcher = await run(url, ["a", "b"], ToyProvider(max_days=10))
    assert [e.key for e in fetcher.config_errors] == ["providers.toy.base_url"]
    assert "307" in str(fetcher.config_errors[0])
    assert "s3cret" not in str(fetcher.config_errors[0])
    assert not any(a.known for a in result.values())
    assert sink.requests == []
    assert srv.calls == []


# -- a host that does not answer ----------------------------------------------------------------


@pytest.fixture
async def silent() -> AsyncIterator[tuple[str, list[asyncio.StreamWriter]]]:
    """A server that accepts connections and never replies."""
    conns: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conns.append(writer)
        while await reader.read(4096):
            pass

    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", conns
    finally:
        srv.close()
        for w in conns:
            w.close()


async def test_a_silent_host_is_unknown_after_one_default_timeout(
    silent: tuple[str, list[asyncio.StreamWriter]],
) -> None:
    """With the default policy, a host that accepts and never replies costs one call timeout
    (10 s): every id is unknown naming host and port, and nothing is sent again."""
    url, conns = silent
    result, fetcher = await run(url, list("abcdef"), ToyProvider(max_ids=1), RetryPolicy())
    where = url.removeprefix("http://")
    for a in result.values():
        assert f"no reply from {where} within 10 s" in (a.error or "")
    assert len(conns) == 1
    assert fetcher.stats.token_requests == 1
    assert fetcher.stats.retries == 0
    assert fetcher.stats.calls == {}


async def test_a_closed_port_is_unknown_naming_host_and_port() -> None:
    """Nothing listening: the ids are unknown with the address named, after at most one call
    timeout of backing off."""
    port = simkit.free_port()
    url = f"http://127.0.0.1:{port}"
    result, fetcher = await run(url, ["a", "b"], None, RetryPolicy(timeout=1.0))
    for a in result.values():
        assert f"127.0.0.1:{port}" in (a.error or "")
    assert fetcher.stats.calls == {}


async def test_a_silent_data_host_stops_being_called(
    server: tuple[Server, str],
) -> None:
    """Once the data calls of a host all go unanswered for a call timeout, the remaining calls
    are not sent: their ids are unknown with the same reason."""
    srv, url = server
    srv.script = [{"sleep": 5}] * 4
    policy = RetryPolicy(base=0.0, attempts=3, timeout=0.5, silence=0.5)
    result, fetcher = await run(url, list("abcdefgh"), ToyProvider(max_ids=1, max_days=10), policy)
    assert not any(a.known for a in result.values())
    assert all("within 0.5 s" in (a.error or "") for a in result.values())
    assert sum(fetcher.stats.calls.values()) == 4  # the first round (concurrency 4), no more
    assert fetcher.stats.retries == 0


async def test_no_reply_is_a_slotfinder_error() -> None:
    """What a transport raises for a missing reply is one of slotfinder's own errors."""
    assert issubclass(NoReply, slotfinder.SlotfinderError)


# -- rate limits --------------------------------------------------------------------------------


async def test_client_limiter_keeps_under_the_server_window() -> None:
    """A server enforcing 5 calls per 0.5 s never has to refuse one."""
    srv = Server(rate=(5, 0.5))
    async with simkit.running(srv.app()) as url:
        provider = ToyProvider(max_ids=1, max_days=10, rate=RateWindow(5, 0.5))
        result, fetcher = await run(url, [f"u{i}" for i in range(12)], provider)
    assert all(a.known for a in result.values())
    assert len(srv.calls) == 12
    assert srv.rate_limited == fetcher.stats.rate_limited == 0


async def test_concurrent_fetchers_share_one_app_rate_limit() -> None:
    """Four Fetchers on four sessions, fetching for the same Feishu app at once (60 calls,
    more than its 50 a second), get no rate-limit reply: they share one limiter."""
    from slotfinder_feishu.simulator import STATS, TENANT

    from slotfinder.plugins import get_providers
    from slotfinder.testing import get_simulators

    sim = get_simulators()["feishu"]
    provider = get_providers()["feishu"]
    assert isinstance(provider, HttpProvider)
    app = sim.app(seed=5, users=200)
    window = Span(WINDOW.start, WINDOW.start + 40 * 86_400)  # 3 batch chunks

    async with simkit.running(app) as url:
        settings = sim.demo(url, seed=5).config
        cfg = {k: Secret(v) if "secret" in k else v for k, v in settings.items()}
        people = [p.open_id for p in app[TENANT].people]

        async def one(part: int) -> Fetcher:
            async with aiohttp.ClientSession() as session:
                fetcher = Fetcher(session, policy=RetryPolicy(base=0.0), seed=part)
                targets = [Target(i) for i in people[part * 50 : (part + 1) * 50]]
                got = await fetcher.fetch(provider, targets, window, cfg)
                assert all(a.known for a in got)
                return fetcher

        fetchers = await asyncio.wait_for(asyncio.gather(*(one(p) for p in range(4))), 30)
    assert sum(sum(f.stats.calls.values()) for f in fetchers) == 60
    assert [f.stats.rate_limited for f in fetchers] == [0] * 4
    assert app[STATS].rate_limited == 0


class FixedAppProvider(ToyProvider):
    """The same app wherever its server runs: one shared limiter in any one event loop."""

    def token_key(self, config: ProviderConfig) -> tuple[str, ...]:
        return ("one-app",)


def test_limiters_work_across_event_loops() -> None:
    """Two asyncio.run calls (as two suggest_sync calls make) each wait on rate places for
    the same app: each loop gets its own limiter, so neither trips over the other's."""

    async def once() -> None:
        srv = Server()
        async with simkit.running(srv.app()) as url:
            provider = FixedAppProvider(max_ids=1, max_days=10, rate=RateWindow(2, 0.2))
            result, _ = await run(url, list("abcd"), provider)
        assert all(a.known for a in result.values())

    asyncio.run(once())
    asyncio.run(once())


async def test_rate_limiter_honours_every_window() -> None:
    """Two windows at once: the longer one still blocks after the shorter one has freed up."""
    limiter = RateLimiter([RateWindow(3, 0.2), RateWindow(4, 10.0)])
    for _ in range(3):
        async with limiter.slot():
            pass
    await asyncio.wait_for(limiter.acquire(), 1.0)  # the 0.2 s window frees, 4th of 10 s
    limiter.release()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.5)


async def test_in_flight_calls_hold_their_place() -> None:
    """A call whose reply is not back keeps its place however long it takes, and the place
    counts for a whole window from its release."""
    limiter = RateLimiter([RateWindow(2, 5.0)])
    await limiter.acquire()
    await limiter.acquire()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.3)  # both still in flight
    limiter.release()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.3)  # released, but within its window


async def test_a_place_counts_from_the_answer_not_the_end_of_the_body() -> None:
    """Freed when the status line is in (the server has counted the call by then), once: the
    body still being read does not hold the place, and leaving the block frees nothing more."""
    limiter = RateLimiter([RateWindow(1, 5.0)])
    async with limiter.slot() as answered:
        answered()
        answered()  # a second call changes nothing
        await asyncio.sleep(0.05)  # reading the body
    assert len(limiter._done[0]) == 1
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.2)  # the place counts for 5 s from then


async def test_penalty_keeps_the_history_of_longer_windows() -> None:
    """A rate-limit pause does not forget the calls already made in the minute window."""
    limiter = RateLimiter([RateWindow(50, 1.0), RateWindow(5, 60.0)])
    for _ in range(5):
        async with limiter.slot():
            pass
    limiter.penalise(0.05)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.3)


# -- suggest's look past the window -------------------------------------------------------------


async def test_lookahead_does_not_ask_again_about_failed_ids(server: tuple[Server, str]) -> None:
    """When nothing fits, suggest reads past the window only for the ids it could read."""
    srv, url = server
    srv.busy["a"] = [[WINDOW.start, WINDOW.start + 86_400]]
    srv.failing_ids = {"b"}
    cfg = Config(tz="UTC", providers={"toy": {"base_url": url, "secret": "s3cret"}}, env={})
    request = MeetingRequest(
        attendees=[Attendee("toy:a", zone="UTC"), Attendee("toy:b", zone="UTC")],
        window=Span(WINDOW.start, WINDOW.start + 86_400),
        duration=3600,
        zone="UTC",
    )
    result = await asyncio.wait_for(
        slotfinder.suggest(
            request,
            config=cfg,
            providers={"toy": ToyProvider(max_ids=1)},
            policy=RetryPolicy(base=0.0, attempts=2),
            lookahead=3 * 86_400,
        ),
        30,
    )
    assert [u.id for u in result.unknown] == ["toy:b"]
    later = [c for c in srv.calls if c["start"] >= request.window.end]
    assert later
    assert all(c["ids"] == ["a"] for c in later)


# -- merging ------------------------------------------------------------------------------------


def test_merge_rows_dedupes_per_status() -> None:
    """Duplicate rows from two chunks become one; different statuses stay apart."""
    tent = Status.TENTATIVE.code
    a = np.array([[0, 10, BUSY], [20, 30, tent]])
    b = np.array([[0, 10, BUSY], [10, 15, BUSY], [20, 30, tent]])
    table = merge_rows([a, b])
    rows = sorted(
        zip(table.starts.tolist(), table.ends.tolist(), table.status.tolist(), strict=True)
    )
    assert rows == [(0, 15, BUSY), (20, 30, tent)]


def _seconds(rows: Any) -> set[tuple[int, int]]:
    """Brute force: the set of (second, status) pairs some row covers."""
    return {(t, int(c)) for s, e, c in rows for t in range(int(s), int(e))}


@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(-50, 50), st.integers(0, 12), st.sampled_from([BUSY, 1, 3])).map(
                lambda r: (r[0], r[0] + r[1], r[2])
            ),
            max_size=12,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_merge_rows_is_the_per_status_union(chunks: list[list[Any]]) -> None:
    """Against brute force: the same seconds per status, none empty, none touching or
    overlapping within a status."""
    arrays = [np.asarray(c, dtype=np.int64).reshape(-1, 3) for c in chunks]
    table = merge_rows(arrays)
    got = list(zip(table.starts.tolist(), table.ends.tolist(), table.status.tolist(), strict=True))
    assert _seconds(got) == _seconds(np.concatenate(arrays))
    for code in {c for _, _, c in got}:
        spans = sorted((s, e) for s, e, c in got if c == code)
        assert all(s < e for s, e in spans)
        assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_request_repr_hides_tokens() -> None:
    """An HttpRequest's repr never shows an Authorization header value."""
    req = HttpRequest("POST", "http://x", {"Authorization": "Bearer t-secret"}, b"{}")
    assert "t-secret" not in repr(req)
