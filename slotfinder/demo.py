"""``slotfinder demo`` and ``slotfinder simulate``: the simulated providers on this machine.

The demo starts the Feishu and DingTalk simulators on 127.0.0.1 free ports, takes a few people
from each seeded organisation (Asia/Shanghai, Europe/Berlin, America/New_York) and a meeting
room, and runs the same :func:`slotfinder.suggest` a user would run against the real APIs, over
HTTP. Nothing leaves the loopback interface. The request is a pure function of the tenants and
"today" (:func:`demo_request`), so a test can run it for any day of the year.

The meeting is chosen so that it fits whatever day today is: a 30-minute call needing at least
three of the two Asia and two Europe people (whose working days overlap only two to three
hours), the Americas optional, over the seven days from tomorrow (five working days, whatever
weekday today is). ``tests/test_demo.py`` runs it for many days and seeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from slotfinder.config import Config
from slotfinder.errors import InputError, SlotfinderError
from slotfinder.model import MeetingRequest, Span, SuggestionResult
from slotfinder.times import midnight, zone_info

if TYPE_CHECKING:
    from slotfinder.testing.simulation import DemoPerson, DemoTenant, Simulator

__all__ = ["DEMO_DAYS", "DEMO_ZONE", "NEEDED", "demo_request", "run_demo", "simulate"]

DEMO_ZONE = "Asia/Shanghai"
DEMO_DAYS = 7
"""A week from tomorrow: five working days whatever weekday today is."""
NEEDED = ("feishu", "dingtalk")


def _pick(
    tenants: Mapping[str, DemoTenant],
) -> tuple[list[DemoPerson], list[DemoPerson], list[DemoPerson]]:
    """Required: people in Asia and Europe from both providers; optional: the Americas; rooms."""
    required: list[DemoPerson] = []
    optional: list[DemoPerson] = []
    rooms: list[DemoPerson] = []
    for name in NEEDED:
        tenant = tenants[name]
        asia = [p for p in tenant.people if p.zone.startswith("Asia/")][:1]
        europe = [p for p in tenant.people if p.zone.startswith("Europe/")][:1]
        america = [p for p in tenant.people if p.zone.startswith("America/")][:1]
        required += asia + europe
        optional += america
        rooms += list(tenant.rooms[:1]) if name == "dingtalk" else []
    return required, optional, rooms


def demo_window(today: date) -> Span:
    """The seven days from tomorrow's midnight in Shanghai."""
    first = today.toordinal() - date(1970, 1, 1).toordinal() + 1
    return Span(midnight(first, DEMO_ZONE), midnight(first + DEMO_DAYS, DEMO_ZONE))


def demo_request(
    tenants: Mapping[str, DemoTenant], today: date | None = None
) -> tuple[MeetingRequest, Config]:
    """The demo's meeting and configuration for ``today`` (default: today in Shanghai)."""
    required, optional, rooms = _pick(tenants)
    day = today or datetime.now(zone_info(DEMO_ZONE)).date()
    attendees: dict[str, dict[str, object]] = {}
    for p in [*required, *optional, *rooms]:
        attendees[p.id] = {"tz": p.zone, "name": p.name}
        if p.working_hours:
            attendees[p.id]["working_hours"] = dict(p.working_hours)
    config = Config(
        tz=DEMO_ZONE,
        providers={name: dict(t.config) for name, t in tenants.items()},
        attendees=attendees,
        env={},
    )
    request = MeetingRequest(
        attendees=[config.attendee(p.id) for p in required]
        + [config.attendee(p.id, optional=True) for p in optional],
        rooms=[config.attendee(p.id, room=True) for p in rooms],
        window=demo_window(day),
        duration=30 * 60,
        granularity=15 * 60,
        buffer_before=5 * 60,
        quorum=3,
        max_results=5,
        order="score",
        zone=DEMO_ZONE,
    )
    return request, config


def _simulators(names: tuple[str, ...]) -> dict[str, Simulator]:
    from slotfinder.testing import get_simulators

    simulators = get_simulators()
    missing = [n for n in names if n not in simulators]
    if missing:
        raise SlotfinderError(f"the demo needs the {', '.join(missing)} simulator plugin(s)")
    return simulators


async def demo_result(
    tenants: Mapping[str, DemoTenant], today: date | None = None, *, max_results: int = 5
) -> SuggestionResult:
    """The demo's ``suggest`` against running simulators whose tenants are given."""
    import attrs

    from slotfinder.api import suggest
    from slotfinder.plugins import get_providers

    request, config = demo_request(tenants, today)
    request = attrs.evolve(request, max_results=max_results)
    return await suggest(request, config=config, providers=get_providers())


