"""Every row of the status table (docs/design.md) for DingTalk, fetched from the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slotfinder_dingtalk.simulator import TENANT
from slotfinder_dingtalk.tenant import Event, Tenant
from test_dingtalk_http import PROVIDER, T0, fetching

from slotfinder.model import DAY, Availability, Span
from slotfinder.providers import Target

pytestmark = pytest.mark.timeout(90)

WINDOW = Span(T0, T0 + 28 * DAY)
ROWS = {
    "accepted": "busy",
    "tentative": "tentative",
    "unanswered": "tentative",  # reported TENTATIVE: DingTalk has no status of its own for it
    "declined": None,
    "removed": None,
    "free": None,
    "all-day (day off)": "busy",
    "room pending approval": "tentative",
}
"""What each kind of calendar entry must become (``None``: no busy entry at all)."""


def _kind(e: Event, room: bool) -> str | None:
    if room:
        return "room pending approval" if e.kind == "tentative" else None
    if e.all_day:
        return "all-day (day off)" if e.kind == "accepted" else None
    return e.kind


def _alone(spans: list[tuple[int, int]], e: Event) -> bool:
    return sum(s <= e.end and e.start <= t for s, t in spans) == 1


def _examples(tenant: Tenant) -> Iterator[tuple[str, Target, Event]]:
    """One item of each kind with its owner, none touching another item (rows may be merged)."""
    found: set[str] = set()
    owners = [(Target(p.union_id, "user", p.zone), False) for p in tenant.people]
    owners += [(Target(r.room_id, "room", r.zone), True) for r in tenant.rooms]
    for target, room in owners:
        items = tenant.calendar(target.id, WINDOW.start, WINDOW.end)
        spans = [(e.start, e.end) for e in items]
        for e in items:
            kind = _kind(e, room)
            inside = WINDOW.start <= e.start and e.end <= WINDOW.end
            if kind and kind not in found and inside and _alone(spans, e):
                found.add(kind)
                yield kind, target, e


def _shown(av: Availability, e: Event) -> str | None:
    rows = [b for b in av.busy.entries() if (b.span.start, b.span.end) == (e.start, e.end)]
    return rows[0].status.value if rows else None


async def test_every_status_row_over_loopback() -> None:
    """Each kind of item reaches the engine as the table says, through both endpoints."""
    async with fetching() as (fetcher, config, app):
        examples = list(_examples(app[TENANT]))
        assert {kind for kind, _, _ in examples} == set(ROWS)
        targets = list({t.id: t for _, t, _ in examples}.values())
        avails = await fetcher.fetch(PROVIDER, targets, WINDOW, config)
    got_by_id = {t.id: a for t, a in zip(targets, avails, strict=True)}
    got = {kind: _shown(got_by_id[t.id], e) for kind, t, e in examples}
    assert got == ROWS
