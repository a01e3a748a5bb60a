"""Every row of the status table (docs/design.md) for Feishu, fetched from the simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slotfinder_feishu.tenant import Event, FeishuTenant
from test_feishu_http import T0, rig

from slotfinder.engine import find_slots
from slotfinder.model import DAY, Attendee, Availability, MeetingRequest, Span
from slotfinder.providers import Target

pytestmark = pytest.mark.timeout(90)

WINDOW = Span(T0, T0 + 28 * DAY)  # longer than batch allows: freebusy/list, with RSVP replies
ROWS = {
    "accepted": "busy",
    "tentative": "tentative",
    "unanswered": "unanswered",
    "declined": None,
    "removed": None,
    "out of office (all-day leave)": "busy",
    "shown as free": None,
}
"""What each kind of calendar entry must become (``None``: no busy entry at all)."""


def _kind(e: Event) -> str:
    if e.free:
        return "shown as free"
    if e.all_day:
        return "out of office (all-day leave)"
    return {
        "accept": "accepted",
        "tentative": "tentative",
        "needs_action": "unanswered",
        "decline": "declined",
        "removed": "removed",
    }[e.rsvp]


def _alone(spans: list[tuple[int, int]], e: Event) -> bool:
    return sum(s <= e.end and e.start <= t for s, t in spans) == 1


def _examples(tenant: FeishuTenant) -> Iterator[tuple[str, str, Event]]:
    """One event of each kind, with its owner, none touching another event (rows may be merged)."""
    found: set[str] = set()
    for person in tenant.people:
        events = tenant.events(person.open_id, WINDOW.start, WINDOW.end)
        spans = [(e.start, e.end) for e in events]
        for e in events:
            kind = _kind(e)
            inside = WINDOW.start <= e.start and e.end <= WINDOW.end
            if kind not in found and inside and _alone(spans, e):
                found.add(kind)
                yield kind, person.open_id, e
        if found == set(ROWS):
            return


def _shown(av: Availability, e: Event) -> str | None:
    rows = [b for b in av.busy.entries() if (b.span.start, b.span.end) == (e.start, e.end)]
    return rows[0].status.value if rows else None


async def test_every_status_row_over_loopback() -> None:
    """Each kind of entry reaches the engine as the table says, through freebusy/list."""
    async for r in rig():
        examples = list(_examples(r.tenant))
        assert {kind for kind, _, _ in examples} == set(ROWS)
        owners = sorted({owner for _, owner, _ in examples})
        zones = {p.open_id: p.zone for p in r.tenant.people}
        by_id = {}
        for o in owners:  # one at a time: one list call, cheaper than two batch calls
            (by_id[o],) = await r.fetch([Target(o, zone=zones[o])], WINDOW)
        assert set(r.fetcher.stats.calls) == {"feishu/freebusy/list"}
        got = {kind: _shown(by_id[owner], e) for kind, owner, e in examples}
        assert got == ROWS
        _, owner, e = next(x for x in examples if x[0] == "unanswered")
        assert _offered(by_id[owner], e) == {"busy": False, "tentative": False, "free": True}


def _offered(av: Availability, e: Event) -> dict[str, bool]:
    """Per ``unanswered`` policy: is the event's own span offered (only that entry counted)?"""
    (entry,) = [b for b in av.busy.entries() if (b.span.start, b.span.end) == (e.start, e.end)]
    alone = Availability.of(av.id, [entry])
    out = {}
    for policy in ("busy", "tentative", "free"):
        request = MeetingRequest(
            attendees=(Attendee(id=av.id),),
            window=Span(e.start, e.end),
            duration=e.end - e.start,
            granularity=60,
            unanswered=policy,  # type: ignore[arg-type]
            zone="UTC",
        )
        out[policy] = bool(find_slots([alone], request).slots)
    return out