async def _run(seed: int) -> SuggestionResult:
    from slotfinder.testing import simkit

    async with simkit.serving(_simulators(NEEDED), NEEDED, seed=seed) as served:
        return await demo_result({name: s.tenant for name, s in served.items()})


def run_demo(
    out: TextIO,
    write_file: Callable[[str, str, str], Path],
    *,
    seed: int = 7,
    output: str | None = None,
) -> int:
    """Run the demo, print slots, statistics and a timeline, write the HTML report with
    ``write_file(target, text, flag)`` (the command line's all-or-nothing writer)."""
    from slotfinder.output import render

    target = output or "reports/slotfinder-demo.html"
    if output is None:
        with contextlib.suppress(OSError):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(_run(seed))
    color = out.isatty()
    out.write(render(result, "table", stats=True, color=color))
    out.write("\n")
    out.write(render(result, "timeline", stats=False, color=color))
    out.write("\n")
    path = write_file(target, render(result, "html", stats=True, color=False), "--output")
    print(f"HTML report: {path}", file=out)
    return 0 if result.slots else 1


# --- simulate ------------------------------------------------------------------------------------


def simulate(
    name: str, out: TextIO, *, port: int = 0, seed: int = 0, write_config: str | None = None
) -> int:
    """Serve one simulator, or ``all`` of them, until Ctrl-C or SIGTERM.

    Their ``[providers.*]`` settings go to one file only the user can read (credentials stay
    out of the output); the default file is temporary and removed when the simulators stop.
    """
    simulators = _simulators(())
    if name != "all" and name not in simulators:
        raise InputError("PROVIDER", name, f"no simulator; have {', '.join(simulators)}, all")
    names = tuple(simulators) if name == "all" else (name,)
    if port and port + len(names) - 1 > 65535:
        raise InputError("--port", port, f"{len(names)} consecutive ports must end by 65535")
    folder = None if write_config else tempfile.mkdtemp(prefix="slotfinder-sim-")
    path = Path(write_config) if write_config else Path(folder or ".") / "sim.toml"
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(simulators, names, out, port=port, seed=seed, path=path))
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


async def _serve(
    simulators: Mapping[str, Simulator],
    names: tuple[str, ...],
    out: TextIO,
    *,
    port: int,
    seed: int,
    path: Path,
) -> None:
    from slotfinder.plugins import get_providers

    providers = get_providers()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        tenants: dict[str, DemoTenant] = {}
        for i, name in enumerate(names):
            sim = simulators[name]
            wanted = port + i if port else 0
            base_url = await stack.enter_async_context(_listening(sim, seed, wanted))
            tenants[name] = sim.demo(base_url, seed=seed)
            print(f"{name} simulator on {base_url} (seed {seed}); Ctrl-C stops it", file=out)
        shown = _write_config(path, {n: dict(t.config) for n, t in tenants.items()})
        print(f"configuration (credentials included): {shown}", file=out)
        print(f"  use it: slotfinder suggest --config {shown} ...", file=out)
        for name, tenant in tenants.items():
            provider = providers.get(name)
            secret = {k.name for k in provider.config_keys if k.secret} if provider else set()
            print(f"[providers.{name}]", file=out)
            for key, value in tenant.config.items():
                print(f'{key} = "{f"<in {shown.name}>" if key in secret else value}"', file=out)
            for person in tenant.people[:5] + tenant.rooms:
                kind = "room" if person.room else "user"
                print(f"# {kind} {person.id} ({person.zone})", file=out)
        out.flush()
        await stop.wait()


@contextlib.asynccontextmanager
async def _listening(sim: Simulator, seed: int, port: int) -> AsyncIterator[str]:
    """The simulator served on ``port``; a port the system refuses is bad input (exit 2)."""
    from slotfinder.testing import simkit

    manager = simkit.running(sim.app(seed=seed), port=port)
    try:
        base_url = await manager.__aenter__()
    except OSError as exc:
        raise InputError("--port", port, exc.strerror or str(exc)) from None
    try:
        yield base_url
    finally:
        await manager.__aexit__(None, None, None)


def _write_config(path: Path, settings: Mapping[str, Mapping[str, str]]) -> Path:
    """Write ``[providers.NAME]`` tables to a file only the user can read."""
    lines: list[str] = []
    for name, table in settings.items():
        lines += [f"[providers.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        return path.resolve()
    except OSError as exc:
        raise InputError("--write-config", str(path), exc.strerror or str(exc)) from None
