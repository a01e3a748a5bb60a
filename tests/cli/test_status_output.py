"""What people see of an unanswered invitation: what the policy counts it as, in every format."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli import run_here

from slotfinder.busyfile import load_busy_file
from slotfinder.engine import find_slots
from slotfinder.model import MeetingRequest
from slotfinder.render.html import render_html
from slotfinder.render.table import render_table
from slotfinder.render.timeline import render_timeline

BUSY = {
    "window": {"start": "2026-11-23T09:00:00+08:00", "end": "2026-11-23T12:00:00+08:00"},
    "tz": "Asia/Shanghai",
    "attendees": [
        {
            "id": "alice",
            "busy": [
                {
                    "start": "2026-11-23T09:00:00+08:00",
                    "end": "2026-11-23T10:00:00+08:00",
                    "status": "unanswered",
                }
            ],
        },
        {"id": "bob"},
    ],
}
SHOWN = {"busy": "busy", "tentative": "tentative", "free": "free"}
"""How alice's 09:00 hour shows under each ``--unanswered`` policy."""


@pytest.fixture
def busy_file(tmp_path: Path) -> Path:
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(BUSY), encoding="utf-8")
    return path


def _flags(path: Path, policy: str) -> list[str]:
    return [
        "slots", "--busy", str(path), "--duration", "1h", "--granularity", "1h",
        "--order", "start", "--tentative", "free", "--unanswered", policy,
    ]  # fmt: skip


@pytest.mark.parametrize("policy", ["busy", "tentative", "free"])
def test_json_slot_lists_follow_the_policy(busy_file: Path, policy: str) -> None:
    """At 09:00 alice is left out (busy), tentative, or free, as ``--unanswered`` says."""
    status, out = run_here(*_flags(busy_file, policy), "--format", "json", "--full-lists")
    assert status == 0, out
    slots = json.loads(out)["slots"]
    first = slots[0]
    if policy == "busy":
        assert first["start"].startswith("2026-11-23T10:00")
        return
    assert first["start"].startswith("2026-11-23T09:00")
    alice = next(p for p in first["people"] if p["id"] == "alice")
    assert alice["state"] == SHOWN[policy]
    assert ("alice" in first["tentative"]) == (policy == "tentative")


@pytest.mark.parametrize("policy", ["busy", "tentative", "free"])
def test_timeline_html_and_table_draw_the_hour_as_the_policy_counts_it(
    busy_file: Path, policy: str
) -> None:
    """Timeline cells, HTML cells and the table agree with the engine on alice's 09:00 hour."""
    loaded = load_busy_file(busy_file)
    request = MeetingRequest(
        attendees=loaded.attendees,
        window=loaded.window,
        duration=3600,
        granularity=3600,
        tentative="free",
        unanswered=policy,  # type: ignore[arg-type]
        order="start",
        zone=loaded.zone,
    )
    result = find_slots(loaded.availabilities, request)
    timeline = render_timeline(result, ascii=True)
    alice_row = next(ln for ln in timeline.splitlines() if ln.lstrip().startswith("alice"))
    cells = alice_row.split("│")[1]
    mark = {"busy": "#", "tentative": "~", "free": "."}[policy]
    assert cells[0] == mark
    assert cells.rstrip()[-1] == "."
    html = render_html(result)
    row = html[html.index('<tr class="attendee" data-id="alice"') :]
    alice_cells = re.findall(r'<td class="cell (\w+)"', row.split("</tr>", 1)[0])
    assert alice_cells[0] == SHOWN[policy]
    table = render_table(result, width=100)
    assert bool(re.search(r"tentative\s+alice", table)) == (policy == "tentative")
    assert bool(re.search(r"free\s+alice 09:00", table)) == (policy == "free")
