"""The example plugins in docs/ install with pip, are found via their entry point, and work.

``docs/example-plugin`` is the ``office`` local provider; ``docs/example-http-plugin`` is the
``acme`` web-API provider that opens ``docs/plugins.md``, run here against a loopback server.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import paths
import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from slotfinder.errors import SlotfinderError
from slotfinder.model import Span
from slotfinder.providers import Call, HttpResponse, RetryLater, TokenExpired
from slotfinder.testing.simkit import running

DOCS = paths.ROOT / "docs"
EXAMPLE = DOCS / "example-plugin"
HTTP_EXAMPLE = DOCS / "example-http-plugin"
ACME_SOURCE = HTTP_EXAMPLE / "slotfinder_acme" / "__init__.py"

# pip failures that say "this machine cannot build wheels offline", not "the example is wrong".
_ENVIRONMENTAL = (
    "invalid command 'bdist_wheel'",
    "No matching distribution found for setuptools",
    "Could not find a version that satisfies the requirement setuptools",
)


def _pip_install(source: Path, target: Path) -> None:
    """``pip install --no-deps --target``: without build isolation first, then with it.

    Without isolation the venv's own setuptools builds the wheel (offline, fast) when it can;
    older setuptools need ``wheel``, so the isolated build (which fetches setuptools from the
    configured index) is the fallback. If neither can build for environmental reasons the
    test is skipped with pip's message; any other pip failure fails the test.
    """
    base = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target)]
    errors = []
    for extra in (["--no-build-isolation"], []):
        run = subprocess.run(
            [*base, *extra, str(source)], capture_output=True, text=True, timeout=240, check=False
        )
        if run.returncode == 0:
            return
        errors.append(run.stdout + run.stderr)
        shutil.rmtree(target, ignore_errors=True)
    if all(any(marker in e for marker in _ENVIRONMENTAL) for e in errors):
        pytest.skip(f"cannot build a wheel on this machine: {errors[-1].strip()[-300:]}")
    pytest.fail(f"pip could not install {source.name}:\n" + "\n---\n".join(errors))


def _install(example: Path, tmp_path: Path) -> Path:
    """A copy of ``example`` pip-installed into a fresh target folder, which is returned."""
    source = tmp_path / example.name
    shutil.copytree(example, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = tmp_path / "site"
    _pip_install(source, target)
    return target


READ = textwrap.dedent(
    """
    import json
    from slotfinder.config import Config
    from slotfinder.model import Attendee, Span
    from slotfinder.plugins import get_providers

    providers = get_providers()
    office = providers["office"]
    config = Config.load().provider_config(office)   # SLOTFINDER_OFFICE_FILE
    window = Span(1_795_000_000, 1_795_000_000 + 60 * 86_400)
    result = office.read(
        [Attendee(id="office:alice", zone="Europe/Berlin"), Attendee(id="office:bob")],
        window,
        "Asia/Shanghai",
        config,
    )
    print(json.dumps({
        "module": type(office).__module__,
        "names": sorted(providers),
        "read": [
            {"id": a.id, "error": a.error,
             "rows": [[int(s), int(e), int(c)] for s, e, c in
                      zip(a.busy.starts, a.busy.ends, a.busy.status)]}
            for a in result
        ],
    }))
    """
)

CSV = """who,start,end,status
*,2026-12-24,2026-12-27,oof
alice,2026-11-25T14:00:00+01:00,2026-11-25T16:00:00+01:00,busy
bob,2026-11-26,,tentative
carol,2026-11-26,,busy
"""


def t(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.timeout(600)
def test_example_plugin_installs_and_reads(tmp_path: Path) -> None:
    """pip-installing the example makes ``office`` a provider that reads the CSV per attendee."""
    target = _install(EXAMPLE, tmp_path)
    assert (target / "slotfinder_office" / "__init__.py").is_file()

    work = tmp_path / "work"
    work.mkdir()
    (work / "office.csv").write_text(CSV, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
        "SLOTFINDER_OFFICE_FILE": "office.csv",  # relative to the current directory
    }
    env.pop("SLOTFINDER_LOAD_PLUGINS", None)
    run = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["module"] == "slotfinder_office"
    assert {"office", "ics", "json"} <= set(out["names"])

    alice, bob = out["read"]
    assert alice["error"] is None
    assert bob["error"] is None

    oof, busy, tentative = 3, 2, 1
    # The office closure is local to each attendee: Berlin for alice, Shanghai (request) for bob.
    assert sorted(alice["rows"]) == [
        [t("2026-11-25T14:00:00+01:00"), t("2026-11-25T16:00:00+01:00"), busy],
        [t("2026-12-24T00:00:00+01:00"), t("2026-12-27T00:00:00+01:00"), oof],
    ]
    assert sorted(bob["rows"]) == [
        [t("2026-11-26T00:00:00+08:00"), t("2026-11-27T00:00:00+08:00"), tentative],
        [t("2026-12-24T00:00:00+08:00"), t("2026-12-27T00:00:00+08:00"), oof],
    ]


@pytest.mark.timeout(120)
def test_example_plugin_reports_a_missing_file_as_unknown(tmp_path: Path) -> None:
    """Imported from source, the example marks attendees unknown when its CSV is missing."""
    code = textwrap.dedent(
        """
        import json
        from slotfinder.model import Attendee, Span
        from slotfinder_office import OfficeProvider
        [a] = OfficeProvider().read(
            [Attendee(id="office:alice")], Span(0, 86_400), "UTC", {"file": "nope.csv"}
        )
        print(json.dumps([a.known, a.error]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    known, error = json.loads(run.stdout)
    assert not known
    assert "nope.csv" in error


# --- the acme HTTP provider -----------------------------------------------------------------


@functools.cache
def _acme_provider() -> Any:
    """An ``AcmeProvider`` from the source file, imported under a module name of its own."""
    spec = importlib.util.spec_from_file_location("slotfinder_acme_source", ACME_SOURCE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.AcmeProvider()


def test_plugins_md_opens_with_the_acme_package() -> None:
    """The first Python block of docs/plugins.md is slotfinder_acme/__init__.py, verbatim."""
    text = (DOCS / "plugins.md").read_text(encoding="utf-8")
    first = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert first is not None
    assert first.group(1) == ACME_SOURCE.read_text(encoding="utf-8")


def _call(*ids: str) -> Call:
    return Call(endpoint="freebusy", ids=ids, span=Span(0, 86_400))


def test_acme_parse_steers_the_fetcher() -> None:
    """401 asks for a new token, 429 for a retry after Retry-After, a missing id stays out."""
    acme = _acme_provider()
    config = {"client_id": "app-1", "base_url": "http://acme.test"}
    with pytest.raises(TokenExpired):
        acme.parse(_call("a"), HttpResponse(401, {}, b""), config)
    with pytest.raises(RetryLater) as limited:
        acme.parse(_call("a"), HttpResponse(429, {"retry-after": "7"}, b""), config)
    assert (limited.value.after, limited.value.rate_limited) == (7.0, True)
    with pytest.raises(RetryLater) as down:
        acme.parse(_call("a"), HttpResponse(503, {}, b"<html>"), config)
    assert (down.value.after, down.value.rate_limited) == (None, False)
    body = {
        "calendars": {"a": [{"start": "1970-01-01T10:00:00+01:00", "end": "1970-01-01T10:00Z"}]}
    }
    result = acme.parse(_call("a", "b"), HttpResponse(200, {}, json.dumps(body).encode()), config)
    assert result.busy == {"a": [(9 * 3600, 10 * 3600, 2)]}
    assert result.errors == {}


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_TIMES = st.sampled_from(["2026-11-02T10:00:00Z", "2026-11-02T10:00:00", "2026-02-30T00:00Z", ""])
_ITEMS = st.lists(st.fixed_dictionaries({"start": _TIMES, "end": _TIMES}), max_size=3)
_BODIES = st.one_of(
    st.binary(max_size=64),
    _JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(["a", "b"]), _ITEMS | _JSON_VALUES).map(
        lambda c: json.dumps({"calendars": c}).encode()
    ),
    st.fixed_dictionaries({"access_token": _JSON_VALUES, "expires_in": _JSON_VALUES}).map(
        lambda t: json.dumps(t).encode()
    ),
)


@given(
    status=st.sampled_from([200, 201, 400, 401, 404, 429, 500, 503]),
    retry_after=st.none() | st.text(max_size=6),
    body=_BODIES,
)
def test_acme_parsers_raise_only_slotfinder_errors(
    status: int, retry_after: str | None, body: bytes
) -> None:
    """Whatever comes back, the acme parsers return a value or raise a SlotfinderError."""
    acme = _acme_provider()
    headers = {} if retry_after is None else {"retry-after": retry_after}
    response = HttpResponse(status, headers, body)
    with contextlib.suppress(SlotfinderError):
        acme.parse(_call("a", "b"), response, {})
    with contextlib.suppress(SlotfinderError):
        acme.parse_token(response, {})


DAY = 86_400
START = 1_793_577_600  # 2026-11-02T00:00:00Z
DAYS = 20  # two chunks of at most 14 days
IDS = ["alice", "bob", "ghost", *(f"u{n:02}" for n in range(9))]  # two groups of at most 10
BUSY = {
    "alice": [
        (START + DAY + 10 * 3600, START + DAY + 11 * 3600),
        (START + 14 * DAY - 3600, START + 14 * DAY + 3600),
    ],
    "bob": [(START + 2 * DAY + 9 * 3600, START + 2 * DAY + 9 * 3600 + 1800)],
    **{f"u{n:02}": [] for n in range(9)},
}  # "ghost" is unknown to the server
CREDENTIALS = {"client_id": "app-1", "client_secret": "s3cret"}
BEIJING = timezone(timedelta(hours=8))


@attrs.define
class AcmeServer:
    """The made-up Acme API: a one-off 401 on the 2nd data call and a 429 on the 3rd."""

    tokens: list[str] = attrs.field(factory=list)
    calls: list[tuple[str, tuple[str, ...], int, int, int]] = attrs.field(factory=list)
    """``(token, ids, start, end, status)`` per data call, in arrival order."""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_post("/v1/freebusy", self.freebusy)
        return app

    async def token(self, request: web.Request) -> web.Response:
        if json.loads(await request.read()) != CREDENTIALS:
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens.append(f"tok-{len(self.tokens) + 1}")
        return web.json_response({"access_token": self.tokens[-1], "expires_in": 3600})

    async def freebusy(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.loads(await request.read())
        ids = tuple(body["ids"])
        start = int(datetime.fromisoformat(body["start"]).timestamp())
        end = int(datetime.fromisoformat(body["end"]).timestamp())
        status = 200
        if len(self.calls) == 1:
            status = 401  # the token expired
        elif len(self.calls) == 2:
            status = 429
        elif token not in self.tokens:
            status = 401
        elif not (1 <= len(ids) <= 10 and 0 < end - start <= 14 * DAY):
            status = 400
        self.calls.append((token, ids, start, end, status))
        if status == 429:
            return web.json_response({}, status=429, headers={"Retry-After": "1"})
        if status != 200:
            return web.json_response({"error": status}, status=status)

        def text(t: int) -> str:
            return datetime.fromtimestamp(t, BEIJING).isoformat()

        calendars = {
            i: [{"start": text(s), "end": text(e)} for s, e in BUSY[i] if s < end and e > start]
            for i in ids
            if i in BUSY
        }
        return web.json_response({"calendars": calendars})


SUGGEST = textwrap.dedent(
    """
    import json, sys
    from slotfinder import Attendee, MeetingRequest, RetryPolicy, Span, suggest_sync
    from slotfinder.config import Config
    from slotfinder.plan import min_calls, plan_calls
    from slotfinder.plugins import get_providers
    from slotfinder.providers import Target

    start, days, ids = json.loads(sys.argv[1])
    window = Span(start, start + days * 86_400)
    request = MeetingRequest(
        attendees=[Attendee(id=f"acme:{i}", optional=i == "ghost") for i in ids],
        window=window,
        duration=1800,
    )
    result = suggest_sync(request, policy=RetryPolicy(base=0), lookahead=0)
    acme = get_providers()["acme"]
    limits = acme.limits(Config.load().provider_config(acme))
    print(json.dumps({
        "module": type(acme).__module__,
        "has_plan": hasattr(acme, "plan"),
        "min_calls": min_calls(len(ids), "user", window, limits),
        "plan": [[c.ids, c.span.start, c.span.end] for c in
                 plan_calls([Target(i) for i in ids], window, limits)],
        "calls": result.calls,
        "slots": len(result.slots),
        "read": {
            a.id: a.error if a.error else
            sorted([int(s), int(e), int(c)] for s, e, c in
                   zip(a.busy.starts, a.busy.ends, a.busy.status))
            for a in result.availabilities
        },
    }))
    """
)


@pytest.mark.timeout(600)
async def test_acme_installs_and_fetches_the_minimum_plan(tmp_path: Path) -> None:
    """Installed, ``acme`` reads busy time over HTTP in the fewest calls, through a 401 and a
    429, and an id the API does not know comes back unknown."""
    target = _install(HTTP_EXAMPLE, tmp_path)
    assert (target / "slotfinder_acme" / "py.typed").is_file()
    server = AcmeServer()
    async with running(server.app()) as base_url:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
            "SLOTFINDER_ACME_BASE_URL": base_url,
            "SLOTFINDER_ACME_CLIENT_ID": CREDENTIALS["client_id"],
            "SLOTFINDER_ACME_CLIENT_SECRET": CREDENTIALS["client_secret"],
        }
        for name in ("SLOTFINDER_LOAD_PLUGINS", "SLOTFINDER_REDIS_URL"):
            env.pop(name, None)
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            SUGGEST,
            json.dumps([START, DAYS, IDS]),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, stderr.decode()
    out = json.loads(stdout)
    assert out["module"] == "slotfinder_acme"
    assert not out["has_plan"]

    # Busy time per id, the event across the 14-day seam once; "ghost" unknown, never free.
    read = out.pop("read")
    assert "no data" in read.pop("acme:ghost")
    assert read == {f"acme:{i}": [[s, e, 2] for s, e in sorted(BUSY[i])] for i in BUSY}
    assert out["slots"] > 0

    # The minimum plan: 12 ids in 2 groups x 20 days in 2 chunks = 4 calls, each asked once
    # more: after the 401 (with the refreshed token) and after the 429.
    plan = {(tuple(ids), s, e) for ids, s, e in out["plan"]}
    assert len(plan) == len(out["plan"]) == out["min_calls"] == 4
    assert {(ids, s, e) for _, ids, s, e, _ in server.calls} == plan
    assert len(server.calls) == len(plan) + 2
    assert out["calls"] == {"acme/freebusy": len(plan) + 2}
    assert server.tokens == ["tok-1", "tok-2"]
    refused = server.calls[1]
    assert refused[0] == "tok-1"
    again = [token for token, *call, _ in server.calls[2:] if tuple(call) == refused[1:4]]
    assert again
    assert set(again) == {"tok-2"}
    assert [c[4] for c in server.calls].count(200) == len(plan)
