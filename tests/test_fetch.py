"""The fetcher's generic promises, over a real loopback socket with a tiny test provider.

The provider here is the smallest HttpProvider there is: one endpoint, JSON in and out, and a
server whose behaviour each test scripts. Provider-specific paths are covered against the
Feishu and DingTalk simulators in their own test files.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

import aiohttp
import numpy as np
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

import slotfinder.fetch
from slotfinder.fetch import Fetcher, RateLimiter, RetryPolicy, TokenCache, merge_rows
from slotfinder.model import Span, Status
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
    Target,
    Token,
    TokenExpired,
)
from slotfinder.testing import simkit

BUSY = Status.BUSY.code
WINDOW = Span(1_800_000_000, 1_800_000_000 + 10 * 86_400)


class ToyProvider:
    """Asks POST /busy {ids, start, end}; replies {busy: {id: [[s, e]]}} or {error: ...}."""

    name = "toy"
    description = "test provider"
    config_keys = (
        ConfigKey("base_url", "server"),
        ConfigKey("secret", "app secret", secret=True),
    )

    def __init__(self, max_ids: int = 3, max_days: int = 4, rate: int = 1000) -> None:
        self._limits = Limits(
            endpoints=(
                Endpoint("busy", "user", max_ids, max_days * 86_400, (RateWindow(rate, 1.0),)),
            ),
            concurrency=4,
            timeout=2.0,
        )

    def limits(self, config: ProviderConfig) -> Limits:
        return self._limits

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        return plan_calls(targets, window, self._limits)

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
        value = secret.reveal() if hasattr(secret, "reveal") else str(secret)
        return HttpRequest("POST", f"{config['base_url']}/token", {}, json.dumps(value).encode())

    def parse_token(self, response: HttpResponse, config: ProviderConfig) -> Token:
        data = json.loads(response.body)
        return Token(data["token"], data["ttl"])


class Server:
    """A scriptable toy API: busy per id, and a queue of misbehaviours."""

    def __init__(self) -> None:
        self.busy: dict[str, list[list[int]]] = {}
        self.script: list[dict[str, Any]] = []
        self.bad_ids: set[str] = set()
        self.failing_ids: set[str] = set()
        self.calls: list[dict[str, Any]] = []
        self.arrivals: list[float] = []
        self.tokens = 0
        self.valid_token = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/token", self.token)
        app.router.add_post("/busy", self.handle)
        return app

    async def token(self, request: web.Request) -> web.Response:
        self.tokens += 1
        self.valid_token = f"tok{self.tokens}"
        return web.json_response({"token": self.valid_token, "ttl": 7200})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append(time.monotonic())
        body = await request.json()
        self.calls.append(body)
        if request.headers.get("authorization") != f"Bearer {self.valid_token}":
            return web.json_response({"error": "token"}, status=401)
        if self.script:
            step = self.script.pop(0)
            if step.get("drop"):
                await simkit.drop_connection(request)
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


@pytest.fixture
async def server() -> AsyncIterator[tuple[Server, str]]:
    srv = Server()
    async with simkit.running(srv.app()) as url:
        yield srv, url


def config(url: str) -> dict[str, Any]:
    from slotfinder.providers import Secret

    return {"base_url": url, "secret": Secret("s3cret")}


async def run(
    url: str,
    ids: Sequence[str],
    provider: ToyProvider | None = None,
    policy: RetryPolicy | None = None,
    tokens: TokenCache | None = None,
) -> tuple[dict[str, Any], Fetcher]:
    provider = provider or ToyProvider()
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(
            session,
            policy=policy or RetryPolicy(base=0.0, attempts=4),
            tokens=tokens or TokenCache(),
            helper=None,  # parsed here, where the tests can watch it (see test_offload.py)
        )
        avails = await asyncio.wait_for(
            fetcher.fetch(provider, [Target(i) for i in ids], WINDOW, config(url)), 30
        )
    return {a.id: a for a in avails}, fetcher


async def test_calls_follow_the_plan_and_seams_merge(server: tuple[Server, str]) -> None:
    """Every planned call is made once, and an event across a chunk seam counts once."""
    srv, url = server
    seam = WINDOW.start + 4 * 86_400
    srv.busy["a"] = [[seam - 3600, seam + 3600]]
    result, fetcher = await run(url, ["a", "b", "c", "d"])
    assert len(srv.calls) == 6  # 2 groups x 3 chunks
    assert fetcher.stats.calls == {"toy/busy": 6}
    busy = result["toy:a"].busy
    assert list(busy.starts) == [seam - 3600]
    assert list(busy.ends) == [seam + 3600]
    assert srv.tokens == 1


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
    result, _ = await run(url, ["a", "b", "c", "d"], ToyProvider(max_days=10))
    unknown = {k for k, v in result.items() if not v.known}
    assert unknown == {"toy:a", "toy:b", "toy:c"}
    assert "gave up after 4 attempts" in (result["toy:a"].error or "")
    assert result["toy:d"].known


class ForgetfulProvider(ToyProvider):
    """A provider whose plan leaves out its last target (a plugin bug)."""

    def plan(self, targets: Sequence[Target], window: Span, config: ProviderConfig) -> list[Call]:
        return super().plan(targets[:-1], window, config)


async def test_an_id_no_call_covered_is_unknown_not_free(server: tuple[Server, str]) -> None:
    """With no data for an id there is nothing to call it free on: it is reported unknown."""
    _, url = server
    result, _ = await run(url, ["a", "b"], ForgetfulProvider(max_days=10))
    assert result["toy:a"].known
    assert not result["toy:b"].known
    assert "no toy call was planned" in (result["toy:b"].error or "")


class ThreadNotingProvider(ToyProvider):
    """Notes which thread parses each reply."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads: list[str] = []

    def parse(self, call: Call, response: HttpResponse, config: ProviderConfig) -> CallResult:
        self.threads.append(threading.current_thread().name)
        return super().parse(call, response, config)


