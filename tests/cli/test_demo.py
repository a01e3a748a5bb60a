"""``slotfinder demo`` never fails: its request gives slots on every day of the year."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from slotfinder.demo import NEEDED, demo_request, demo_result, demo_window
from slotfinder.model import SuggestionResult
from slotfinder.testing import get_simulators, simkit
from slotfinder.times import zone_info

pytestmark = pytest.mark.timeout(300)

DAYS = 30
SEEDS = (4, 7, 11)


def _local_days(result: SuggestionResult) -> set[date]:
    from datetime import UTC, datetime

    zone = zone_info("Asia/Shanghai")
    return {datetime.fromtimestamp(s.start, UTC).astimezone(zone).date() for s in result.slots}


def test_demo_window_is_a_week_from_tomorrow() -> None:
    """The window starts at tomorrow's Shanghai midnight and holds five working days."""
    window = demo_window(date(2027, 3, 5))  # a Friday
    assert window.end - window.start == 7 * 86_400
    from datetime import UTC, datetime

    start = datetime.fromtimestamp(window.start, UTC).astimezone(zone_info("Asia/Shanghai"))
    assert start.isoformat() == "2027-03-06T00:00:00+08:00"


@pytest.mark.parametrize("seed", SEEDS)
async def test_demo_has_slots_on_two_days_whatever_today_is(seed: int) -> None:
    """For 30 consecutive days (from a fixed start, spanning a DST change in Europe and
    America), the demo shows at least three slots, and its slots fall on at least two days."""
    first = date(2027, 3, 10) + timedelta(days=seed)
    async with simkit.serving(get_simulators(), NEEDED, seed=seed) as served:
        tenants = {name: s.tenant for name, s in served.items()}
        bad: list[tuple[date, int, int]] = []
        for offset in range(DAYS):
            today = first + timedelta(days=offset)
            shown = await demo_result(tenants, today)
            every = await demo_result(tenants, today, max_results=100)
            days = _local_days(every)
            if len(shown.slots) < 3 or len(days) < 2:
                bad.append((today, len(shown.slots), len(days)))
    assert not bad, bad


def test_demo_request_names_everyone() -> None:
    """The request takes the configured names and zones of the simulated people."""
    from slotfinder.testing.simulation import DemoPerson, DemoTenant

    def tenant(p: str) -> DemoTenant:
        people = tuple(
            DemoPerson(
                id=f"{p}:{z}", name=f"{p} {z}", zone=z, working_hours={"mon-fri": ["09:00-18:00"]}
            )
            for z in ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
        )
        room = DemoPerson(id=f"{p}:room", name="Room", zone="Asia/Shanghai", room=True)
        return DemoTenant(config={"base_url": "http://127.0.0.1:9"}, people=people, rooms=(room,))

    request, _ = demo_request({n: tenant(n) for n in NEEDED}, date(2027, 1, 4))
    assert [a.zone for a in request.required] == ["Asia/Shanghai", "Europe/Berlin"] * 2
    assert all(a.name for a in request.attendees)
    assert [r.id for r in request.rooms] == ["dingtalk:room"]
