"""``slotfinder demo``: the embedded default, a real mixed-provider run on this machine.

It starts every registered simulator that the demo needs (Feishu and DingTalk) on 127.0.0.1
free ports, takes a few people from each seeded organisation (Asia/Shanghai, Europe/Berlin,
America/New_York) and a meeting room, and runs the same :func:`slotfinder.suggest` a user
would run against the real APIs, over HTTP. Nothing leaves the loopback interface.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from slotfinder.api import suggest
from slotfinder.config import Config
from slotfinder.errors import SlotfinderError
from slotfinder.model import MeetingRequest, Span, SuggestionResult
from slotfinder.output import render
from slotfinder.plugins import get_providers
from slotfinder.testing import get_simulators, simkit
from slotfinder.testing.simulation import DemoPerson, DemoTenant

__all__ = ["DEMO_ZONE", "demo_request", "run_demo"]

DEMO_ZONE = "Asia/Shanghai"
NEEDED = ("feishu", "dingtalk")


def _pick(
    tenants: dict[str, DemoTenant],
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


def demo_request(
    tenants: dict[str, DemoTenant], now: datetime | None = None
) -> tuple[MeetingRequest, Config]:
    """The demo's meeting: 45 minutes in the next five days, from tomorrow in Shanghai."""
    required, optional, rooms = _pick(tenants)
    zone = ZoneInfo(DEMO_ZONE)
    today = (now or datetime.now(zone)).astimezone(zone).date()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)
    window = Span(start, start + timedelta(days=5))
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
        window=window,
        duration=45 * 60,
        granularity=15 * 60,
        buffer_before=5 * 60,
        max_results=5,
        zone=DEMO_ZONE,
    )
    return request, config


async def _run(seed: int) -> SuggestionResult:
    simulators = get_simulators()
    missing = [n for n in NEEDED if n not in simulators]
    if missing:
        raise SlotfinderError(f"the demo needs the {', '.join(missing)} simulator plugin(s)")
    async with simkit.serving(simulators, NEEDED, seed=seed) as served:
        request, config = demo_request({name: s.tenant for name, s in served.items()})
        return await suggest(request, config=config, providers=get_providers())


def run_demo(out: TextIO, *, seed: int = 7, output: str | None = None) -> int:
    """Run the demo, print slots, statistics and a timeline, write the HTML report."""
    result = asyncio.run(_run(seed))
    color = out.isatty()
    out.write(render(result, "table", stats=True, color=color))
    out.write("\n")
    out.write(render(result, "timeline", stats=False, color=color))
    out.write("\n")
    path = Path(output or "reports/slotfinder-demo.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, "html", stats=True, color=False), encoding="utf-8")
    print(f"HTML report: {path.resolve()}", file=out)
    return 0 if result.slots else 1
