"""``slotfinder serve``: the suggest command over HTTP, against the real simulators.

The service runs on 127.0.0.1 in the test's loop; its answers are compared with what the
command line prints for the same request, and two service instances sharing one Redis keep
the app's limit together.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from feishu_env import Env
from redis_server import redis_server

from slotfinder import cli
from slotfinder.config import Config
from slotfinder.fetch.store import Store
from slotfinder.serve import OPENAPI, ServeOptions, make_app
from slotfinder.testing import simkit

TOKEN = "test-serve-token-1234"
pytestmark = pytest.mark.timeout(120)


def _body(people: list[str]) -> dict[str, Any]:
    return {
        "attendee": people,
        "start": "2026-11-23T00:00:00+08:00",
        "end": "2026-11-28T00:00:00+08:00",
        "duration": "30m",
        "max": 5,
        "order": "start",
    }


async def _serve(config: Config, store: Store | None = None, **options: Any) -> AsyncIterator[str]:
    app = make_app(
        config,
        ServeOptions(token=TOKEN, **options),
        read=lambda argv: cli.request_from_flags(argv, config),
        store=store or Store.local(),
    )
    async with simkit.running(app) as url:
        yield url


async def _post(
    url: str, body: object, token: str | None = TOKEN, raw: bytes | None = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/v1/suggest",
            data=raw if raw is not None else json.dumps(body),
            headers={**headers, "Content-Type": "application/json"},
        ) as reply,
    ):
        return reply.status, await reply.json()


async def test_suggest_answers_exactly_what_the_command_line_prints(
    env: Env, tmp_path: Any
) -> None:
    """The JSON answer equals `slotfinder suggest --format json` for the same fields."""
    body = _body(env.people[:4])
    async for url in _serve(env.config):
        status, answer = await _post(url, body)
    assert status == 200
    assert answer["slots"]
    args = cli.make_parser().parse_args(
        [
            "suggest",
            *[x for p in body["attendee"] for x in ("--attendee", p)],
            *["--start", body["start"], "--end", body["end"], "--duration", "30m"],
            *["--max", "5", "--order", "start", "--format", "json"],
        ]
    )
    request = cli.build_request(args, env.config)
    import slotfinder

    result = await slotfinder.suggest(request, config=env.config, store=Store.local(cache=False))
    from slotfinder.output import render

    printed = json.loads(render(result, "json", stats=True))
    assert answer["slots"] == printed["slots"]
    assert answer["periods"] == printed["periods"]
    assert set(answer) == set(printed)
    assert all("available" not in slot for slot in answer["slots"])


async def test_full_lists_answers_what_the_full_lists_flag_prints(env: Env) -> None:
    """``"full_lists": true`` is ``--full-lists``: the answer equals that command line's
    JSON; ``false`` is the compact default, and anything but a boolean is a 400."""
    body = _body(env.people[:4])
    async for url in _serve(env.config):
        status, full = await _post(url, {**body, "full_lists": True})
        _, compact = await _post(url, {**body, "full_lists": False})
        bad_status, bad = await _post(url, {**body, "full_lists": "yes"})
    assert status == 200
    assert bad_status == 400
    assert bad["error"]["field"] == "full_lists"
    argv = [
        *[x for p in body["attendee"] for x in ("--attendee", p)],
        *["--start", body["start"], "--end", body["end"], "--duration", "30m"],
        *["--max", "5", "--order", "start", "--format", "json", "--full-lists"],
    ]
    assert cli.make_parser().parse_args(["suggest", *argv]).full_lists
    request = cli.request_from_flags(argv, env.config)
    import slotfinder
    from slotfinder.output import render

    result = await slotfinder.suggest(request, config=env.config, store=Store.local(cache=False))
    printed = json.loads(render(result, "json", stats=True, full_lists=True))
    assert full["slots"] == printed["slots"]
    assert full["slots"]
    for f, c in zip(full["slots"], compact["slots"], strict=True):
        assert len(f["available"]) == f["available_count"] == c["available_count"]
        assert "available" not in c
        assert c["people"] == [p for p in f["people"] if p["state"] != "free"]


async def test_bad_input_names_the_field_and_no_call_is_made(env: Env) -> None:
    """A bad duration is a 400 naming `duration`; the simulator sees no call."""
    from slotfinder_feishu.simulator import STATS

    before = sum(env.sim_app[STATS].calls.values())
    async for url in _serve(env.config):
        status, answer = await _post(url, {**_body(env.people[:2]), "duration": "soon"})
        unknown_status, unknown = await _post(url, {**_body(env.people[:2]), "colour": "red"})
        max_status, bad_max = await _post(url, {**_body(env.people[:2]), "max": "lots"})
        body = _body(env.people[:2])
        del body["start"], body["duration"]
        missing_status, missing = await _post(url, body)
    assert status == 400
    assert answer["error"]["field"] == "duration"
    # argparse's refusals name the field, in the service's words, not the command line's
    assert (max_status, bad_max["error"]["field"]) == (400, "max")
    assert "lots" in bad_max["error"]["message"]
    assert (missing_status, missing["error"]["field"]) == (400, "start")
    assert "missing: start, duration" in missing["error"]["message"]
    assert "--help" not in bad_max["error"]["message"] + missing["error"]["message"]
    assert unknown_status == 400
    assert "unknown field" in unknown["error"]["message"]
    assert sum(env.sim_app[STATS].calls.values()) == before


async def test_a_token_is_required_and_bodies_are_bounded(env: Env) -> None:
    """No token or a wrong one is a 401; an oversized body a 413; health needs no token."""
    async for url in _serve(env.config, max_body=1024):
        assert (await _post(url, _body(env.people[:2]), token=None))[0] == 401
        assert (await _post(url, _body(env.people[:2]), token="wrong"))[0] == 401
        status, _ = await _post(url, None, raw=b'{"attendee": "' + b"x" * 4096 + b'"}')
        assert status == 413
        async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as r:
            assert r.status == 200


async def test_file_providers_are_off_unless_allowed(env: Env) -> None:
    """An `ics:` id is refused by a default service, saying file providers are off."""
    async for url in _serve(env.config):
        status, answer = await _post(url, {**_body(env.people[:1]), "attendee": ["ics:.env"]})
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{url}/v1/providers", headers={"Authorization": f"Bearer {TOKEN}"}
            ) as reply,
        ):
            names = {p["name"] for p in (await reply.json())["providers"]}
    assert status == 400
    assert answer["error"]["field"].startswith("attendee")
    assert "--allow-files" in answer["error"]["message"]
    assert ".env" not in answer["error"]["message"]
    assert "ics" not in names
    assert "feishu" in names


async def test_the_openapi_description_matches_the_routes(env: Env) -> None:
    """The served description is the module's, names every route, and its request schema
    lists every field the service accepts."""
    from slotfinder.serve import _OBJECTS, _REPEATED, _SINGLE, _SWITCHES

    async for url in _serve(env.config):
        async with aiohttp.ClientSession() as session, session.get(f"{url}/openapi.json") as r:
            served = await r.json()
    assert served == json.loads(json.dumps(OPENAPI))
    assert served["openapi"].startswith("3.")
    assert set(served["paths"]) == {"/v1/suggest", "/v1/providers", "/healthz", "/openapi.json"}
    fields = set(served["components"]["schemas"]["SuggestRequest"]["properties"])
    assert fields == set(_REPEATED) | set(_SINGLE) | set(_SWITCHES) | set(_OBJECTS)
    slot = served["components"]["schemas"]["Slot"]
    assert "available_count" in slot["required"]
    assert "available" not in slot["required"]


async def test_two_services_on_one_redis_behave_as_one(env: Env) -> None:
    """Two service instances with their own Redis clients answer concurrent requests for
    the same app without a rate-limit reply, and the second asking of a calendar is free."""
    from slotfinder_feishu.simulator import STATS

    from slotfinder import shared

    with redis_server() as (redis_url, _):
        stores = []
        for _ in range(2):
            client = shared.connect(redis_url)
            stores.append(
                Store(
                    cache=shared.RedisCache(client),
                    limiter_for=shared.RedisLimiters(client),
                    tokens=shared.RedisTokens(client),
                )
            )
        gens = [_serve(env.config, store) for store in stores]
        urls = [await g.__anext__() for g in gens]
        bodies = [_body(env.people[i * 30 : (i + 1) * 30]) for i in range(2)]
        answers = await asyncio.gather(
            *(_post(urls[i % 2], {**bodies[i % 2], "end": "2026-12-23T00:00:00+08:00"})
              for i in range(4))
        )  # fmt: skip
        assert all(status == 200 for status, _ in answers)
        calls = sum(env.sim_app[STATS].calls.values())
        again = await _post(urls[1], {**bodies[0], "end": "2026-12-23T00:00:00+08:00"})
        assert again[0] == 200
        assert sum(env.sim_app[STATS].calls.values()) == calls
        for g in gens:
            with pytest.raises(StopAsyncIteration):
                await g.__anext__()
        for store in stores:
            assert store.cache is not None
            await store.cache.close()
    assert env.sim_app[STATS].rate_limited == 0


def test_the_command_line_refuses_to_serve_without_a_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`slotfinder serve` without SLOTFINDER_SERVE_TOKEN exits 2 with one line."""
    monkeypatch.delenv("SLOTFINDER_SERVE_TOKEN", raising=False)
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    status = cli.main(["serve", "--port", "0"], out=out)
    assert status == 2
    assert "SLOTFINDER_SERVE_TOKEN" in err.getvalue()
    assert "Traceback" not in err.getvalue()


async def test_unanswered_field_means_the_flag(env: Env) -> None:
    """`"unanswered"` is read as `--unanswered`; a value it does not take is a 400 naming it."""
    async for url in _serve(env.config):
        fields = {**_body(env.people[:3]), "unanswered": "busy", "tentative": "free"}
        status, answer = await _post(url, fields)
        bad_status, bad = await _post(url, {**_body(env.people[:3]), "unanswered": "maybe"})
    assert status == 200
    assert answer["slots"]
    assert bad_status == 400
    assert bad["error"]["field"] == "unanswered"
    assert "'maybe'" in bad["error"]["message"]
    request = cli.request_from_flags(["--unanswered", "busy", "--attendee", "x:y", "--start",
                                      "2026-11-23", "--end", "2026-11-24", "--duration", "30m"],
                                     env.config)  # fmt: skip
    assert request.unanswered == "busy"