async def test_large_replies_leave_the_loop_only_while_calls_wait(
    server: tuple[Server, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While calls wait for rate places a large reply is parsed in the worker thread (the loop
    must free places and send them); once every call is out, on the loop itself."""
    _, url = server
    monkeypatch.setattr(slotfinder.fetch, "PARSE_IN_THREAD", 0)  # every reply counts as large
    provider = ThreadNotingProvider(max_ids=1, max_days=10, rate=2)
    result, _ = await run(url, ["a", "b", "c", "d"], provider)
    assert all(a.known for a in result.values())
    main = threading.main_thread().name
    assert provider.threads[:2] == ["slotfinder-parse_0"] * 2  # c and d still waiting
    assert provider.threads[-1] == main  # nothing left to send


async def test_timeout_is_retried_then_reported(server: tuple[Server, str]) -> None:
    """A reply slower than the per-call timeout counts as a failed attempt, never as free."""
    srv, url = server
    srv.script = [{"sleep": 5}] * 2
    policy = RetryPolicy(base=0.0, attempts=2, timeout=0.3)
    result, _ = await run(url, ["a"], ToyProvider(max_days=10), policy)
    assert not result["toy:a"].known
    assert "within 0.3 s" in (result["toy:a"].error or "")


async def test_token_refreshed_once_on_refusal(server: tuple[Server, str]) -> None:
    """A refused token is refreshed once and the call repeated."""
    srv, url = server
    cache = TokenCache()
    await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    assert srv.tokens == 1  # cached across fetches
    srv.valid_token = "rotated"  # the server forgets the token
    result, fetcher = await run(url, ["a"], ToyProvider(max_days=10), tokens=cache)
    assert result["toy:a"].known
    assert srv.tokens == 2
    assert fetcher.stats.token_requests == 1


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
    """A fatal error (quota) is not retried and marks every id of the provider unknown."""
    srv, url = server
    srv.script = [{"error": "quota", "status": 403}]
    provider = ToyProvider(max_ids=1, max_days=10)
    policy = RetryPolicy(base=0.0, attempts=3)
    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, policy=policy, tokens=TokenCache())
        avails = await fetcher.fetch(provider, [Target(i) for i in "abc"], WINDOW, config(url))
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


async def test_client_limiter_keeps_under_the_server_window(server: tuple[Server, str]) -> None:
    """With a 10/s limit, no 1-second stretch at the server sees more than 10 calls."""
    srv, url = server
    provider = ToyProvider(max_ids=1, max_days=10, rate=10)
    await run(url, [f"u{i}" for i in range(25)], provider)
    arrivals = srv.arrivals
    assert len(arrivals) == 25
    for i, t in enumerate(arrivals):
        assert sum(1 for u in arrivals[i:] if u < t + 1.0) <= 10


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
    """A call whose reply is not back yet keeps its place, however long it takes."""
    limiter = RateLimiter([RateWindow(2, 0.1)])
    await limiter.acquire()
    await limiter.acquire()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(limiter.acquire(), 0.3)  # both still in flight
    limiter.release()
    started = time.monotonic()
    await asyncio.wait_for(limiter.acquire(), 1.0)
    assert time.monotonic() - started >= 0.09  # a window after the reply came back


async def test_a_place_counts_from_the_answer_not_the_end_of_the_body() -> None:
    """Freed when the status line is in (the server has counted the call by then), once: the
    body still being read does not hold the place, and leaving the block frees nothing more."""
    limiter = RateLimiter([RateWindow(1, 5.0)])
    async with limiter.slot() as answered:
        before = time.monotonic()
        answered()
        after = time.monotonic()
        answered()  # a second call changes nothing
        await asyncio.sleep(0.05)  # reading the body
    (freed,) = limiter._done[0]
    assert before <= freed <= after
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
    ),
    st.sampled_from([0, 2**45]),
)
def test_merge_rows_is_the_per_status_union(chunks: list[list[Any]], far: int) -> None:
    """Against brute force, near zero and beyond the one-pass band limit: the same seconds
    per status, spans sorted within a status, none empty, none touching or overlapping."""
    shift = np.array([far, far, 0], dtype=np.int64)
    arrays = [np.asarray(c, dtype=np.int64).reshape(-1, 3) + shift for c in chunks]
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
