"""A series over HTTP: the service takes ``repeat``/``allow_conflicts`` as the command line
does, and ``suggest`` fetches the whole series span from the Feishu simulator in the calls
the plan gives for that span."""

from __future__ import annotations

import json
from collections import Counter

import aiohttp
import pytest
from feishu_env import Env

import slotfinder
from slotfinder import cli
from slotfinder.engine.series import series_span
from slotfinder.fetch.store import Store
from slotfinder.output import render
from slotfinder.plan import plan_calls
from slotfinder.plugins import get_providers
from slotfinder.providers import Target
from slotfinder.serve import ServeOptions, make_app
from slotfinder.testing import simkit

TOKEN = "test-serve-token-1234"
pytestmark = pytest.mark.timeout(120)
ARGV = [
    "--start", "2026-11-23T00:00:00+08:00", "--end", "2026-11-25T00:00:00+08:00",
    "--duration", "30m", "--repeat", "FREQ=WEEKLY;COUNT=12", "--allow-conflicts", "1",
    "--max", "3", "--order", "start",
]  # fmt: skip


async def test_suggest_fetches_the_series_span_in_the_planned_calls(env: Env) -> None:
    """Twelve weekly occurrences: every calendar is read over the whole span, in exactly the
    calls the plan gives for it, and nobody is left partly unknown."""
    config, people = env.config, env.people[:5]
    argv = [*(x for p in people for x in ("--attendee", p)), *ARGV]
    request = cli.request_from_flags(argv, config)
    result = await slotfinder.suggest(request, config=config, store=Store.local(cache=False))
    span = series_span(request)
    assert span.end - span.start > 78 * 86_400  # eleven weeks and a day
    provider = get_providers()["feishu"]
    targets = [Target(p.removeprefix("feishu:")) for p in people]
    limits = provider.limits(config.provider_config(provider))
    planned = Counter(f"feishu/{c.endpoint}" for c in plan_calls(targets, span, limits))
    assert result.calls == dict(planned)
    assert result.unknown == ()
    assert all(a.covered is not None and a.covered.end >= span.end for a in result.availabilities)
    assert result.slots
    assert all(len(s.occurrences) == 12 for s in result.slots)


async def test_service_answers_what_the_command_line_prints(env: Env) -> None:
    """``"repeat"`` and ``"allow_conflicts"`` are the flags: the answer equals the JSON the
    command line prints, occurrences included; a bad rule is a 400 naming the field."""
    config, people = env.config, env.people[:5]
    body = {"attendee": people, **dict(zip(ARGV[::2], ARGV[1::2], strict=True))}
    body = {k.removeprefix("--").replace("-", "_"): v for k, v in body.items()}
    app = make_app(
        config,
        ServeOptions(token=TOKEN),
        read=lambda argv: cli.request_from_flags(argv, config),
        store=Store.local(cache=False),
    )
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with simkit.running(app) as url, aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{url}/v1/suggest", json=body) as reply:
            status, answer = reply.status, await reply.json()
        bad = {**body, "repeat": "FREQ=MINUTELY;COUNT=2"}
        async with http.post(f"{url}/v1/suggest", json=bad) as reply:
            bad_status, refused = reply.status, await reply.json()
    assert status == 200
    request = cli.request_from_flags(
        [*(x for p in people for x in ("--attendee", p)), *ARGV], config
    )
    result = await slotfinder.suggest(request, config=config, store=Store.local(cache=False))
    printed = json.loads(render(result, "json", stats=True))
    assert answer["slots"] == printed["slots"]
    assert answer["slots"][0]["occurrences"]
    assert bad_status == 400
    assert refused["error"]["field"] == "repeat"
